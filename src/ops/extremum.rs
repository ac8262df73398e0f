//! `max_axis` / `min_axis` (the largest or smallest element along an axis)
//! and `argmax` / `argmin` (where it is).
//!
//! Forward: `y[lane] = x[lane, w]`, `w` the winning index of the lane.
//! Backward: the upstream goes to that one element, `grad_x[lane, w] +=
//! grad_y[lane]`; every other element of the lane gets nothing.
//!
//! Which element wins, as PyTorch's `torch.max(x, dim)` / `torch.min`:
//! - **ties**: the *first* extremal element (lowest index). Only it gets
//!   the gradient, so `max_axis([2, 2])` sends `[1, 0]`, not `[0.5, 0.5]`
//!   (that split is what `torch.amax` does; a subgradient either way).
//! - **NaN**: a lane holding a NaN has maximum (and minimum) NaN, and the
//!   first NaN wins: it receives the gradient and `argmax` names it. No NaN
//!   is skipped (`f64::max` would).
//!
//! The winner is found again from the input when needed (backward,
//! tangent), so the node stores nothing beyond its axis and keepdim flag.

use super::gather::Put;
use super::lanes::{emit_each_lane, for_each_lane, lane_at, lanes};
use crate::tape::{
    BackwardCx, EmitCx, ForwardCx, NodeParams, Op, OutShape, StaticOp, TangentCx, TangentError, Var, VarCx, VarGrads,
};
use crate::tensor::{Axis, ShapeError, reduced_shape, resolve_axis};
use smallvec::smallvec;
use std::borrow::Cow;

/// `max_axis` (`MIN = false`) and `min_axis` (`MIN = true`).
pub(crate) struct AxisExtremum<const MIN: bool>;

impl<const MIN: bool> StaticOp for AxisExtremum<MIN> {
    const THIS: &'static Self = &AxisExtremum;
}

/// The index of the winning element of the lane starting at `start`: the
/// first NaN if there is one, else the first largest (smallest, with
/// `min`) element. `n` is at least 1 (checked when recording).
fn winner(x: &[f64], start: usize, n: usize, inner: usize, min: bool) -> usize {
    let mut best = 0;
    let mut best_v = x[start];
    if best_v.is_nan() {
        return 0;
    }
    for k in 1..n {
        let v = x[start + k * inner];
        if v.is_nan() {
            return k;
        }
        // Strict comparisons: a tie keeps the earlier index.
        if if min { v < best_v } else { v > best_v } {
            (best, best_v) = (k, v);
        }
    }
    best
}

/// Calls `f(lane, position of the winner in x)` for every lane of input 0.
fn for_each_winner(cx: &ForwardCx<'_>, min: bool, mut f: impl FnMut(usize, usize)) {
    let (outer, n, inner) = lanes(cx.shape(0), cx.params().axis as usize);
    let x = cx.input(0);
    for_each_lane((outer, n, inner), |lane, s| f(lane, s + winner(x, s, n, inner, min) * inner));
}

/// [`for_each_winner`] as generated code: binds `win`, the lane's winner
/// as [`winner`] finds it (the first NaN, else the first extremum), then
/// writes `then` (which reads element `win` as `s + win * inner`).
fn emit_each_winner(cx: &mut EmitCx<'_>, min: bool, then: impl Fn(&str) -> String) {
    let dims = lanes(&cx.inputs[0].shape, cx.params.axis as usize);
    let (n, inner) = (dims.1, dims.2);
    let x = cx.inputs[0].clone();
    let (xk, xw) = (x.at(&lane_at(inner, "k")), x.at(&lane_at(inner, "win")));
    let cmp = if min { "<" } else { ">" };
    let body = [
        "let mut win = 0;".into(),
        format!("for k in 0..{n} {{"),
        format!("    if {xk}.is_nan() {{ win = k; break; }}"),
        format!("    if {xk} {cmp} {xw} {{ win = k; }}"),
        "}".into(),
        then(&lane_at(inner, "win")),
    ];
    emit_each_lane(cx, dims, &body);
}

