//! `matmul`: the product of 2-D Vars, `[m, k] x [k, n] -> [m, n]`.
//!
//! Backward of `C = A B`: `dA += dC B^T` and `dB += A^T dC`. The transposes
//! are read in place through strides (no copies), and the products
//! accumulate straight into the gradient slots (`beta = 1`).

use crate::tape::{BackwardCx, ForwardCx, NodeParams, Op, OutShape, StaticOp, Var};
use crate::tensor::{MatRef, ShapeError, gemm_of_checked_shapes, matmul_dims};
use std::borrow::Cow;

/// The op.
pub(crate) struct MatMul;

impl StaticOp for MatMul {
    const THIS: &'static Self = &MatMul;
}

impl Op for MatMul {
    fn name(&self) -> &'static str {
        "matmul"
    }

    fn forward(&self, cx: &ForwardCx<'_>, out: &mut [f64]) {
        let (m, k, n) = (cx.shape(0)[0], cx.shape(0)[1], cx.shape(1)[1]);
        let a = MatRef::row_major(cx.input(0), m, k);
        let b = MatRef::row_major(cx.input(1), k, n);
        gemm_of_checked_shapes(1.0, a, b, 0.0, out);
    }

    fn backward(&self, cx: &mut BackwardCx<'_>) {
        let (m, k, n) = (cx.fwd().shape(0)[0], cx.fwd().shape(0)[1], cx.fwd().shape(1)[1]);
        let dc = MatRef::row_major(cx.upstream(), m, n);
        let a = MatRef::row_major(cx.input(0), m, k);
        let b = MatRef::row_major(cx.input(1), k, n);
        if let Some(ga) = cx.grad_mut(0) {
            gemm_of_checked_shapes(1.0, dc, b.t(), 1.0, ga);
        }
        if let Some(gb) = cx.grad_mut(1) {
            gemm_of_checked_shapes(1.0, a.t(), dc, 1.0, gb);
        }
    }

    fn local_text(&self, _: &ForwardCx<'_>, k: usize) -> Option<Cow<'static, str>> {
        Some(["dA = dC B^T", "dB = A^T dC"][k].into())
    }
}

impl<'t> Var<'t> {
    /// Matrix product of 2-D Vars, `[m, k] x [k, n] -> [m, n]`.
    ///
    /// # Panics
    /// If an operand is not 2-D, the inner dimensions differ or `other` is
    /// from another tape; the message names `matmul` and both shapes.
    ///
    /// ```
    /// use tapegrad::{Tape, Tensor};
    /// let tape = Tape::new();
    /// let a = tape.var(Tensor::ones(&[2, 3]));
    /// let b = tape.var(Tensor::ones(&[3, 4]));
    /// assert_eq!(a.matmul(b).shape().as_slice(), &[2, 4]);
    /// ```
    pub fn matmul(self, other: Var<'t>) -> Var<'t> {
        self.try_matmul(other).unwrap_or_else(|e| panic!("{e}"))
    }

    /// Like [`Var::matmul`], but a shape mismatch (or an operand from
    /// another tape) is an error.
    ///
    /// ```
    /// use tapegrad::{Tape, Tensor};
    /// let tape = Tape::new();
    /// let a = tape.var(Tensor::ones(&[2, 3]));
    /// let e = a.try_matmul(a).unwrap_err();
    /// assert_eq!(e.to_string(), "matmul: shapes [2, 3] and [2, 3]: inner dimensions 3 and 2 differ");
    /// ```
    pub fn try_matmul(self, other: Var<'t>) -> Result<Var<'t>, ShapeError> {
        // Before the shapes: `other`'s index means nothing on this tape.
        self.tape.try_same_tape("matmul", &[self, other])?;
        let (m, _, n) = self.tape.with_shapes(self.idx, other.idx, matmul_dims)?;
        Ok(self.tape.push::<MatMul>(NodeParams::default(), &[self, other], OutShape::Given(&[m, n])))
    }
}

#[cfg(test)]
mod tests {
    use crate::{Tape, Tensor};

    #[test]
    fn matmul_matches_its_closed_form() {
        // C = A B; d sum(W * C)/dA = W B^T, d/dB = A^T W, written out by hand.
        let tape = Tape::new();
        let a = tape.var(Tensor::from_vec(vec![1.0, 2.0, 3.0, 4.0], &[2, 2]));
        let b = tape.var(Tensor::from_vec(vec![5.0, 6.0, 7.0, 8.0], &[2, 2]));
        let w = tape.constant(Tensor::from_vec(vec![1.0, 0.0, 0.0, 2.0], &[2, 2]));
        let c = a.matmul(b);
        assert_eq!(c.value().data(), &[19.0, 22.0, 43.0, 50.0]);
        let g = (c * w).sum().backward();
        assert_eq!(g.wrt(a).data(), &[5.0, 7.0, 12.0, 16.0]);
        assert_eq!(g.wrt(b).data(), &[1.0, 6.0, 2.0, 8.0]);
    }
}
