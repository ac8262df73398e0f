//! The backward sweep played over the tape's graph, as one self-contained
//! HTML page: the picture [`svg`] draws, the steps as inline
//! JSON, a small inline script and style. No network, nothing to install:
//! open the file in a browser.
//!
//! The steps: first the forward pass, one node per step in tape order
//! (each value appears as it is computed), then the backward sweep, one
//! node per step in the order the tape sweeps. A backward step shows the
//! node's upstream gradient, its local derivative in the trace's words and
//! numbers, and what it sends to each input (those edges lit, the inputs'
//! gradients so far updated in their boxes). The backward steps are the
//! [`Trace`](super::Trace)'s steps, read from it, not computed again;
//! `steps.rs` adds only each input's running total.
//!
//! Controls: previous / next buttons, the left and right arrow keys, a
//! slider over every step, play / pause (space), and the step in the URL
//! (`page.html#step=12` opens at step 12; a reload keeps it).
//!
//! Past [`StepPage::max_drawn`] nodes (300 unless set) the page shows the
//! nodes as a list, one row per node, instead of the picture: the layout
//! and the browser would still work, but a graph that size is not read by
//! eye (the `stepper` example's 366-node unrolled recurrence draws 62,000
//! pixels wide). The steps and controls are the same; a step redraws only
//! the text that changed, so a few hundred nodes step in well under 50 ms.
//!
//! ```
//! let tape = tapegrad::Tape::new();
//! let x = tape.scalar(0.0).named("x");
//! let y = x.sigmoid().named("y");
//! let page = y.to_html();
//! assert!(page.starts_with("<!DOCTYPE html>"));
//! assert!(page.contains("s(1-s)")); // the trace's words for the sigmoid
//! ```

pub(crate) mod steps;
#[cfg(test)]
mod tests;

use super::dot::describe;
use super::svg;
use crate::tape::{BackwardError, Var};
use serde_json::{Value, json};

/// The page's template, style and script, kept as files of their own.
const PAGE: &str = include_str!("page.html");
const STYLE: &str = include_str!("page.css");
const SCRIPT: &str = include_str!("page.js");

/// Options of the step-through page: a title, notes on edges, and the
/// size past which the nodes are listed instead of drawn.
///
/// ```
/// let tape = tapegrad::Tape::new();
/// let (y, t) = (tape.scalar(2.0).named("y"), tape.constant(tapegrad::Tensor::scalar(1.5)));
/// let diff = y - t;
/// let loss = (diff.square() * 0.5).named("loss");
/// let page = tapegrad::inspect::StepPage::new("one squared error")
///     .note(diff, y, "delta_out = y - t")
///     .render(loss);
/// assert!(page.contains("<title>one squared error</title>"));
/// assert!(page.contains("delta_out = y - t"));
/// ```
#[derive(Clone, Debug)]
pub struct StepPage {
    title: String,
    notes: Vec<(usize, usize, String)>,
    max_drawn: usize,
}

impl Default for StepPage {
    fn default() -> StepPage {
        StepPage::new("tapegrad: step through backprop")
    }
}

impl StepPage {
    /// A page with this title, no notes, drawn up to 300 nodes.
    ///
    /// ```
    /// let tape = tapegrad::Tape::new();
    /// let y = tape.scalar(3.0).exp();
    /// assert!(tapegrad::inspect::StepPage::new("e^x").render(y).contains("<h1>e^x</h1>"));
    /// ```
    pub fn new(title: impl Into<String>) -> StepPage {
        StepPage { title: title.into(), notes: Vec::new(), max_drawn: 300 }
    }

    /// Says what the gradient `from` sends to its input `to` is called
    /// (the notes' `delta_out = y - t`); the page shows it in `from`'s step.
    ///
    /// ```
    /// let tape = tapegrad::Tape::new();
    /// let u = tape.scalar(0.5).named("u");
    /// let h = u.sigmoid();
    /// let page = tapegrad::inspect::StepPage::new("sigmoid").note(h, u, "delta_hidden").render(h);
    /// assert!(page.contains("\"note\":\"delta_hidden\""));
    /// ```
    pub fn note(mut self, from: Var<'_>, to: Var<'_>, text: impl Into<String>) -> StepPage {
        self.notes.push((from.index(), to.index(), text.into()));
        self
    }

