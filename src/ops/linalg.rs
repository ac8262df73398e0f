//! Linear algebra and layout: `matmul`, `t` (transpose), `reshape`.

use super::Op;
use crate::tape::{Arena, Node, Var};
use crate::tensor::{MatRef, ShapeError, check_2d, check_reshape, gemm_of_checked_shapes, matmul_dims, transpose_into};

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
        self.tape.try_same_tape("matmul", &[self, other])?;
        let (m, k, n) = self.tape.with_shapes(self.idx, other.idx, matmul_dims)?;
        Ok(self.tape.record(Op::MatMul, 0.0, &[self, other], &[m, n], |arena, out| {
            let a = MatRef::row_major(arena.value(self.idx), m, k);
            let b = MatRef::row_major(arena.value(other.idx), k, n);
            gemm_of_checked_shapes(1.0, a, b, 0.0, out);
        }))
    }

    /// Transpose of a 2-D Var.
    ///
    /// # Panics
    /// If the Var is not 2-D.
    ///
    /// ```
    /// let tape = tapegrad::Tape::new();
    /// let a = tape.var(tapegrad::Tensor::zeros(&[2, 3]));
    /// assert_eq!(a.t().shape().as_slice(), &[3, 2]);
    /// ```
    pub fn t(self) -> Var<'t> {
        self.try_t().unwrap_or_else(|e| panic!("{e}"))
    }

    /// Like [`Var::t`], but a Var that is not 2-D is an error.
    ///
    /// ```
    /// let tape = tapegrad::Tape::new();
    /// let e = tape.var(tapegrad::Tensor::zeros(&[3])).try_t().unwrap_err();
    /// assert_eq!(e.to_string(), "t: shape [3]: expected a 2-D tensor");
    /// ```
    pub fn try_t(self) -> Result<Var<'t>, ShapeError> {
        let (r, c) = check_2d("t", &self.shape())?;
        Ok(self.tape.record(Op::Transpose, 0.0, &[self], &[c, r], |arena, out| {
            transpose_into(arena.value(self.idx), r, c, out)
        }))
    }

    /// The same elements under a new shape.
    ///
    /// # Panics
    /// If the element counts differ.
    ///
    /// ```
    /// let tape = tapegrad::Tape::new();
    /// let a = tape.var(tapegrad::Tensor::zeros(&[6]));
    /// assert_eq!(a.reshape(&[2, 3]).shape().as_slice(), &[2, 3]);
    /// ```
    pub fn reshape(self, shape: &[usize]) -> Var<'t> {
        self.try_reshape(shape).unwrap_or_else(|e| panic!("{e}"))
    }

    /// Like [`Var::reshape`], but a wrong element count is an error.
    ///
    /// ```
    /// let tape = tapegrad::Tape::new();
    /// let a = tape.var(tapegrad::Tensor::zeros(&[6]));
    /// assert!(a.try_reshape(&[4]).is_err());
    /// ```
    pub fn try_reshape(self, shape: &[usize]) -> Result<Var<'t>, ShapeError> {
        check_reshape(&self.shape(), shape)?;
        Ok(self.tape.record(Op::Reshape, 0.0, &[self], shape, |arena, out| out.copy_from_slice(arena.value(self.idx))))
    }
}

/// Backward of `C = A B`: `dA += dC B^T` and `dB += A^T dC`.
///
/// The transposes are read in place through strides (no copies), and the
/// products accumulate straight into the adjoints (`beta = 1`).
pub(crate) fn matmul_backward(node: &Node, arena: &Arena<'_>, upstream: &[f64], below: &mut [f64]) {
    let [a, b] = node.args;
    let (m, k) = (arena.shape(a)[0], arena.shape(a)[1]);
    let n = arena.shape(b)[1];
    let dc = MatRef::row_major(upstream, m, n);
    let a_mat = MatRef::row_major(arena.value(a), m, k);
    let b_mat = MatRef::row_major(arena.value(b), k, n);
    if let Some(ga) = super::input_grad(arena, below, a) {
        gemm_of_checked_shapes(1.0, dc, b_mat.t(), 1.0, ga);
    }
    if let Some(gb) = super::input_grad(arena, below, b) {
        gemm_of_checked_shapes(1.0, a_mat.t(), dc, 1.0, gb);
    }
}

/// Backward of `Y = X^T`: `dX += dY^T`.
pub(crate) fn transpose_backward(node: &Node, arena: &Arena<'_>, upstream: &[f64], below: &mut [f64]) {
    let x = node.args[0];
    let (r, c) = (arena.shape(x)[0], arena.shape(x)[1]);
    if let Some(gx) = super::input_grad(arena, below, x) {
        // upstream is c x r; element (j, i) goes to (i, j).
        for i in 0..r {
            for j in 0..c {
                gx[i * c + j] += upstream[j * r + i];
            }
        }
    }
}

/// Backward of `reshape`: the gradient keeps its order, only the shape changes.
pub(crate) fn reshape_backward(node: &Node, arena: &Arena<'_>, upstream: &[f64], below: &mut [f64]) {
    if let Some(gx) = super::input_grad(arena, below, node.args[0]) {
        gx.iter_mut().zip(upstream).for_each(|(g, u)| *g += u);
    }
}