impl<const MIN: bool> Op for AxisExtremum<MIN> {
    fn name(&self) -> &'static str {
        if MIN { "min_axis" } else { "max_axis" }
    }

    fn label(&self, p: NodeParams) -> String {
        format!("{}(axis={}, keepdim={})", self.name(), p.axis, p.keepdim)
    }

    fn forward(&self, cx: &ForwardCx<'_>, out: &mut [f64]) {
        let x = cx.input(0);
        for_each_winner(cx, MIN, |lane, at| out[lane] = x[at]);
    }

    /// `dy[lane] = dx[lane, w]` (the winner does not move under an
    /// infinitesimal change, away from ties).
    fn jvp(&self, cx: &TangentCx<'_>, out: &mut [f64]) -> Result<(), TangentError> {
        if let Some(dx) = cx.tangent(0) {
            for_each_winner(cx.fwd(), MIN, |lane, at| out[lane] += dx[at]);
        }
        Ok(())
    }

    /// `grad_x[lane, w] += grad_y[lane]`.
    fn backward(&self, cx: &mut BackwardCx<'_>) {
        let (fwd, g) = (*cx.fwd(), cx.upstream());
        if let Some(gx) = cx.grad_mut(0) {
            for_each_winner(&fwd, MIN, |lane, at| gx[at] += g[lane]);
        }
    }

    /// `scatter_add` of `dY` at the winners, whose indices are themselves
    /// a node (`argmax` / `argmin`, below): a replay finds them again from
    /// the new input, as the plain backward does (a one-hot built from the
    /// recorded values would stay where the winner was).
    fn backward_var<'t>(&self, cx: &VarCx<'t>, upstream: Var<'t>) -> Option<VarGrads<'t>> {
        let (x, params) = (cx.input(0), cx.params());
        let shape = x.shape();
        let kept = reduced_shape(self.name(), &shape, params.axis as usize, true).ok()?; // x exists: it fits
        let at = x.tape().push::<Winners<MIN>>(params, &[x], OutShape::Given(&kept));
        let params = NodeParams { axis: params.axis, ..NodeParams::default() };
        let g = x.tape().push::<Put<true>>(params, &[upstream.reshape(&kept), at], OutShape::Given(&shape));
        Some(smallvec![Some(g)])
    }

    /// `y[lane] = x[winner]`, the winner found as `winner` finds it.
    fn emit_forward(&self, cx: &mut EmitCx<'_>) -> Option<()> {
        let (x, y) = (cx.inputs[0].clone(), cx.out.clone());
        cx.declare_out();
        emit_each_winner(cx, MIN, |at| format!("{} = {};", y.at("lane"), x.at(at)));
        Some(())
    }

    /// `d_x[winner] += d_y[lane]`, the winner found again, as `backward`.
    fn emit_backward(&self, cx: &mut EmitCx<'_>) -> Option<()> {
        let Some(dx) = cx.d_inputs[0].clone() else { return Some(()) };
        let dy = cx.d_out?.clone();
        emit_each_winner(cx, MIN, |at| format!("{} += {};", dx.at(at), dy.at("lane")));
        Some(())
    }

    fn local_text(&self, _: &ForwardCx<'_>, _: usize) -> Option<Cow<'static, str>> {
        Some(
            if MIN {
                "dY to the first minimum (or NaN), 0 elsewhere"
            } else {
                "dY to the first maximum (or NaN), 0 elsewhere"
            }
            .into(),
        )
    }
}

/// The winners' indices along the axis, as a node (`f64`s, shaped like
/// `max_axis(axis, keepdim = true)`): what the differentiable backward of
/// `max_axis` / `min_axis` scatters its upstream by. Piecewise constant, so
/// no gradient flows through it, as through the masks.
pub(crate) struct Winners<const MIN: bool>;

