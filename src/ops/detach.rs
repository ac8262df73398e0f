//! `detach`: the same value, as a constant. No gradient flows through it,
//! so its node needs none even when its input does.

use crate::tape::{
    BackwardCx, EmitCx, ForwardCx, NodeParams, Op, OutShape, StaticOp, TangentCx, TangentError, Var, VarCx, VarGrads,
};
use std::borrow::Cow;

/// The op.
pub(crate) struct Detach;

impl StaticOp for Detach {
    const THIS: &'static Self = &Detach;
}

impl Op for Detach {
    fn name(&self) -> &'static str {
        "detach"
    }
    fn forward(&self, cx: &ForwardCx<'_>, out: &mut [f64]) {
        out.copy_from_slice(cx.input(0));
    }
    // A constant: its tangent is zero (the sweep does not even call the
    // rule, as `passes_gradient` is false; the rule says the same).
    no_gradient_rules!();

    /// A copy of the value; no gradient passes, so the sweep never runs its backward.
    fn emit_forward(&self, cx: &mut EmitCx<'_>) -> Option<()> {
        let x = cx.inputs[0].clone();
        cx.assign_each(|i| x.at(i));
        Some(())
    }
    fn local_text(&self, _: &ForwardCx<'_>, _: usize) -> Option<Cow<'static, str>> {
        Some("0 (detached)".into())
    }
}

impl<'t> Var<'t> {
    /// The same value as a constant: gradients do not flow through it.
    ///
    /// ```
    /// let tape = tapegrad::Tape::new();
    /// let a = tape.scalar(3.0);
    /// let f = a * a.detach(); // d/da = a.detach() = 3, not 2a
    /// assert_eq!(f.backward().wrt(a).item(), 3.0);
    /// assert!(!a.detach().requires_grad()); // a constant, as far as gradients go
    /// ```
    pub fn detach(self) -> Var<'t> {
        self.tape.push::<Detach>(NodeParams::default(), &[self], OutShape::Like(0))
    }
}

use super::registry::{Checks, OpCase};

/// This file's cases in the op registry (see [`super::registry`]).
pub(crate) const CASES: &[OpCase] = &[
    // Central differences see the derivative of the value, which the
    // gradient of `detach` is by design not (it is 0).
    OpCase::unary("detach", |v| v[0].detach() * v[0]).checks(Checks { central: false, ..Checks::ALL }),
];

#[cfg(test)]
mod tests {
    #[test]
    fn detach_keeps_the_value_and_blocks_the_gradient() {
        let tape = crate::Tape::new();
        let x = tape.scalar(2.0);
        let y = x.detach();
        assert_eq!(y.item(), 2.0);
        // f = x^2 * detach(x): df/dx = 2x * 2 = 8, not 3x^2 = 12.
        assert_eq!((x * x * y).backward().wrt(x).item(), 8.0);
        // Forward mode agrees: d(x^2 detach(x)) = 2x * 2 dx, detach's tangent is 0.
        let one = crate::Tensor::scalar(1.0);
        assert_eq!((x * x * y).jvp(&[(x, &one)]).unwrap().item(), 8.0);
        assert_eq!(y.jvp(&[(x, &one)]).unwrap().item(), 0.0);
    }
}
