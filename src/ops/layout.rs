//! Layout: `t` (transpose of a 2-D Var) and `reshape`. They move elements
//! and do no arithmetic, so backward moves the gradient back.

use crate::tape::{
    BackwardCx, EmitCx, ForwardCx, NodeParams, Op, OutShape, StaticOp, TangentCx, TangentError, Var, VarCx, VarGrads,
};
use crate::tensor::{ShapeError, check_2d, check_reshape, transpose_into};
use smallvec::smallvec;
use std::borrow::Cow;

/// `t`: `Y = X^T`.
pub(crate) struct Transpose;
/// `reshape`: the same elements under a new shape.
pub(crate) struct Reshape;

impl StaticOp for Transpose {
    const THIS: &'static Self = &Transpose;
}
impl StaticOp for Reshape {
    const THIS: &'static Self = &Reshape;
}

impl Op for Transpose {
    fn name(&self) -> &'static str {
        "t"
    }
    fn forward(&self, cx: &ForwardCx<'_>, out: &mut [f64]) {
        let s = cx.shape(0);
        transpose_into(cx.input(0), s[0], s[1], out);
    }
    /// Linear: `dY = dX^T`.
    fn jvp(&self, cx: &TangentCx<'_>, out: &mut [f64]) -> Result<(), TangentError> {
        let s = cx.fwd().shape(0);
        if let Some(t) = cx.tangent(0) {
            let (r, c) = (s[0], s[1]);
            (0..r * c).for_each(|k| out[(k % c) * r + k / c] += t[k]);
        }
        Ok(())
    }
    /// `dX += dY^T`.
    fn backward(&self, cx: &mut BackwardCx<'_>) {
        let (s, upstream) = (cx.fwd().shape(0), cx.upstream());
        let (r, c) = (s[0], s[1]);
        if let Some(gx) = cx.grad_mut(0) {
            // upstream is c x r; element (j, i) goes to (i, j).
            for i in 0..r {
                for j in 0..c {
                    gx[i * c + j] += upstream[j * r + i];
                }
            }
        }
    }
    fn backward_var<'t>(&self, _: &VarCx<'t>, upstream: Var<'t>) -> Option<VarGrads<'t>> {
        Some(smallvec![Some(upstream.t())])
    }

    /// A copy: output element `o` is input element `(o % r) c + o / r`.
    fn emit_forward(&self, cx: &mut EmitCx<'_>) -> Option<()> {
        let x = cx.inputs[0].clone();
        let (r, c) = (x.shape[0], x.shape[1]);
        cx.assign_each(|o| x.at(&format!("({o} % {r}) * {c} + {o} / {r}")));
        Some(())
    }
    /// `dX[i] += dY` at the transposed position (one add per element).
    fn emit_backward(&self, cx: &mut EmitCx<'_>) -> Option<()> {
        let (Some(dx), Some(dy)) = (cx.d_inputs[0].clone(), cx.d_out.cloned()) else { return Some(()) };
        let (r, c) = (dx.shape[0], dx.shape[1]);
        cx.each(dx.len(), |i| format!("{} += {};", dx.at(i), dy.at(&format!("({i} % {c}) * {r} + {i} / {c}"))));
        Some(())
    }
    fn local_text(&self, _: &ForwardCx<'_>, _: usize) -> Option<Cow<'static, str>> {
        Some("dX = dY^T".into())
    }
}

impl Op for Reshape {
    fn name(&self) -> &'static str {
        "reshape"
    }
    fn forward(&self, cx: &ForwardCx<'_>, out: &mut [f64]) {
        out.copy_from_slice(cx.input(0));
    }
    /// Linear: the tangent keeps its order under the new shape.
    fn jvp(&self, cx: &TangentCx<'_>, out: &mut [f64]) -> Result<(), TangentError> {
        if let Some(t) = cx.tangent(0) {
            out.iter_mut().zip(t).for_each(|(o, t)| *o += t);
        }
        Ok(())
    }
    /// The gradient keeps its order, only the shape changes.
    fn backward(&self, cx: &mut BackwardCx<'_>) {
        let upstream = cx.upstream();
        if let Some(gx) = cx.grad_mut(0) {
            gx.iter_mut().zip(upstream).for_each(|(g, u)| *g += u);
        }
    }
    fn backward_var<'t>(&self, cx: &VarCx<'t>, upstream: Var<'t>) -> Option<VarGrads<'t>> {
        Some(smallvec![Some(upstream.reshape(&cx.input(0).shape()))])
    }

    /// A copy, in order.
    fn emit_forward(&self, cx: &mut EmitCx<'_>) -> Option<()> {
        let x = cx.inputs[0].clone();
        cx.assign_each(|i| x.at(i));
        Some(())
    }
    /// `dX[i] += dY[i]`.
    fn emit_backward(&self, cx: &mut EmitCx<'_>) -> Option<()> {
        let (Some(dx), Some(dy)) = (cx.d_inputs[0].clone(), cx.d_out.cloned()) else { return Some(()) };
        cx.each(dx.len(), |i| format!("{} += {};", dx.at(i), dy.at(i)));
        Some(())
    }
    fn local_text(&self, _: &ForwardCx<'_>, _: usize) -> Option<Cow<'static, str>> {
        Some("dX = dY reshaped".into())
    }
}

impl<'t> Var<'t> {
    /// Transpose of a 2-D Var.
    ///
    /// # Panics
    /// If the Var is not 2-D (see [`Var::try_t`]).
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
        self.tape.try_push::<Transpose>(NodeParams::default(), &[self], OutShape::Given(&[c, r]))
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
        self.tape.try_push::<Reshape>(NodeParams::default(), &[self], OutShape::Given(shape))
    }
}

use super::registry::OpCase;

/// This file's cases in the op registry (see [`super::registry`]).
pub(crate) const CASES: &[OpCase] =
    &[OpCase::unary("t", |v| v[0].t()), OpCase::unary("reshape", |v| v[0].reshape(&[3, 1, 2]))];

#[cfg(test)]
mod tests {
    use crate::{Tape, Tensor};

    #[test]
    fn transpose_and_reshape_move_gradients_back() {
        let tape = Tape::new();
        let x = tape.var(Tensor::arange(0.0, 6.0, 1.0).reshape(&[2, 3]));
        let w = tape.constant(Tensor::arange(1.0, 7.0, 1.0).reshape(&[3, 2]));
        let xt = x.t();
        assert_eq!(xt.value().data(), &[0.0, 3.0, 1.0, 4.0, 2.0, 5.0]);
        // d sum(W * X^T)/dX = W^T.
        assert_eq!((xt * w).sum().backward().wrt(x).data(), &[1.0, 3.0, 5.0, 2.0, 4.0, 6.0]);
        let r = x.reshape(&[3, 2]);
        assert_eq!((r * w).sum().backward().wrt(x).data(), &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);
        // Forward mode moves the tangent as the forward moved the value.
        let dx = Tensor::arange(10.0, 16.0, 1.0).reshape(&[2, 3]);
        assert_eq!(xt.jvp(&[(x, &dx)]).unwrap().data(), &[10.0, 13.0, 11.0, 14.0, 12.0, 15.0]);
        let tr = r.jvp(&[(x, &dx)]).unwrap();
        assert_eq!((tr.shape(), tr.data()), (&[3usize, 2][..], dx.data()));
    }
}
