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

use crate::tape::{BackwardCx, ForwardCx, Op, Tape, Var};
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

    /// The vector-Jacobian product: given the inputs, the output and the
    /// gradient of the loss with respect to the output, return the gradient
    /// with respect to each input, shaped like that input.
    fn backward(&self, inputs: &[Tensor], output: &Tensor, grad_output: &Tensor) -> Vec<Tensor>;
}

/// A [`CustomOp`] as an op the tape owns.
struct Custom<C>(C);

impl<C: CustomOp> Op for Custom<C> {
    fn name(&self) -> &'static str {
        self.0.name()
    }

    fn forward(&self, cx: &ForwardCx<'_>, out: &mut [f64]) {
        let inputs: Vec<Tensor> =
            (0..cx.arity()).map(|k| Tensor::from_vec(cx.input(k).to_vec(), cx.shape(k))).collect();
        let y = self.0.forward(&inputs);
        assert!(
            y.shape() == cx.out_shape(),
            "{}: forward returned shape {:?}, recorded as {:?}",
            self.name(),
            y.shape(),
            cx.out_shape()
        );
        out.copy_from_slice(y.data());
    }

    /// Calls the user's rule and adds what it returns into the inputs'
    /// gradients, checking each gradient's shape first.
    fn backward(&self, cx: &mut BackwardCx<'_>) {
        let fwd = *cx.fwd();
        let inputs: Vec<Tensor> =
            (0..fwd.arity()).map(|k| Tensor::from_vec(fwd.input(k).to_vec(), fwd.shape(k))).collect();
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
        let values: Vec<Tensor> = inputs.iter().map(|v| v.value()).collect();
        // Run once here: the output's shape is only known by running it.
        let output = op.forward(&values);
        Ok(self.push_owned(Box::new(Custom(op)), inputs, &output))
    }
}
