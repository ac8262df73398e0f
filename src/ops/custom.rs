//! Ops defined outside the crate: a forward rule and a backward rule (a
//! custom vector-Jacobian product) supplied by the user.
//!
//! ```
//! use tapegrad::{Tape, Tensor, ops::custom::CustomOp};
//!
//! /// softplus(x) = ln(1 + e^x), with derivative sigmoid(x), written by hand.
//! struct Softplus;
//! impl CustomOp for Softplus {
//!     fn name(&self) -> &'static str { "softplus" }
//!     fn forward(&self, inputs: &[Tensor]) -> Tensor {
//!         inputs[0].map(|x| x.max(0.0) + (-x.abs()).exp().ln_1p())
//!     }
//!     fn backward(&self, inputs: &[Tensor], _output: &Tensor, grad: &Tensor) -> Vec<Tensor> {
//!         let s = inputs[0].map(|x| 1.0 / (1.0 + (-x).exp()));
//!         vec![grad.mul(&s)]
//!     }
//! }
//!
//! let tape = Tape::new();
//! let x = tape.var(Tensor::from_vec(vec![0.0, 1.0], &[2]));
//! let y = tape.custom(Softplus, &[x]).sum();
//! let g = y.backward().wrt(x);
//! assert_eq!(g.data()[0], 0.5);
//! ```

use crate::tape::{BackwardCx, ForwardCx, Op, TangentCx, TangentError, Tape, Var, VarCx, VarGrads};
use crate::tensor::{ShapeError, Tensor};
use std::borrow::Cow;

/// A user-defined op: how to compute its value, and how to turn the
/// gradient of its output into gradients of its inputs.
///
/// ```
/// use tapegrad::{Tape, Tensor, ops::custom::CustomOp};
/// struct Cube; // x^3, with derivative 3x^2
/// impl CustomOp for Cube {
///     fn name(&self) -> &'static str { "cube" }
///     fn forward(&self, x: &[Tensor]) -> Tensor { x[0].map(|v| v * v * v) }
///     fn backward(&self, x: &[Tensor], _: &Tensor, g: &Tensor) -> Vec<Tensor> {
///         vec![g.mul(&x[0].map(|v| 3.0 * v * v))]
///     }
/// }
/// let tape = Tape::new();
/// let x = tape.scalar(2.0);
/// let y = tape.custom(Cube, &[x]);
/// assert_eq!((y.item(), y.backward().wrt(x).item()), (8.0, 12.0));
/// ```
/// `Send + Sync`, so a tape holding one can move to another thread.
pub trait CustomOp: Send + Sync + 'static {
    /// Name shown in errors and in the tape's table.
    fn name(&self) -> &'static str;

    /// The output, computed from the inputs' values.
    fn forward(&self, inputs: &[Tensor]) -> Tensor;

    /// The Jacobian-vector product (forward mode), optional: given the
    /// inputs, the output and one tangent per input (shaped like it; zeros
    /// for inputs nothing seeded flows into), return the output's tangent.
    /// Without it, forward mode through this op is an error naming it
    /// ([`TangentError::NoRule`]), never a silent zero.
    ///
    /// ```
    /// use tapegrad::{Tape, Tensor, ops::custom::CustomOp};
    /// struct Cube;
    /// impl CustomOp for Cube {
    ///     fn name(&self) -> &'static str { "cube" }
    ///     fn forward(&self, x: &[Tensor]) -> Tensor { x[0].map(|v| v * v * v) }
    ///     fn backward(&self, x: &[Tensor], _: &Tensor, g: &Tensor) -> Vec<Tensor> {
    ///         vec![g.mul(&x[0].map(|v| 3.0 * v * v))]
    ///     }
    /// }
    /// let tape = Tape::new();
    /// let x = tape.scalar(2.0);
    /// let err = tape.custom(Cube, &[x]).jvp(&[(x, &Tensor::scalar(1.0))]).unwrap_err();
    /// assert_eq!(err.to_string(), "custom op cube has no tangent rule: implement CustomOp::jvp to use forward mode through it");
    /// ```
    fn jvp(&self, inputs: &[Tensor], output: &Tensor, tangents: &[Tensor]) -> Result<Tensor, TangentError> {
        let _ = (inputs, output, tangents);
        Err(TangentError::NoRule { op: self.name() })
    }

    /// The vector-Jacobian product: given the inputs, the output and the
    /// gradient of the loss with respect to the output, return the gradient
    /// with respect to each input, shaped like that input.
    fn backward(&self, inputs: &[Tensor], output: &Tensor, grad_output: &Tensor) -> Vec<Tensor>;

    /// The same vector-Jacobian product written with tape ops, for the
    /// differentiable backward (`Var::grad_graph`): return each input's
    /// gradient as a `Var` shaped like that input (`None` for none). The
    /// default, `None`, means the op is not twice differentiable, and
    /// `grad_graph` stops with "custom op NAME is not twice differentiable".
    ///
    /// ```
    /// use tapegrad::{Tape, Tensor, Var, ops::custom::CustomOp};
    /// struct Cube;
    /// impl CustomOp for Cube {
    ///     fn name(&self) -> &'static str { "cube" }
    ///     fn forward(&self, x: &[Tensor]) -> Tensor { x[0].map(|v| v * v * v) }
    ///     fn backward(&self, x: &[Tensor], _: &Tensor, g: &Tensor) -> Vec<Tensor> {
    ///         vec![g.mul(&x[0].map(|v| 3.0 * v * v))]
    ///     }
    ///     fn backward_var<'t>(&self, x: &[Var<'t>], _: Var<'t>, g: Var<'t>) -> Option<Vec<Option<Var<'t>>>> {
    ///         Some(vec![Some(g * 3.0 * x[0].square())])
    ///     }
    /// }
    /// let tape = Tape::new();
    /// let x = tape.scalar(2.0);
    /// let dx = tape.custom(Cube, &[x]).grad_graph().unwrap().wrt(x);
    /// assert_eq!(dx.backward().wrt(x).item(), 12.0); // 6x
    /// ```
    fn backward_var<'t>(
        &self,
        inputs: &[Var<'t>],
        output: Var<'t>,
        grad_output: Var<'t>,
    ) -> Option<Vec<Option<Var<'t>>>> {
        let _ = (inputs, output, grad_output);
        None
    }
}

