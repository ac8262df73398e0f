//! `log_softmax` over the last axis.
//!
//! Forward: `y = (x - max(x)) - ln(sum(exp(x - max(x))))`, row by row; the
//! shift by the row's maximum keeps it finite at any magnitude, and it is
//! subtracted before the log-sum so nothing rounds away past 2^53 (see
//! `tensor::log_softmax_into` for the edges: -inf, +inf, NaN).
//! Backward: with `p = softmax(x) = exp(y)`,
//! `grad_x = grad_y - p * sum(grad_y)`, row by row.

use crate::tape::{
    BackwardCx, ForwardCx, NodeParams, Op, OutShape, StaticOp, TangentCx, TangentError, Var, VarCx, VarGrads,
};
use crate::tensor::log_softmax_into;
use smallvec::smallvec;
use std::borrow::Cow;

/// The op.
pub(crate) struct LogSoftmax;

impl StaticOp for LogSoftmax {
    const THIS: &'static Self = &LogSoftmax;
}

impl Op for LogSoftmax {
    fn name(&self) -> &'static str {
        "log_softmax"
    }

    fn forward(&self, cx: &ForwardCx<'_>, out: &mut [f64]) {
        let n = cx.shape(0).last().copied().unwrap_or(1);
        log_softmax_into(cx.input(0), n, out);
    }

    /// `dy = dx - sum(softmax(x) * dx)`, per row (the Jacobian
    /// `I - 1 p^T` applied to the tangent; backward applies its transpose).
    fn jvp(&self, cx: &TangentCx<'_>, out: &mut [f64]) -> Result<(), TangentError> {
        let n = cx.fwd().out_shape().last().copied().unwrap_or(1);
        let (Some(dx), true) = (cx.tangent(0), n > 0) else { return Ok(()) };
        for ((o, t), y) in out.chunks_exact_mut(n).zip(dx.chunks_exact(n)).zip(cx.output().chunks_exact(n)) {
            let mean: f64 = t.iter().zip(y).map(|(t, y)| y.exp() * t).sum();
            for i in 0..n {
                o[i] = t[i] - mean;
            }
        }
        Ok(())
    }

    /// `grad_x = grad_y - softmax(x) * sum(grad_y)`, per row.
    fn backward(&self, cx: &mut BackwardCx<'_>) {
        let n = cx.fwd().out_shape().last().copied().unwrap_or(1);
        let (y, upstream) = (cx.output(), cx.upstream());
        if n == 0 {
            return;
        }
        if let Some(gx) = cx.grad_mut(0) {
            for ((gx, g), y) in gx.chunks_exact_mut(n).zip(upstream.chunks_exact(n)).zip(y.chunks_exact(n)) {
                let total: f64 = g.iter().sum();
                for i in 0..n {
                    gx[i] += g[i] - y[i].exp() * total;
                }
            }
        }
    }

    /// The same formula recorded: `dY - exp(Y) * sum_last_axis(dY)`,
    /// where `exp(Y)` depends on `X` through `Y`, so it differentiates again.
    fn backward_var<'t>(&self, cx: &VarCx<'t>, upstream: Var<'t>) -> Option<VarGrads<'t>> {
        let y = cx.output();
        let ndim = y.shape().len();
        // A 0-d input is a row of one element: the sum is the element.
        let total = if ndim == 0 { upstream } else { upstream.sum_axis(ndim - 1, true) };
        Some(smallvec![Some(upstream - y.exp() * total)])
    }

    fn local_text(&self, _: &ForwardCx<'_>, _: usize) -> Option<Cow<'static, str>> {
        Some("dX = dY - softmax(X) sum(dY)".into())
    }
}

impl<'t> Var<'t> {
    /// Log-softmax over the last axis (each row of a 2-D Var), finite and
    /// with finite gradients even at inputs of +-1000.
    ///
    /// ```
    /// use tapegrad::{Tape, Tensor};
    /// let tape = Tape::new();
    /// let x = tape.var(Tensor::from_vec(vec![1000.0, -1000.0], &[1, 2]));
    /// let y = x.log_softmax();
    /// assert_eq!(y.value().data(), &[0.0, -2000.0]);
    /// ```
    pub fn log_softmax(self) -> Var<'t> {
        self.tape.push::<LogSoftmax>(NodeParams::default(), &[self], OutShape::Like(0))
    }
}

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
}
