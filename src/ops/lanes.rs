//! Lanes: the `n` elements along one axis with every other index fixed
//! (a row, for the last axis of a matrix; a column, for the first). The
//! ops that work along an axis (softmax, max_axis, ...) loop over them here.

use crate::tape::EmitCx;
use crate::tensor::split_axis;

/// (outer, n, inner) of `shape` around `axis`: lane `(o, i)` holds the
/// elements `(o * n + k) * inner + i` for `k < n`. A 0-d shape is a
/// single lane of one element.
pub(super) fn lanes(shape: &[usize], axis: usize) -> (usize, usize, usize) {
    if shape.is_empty() { (1, 1, 1) } else { split_axis(shape, axis) }
}

/// Calls `f(lane, start)` for every lane in row-major order of the other
/// indices (so `lane` is the lane's index in the reduced shape); element
/// `k` of the lane sits at `start + k * inner`.
pub(super) fn for_each_lane((outer, n, inner): (usize, usize, usize), mut f: impl FnMut(usize, usize)) {
    for o in 0..outer {
        for i in 0..inner {
            f(o * inner + i, o * n * inner + i);
        }
    }
}

/// [`for_each_lane`] as generated code: `for o`, `for i`, then `lane` and
/// `s` (the lane's start) bound, then `body`'s lines, which reach element
/// `k` of the lane as [`lane_at`]`(inner, "k")`.
pub(super) fn emit_each_lane(cx: &mut EmitCx<'_>, (outer, n, inner): (usize, usize, usize), body: &[String]) {
    cx.line(format!("for o in 0..{outer} {{"));
    cx.line(format!("    for i in 0..{inner} {{"));
    cx.line(format!("        let (lane, s) = (o * {inner} + i, o * {} + i);", n * inner));
    for l in body {
        cx.line(format!("        {l}"));
    }
    cx.line("    }");
    cx.line("}");
}

/// Element `k` (the index variable `k` names) of the lane starting at
/// `s`, as an index expression.
pub(super) fn lane_at(inner: usize, k: &str) -> String {
    if inner == 1 { format!("s + {k}") } else { format!("s + {k} * {inner}") }
}