/// A [`CustomOp`] as an op the tape owns.
struct Custom<C>(C);

/// The inputs' values as the tensors a [`CustomOp`] takes (copied out of
/// the arena: a user's rule works on whole tensors).
fn input_tensors(fwd: &ForwardCx<'_>) -> Vec<Tensor> {
    (0..fwd.arity()).map(|k| Tensor::from_vec(fwd.input(k).to_vec(), fwd.shape(k))).collect()
}

impl<C: CustomOp> Op for Custom<C> {
    fn name(&self) -> &'static str {
        self.0.name()
    }

    fn forward(&self, cx: &ForwardCx<'_>, out: &mut [f64]) {
        let y = self.0.forward(&input_tensors(cx));
        assert!(
            y.shape() == cx.out_shape(),
            "{}: forward returned shape {:?}, recorded as {:?}",
            self.name(),
            y.shape(),
            cx.out_shape()
        );
        out.copy_from_slice(y.data());
    }

    /// Calls the user's rule (an error when there is none) and checks the
    /// tangent it returns has the output's shape.
    fn jvp(&self, cx: &TangentCx<'_>, out: &mut [f64]) -> Result<(), TangentError> {
        let fwd = *cx.fwd();
        let inputs = input_tensors(&fwd);
        let tangents: Vec<Tensor> = (0..fwd.arity())
            .map(|k| {
                Tensor::from_vec(
                    cx.tangent(k).map_or_else(|| vec![0.0; fwd.input(k).len()], <[f64]>::to_vec),
                    fwd.shape(k),
                )
            })
            .collect();
        let output = Tensor::from_vec(cx.output().to_vec(), fwd.out_shape());
        let t = self.0.jvp(&inputs, &output, &tangents)?;
        if t.shape() != fwd.out_shape() {
            use crate::tensor::Shape;
            let (expected, got) = (Shape::from_slice(fwd.out_shape()), Shape::from_slice(t.shape()));
            return Err(TangentError::RuleShape { op: self.name(), expected, got });
        }
        out.iter_mut().zip(t.data()).for_each(|(o, t)| *o += t);
        Ok(())
    }

    /// Calls the user's rule and adds what it returns into the inputs'
    /// gradients, checking each gradient's shape first.
    fn backward(&self, cx: &mut BackwardCx<'_>) {
        let fwd = *cx.fwd();
        let inputs = input_tensors(&fwd);
        let output = Tensor::from_vec(cx.output().to_vec(), fwd.out_shape());
        let grad = Tensor::from_vec(cx.upstream().to_vec(), fwd.out_shape());
        let grads = self.0.backward(&inputs, &output, &grad);
        let name = self.name();
        assert!(
            grads.len() == inputs.len(),
            "{name}: backward returned {} gradients for {} inputs",
            grads.len(),
            inputs.len()
        );
        for (k, g) in grads.iter().enumerate() {
            assert!(
                g.shape() == inputs[k].shape(),
                "{name}: backward returned a gradient of shape {:?} for input {k} of shape {:?}",
                g.shape(),
                inputs[k].shape()
            );
            if let Some(gx) = cx.grad_mut(k) {
                gx.iter_mut().zip(g.data()).for_each(|(d, s)| *d += s);
            }
        }
    }

    /// Calls the user's differentiable rule; the sweep checks the shapes.
    fn backward_var<'t>(&self, cx: &VarCx<'t>, upstream: Var<'t>) -> Option<VarGrads<'t>> {
        let inputs: Vec<Var<'t>> = (0..cx.arity()).map(|k| cx.input(k)).collect();
        let grads = self.0.backward_var(&inputs, cx.output(), upstream)?;
        assert!(
            grads.len() == inputs.len(),
            "{}: backward_var returned {} gradients for {} inputs",
            self.name(),
            grads.len(),
            inputs.len()
        );
        Some(grads.into_iter().collect())
    }

    fn local_text(&self, _: &ForwardCx<'_>, k: usize) -> Option<Cow<'static, str>> {
        (k == 0).then(|| format!("the custom backward of {}", self.name()).into())
    }
}