impl<const MIN: bool> StaticOp for Winners<MIN> {
    const THIS: &'static Self = &Winners;
}

impl<const MIN: bool> Op for Winners<MIN> {
    fn name(&self) -> &'static str {
        if MIN { "argmin" } else { "argmax" }
    }

    fn label(&self, p: NodeParams) -> String {
        format!("{}(axis={})", self.name(), p.axis)
    }

    fn forward(&self, cx: &ForwardCx<'_>, out: &mut [f64]) {
        let ((outer, n, inner), x) = (lanes(cx.shape(0), cx.params().axis as usize), cx.input(0));
        for_each_lane((outer, n, inner), |lane, s| out[lane] = winner(x, s, n, inner, MIN) as f64);
    }

    // Piecewise constant.
    no_gradient_rules!();

    /// `y[lane] = winner as f64`.
    fn emit_forward(&self, cx: &mut EmitCx<'_>) -> Option<()> {
        let y = cx.out.clone();
        cx.declare_out();
        emit_each_winner(cx, MIN, |_| format!("{} = win as f64;", y.at("lane")));
        Some(())
    }

    fn local_text(&self, _: &ForwardCx<'_>, _: usize) -> Option<Cow<'static, str>> {
        Some("0 (piecewise constant)".into())
    }
}

/// The checks every op here makes: the axis exists and is not empty.
fn check_lanes(op: &'static str, shape: &[usize], axis: impl Axis) -> Result<usize, ShapeError> {
    let axis = resolve_axis(op, shape, axis)?;
    if shape[axis] == 0 {
        return Err(ShapeError::new(op, &[shape], format!("axis {axis} is empty: no element to choose")));
    }
    Ok(axis)
}

fn extremum<'t, const MIN: bool>(x: Var<'t>, axis: impl Axis, keepdim: bool) -> Result<Var<'t>, ShapeError> {
    let op = AxisExtremum::<MIN>::THIS.name();
    let shape = x.shape();
    let axis = check_lanes(op, &shape, axis)?;
    let out = reduced_shape(op, &shape, axis, keepdim)?;
    let params = NodeParams { axis: axis as u8, keepdim, ..NodeParams::default() };
    x.tape.try_push::<AxisExtremum<MIN>>(params, &[x], OutShape::Given(&out))
}

fn arg_extremum(x: Var<'_>, axis: impl Axis, min: bool) -> Result<Vec<usize>, ShapeError> {
    let shape = x.shape();
    let axis = check_lanes(if min { "argmin" } else { "argmax" }, &shape, axis)?;
    let (outer, n, inner) = lanes(&shape, axis);
    let mut out = vec![0; outer * inner];
    x.with_value(|v| for_each_lane((outer, n, inner), |lane, s| out[lane] = winner(v, s, n, inner, min)));
    Ok(out)
}

