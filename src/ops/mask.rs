//! Masks: `sign`, `step` and `ge_mask`, piecewise-constant functions whose
//! derivative is zero wherever it exists. No gradient flows through them
//! (like `detach`), which is exactly their derivative. The differentiable
//! backward of `abs`, `relu` and `maximum` multiplies by them.

use super::elementwise::emit_broadcast;
use crate::tape::{
    BackwardCx, EmitCx, ForwardCx, NodeParams, Op, OutShape, StaticOp, TangentCx, TangentError, Var, VarCx, VarGrads,
};
use crate::tensor::{SIGN_SRC, binary_into, sign};
use std::borrow::Cow;

/// `sign(x)`: -1, 0 or 1 (0 at 0, the subgradient `abs` uses).
pub(crate) struct Sign;
/// `step(x)`: 1 where `x > 0`, else 0 (0 at 0, the subgradient `relu` uses).
pub(crate) struct Step;
/// `ge_mask(a, b)`: 1 where `a >= b`, else 0 (ties to `a`, as `maximum`).
pub(crate) struct GeMask;

impl StaticOp for Sign {
    const THIS: &'static Self = &Sign;
}
impl StaticOp for Step {
    const THIS: &'static Self = &Step;
}
impl StaticOp for GeMask {
    const THIS: &'static Self = &GeMask;
}

/// The parts every mask shares: no gradient, in either backward.
macro_rules! mask_op {
    ($ty:ident, $name:literal, $text:literal, |$cx:ident, $out:ident| $forward:expr) => {
        impl Op for $ty {
            fn name(&self) -> &'static str {
                $name
            }
            fn forward(&self, $cx: &ForwardCx<'_>, $out: &mut [f64]) {
                $forward
            }
            no_gradient_rules!();
            fn emit_forward(&self, cx: &mut EmitCx<'_>) -> Option<()> {
                $ty::emit(cx);
                Some(())
            }
            fn local_text(&self, _: &ForwardCx<'_>, _: usize) -> Option<Cow<'static, str>> {
                Some($text.into())
            }
        }
    };
}

mask_op!(Sign, "sign", "0 (piecewise constant)", |cx, out| {
    out.iter_mut().zip(cx.input(0)).for_each(|(o, &x)| *o = sign(x))
});
mask_op!(Step, "step", "0 (piecewise constant)", |cx, out| {
    out.iter_mut().zip(cx.input(0)).for_each(|(o, &x)| *o = if x > 0.0 { 1.0 } else { 0.0 })
});
mask_op!(GeMask, "ge_mask", "0 (piecewise constant)", |cx, out| {
    let shape = cx.out_shape();
    binary_into(out, shape, cx.input(0), cx.shape(0), cx.input(1), cx.shape(1), |a, b| if a >= b { 1.0 } else { 0.0 })
});

// The emit rules of the forwards above (`Op::emit_forward` calls them).
impl Sign {
    /// `y[i] = sign(x[i])`, the helper copied into the module.
    fn emit(cx: &mut EmitCx<'_>) {
        cx.helper(SIGN_SRC);
        let x = cx.inputs[0].clone();
        cx.assign_each(|i| format!("sign({})", x.at(i)));
    }
}
impl Step {
    /// `y[i] = [x[i] > 0]`.
    fn emit(cx: &mut EmitCx<'_>) {
        let x = cx.inputs[0].clone();
        cx.assign_each(|i| format!("if {} > 0.0 {{ 1.0 }} else {{ 0.0 }}", x.at(i)));
    }
}
impl GeMask {
    /// `y[i] = [a[ia] >= b[ib]]`, under broadcasting.
    fn emit(cx: &mut EmitCx<'_>) {
        let (a, b, y) = (cx.inputs[0].clone(), cx.inputs[1].clone(), cx.out.clone());
        cx.declare_out();
        emit_broadcast(cx, |ix| {
            format!("{} = if {} >= {} {{ 1.0 }} else {{ 0.0 }};", y.at(&ix[0]), a.at(&ix[1]), b.at(&ix[2]))
        });
    }
}

impl<'t> Var<'t> {
    /// The sign of each element: -1, 0 (at 0) or 1. Its gradient is zero.
    ///
    /// ```
    /// let tape = tapegrad::Tape::new();
    /// let x = tape.var(tapegrad::Tensor::from_vec(vec![-2.0, 0.0, 3.0], &[3]));
    /// assert_eq!(x.sign().value().data(), &[-1.0, 0.0, 1.0]);
    /// assert!(!x.sign().requires_grad());
    /// ```
    pub fn sign(self) -> Var<'t> {
        self.tape.push::<Sign>(NodeParams::default(), &[self], OutShape::Like(0))
    }

    /// 1 where the element is positive, else 0 (also at 0): the derivative
    /// of `relu`. Its gradient is zero.
    ///
    /// ```
    /// let tape = tapegrad::Tape::new();
    /// let x = tape.var(tapegrad::Tensor::from_vec(vec![-2.0, 0.0, 3.0], &[3]));
    /// assert_eq!(x.step().value().data(), &[0.0, 0.0, 1.0]);
    /// ```
    pub fn step(self) -> Var<'t> {
        self.tape.push::<Step>(NodeParams::default(), &[self], OutShape::Like(0))
    }

    /// 1 where `self >= other`, else 0, with NumPy broadcasting: the
    /// derivative of `maximum` with respect to `self`. Its gradient is zero.
    ///
    /// # Panics
    /// If the shapes do not broadcast.
    ///
    /// ```
    /// let tape = tapegrad::Tape::new();
    /// let a = tape.var(tapegrad::Tensor::from_vec(vec![1.0, 2.0, 3.0], &[3]));
    /// assert_eq!(a.ge_mask(tape.scalar(2.0)).value().data(), &[0.0, 1.0, 1.0]);
    /// ```
    pub fn ge_mask(self, other: Var<'t>) -> Var<'t> {
        self.tape.push_broadcast::<GeMask>(NodeParams::default(), self, other).unwrap_or_else(|e| panic!("{e}"))
    }
}

use super::registry::{Checks, OpCase};

/// This file's cases in the op registry (see [`super::registry`]).
pub(crate) const CASES: &[OpCase] = &[
    // Piecewise constant: a gradient of 0, which central differences away
    // from the jumps agree with. Masks give 0 or 1 (`sign` -1, 0 or 1) for
    // a NaN as for any value (`sign(NaN) = 0`, the subgradient `abs` uses
    // at 0): they are the factors of the differentiable backward, not ops
    // a NaN is traced through, so they sit out the NaN check.
    OpCase::unary("sign", |v| v[0].sign()).checks(Checks::NO_NAN),
    OpCase::unary("step", |v| v[0].step()).checks(Checks::NO_NAN),
    OpCase::binary("ge_mask", |v| v[0].ge_mask(v[1])).checks(Checks::NO_NAN),
];