impl Tape {
    /// Records a user-defined op on `inputs`.
    ///
    /// # Panics
    /// If an input belongs to another tape (see [`Tape::try_custom`]).
    ///
    /// ```
    /// use tapegrad::{Tape, Tensor, ops::custom::CustomOp};
    /// struct Double;
    /// impl CustomOp for Double {
    ///     fn name(&self) -> &'static str { "double" }
    ///     fn forward(&self, x: &[Tensor]) -> Tensor { x[0].scale(2.0) }
    ///     fn backward(&self, _: &[Tensor], _: &Tensor, g: &Tensor) -> Vec<Tensor> { vec![g.scale(2.0)] }
    /// }
    /// let tape = Tape::new();
    /// let x = tape.scalar(3.0);
    /// let y = tape.custom(Double, &[x]);
    /// assert_eq!((y.item(), y.backward().wrt(x).item()), (6.0, 2.0));
    /// ```
    pub fn custom<'t>(&'t self, op: impl CustomOp, inputs: &[Var<'t>]) -> Var<'t> {
        self.try_custom(op, inputs).unwrap_or_else(|e| panic!("{e}"))
    }

    /// Like [`Tape::custom`], but an input from another tape is an error
    /// naming the op (checked before the op's `forward` runs). What the
    /// user's own `forward` does is up to it.
    ///
    /// ```
    /// use tapegrad::{Tape, Tensor, ops::custom::CustomOp};
    /// struct Double;
    /// impl CustomOp for Double {
    ///     fn name(&self) -> &'static str { "double" }
    ///     fn forward(&self, x: &[Tensor]) -> Tensor { x[0].scale(2.0) }
    ///     fn backward(&self, _: &[Tensor], _: &Tensor, g: &Tensor) -> Vec<Tensor> { vec![g.scale(2.0)] }
    /// }
    /// let (tape, other) = (Tape::new(), Tape::new());
    /// let x = other.scalar(3.0);
    /// let e = tape.try_custom(Double, &[x]).unwrap_err();
    /// assert!(e.to_string().starts_with("double: shape []: an operand belongs to another tape"));
    /// ```
    pub fn try_custom<'t>(&'t self, op: impl CustomOp, inputs: &[Var<'t>]) -> Result<Var<'t>, ShapeError> {
        self.try_same_tape(op.name(), inputs)?;
        // A node counts its inputs in one byte (it stays 48 bytes); more
        // inputs would wrap that count, so they are refused here.
        if inputs.len() > u8::MAX as usize {
            let reason = format!("{} inputs: a node takes at most 255 (pass them as fewer, larger Vars)", inputs.len());
            return Err(ShapeError::new(op.name(), &[], reason));
        }
        let values: Vec<Tensor> = inputs.iter().map(|v| v.value()).collect();
        // Run once here: the output's shape is only known by running it.
        let output = op.forward(&values);
        self.push_owned(Box::new(Custom(op)), inputs, &output)
    }
}

use super::registry::OpCase;

/// x^3 as a user op with every rule written by hand (backward `3x^2 g`,
/// tangent `3x^2 t`, and the backward as tape ops): the registry's case
/// for the path user ops take through the tape.
pub(crate) struct Cube;
impl CustomOp for Cube {
    fn name(&self) -> &'static str {
        "cube"
    }
    fn forward(&self, x: &[Tensor]) -> Tensor {
        x[0].map(|v| v * v * v)
    }
    fn jvp(&self, x: &[Tensor], _: &Tensor, t: &[Tensor]) -> Result<Tensor, TangentError> {
        Ok(t[0].mul(&x[0].map(|v| 3.0 * v * v)))
    }
    fn backward(&self, x: &[Tensor], _: &Tensor, g: &Tensor) -> Vec<Tensor> {
        vec![g.mul(&x[0].map(|v| 3.0 * v * v))]
    }
    fn backward_var<'t>(&self, x: &[Var<'t>], _: Var<'t>, g: Var<'t>) -> Option<Vec<Option<Var<'t>>>> {
        Some(vec![Some(g * (3.0 * x[0].square()))])
    }
}

