//! `LayerNorm`: [`Var::layer_norm`] over the last axis, then a learnable
//! scale and shift per feature (PyTorch's `nn.LayerNorm(n)`).

use super::{ParamVars, Params};
use crate::ops::LAYER_NORM_EPS;
use crate::tape::Var;
use crate::tensor::Tensor;

/// `y = layer_norm(x) * w + b` over the last axis of length `n`, with `w`
/// (starting at 1) and `b` (starting at 0) stored as `"{name}.w"` and
/// `"{name}.b"`, and PyTorch's `eps` of 1e-5.
///
/// ```
/// use tapegrad::{Tape, Tensor, nn::{LayerNorm, Params}};
/// let mut params = Params::new();
/// let ln = LayerNorm::new(&mut params, "ln", 2);
/// let tape = Tape::new();
/// let x = tape.constant(Tensor::from_vec(vec![1.0, 3.0], &[1, 2]));
/// let y = ln.forward(params.on_tape(&tape), x).value();
/// assert!((y.data()[1] - 1.0 / (1.0f64 + 1e-5).sqrt()).abs() < 1e-15);
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct LayerNorm {
    /// Position of the scale `w` in the params (the shift `b` follows it).
    w: usize,
    /// The small number added to the variance.
    pub eps: f64,
}

impl LayerNorm {
    /// Adds the scale `"{name}.w"` (ones) and shift `"{name}.b"` (zeros),
    /// each of length `n`, to `params`.
    ///
    /// # Panics
    /// If `n` is zero.
    ///
    /// ```
    /// use tapegrad::nn::{LayerNorm, Params};
    /// let mut p = Params::new();
    /// LayerNorm::new(&mut p, "ln_f", 8);
    /// assert_eq!(p.names().collect::<Vec<_>>(), ["ln_f.w", "ln_f.b"]);
    /// ```
    pub fn new(params: &mut Params, name: &str, n: usize) -> LayerNorm {
        assert!(n > 0, "LayerNorm {name:?}: the normalised axis must not be empty");
        let w = params.insert(format!("{name}.w"), Tensor::ones(&[n]));
        params.insert(format!("{name}.b"), Tensor::zeros(&[n]));
        LayerNorm { w, eps: LAYER_NORM_EPS }
    }

    /// Records `layer_norm(x, eps) * w + b`, `x` of any rank whose last
    /// axis has length `n`.
    ///
    /// # Panics
    /// If `x`'s last axis is not of length `n`.
    ///
    /// ```
    /// use tapegrad::{Tape, Tensor, nn::{LayerNorm, Params}};
    /// let mut params = Params::new();
    /// let ln = LayerNorm::new(&mut params, "ln", 3);
    /// let tape = Tape::new();
    /// let x = tape.constant(Tensor::ones(&[2, 4, 3]));
    /// assert_eq!(ln.forward(params.on_tape(&tape), x).shape().as_slice(), &[2, 4, 3]);
    /// ```
    pub fn forward<'t>(&self, vars: ParamVars<'t>, x: Var<'t>) -> Var<'t> {
        x.layer_norm(self.eps) * vars.get(self.w) + vars.get(self.w + 1)
    }
}