impl<'t> Var<'t> {
    /// The largest element along `axis` (PyTorch's `torch.max(x, dim).values`);
    /// with `keepdim` the axis stays with extent 1. The gradient goes to
    /// one element per lane: the first maximum, or the first NaN when the
    /// lane holds one (the maximum is then NaN), as PyTorch's.
    ///
    /// # Panics
    /// As [`Var::try_max_axis`] errs.
    ///
    /// ```
    /// use tapegrad::{Tape, Tensor};
    /// let tape = Tape::new();
    /// let x = tape.var(Tensor::from_vec(vec![1.0, 5.0, 5.0, 7.0, 0.0, -1.0], &[2, 3]));
    /// let m = x.max_axis(1, false);
    /// assert_eq!(m.value().data(), &[5.0, 7.0]);
    /// // a tie: only the first 5 gets the gradient
    /// assert_eq!(m.sum().backward().wrt(x).data(), &[0.0, 1.0, 0.0, 1.0, 0.0, 0.0]);
    /// ```
    pub fn max_axis(self, axis: impl Axis, keepdim: bool) -> Var<'t> {
        self.try_max_axis(axis, keepdim).unwrap_or_else(|e| panic!("{e}"))
    }

    /// Like [`Var::max_axis`], but an axis out of range, or of extent 0
    /// (no element to choose), is an error.
    ///
    /// ```
    /// let tape = tapegrad::Tape::new();
    /// let x = tape.var(tapegrad::Tensor::zeros(&[2, 0]));
    /// assert_eq!(x.try_max_axis(1, false).unwrap_err().to_string(),
    ///            "max_axis: shape [2, 0]: axis 1 is empty: no element to choose");
    /// assert!(x.try_max_axis(2, false).is_err());
    /// ```
    pub fn try_max_axis(self, axis: impl Axis, keepdim: bool) -> Result<Var<'t>, ShapeError> {
        extremum::<false>(self, axis, keepdim)
    }

    /// The smallest element along `axis` (`torch.min(x, dim).values`), with
    /// [`Var::max_axis`]'s rules: the first minimum (or first NaN) gets the gradient.
    ///
    /// # Panics
    /// As [`Var::try_min_axis`] errs.
    ///
    /// ```
    /// use tapegrad::{Tape, Tensor};
    /// let tape = Tape::new();
    /// let x = tape.var(Tensor::from_vec(vec![3.0, 1.0, 2.0, 0.5], &[2, 2]));
    /// let m = x.min_axis(0, true); // down each column
    /// assert_eq!((m.shape().as_slice(), m.value().data()), (&[1, 2][..], &[2.0, 0.5][..]));
    /// ```
    pub fn min_axis(self, axis: impl Axis, keepdim: bool) -> Var<'t> {
        self.try_min_axis(axis, keepdim).unwrap_or_else(|e| panic!("{e}"))
    }

    /// Like [`Var::min_axis`], but an axis out of range or empty is an error.
    ///
    /// ```
    /// let tape = tapegrad::Tape::new();
    /// assert!(tape.scalar(1.0).try_min_axis(0, false).is_err());
    /// ```
    pub fn try_min_axis(self, axis: impl Axis, keepdim: bool) -> Result<Var<'t>, ShapeError> {
        extremum::<true>(self, axis, keepdim)
    }

    /// Where the maximum along `axis` is: one index per lane, in row-major
    /// order of the other axes (the shape of `max_axis(axis, false)`,
    /// flattened), as `usize`s so they index directly (`pick`,
    /// `index_select`, comparing with class labels). Records nothing: an
    /// index has no gradient. The same winner `max_axis` picks: the first
    /// maximum, or the first NaN.
    ///
    /// # Panics
    /// As [`Var::try_argmax`] errs.
    ///
    /// ```
    /// use tapegrad::{Tape, Tensor};
    /// let tape = Tape::new();
    /// let logits = tape.var(Tensor::from_vec(vec![0.1, 2.0, -1.0, 3.0, 3.0, 0.0], &[2, 3]));
    /// assert_eq!(logits.argmax(1), vec![1, 0]); // a tie goes to the first
    /// ```
    pub fn argmax(self, axis: impl Axis) -> Vec<usize> {
        self.try_argmax(axis).unwrap_or_else(|e| panic!("{e}"))
    }

    /// Like [`Var::argmax`], but an axis out of range or empty is an error.
    ///
    /// ```
    /// let tape = tapegrad::Tape::new();
    /// let e = tape.var(tapegrad::Tensor::zeros(&[3])).try_argmax(1).unwrap_err();
    /// assert_eq!(e.to_string(), "argmax: shape [3]: axis 1 is out of range for 1 dimensions");
    /// ```
    pub fn try_argmax(self, axis: impl Axis) -> Result<Vec<usize>, ShapeError> {
        arg_extremum(self, axis, false)
    }

    /// Where the minimum along `axis` is, as [`Var::argmax`].
    ///
    /// # Panics
    /// As [`Var::try_argmin`] errs.
    ///
    /// ```
    /// let tape = tapegrad::Tape::new();
    /// let x = tape.var(tapegrad::Tensor::from_vec(vec![2.0, -1.0, -1.0], &[3]));
    /// assert_eq!(x.argmin(0), vec![1]);
    /// ```
    pub fn argmin(self, axis: impl Axis) -> Vec<usize> {
        self.try_argmin(axis).unwrap_or_else(|e| panic!("{e}"))
    }

    /// Like [`Var::argmin`], but an axis out of range or empty is an error.
    ///
    /// ```
    /// let tape = tapegrad::Tape::new();
    /// assert!(tape.var(tapegrad::Tensor::zeros(&[0])).try_argmin(0).is_err());
    /// ```
    pub fn try_argmin(self, axis: impl Axis) -> Result<Vec<usize>, ShapeError> {
        arg_extremum(self, axis, true)
    }
}

