//! `softmax` and `log_softmax` along any axis (`log_softmax()` with no
//! axis is the last-axis shorthand cross-entropy uses).
//!
//! Both work lane by lane: a lane is the `n` elements along the axis with
//! every other index fixed (a row, for the last axis of a matrix).
//!
//! Forward: `y = (x - max(x)) - ln(sum(exp(x - max(x))))` for log-softmax,
//! `y = exp(x - max(x)) / sum(exp(x - max(x)))` for softmax. The shift by
//! the lane's maximum keeps both finite at any magnitude (+-1e300), and it is
//! subtracted before the log-sum so nothing rounds away past 2^53 (see
//! `tensor::log_softmax_into` for the edges: an element at -inf takes no
//! probability; a lane that is all -inf, or holds +inf or NaN, is NaN, as
//! PyTorch's).
//!
//! Backward, with `p = softmax(x)`: log-softmax `grad_x = grad_y - p *
//! sum(grad_y)`, softmax `grad_x = p * (grad_y - sum(grad_y * p))`, each sum
//! along the lane.

use super::lanes::{emit_each_lane, for_each_lane, lane_at};
use crate::tape::{
    BackwardCx, EmitCx, ForwardCx, NodeParams, Op, OutShape, StaticOp, TangentCx, TangentError, Var, VarCx, VarGrads,
};
use crate::tensor::{Axis, ShapeError, log_softmax_into, resolve_axis};
use smallvec::smallvec;
use std::borrow::Cow;

/// `log_softmax` along the axis in the node's parameters.
pub(crate) struct LogSoftmax;
/// `softmax` along the axis in the node's parameters.
pub(crate) struct Softmax;

impl StaticOp for LogSoftmax {
    const THIS: &'static Self = &LogSoftmax;
}
impl StaticOp for Softmax {
    const THIS: &'static Self = &Softmax;
}

/// The lanes of the node's input around its axis.
fn lanes(cx: &ForwardCx<'_>) -> (usize, usize, usize) {
    super::lanes::lanes(cx.shape(0), cx.params().axis as usize)
}

/// The shift a lane is normalised by: its maximum, or 0 when that is not
/// finite (all -inf, or a +inf / NaN inside), so the result is the honest
/// -inf / NaN rather than a shifted artefact (`log_softmax_into`'s rule).
fn lane_shift(x: &[f64], start: usize, n: usize, inner: usize) -> f64 {
    // `f64::max` skips a NaN here, but the NaN still reaches the sum.
    let max = (0..n).map(|k| x[start + k * inner]).fold(f64::NEG_INFINITY, f64::max);
    if max.is_finite() { max } else { 0.0 }
}

/// [`lane_shift`] as generated code over the lane of `x` at `s`: binds `shift`.
fn emit_shift(x: &str, n: usize) -> [String; 3] {
    [
        "let mut max = f64::NEG_INFINITY;".into(),
        format!("for k in 0..{n} {{ max = max.max({x}); }}"),
        "let shift = if max.is_finite() { max } else { 0.0 };".into(),
    ]
}

/// The input's lanes and the element-`k` expressions of the input and
/// the output, for the emit rules.
struct EmitLanes {
    dims: (usize, usize, usize),
    x: String,
    y: String,
}

fn emit_lanes(cx: &EmitCx<'_>) -> EmitLanes {
    let dims = super::lanes::lanes(&cx.inputs[0].shape, cx.params.axis as usize);
    let at = lane_at(dims.2, "k");
    EmitLanes { dims, x: cx.inputs[0].at(&at), y: cx.out.at(&at) }
}

