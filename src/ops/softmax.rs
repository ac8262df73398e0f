//! `log_softmax` over the last axis.
//!
//! Forward: `y = (x - max(x)) - ln(sum(exp(x - max(x))))`, row by row; the
//! shift by the row's maximum keeps it finite at any magnitude, and it is
//! subtracted before the log-sum so nothing rounds away past 2^53 (see
//! `tensor::log_softmax_into` for the edges: -inf, +inf, NaN).
//! Backward: with `p = softmax(x) = exp(y)`,
//! `grad_x = grad_y - p * sum(grad_y)`, row by row.

use crate::tape::{BackwardCx, ForwardCx, NodeParams, Op, OutShape, StaticOp, Var};
use crate::tensor::log_softmax_into;
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
    }
}