use super::registry::{Checks, OpCase};

/// Every check but the random programs (see the cases).
const NO_PROGRAMS: Checks = Checks { programs: false, ..Checks::ALL };

/// This file's cases in the op registry (see [`super::registry`]).
pub(crate) const CASES: &[OpCase] = &[
    OpCase::unary("max_axis", |v| v[0].max_axis(1, false)),
    OpCase::unary("min_axis", |v| v[0].min_axis(0, true)),
    // `argmax` / `argmin` are recorded only by the differentiable backward
    // of `max_axis` / `min_axis`: the case records one there and reads it
    // through `one_hot(x) * x`, whose derivative is the one-hot itself
    // (the winners stay put under a small step: the inputs have no ties).
    // Out of the random programs: there, values come out tied (an empty
    // input becomes a constant of equal elements), and at a tie the one-hot
    // jumps, so central differences across it see a step, not a slope.
    OpCase::unary("argmax", |v| winners_times_x(v[0].max_axis(1, false), v[0])).checks(NO_PROGRAMS),
    OpCase::unary("argmin", |v| winners_times_x(v[0].min_axis(0, true), v[0])).checks(NO_PROGRAMS),
];

/// `one_hot(winners) * x`, the one-hot being the recorded gradient of
/// `extremum.sum()` with respect to `x` (an `argmax` or `argmin` node,
/// then `scatter_add`).
fn winners_times_x<'t>(extremum: Var<'t>, x: Var<'t>) -> Var<'t> {
    let one_hot = extremum.sum().grad_graph().expect("max_axis and min_axis are twice differentiable").wrt(x);
    one_hot * x
}

#[cfg(test)]
mod tests {
    use crate::{Tape, Tensor};

    #[test]
    fn max_and_min_along_each_axis_in_closed_form() {
        // x = [[1, 6, 3], [4, 2, 5]]
        let tape = Tape::new();
        let x = tape.var(Tensor::from_vec(vec![1.0, 6.0, 3.0, 4.0, 2.0, 5.0], &[2, 3]));
        let w = tape.constant(Tensor::from_vec(vec![10.0, 20.0, 30.0], &[3]));
        let m0 = x.max_axis(0, false);
        assert_eq!(m0.value().data(), &[4.0, 6.0, 5.0]);
        // d sum(w * max)/dx puts w_j on the winner of column j
        assert_eq!((m0 * w).sum().backward().wrt(x).data(), &[0.0, 20.0, 0.0, 10.0, 0.0, 30.0]);
        let m1 = x.min_axis(1, true);
        assert_eq!((m1.shape().as_slice(), m1.value().data()), (&[2, 1][..], &[1.0, 2.0][..]));
        assert_eq!(m1.sum().backward().wrt(x).data(), &[1.0, 0.0, 0.0, 0.0, 1.0, 0.0]);
        assert_eq!(
            (x.argmax(0), x.argmax(1), x.argmin(0), x.argmin(1)),
            (vec![1, 0, 1], vec![1, 2], vec![0, 1, 0], vec![0, 1])
        );
        // Forward mode reads the winner's tangent.
        let dx = Tensor::from_vec(vec![0.1, 0.2, 0.3, 0.4, 0.5, 0.6], &[2, 3]);
        assert_eq!(m0.jvp(&[(x, &dx)]).unwrap().data(), &[0.4, 0.2, 0.6]);
        assert!(format!("{m1:?}").contains("min_axis(axis=1, keepdim=true)"));
    }

