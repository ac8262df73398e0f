//! The tape as a table: one row per node, in the order the program
//! recorded them, with each node's op, inputs, shape and a preview of its
//! value (and, after `backward`, of its gradient).
//!
//! ```text
//!  #  name  op          inputs  shape  value    grad
//!  0  x1    leaf        -       []     2        -1.5
//!  1  w1    leaf        -       []     -3       1
//!  4  x1w1  mul         0, 1    []     -6       0.5
//! ```

use super::{fmt_shape, op_label, preview};
use crate::Gradients;
use crate::tape::{Tape, TapeInner};
use std::fmt;

impl Tape {
    /// The tape as a text table: index, name, op, input indices, shape and
    /// a short preview of each node's value, in recording order.
    ///
    /// ```
    /// let tape = tapegrad::Tape::new();
    /// let a = tape.scalar(2.0).named("a");
    /// let _b = (a * 3.0).named("b");
    /// let table = tape.table();
    /// assert_eq!(table.lines().nth(2).unwrap().split_whitespace().collect::<Vec<_>>(),
    ///            ["1", "b", "mul_scalar(3)", "0", "[]", "6"]);
    /// ```
    pub fn table(&self) -> String {
        render(&self.inner.borrow(), None)
    }
}

impl fmt::Display for Tape {
    /// Prints [`Tape::table`].
    ///
    /// ```
    /// let tape = tapegrad::Tape::new();
    /// let _ = tape.scalar(1.0).exp();
    /// assert_eq!(tape.to_string(), tape.table());
    /// ```
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.table())
    }
}

impl Gradients<'_> {
    /// The tape's table with one more column: each node's gradient
    /// (`-` for constants and nodes the output does not depend on).
    ///
    /// ```
    /// let tape = tapegrad::Tape::new();
    /// let a = tape.scalar(2.0).named("a");
    /// let g = a.square().backward();
    /// let row: Vec<String> = g.table().lines().nth(1).unwrap().split_whitespace().map(String::from).collect();
    /// assert_eq!(row, ["0", "a", "leaf", "-", "[]", "2", "4"]);
    /// ```
    pub fn table(&self) -> String {
        render(&self.tape.inner.borrow(), Some(self))
    }
}

impl fmt::Display for Gradients<'_> {
    /// Prints [`Gradients::table`].
    ///
    /// ```
    /// let tape = tapegrad::Tape::new();
    /// let g = tape.scalar(1.0).exp().backward();
    /// assert_eq!(g.to_string(), g.table());
    /// ```
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.table())
    }
}

/// The gradient preview of node `i`, or `-` when it has none worth showing.
pub(crate) fn grad_preview(inner: &TapeInner, grads: &Gradients<'_>, i: u32) -> Option<String> {
    let node = &inner.nodes[i as usize];
    if i >= grads.covered {
        return None;
    }
    grads.of_node(node).map(|g| preview(g, inner.shape(i)))
}

fn render(inner: &TapeInner, grads: Option<&Gradients<'_>>) -> String {
    let mut header = vec!["#", "name", "op", "inputs", "shape", "value"];
    if grads.is_some() {
        header.push("grad");
    }
    let mut rows: Vec<Vec<String>> = vec![header.into_iter().map(String::from).collect()];
    let names = inner.names_by_node(); // one pass: linear in the names
    for i in 0..inner.nodes.len() as u32 {
        let node = &inner.nodes[i as usize];
        let inputs = inner.args(i);
        let inputs = if inputs.is_empty() {
            "-".to_string()
        } else {
            inputs.iter().map(u32::to_string).collect::<Vec<_>>().join(", ")
        };
        let op = op_label(inner, i);
        let mut row = vec![
            i.to_string(),
            names[i as usize].unwrap_or("").to_string(),
            op,
            inputs,
            fmt_shape(inner.shape(i)),
            preview(&inner.values[node.range()], inner.shape(i)),
        ];
        if let Some(g) = grads {
            row.push(grad_preview(inner, g, i).unwrap_or_else(|| "-".into()));
        }
        rows.push(row);
    }
    align(&rows)
}

/// Left-aligned columns two spaces apart, the index column right-aligned.
fn align(rows: &[Vec<String>]) -> String {
    let cols = rows[0].len();
    let width: Vec<usize> = (0..cols).map(|c| rows.iter().map(|r| r[c].chars().count()).max().unwrap_or(0)).collect();
    let mut out = String::new();
    for row in rows {
        let mut line = format!("{:>w$}", row[0], w = width[0]);
        for (cell, w) in row.iter().zip(&width).skip(1) {
            line.push_str("  ");
            line.push_str(&format!("{cell:<w$}"));
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}