/// This file's cases in the op registry (see [`super::registry`]).
pub(crate) const CASES: &[OpCase] = &[OpCase::unary("cube", |v| v[0].tape().custom(Cube, &[v[0]]))];

#[cfg(test)]
mod tests {
    use super::CustomOp;
    use crate::{TangentError, Tape, Tensor};

    /// `a * b^2`, with both rules written by hand.
    struct MulSquare;
    impl CustomOp for MulSquare {
        fn name(&self) -> &'static str {
            "mul_square"
        }
        fn forward(&self, x: &[Tensor]) -> Tensor {
            x[0].mul(&x[1]).mul(&x[1])
        }
        fn backward(&self, x: &[Tensor], _: &Tensor, g: &Tensor) -> Vec<Tensor> {
            vec![g.mul(&x[1]).mul(&x[1]), g.mul(&x[0]).mul(&x[1]).scale(2.0)]
        }
        fn jvp(&self, x: &[Tensor], _: &Tensor, t: &[Tensor]) -> Result<Tensor, TangentError> {
            // d(a b^2) = b^2 da + 2 a b db
            Ok(t[0].mul(&x[1]).mul(&x[1]).add(&x[0].mul(&x[1]).scale(2.0).mul(&t[1])))
        }
    }

    /// No tangent rule.
    struct Twice;
    impl CustomOp for Twice {
        fn name(&self) -> &'static str {
            "twice"
        }
        fn forward(&self, x: &[Tensor]) -> Tensor {
            x[0].scale(2.0)
        }
        fn backward(&self, _: &[Tensor], _: &Tensor, g: &Tensor) -> Vec<Tensor> {
            vec![g.scale(2.0)]
        }
    }

    #[test]
    fn a_custom_tangent_rule_is_used_and_a_missing_one_is_an_error() {
        let tape = Tape::new();
        let (a, b) = (tape.scalar(3.0), tape.scalar(2.0));
        let y = tape.custom(MulSquare, &[a, b]);
        // b^2 * 1 + 2ab * 10 = 4 + 120; and with only b moving, a's tangent arrives as zero.
        assert_eq!(y.jvp(&[(a, &Tensor::scalar(1.0)), (b, &Tensor::scalar(10.0))]).unwrap().item(), 124.0);
        assert_eq!(y.jvp(&[(b, &Tensor::scalar(1.0))]).unwrap().item(), 12.0);
        let z = tape.custom(Twice, &[a]);
        let err = z.jvp(&[(a, &Tensor::scalar(1.0))]).unwrap_err();
        assert_eq!(err, TangentError::NoRule { op: "twice" });
        // Off the seeded path, a missing rule is no error: nothing flows through it.
        let w = z + b;
        assert_eq!(w.jvp(&[(b, &Tensor::scalar(1.0))]).unwrap().item(), 1.0);
    }

    /// A node counts its inputs in a byte: 256 inputs are an error naming
    /// the op, not a count that wraps to 0.
    #[test]
    fn more_than_255_inputs_are_an_error() {
        struct SumAll;
        impl CustomOp for SumAll {
            fn name(&self) -> &'static str {
                "sum_all"
            }
            fn forward(&self, x: &[Tensor]) -> Tensor {
                Tensor::scalar(x.iter().map(|t| t.item()).sum())
            }
            fn backward(&self, x: &[Tensor], _: &Tensor, g: &Tensor) -> Vec<Tensor> {
                vec![g.clone(); x.len()]
            }
        }
        let tape = Tape::new();
        let xs: Vec<_> = (0..256).map(|i| tape.scalar(i as f64)).collect();
        let e = tape.try_custom(SumAll, &xs).unwrap_err().to_string();
        assert!(e.starts_with("sum_all") && e.contains("256 inputs"), "{e}");
        // 255 still work, and every input gets its gradient
        let y = tape.custom(SumAll, &xs[..255]);
        assert_eq!(y.item(), (0..255).sum::<i32>() as f64);
        assert_eq!(y.backward().wrt(xs[254]).item(), 1.0);
    }
}
