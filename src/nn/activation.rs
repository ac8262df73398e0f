//! Activation functions, for the tape and for plain tensors.

use crate::tape::Var;
use crate::tensor::Tensor;
use crate::tensor::stable_sigmoid;

/// An elementwise activation applied after a layer's `x W + b`.
///
/// ```
/// use tapegrad::{Tape, nn::Activation};
/// let tape = Tape::new();
/// let x = tape.scalar(-2.0);
/// assert_eq!(Activation::Relu.apply(x).item(), 0.0);
/// assert_eq!(Activation::Identity.apply(x).item(), -2.0);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Activation {
    /// `y = x` (a linear output layer, as in the notes).
    Identity,
    /// `y = 1 / (1 + e^-x)` (the notes' hidden layer).
    Sigmoid,
    /// `y = tanh x`.
    Tanh,
    /// `y = max(x, 0)` (micrograd's hidden layers).
    Relu,
}

impl Activation {
    /// Records the activation of `x` on its tape. `Identity` records nothing
    /// and returns `x` itself.
    ///
    /// ```
    /// use tapegrad::{Tape, nn::Activation};
    /// let tape = Tape::new();
    /// let x = tape.scalar(0.0);
    /// assert_eq!(Activation::Sigmoid.apply(x).item(), 0.5);
    /// ```
    pub fn apply(self, x: Var<'_>) -> Var<'_> {
        match self {
            Activation::Identity => x,
            Activation::Sigmoid => x.sigmoid(),
            Activation::Tanh => x.tanh(),
            Activation::Relu => x.relu(),
        }
    }

    /// The same function on a plain tensor, no tape (for inference and plots).
    ///
    /// ```
    /// use tapegrad::{Tensor, nn::Activation};
    /// let y = Activation::Tanh.apply_tensor(&Tensor::from_vec(vec![0.0], &[1]));
    /// assert_eq!(y.data(), &[0.0]);
    /// ```
    pub fn apply_tensor(self, x: &Tensor) -> Tensor {
        match self {
            Activation::Identity => x.clone(),
            Activation::Sigmoid => x.map(stable_sigmoid),
            Activation::Tanh => x.map(f64::tanh),
            Activation::Relu => x.map(crate::tensor::relu), // keeps a NaN, as the tape's relu
        }
    }
}