    /// Tapes with more nodes than `n` are shown as a list of nodes, not a
    /// picture.
    ///
    /// ```
    /// let tape = tapegrad::Tape::new();
    /// let y = tape.scalar(3.0).exp();
    /// let page = tapegrad::inspect::StepPage::new("listed").max_drawn(1).render(y);
    /// assert!(page.contains("\"drawn\":false"));
    /// ```
    pub fn max_drawn(mut self, n: usize) -> StepPage {
        self.max_drawn = n;
        self
    }

    /// The page for the tape of `output`, which must be a scalar: runs
    /// the traced backward sweep from it.
    ///
    /// # Panics
    /// If `output` has more than one element (see [`StepPage::try_render`]).
    ///
    /// ```
    /// let tape = tapegrad::Tape::new();
    /// let a = tape.scalar(2.0);
    /// let page = tapegrad::inspect::StepPage::default().render(a * a);
    /// assert!(page.contains("sends 4 to node 0")); // d(a a)/da = 2a, in the trace's words
    /// ```
    pub fn render(&self, output: Var<'_>) -> String {
        self.try_render(output).unwrap_or_else(|e| panic!("{e}"))
    }

    /// Like [`StepPage::render`], but a non-scalar output is an error.
    ///
    /// ```
    /// let tape = tapegrad::Tape::new();
    /// let x = tape.var(tapegrad::Tensor::ones(&[2]));
    /// assert!(tapegrad::inspect::StepPage::default().try_render(x.exp()).is_err());
    /// ```
    pub fn try_render(&self, output: Var<'_>) -> Result<String, BackwardError> {
        let (grads, trace) = output.try_backward_traced()?;
        let inner = output.tape.inner.borrow();
        let nodes = describe(&inner, Some(&grads));
        let drawn = nodes.len() <= self.max_drawn;
        let backward = steps::backward(trace);
        let picture =
            if drawn { svg::render_fitting(&nodes, &steps::widest_grad_lines(&backward)) } else { String::new() };
        let data = json!({
            "title": self.title,
            "output": output.index(),
            "drawn": drawn,
            "nodes": steps::nodes_json(&nodes),
            "backward": steps::backward_json(&backward, &self.notes),
        });
        Ok(fill(&self.title, &picture, &data))
    }
}

impl Var<'_> {
    /// The step-through page of this output's tape with the default
    /// options (see [`StepPage`]).
    ///
    /// # Panics
    /// If the output has more than one element.
    ///
    /// ```
    /// let tape = tapegrad::Tape::new();
    /// let x = tape.scalar(2.0).named("x");
    /// let page = (x * x).to_html();
    /// assert!(page.contains("d/da = b")); // mul's local derivative, as the trace words it
    /// ```
    pub fn to_html(self) -> String {
        StepPage::default().render(self)
    }
}

/// The template with its holes filled, in one pass (a name that spells
/// `{{data}}` stays text). The JSON goes inside a `<script>` element, so
/// every `<` in it is written `\u003c` (still the same JSON): no name can
/// close the element early.
fn fill(title: &str, picture: &str, data: &Value) -> String {
    let data = data.to_string().replace('<', "\\u003c");
    let title = svg::escape(title);
    let mut out = String::with_capacity(PAGE.len() + STYLE.len() + SCRIPT.len() + picture.len() + data.len());
    let mut rest = PAGE;
    while let Some(start) = rest.find("{{") {
        let end = start + rest[start..].find("}}").expect("the template closes every hole");
        out.push_str(&rest[..start]);
        out.push_str(match &rest[start + 2..end] {
            "title" => &title,
            "style" => STYLE,
            "picture" => picture,
            "script" => SCRIPT,
            "data" => &data,
            hole => unreachable!("the template has no hole {hole}"),
        });
        rest = &rest[end + 2..];
    }
    out.push_str(rest);
    out
}
