//! Seeing inside the tape: print it, draw it, trace the backward sweep,
//! and catch the first value that is not finite.
//!
//! | file | what it shows |
//! |---|---|
//! | [`table`] | the tape as a table, one row per node ([`Tape::table`](crate::Tape::table), [`Gradients::table`](crate::Gradients::table)) |
//! | [`dot`] | the graph in Graphviz DOT, micrograd's `draw_dot` style ([`Tape::to_dot`](crate::Tape::to_dot)) |
//! | [`svg`] | the same graph drawn as SVG by a small layered layout, no Graphviz needed ([`Tape::to_svg`](crate::Tape::to_svg)) |
//! | [`trace`] | the reverse sweep as a chain-rule walk ([`Var::backward_traced`](crate::Var::backward_traced)) |
//! | [`html`] | the sweep played over the SVG picture, one node per step, as one HTML page ([`Var::to_html`](crate::Var::to_html), [`StepPage`]) |
//! | [`anomaly`] | checked mode: the first op whose value or gradient is NaN or infinite ([`Tape::check`](crate::Tape::check)) |
//!
//! ```
//! use tapegrad::Tape;
//! let tape = Tape::new();
//! let x = tape.scalar(2.0).named("x");
//! let y = (x * x).named("y");
//! let (grads, trace) = y.backward_traced();
//! assert!(tape.table().contains("mul"));
//! assert!(grads.to_dot().contains("grad 4"));
//! assert!(trace.to_string().contains("sends 4 to node 0"));
//! ```

pub mod anomaly;
pub mod dot;
pub mod html;
pub mod svg;
pub mod table;
pub mod trace;

pub use anomaly::{Anomaly, CheckedBackwardError, InputSummary, Phase, Summary};
pub use html::StepPage;
pub use trace::{Local, Trace, TraceStep};

use crate::tape::TapeInner;

/// Tensors with more elements than this are abbreviated in previews.
const PREVIEW_FULL: usize = 8;
/// Entries kept at each end of an abbreviated dimension.
const PREVIEW_EDGE: usize = 2;

/// A one-line preview of a value: a plain number for one element, nested
/// brackets otherwise, and NumPy's `...` for long dimensions of tensors with
/// more than 8 elements: `[[0] [0.1] ... [6.1] [6.2]]`.
pub(crate) fn preview(values: &[f64], shape: &[usize]) -> String {
    if values.len() == 1 {
        return fmt_num(values[0]);
    }
    let mut out = String::new();
    write_preview(&mut out, values, shape, values.len() > PREVIEW_FULL);
    out
}

fn write_preview(out: &mut String, values: &[f64], shape: &[usize], summarize: bool) {
    let Some((&n, rest)) = shape.split_first() else {
        out.push_str(&fmt_num(values[0]));
        return;
    };
    let stride: usize = rest.iter().product();
    out.push('[');
    for i in 0..n {
        let skipped = summarize && n > 2 * PREVIEW_EDGE && i >= PREVIEW_EDGE && i < n - PREVIEW_EDGE;
        if skipped {
            if i == PREVIEW_EDGE {
                out.push_str(" ...");
            }
            continue;
        }
        if i > 0 {
            out.push(' ');
        }
        write_preview(out, &values[i * stride..(i + 1) * stride], rest, summarize);
    }
    out.push(']');
}

// `fmt_num` lives with the tensor's display (ops' trace words use it too:
// a lower layer may not import this one).
pub(crate) use crate::tensor::fmt_num;

/// The op's label as tables print it; custom ops by their own name.
pub(crate) fn op_label(inner: &TapeInner, idx: u32) -> String {
    inner.label(idx)
}

/// A node's shape as `[2, 3]` (`[]` for a scalar).
pub(crate) fn fmt_shape(shape: &[usize]) -> String {
    format!("{shape:?}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_keep_four_significant_digits() {
        let cases = [
            (0.5, "0.5"),
            (-6.0, "-6"),
            (std::f64::consts::FRAC_1_SQRT_2, "0.7071"),
            (6.881373587, "6.881"),
            (1234.56, "1235"),
            (0.0736, "0.0736"),
            (1e-7, "1.000e-7"),
            (-2.5e9, "-2.500e9"),
            (f64::NAN, "nan"),
            (f64::NEG_INFINITY, "-inf"),
            (-1e-12 * 0.0, "0"),
        ];
        for (v, want) in cases {
            assert_eq!(fmt_num(v), want, "{v}");
        }
    }

    #[test]
    fn previews_abbreviate_long_dimensions_only() {
        let v: Vec<f64> = (0..6).map(f64::from).collect();
        assert_eq!(preview(&v, &[2, 3]), "[[0 1 2] [3 4 5]]");
        let v: Vec<f64> = (0..63).map(f64::from).collect();
        assert_eq!(preview(&v, &[63, 1]), "[[0] [1] ... [61] [62]]");
        assert_eq!(preview(&v[..9], &[9]), "[0 1 ... 7 8]");
        assert_eq!(preview(&[3.0], &[1, 1]), "3");
    }
}
