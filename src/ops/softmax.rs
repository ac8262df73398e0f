//! `log_softmax` over the last axis.
//!
//! Forward: `y = x - max(x) - ln(sum(exp(x - max(x))))`, row by row; the
//! shift by the row's maximum keeps it finite at any magnitude.
//! Backward: with `p = softmax(x) = exp(y)`,
//! `grad_x = grad_y - p * sum(grad_y)`, row by row.

use super::Op;
use crate::tape::{Arena, Node, Var};
use crate::tensor::log_softmax_into;

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
        let shape = self.shape();
        let n = shape.last().copied().unwrap_or(1);
        self.tape
            .record(Op::LogSoftmax, 0.0, &[self], &shape, |arena, out| log_softmax_into(arena.value(self.idx), n, out))
    }
}

/// Backward: `grad_x = grad_y - softmax(x) * sum(grad_y)`, per row.
pub(crate) fn log_softmax_backward(me: u32, node: &Node, arena: &Arena<'_>, upstream: &[f64], below: &mut [f64]) {
    let n = arena.shape(me).last().copied().unwrap_or(1);
    let y = arena.value(me);
    if n == 0 {
        return;
    }
    if let Some(gx) = super::input_grad(arena, below, node.args[0]) {
        for ((gx, g), y) in gx.chunks_exact_mut(n).zip(upstream.chunks_exact(n)).zip(y.chunks_exact(n)) {
            let total: f64 = g.iter().sum();
            for i in 0..n {
                gx[i] += g[i] - y[i].exp() * total;
            }
        }
    }
}