    /// Ties go to the first index; a NaN wins wherever it is.
    #[test]
    fn ties_go_to_the_first_and_nan_wins() {
        let tape = Tape::new();
        let x = tape.var(Tensor::from_vec(vec![2.0, 2.0, 1.0, 1.0, f64::NAN, 9.0, f64::NAN, f64::NAN], &[4, 2]));
        let m = x.max_axis(1, false);
        let v = m.value();
        assert_eq!(v.data()[..2], [2.0, 1.0]);
        assert!(v.data()[2].is_nan() && v.data()[3].is_nan());
        assert_eq!(x.argmax(1), vec![0, 0, 0, 0]);
        assert_eq!(x.argmin(1), vec![0, 0, 0, 0]);
        let g = m.sum().backward().wrt(x);
        assert_eq!(g.data(), &[1.0, 0.0, 1.0, 0.0, 1.0, 0.0, 1.0, 0.0]);
        let y = tape.var(Tensor::from_vec(vec![9.0, f64::NAN], &[2]));
        assert!(y.min_axis(0, false).item().is_nan());
        assert_eq!(y.min_axis(0, false).backward().wrt(y).data(), &[0.0, 1.0]);
    }

    /// The differentiable backward finds the winner on the tape, so after
    /// `set` + `replay` it moves with the input as a fresh recording's does.
    /// `L = sum(m^3)`, `m` the max (min) of each lane: `dL/dx = 3 m^2` at the
    /// winner, and `d sum(dL/dx) / dx = 6 m` there, 0 elsewhere.
    #[test]
    fn second_order_follows_the_winner_under_replay() {
        use crate::Var;
        let old = [1.0, 2.0, 4.0, 3.0];
        let new = [4.0, 3.0, 1.0, 2.0]; // every winner moves
        fn program<'t>(tape: &'t Tape, v: &[f64], min: bool, axis: usize) -> (Var<'t>, Var<'t>, Tensor) {
            let x = tape.var(Tensor::from_vec(v.to_vec(), &[2, 2]));
            let m = if min { x.min_axis(axis, false) } else { x.max_axis(axis, true) };
            let g = m.powi(3).sum().grad_graph().unwrap().wrt(x);
            (x, g, g.sum().backward().wrt(x))
        }
        for (min, axis) in [(false, 0), (false, 1), (true, 0), (true, 1)] {
            let tape = Tape::new();
            let (x, g, _) = program(&tape, &old, min, axis);
            tape.set(x, &new);
            tape.replay();
            let second = g.sum().backward().wrt(x);
            // The closed form on the new values.
            let win = |lane: usize| {
                let (a, b) = if axis == 0 { (lane, lane + 2) } else { (2 * lane, 2 * lane + 1) };
                if (new[b] > new[a]) != min { b } else { a }
            };
            let (mut want_g, mut want_2) = ([0.0; 4], [0.0; 4]);
            for lane in 0..2 {
                let w = win(lane);
                (want_g[w], want_2[w]) = (3.0 * new[w] * new[w], 6.0 * new[w]);
            }
            let case = format!("min={min} axis={axis}");
            assert_eq!((g.value().data(), second.data()), (&want_g[..], &want_2[..]), "{case}");
            let fresh = Tape::new();
            let (_, fg, f2) = program(&fresh, &new, min, axis);
            assert_eq!((fg.value().data(), f2.data()), (&want_g[..], &want_2[..]), "{case}: fresh");
        }
    }
}
