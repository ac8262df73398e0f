//! The tape as a Graphviz graph, in the style of micrograd's `draw_dot`:
//! one record per node (`{ #index name | data value | grad gradient }`), a
//! small oval for the op that made it, and edges from inputs to outputs.
//!
//! Render it with `dot -Tsvg tape.dot -o tape.svg` (Graphviz: `apt-get
//! install graphviz`, `brew install graphviz`), or skip Graphviz: the
//! [`svg`](super::svg) writer draws the same node description.

use super::table::grad_preview;
use super::{fmt_shape, op_label, preview};
use crate::Gradients;
use crate::tape::{Tape, TapeInner};
use std::fmt::Write;

impl Tape {
    /// The recorded graph in Graphviz DOT: a record per node with its
    /// index, name, shape and value, an oval per op, edges input -> op -> output.
    ///
    /// ```
    /// let tape = tapegrad::Tape::new();
    /// let a = tape.scalar(2.0).named("a");
    /// let _ = a.exp();
    /// let dot = tape.to_dot();
    /// assert!(dot.starts_with("digraph tape {"));
    /// assert!(dot.contains(r#"n0 [shape=record, label="{ #0 a | data 2 }"];"#));
    /// assert!(dot.contains("n0 -> n1_op;"));
    /// ```
    pub fn to_dot(&self) -> String {
        render(&self.inner.borrow(), None)
    }
}

impl Gradients<'_> {
    /// Like [`Tape::to_dot`], with each node's gradient in its record.
    ///
    /// ```
    /// let tape = tapegrad::Tape::new();
    /// let a = tape.scalar(3.0).named("a");
    /// let g = a.square().backward();
    /// assert!(g.to_dot().contains(r#"label="{ #0 a | data 3 | grad 6 }""#));
    /// ```
    pub fn to_dot(&self) -> String {
        render(&self.tape.inner.borrow(), Some(self))
    }
}

/// One tape node as the pictures draw it: a record (`title`, `data`,
/// `grad` when gradients are given) and, unless it is a leaf or a
/// constant, the oval of the op that made it, fed by `inputs`. The DOT
/// and the SVG writers both draw from this.
pub(crate) struct DrawnNode {
    pub(crate) index: u32,
    pub(crate) title: String,
    pub(crate) data: String,
    pub(crate) grad: Option<String>,
    pub(crate) op: Option<(String, Vec<u32>)>,
    /// An input that needs no gradient (its title ends in "(constant)").
    pub(crate) constant: bool,
}

/// Every node of the tape, in recording order (inputs before outputs).
pub(crate) fn describe(inner: &TapeInner, grads: Option<&Gradients<'_>>) -> Vec<DrawnNode> {
    let names = inner.names_by_node(); // one pass: linear in the names
    (0..inner.nodes.len() as u32)
        .map(|i| {
            let node = &inner.nodes[i as usize];
            let shape = inner.shape(i);
            let mut title = format!("#{i}");
            if let Some(name) = names[i as usize] {
                title.push(' ');
                title.push_str(name);
            }
            if !shape.is_empty() {
                title.push(' ');
                title.push_str(&fmt_shape(shape));
            }
            let constant = is_input(inner, i) && !node.needs_grad();
            if constant {
                title.push_str(" (constant)");
            }
            let data = preview(&inner.values[node.range()], shape);
            let grad = grads.map(|g| grad_preview(inner, g, i).unwrap_or_else(|| "-".into()));
            let op = (!is_input(inner, i)).then(|| (op_label(inner, i), inner.args(i).to_vec()));
            DrawnNode { index: i, title, data, grad, op, constant }
        })
        .collect()
}

fn render(inner: &TapeInner, grads: Option<&Gradients<'_>>) -> String {
    let mut out = String::from("digraph tape {\n  rankdir=LR;\n  node [fontname=\"Helvetica\", fontsize=11];\n");
    for node in describe(inner, grads) {
        let i = node.index;
        let mut label = format!("{{ {} | data {}", escape(&node.title), escape(&node.data));
        if let Some(grad) = &node.grad {
            let _ = write!(label, " | grad {}", escape(grad));
        }
        label.push_str(" }");
        let _ = writeln!(out, "  n{i} [shape=record, label=\"{label}\"];");
        if let Some((op, inputs)) = &node.op {
            let _ = writeln!(out, "  n{i}_op [label=\"{}\"];", escape(op));
            let _ = writeln!(out, "  n{i}_op -> n{i};");
            for input in inputs {
                let _ = writeln!(out, "  n{input} -> n{i}_op;");
            }
        }
    }
    out.push_str("}\n");
    out
}

/// Escapes the characters that are special in a quoted DOT record label.
/// True for the tape's inputs (leaf variables and constants): nodes no op
/// computed, drawn without an op box.
fn is_input(inner: &TapeInner, i: u32) -> bool {
    inner.args(i).is_empty()
}

fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '{' | '}' | '|' | '<' | '>' | '"' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}