impl Op for LogSoftmax {
    fn name(&self) -> &'static str {
        "log_softmax"
    }

    fn label(&self, p: NodeParams) -> String {
        format!("log_softmax(axis={})", p.axis)
    }

    fn forward(&self, cx: &ForwardCx<'_>, out: &mut [f64]) {
        let (outer, n, inner) = lanes(cx);
        let x = cx.input(0);
        if inner == 1 {
            return log_softmax_into(x, n, out); // contiguous rows
        }
        for_each_lane((outer, n, inner), |_, s| {
            let shift = lane_shift(x, s, n, inner);
            let ln_sum = (0..n).map(|k| (x[s + k * inner] - shift).exp()).sum::<f64>().ln();
            (0..n).for_each(|k| out[s + k * inner] = (x[s + k * inner] - shift) - ln_sum);
        });
    }

    /// `dy = dx - sum(softmax(x) * dx)`, per lane (the Jacobian `I - 1 p^T`
    /// applied to the tangent; backward applies its transpose).
    fn jvp(&self, cx: &TangentCx<'_>, out: &mut [f64]) -> Result<(), TangentError> {
        let (outer, n, inner) = lanes(cx.fwd());
        let (Some(dx), y) = (cx.tangent(0), cx.output()) else { return Ok(()) };
        for_each_lane((outer, n, inner), |_, s| {
            let mean: f64 = (0..n).map(|k| y[s + k * inner].exp() * dx[s + k * inner]).sum();
            (0..n).for_each(|k| out[s + k * inner] += dx[s + k * inner] - mean);
        });
        Ok(())
    }

    /// `grad_x = grad_y - softmax(x) * sum(grad_y)`, per lane.
    fn backward(&self, cx: &mut BackwardCx<'_>) {
        let (outer, n, inner) = lanes(cx.fwd());
        let (y, g) = (cx.output(), cx.upstream());
        if let Some(gx) = cx.grad_mut(0) {
            for_each_lane((outer, n, inner), |_, s| {
                let total: f64 = (0..n).map(|k| g[s + k * inner]).sum();
                (0..n).for_each(|k| gx[s + k * inner] += g[s + k * inner] - y[s + k * inner].exp() * total);
            });
        }
    }

    /// The same formula recorded: `dY - exp(Y) * sum_axis(dY)`, where
    /// `exp(Y)` depends on `X` through `Y`, so it differentiates again.
    fn backward_var<'t>(&self, cx: &VarCx<'t>, upstream: Var<'t>) -> Option<VarGrads<'t>> {
        let y = cx.output();
        // A 0-d input is a lane of one element: the sum is the element.
        let total = if y.shape().is_empty() { upstream } else { upstream.sum_axis(cx.params().axis as usize, true) };
        Some(smallvec![Some(upstream - y.exp() * total)])
    }

    /// `forward`'s lane loop as code (the contiguous-rows path does the
    /// same operations): the shift, the log of the sum of exponentials
    /// (summed from `-0.0`, as `sum`), then `(x - shift) - ln_sum`.
    fn emit_forward(&self, cx: &mut EmitCx<'_>) -> Option<()> {
        let EmitLanes { dims, x, y } = emit_lanes(cx);
        let n = dims.1;
        let mut body = emit_shift(&x, n).to_vec();
        body.push("let mut total = -0.0f64;".into());
        body.push(format!("for k in 0..{n} {{ total += ({x} - shift).exp(); }}"));
        body.push("let ln_sum = total.ln();".into());
        body.push(format!("for k in 0..{n} {{ {y} = ({x} - shift) - ln_sum; }}"));
        cx.declare_out();
        emit_each_lane(cx, dims, &body);
        Some(())
    }

    /// `d_x += d_y - exp(y) * sum(d_y)`, lane by lane, as `backward`.
    fn emit_backward(&self, cx: &mut EmitCx<'_>) -> Option<()> {
        let EmitLanes { dims, y, .. } = emit_lanes(cx);
        let Some(dx) = cx.d_inputs[0].clone() else { return Some(()) };
        let (at, n) = (lane_at(dims.2, "k"), dims.1);
        let (g, gx) = (cx.d_out?.at(&at), dx.at(&at));
        let body = [
            "let mut total = -0.0f64;".into(),
            format!("for k in 0..{n} {{ total += {g}; }}"),
            format!("for k in 0..{n} {{ {gx} += {g} - {y}.exp() * total; }}"),
        ];
        emit_each_lane(cx, dims, &body);
        Some(())
    }

    fn local_text(&self, _: &ForwardCx<'_>, _: usize) -> Option<Cow<'static, str>> {
        Some("dX = dY - softmax(X) sum(dY)".into())
    }
}

impl Op for Softmax {
    fn name(&self) -> &'static str {
        "softmax"
    }

    fn label(&self, p: NodeParams) -> String {
        format!("softmax(axis={})", p.axis)
    }

    fn forward(&self, cx: &ForwardCx<'_>, out: &mut [f64]) {
        let (outer, n, inner) = lanes(cx);
        let x = cx.input(0);
        for_each_lane((outer, n, inner), |_, s| {
            let shift = lane_shift(x, s, n, inner);
            let mut total = 0.0;
            for k in 0..n {
                let e = (x[s + k * inner] - shift).exp();
                out[s + k * inner] = e;
                total += e;
            }
            (0..n).for_each(|k| out[s + k * inner] /= total);
        });
    }

    /// `dy = p * (dx - sum(p * dx))`, per lane.
    fn jvp(&self, cx: &TangentCx<'_>, out: &mut [f64]) -> Result<(), TangentError> {
        let (outer, n, inner) = lanes(cx.fwd());
        let (Some(dx), p) = (cx.tangent(0), cx.output()) else { return Ok(()) };
        for_each_lane((outer, n, inner), |_, s| {
            let mean: f64 = (0..n).map(|k| p[s + k * inner] * dx[s + k * inner]).sum();
            (0..n).for_each(|k| out[s + k * inner] += p[s + k * inner] * (dx[s + k * inner] - mean));
        });
        Ok(())
    }

    /// `grad_x = p * (grad_y - sum(grad_y * p))`, per lane (the Jacobian
    /// `diag(p) - p p^T` is symmetric, so the tangent rule's transpose is itself).
    fn backward(&self, cx: &mut BackwardCx<'_>) {
        let (outer, n, inner) = lanes(cx.fwd());
        let (p, g) = (cx.output(), cx.upstream());
        if let Some(gx) = cx.grad_mut(0) {
            for_each_lane((outer, n, inner), |_, s| {
                let mean: f64 = (0..n).map(|k| g[s + k * inner] * p[s + k * inner]).sum();
                (0..n).for_each(|k| gx[s + k * inner] += p[s + k * inner] * (g[s + k * inner] - mean));
            });
        }
    }

    /// `P * (dY - sum_axis(dY * P))` with `P` the output, recorded.
    fn backward_var<'t>(&self, cx: &VarCx<'t>, upstream: Var<'t>) -> Option<VarGrads<'t>> {
        let p = cx.output();
        let mean = (upstream * p).sum_axis(cx.params().axis as usize, true);
        Some(smallvec![Some(p * (upstream - mean))])
    }

    /// `forward`'s lane loop as code: the shift, `e = exp(x - shift)`
    /// stored and summed from `0.0`, then each divided by the total.
    fn emit_forward(&self, cx: &mut EmitCx<'_>) -> Option<()> {
        let EmitLanes { dims, x, y } = emit_lanes(cx);
        let n = dims.1;
        let mut body = emit_shift(&x, n).to_vec();
        body.push("let mut total = 0.0f64;".into());
        body.push(format!("for k in 0..{n} {{ let e = ({x} - shift).exp(); {y} = e; total += e; }}"));
        body.push(format!("for k in 0..{n} {{ {y} /= total; }}"));
        cx.declare_out();
        emit_each_lane(cx, dims, &body);
        Some(())
    }

    /// `d_x += p * (d_y - sum(d_y * p))`, lane by lane, as `backward`.
    fn emit_backward(&self, cx: &mut EmitCx<'_>) -> Option<()> {
        let EmitLanes { dims, y: p, .. } = emit_lanes(cx);
        let Some(dx) = cx.d_inputs[0].clone() else { return Some(()) };
        let (at, n) = (lane_at(dims.2, "k"), dims.1);
        let (g, gx) = (cx.d_out?.at(&at), dx.at(&at));
        let body = [
            "let mut mean = -0.0f64;".into(),
            format!("for k in 0..{n} {{ mean += {g} * {p}; }}"),
            format!("for k in 0..{n} {{ {gx} += {p} * ({g} - mean); }}"),
        ];
        emit_each_lane(cx, dims, &body);
        Some(())
    }

    fn local_text(&self, _: &ForwardCx<'_>, _: usize) -> Option<Cow<'static, str>> {
        Some("dX = P (dY - sum(dY P))".into())
    }
}

/// Records `O` (softmax or log-softmax) along `axis` after checking it.
fn along<'t, O: StaticOp>(x: Var<'t>, axis: impl Axis) -> Result<Var<'t>, ShapeError> {
    x.tape.try_same_tape(O::THIS.name(), &[x])?;
    let axis = resolve_axis(O::THIS.name(), &x.shape(), axis)?;
    let params = NodeParams { axis: axis as u8, ..NodeParams::default() };
    x.tape.try_push::<O>(params, &[x], OutShape::Like(0))
}

impl<'t> Var<'t> {
    /// Log-softmax over the last axis (each row of a 2-D Var): the
    /// shorthand for [`Var::log_softmax_axis`]`(ndim - 1)`, kept because it
    /// is what classification over rows wants (cross-entropy uses it). A
    /// 0-d Var is a row of one element (its log-softmax is 0). Finite and
    /// with finite gradients even at inputs of +-1e300.
    ///
    /// ```
    /// use tapegrad::{Tape, Tensor};
    /// let tape = Tape::new();
    /// let x = tape.var(Tensor::from_vec(vec![1000.0, -1000.0], &[1, 2]));
    /// let y = x.log_softmax();
    /// assert_eq!(y.value().data(), &[0.0, -2000.0]);
    /// ```
    pub fn log_softmax(self) -> Var<'t> {
        let axis = self.shape().len().saturating_sub(1);
        let params = NodeParams { axis: axis as u8, ..NodeParams::default() };
        self.tape.push::<LogSoftmax>(params, &[self], OutShape::Like(0))
    }

    /// Log-softmax along `axis`: `x - ln(sum(exp(x)))` over each lane of
    /// elements along it, computed after subtracting the lane's maximum.
    ///
    /// # Panics
    /// If `axis` is out of range (see [`Var::try_log_softmax_axis`]).
    ///
    /// ```
    /// use tapegrad::{Tape, Tensor};
    /// let tape = Tape::new();
    /// let x = tape.var(Tensor::from_vec(vec![0.0, 5.0, 0.0, 5.0], &[2, 2]));
    /// let y = x.log_softmax_axis(0); // down each column
    /// assert_eq!(y.value().data(), &[-2f64.ln(); 4]);
    /// ```
    pub fn log_softmax_axis(self, axis: impl Axis) -> Var<'t> {
        self.try_log_softmax_axis(axis).unwrap_or_else(|e| panic!("{e}"))
    }

    /// Like [`Var::log_softmax_axis`], but an axis out of range is an error.
    ///
    /// ```
    /// let tape = tapegrad::Tape::new();
    /// let e = tape.var(tapegrad::Tensor::zeros(&[2, 3])).try_log_softmax_axis(2).unwrap_err();
    /// assert_eq!(e.to_string(), "log_softmax: shape [2, 3]: axis 2 is out of range for 2 dimensions");
    /// ```
    pub fn try_log_softmax_axis(self, axis: impl Axis) -> Result<Var<'t>, ShapeError> {
        along::<LogSoftmax>(self, axis)
    }

    /// Softmax along `axis` (PyTorch's `softmax(dim)`): `exp(x) / sum(exp(x))`
    /// over each lane of elements along it, after subtracting the lane's
    /// maximum, so it is finite at +-1e300; an element at -inf gets 0. A
    /// lane that is all -inf has no distribution and comes out NaN.
    ///
    /// # Panics
    /// If `axis` is out of range (see [`Var::try_softmax`]).
    ///
    /// ```
    /// use tapegrad::{Tape, Tensor};
    /// let tape = Tape::new();
    /// let x = tape.var(Tensor::from_vec(vec![0.0, 0.0, 1e300, -1e300], &[2, 2]));
    /// let p = x.softmax(1);
    /// assert_eq!(p.value().data(), &[0.5, 0.5, 1.0, 0.0]);
    /// ```
    pub fn softmax(self, axis: impl Axis) -> Var<'t> {
        self.try_softmax(axis).unwrap_or_else(|e| panic!("{e}"))
    }

    /// Like [`Var::softmax`], but an axis out of range is an error (a 0-d
    /// Var has no axis).
    ///
    /// ```
    /// let tape = tapegrad::Tape::new();
    /// let e = tape.scalar(1.0).try_softmax(0).unwrap_err();
    /// assert_eq!(e.to_string(), "softmax: shape []: axis 0 is out of range for 0 dimensions");
    /// ```
    pub fn try_softmax(self, axis: impl Axis) -> Result<Var<'t>, ShapeError> {
        along::<Softmax>(self, axis)
    }
}

use super::registry::OpCase;

/// This file's cases in the op registry (see [`super::registry`]).
pub(crate) const CASES: &[OpCase] =
    &[OpCase::unary("softmax", |v| v[0].softmax(0)), OpCase::unary("log_softmax", |v| v[0].log_softmax())];

#[cfg(test)]
mod tests {
    use crate::{Tape, Tensor};

    #[test]
    fn log_softmax_matches_its_closed_form() {
        // y_i = x_i - ln(sum e^x); d sum(w * y)/dx_j = w_j - softmax_j * sum(w).
        let xs = [0.5, -1.0, 2.0];
        let ws = [1.0, 2.0, -0.5];
        let tape = Tape::new();
        let x = tape.var(Tensor::from_vec(xs.to_vec(), &[1, 3]));
        let w = tape.constant(Tensor::from_vec(ws.to_vec(), &[1, 3]));
        let y = x.log_softmax();
        let lse = xs.iter().map(|v| v.exp()).sum::<f64>().ln();
        let g = (y * w).sum().backward().wrt(x);
        let total: f64 = ws.iter().sum();
        for j in 0..3 {
            assert!((y.value().data()[j] - (xs[j] - lse)).abs() < 1e-15);
            let want = ws[j] - (xs[j] - lse).exp() * total;
            assert!((g.data()[j] - want).abs() < 1e-15);
        }
        // Forward mode: dy_i = dx_i - sum_j softmax_j dx_j.
        let dxs = [1.0, -2.0, 0.5];
        let t = y.jvp(&[(x, &Tensor::from_vec(dxs.to_vec(), &[1, 3]))]).unwrap();
        let p_dx: f64 = (0..3).map(|j| (xs[j] - lse).exp() * dxs[j]).sum();
        for (i, (&got, &dx)) in t.data().iter().zip(&dxs).enumerate() {
            assert!((got - (dx - p_dx)).abs() < 1e-15, "tangent[{i}]");
        }
    }

    /// Along axis 0 of a `[3, 2]` matrix, each column is a lane: the
    /// strided path against the closed form on each column.
    #[test]
    fn softmax_and_log_softmax_down_columns() {
        let xs = [0.5, 3.0, -1.0, 0.0, 2.0, -2.0]; // columns [0.5, -1, 2] and [3, 0, -2]
        let ws = [1.0, -1.0, 2.0, 0.5, -0.5, 3.0];
        let tape = Tape::new();
        let x = tape.var(Tensor::from_vec(xs.to_vec(), &[3, 2]));
        let w = tape.constant(Tensor::from_vec(ws.to_vec(), &[3, 2]));
        let (p, ly) = (x.softmax(0), x.log_softmax_axis(0));
        let (gp, gl) = ((p * w).sum().backward().wrt(x), (ly * w).sum().backward().wrt(x));
        for c in 0..2 {
            let col: Vec<f64> = (0..3).map(|r| xs[r * 2 + c]).collect();
            let wc: Vec<f64> = (0..3).map(|r| ws[r * 2 + c]).collect();
            let z: f64 = col.iter().map(|v| v.exp()).sum();
            let pc: Vec<f64> = col.iter().map(|v| v.exp() / z).collect();
            let wp: f64 = (0..3).map(|r| wc[r] * pc[r]).sum();
            let wsum: f64 = wc.iter().sum();
            for r in 0..3 {
                let i = r * 2 + c;
                assert!((p.value().data()[i] - pc[r]).abs() < 1e-15);
                assert!((ly.value().data()[i] - (col[r] - z.ln())).abs() < 1e-15);
                // d sum(w p)/dx_r = p_r (w_r - sum w p); d sum(w ln p)/dx_r = w_r - p_r sum w
                assert!((gp.data()[i] - pc[r] * (wc[r] - wp)).abs() < 1e-15, "softmax grad {i}");
                assert!((gl.data()[i] - (wc[r] - pc[r] * wsum)).abs() < 1e-15, "log_softmax grad {i}");
            }
        }
        // Forward mode on softmax: dp = p (dx - sum p dx), a tangent along x[0, 0].
        let dx = Tensor::from_vec(vec![1.0, 0.0, 0.0, 0.0, 0.0, 0.0], &[3, 2]);
        let t = p.jvp(&[(x, &dx)]).unwrap();
        let pv = p.value();
        let p00 = pv.data()[0];
        for (i, &got) in t.data().iter().enumerate() {
            let want = if i % 2 == 1 { 0.0 } else { pv.data()[i] * ((i == 0) as u8 as f64 - p00) };
            assert!((got - want).abs() < 1e-15, "tangent[{i}]");
        }
    }

    #[test]
    fn the_shorthand_is_the_last_axis() {
        let tape = Tape::new();
        let x = tape.var(Tensor::from_vec((0..12).map(|i| (i as f64).sin() * 3.0).collect(), &[2, 3, 2]));
        assert_eq!(x.log_softmax().value(), x.log_softmax_axis(2).value());
        assert!(format!("{:?}", x.log_softmax()).contains("log_softmax(axis=2)"));
        assert!(format!("{:?}", x.softmax(1)).contains("softmax(axis=1)"));
    }
}
