//! Gradient clipping on named gradients, applied before an optimizer step
//! (PyTorch's `clip_grad_norm_` and `clip_grad_value_`).
//!
//! A bound must be a number `>= 0` (`+inf` is allowed and clips nothing);
//! a negative or NaN bound is an [`OptimError::InvalidHyperparameter`] and
//! no gradient is touched. Why not PyTorch's leniency: a negative
//! `max_norm` gives a negative scale, which flips every gradient's sign
//! (training climbs the loss), and a NaN bound makes every comparison false,
//! so clipping silently never happens.
//!
//! ```
//! use indexmap::IndexMap;
//! use tapegrad::{Tensor, optim::clip::{clip_grad_norm, clip_grad_value}};
//! let mut g = IndexMap::from([("w".to_string(), Tensor::from_vec(vec![3.0], &[1]))]);
//! let e = clip_grad_norm(&mut g, -5.0).unwrap_err();
//! assert_eq!(e.to_string(), "clip_grad_norm: invalid max_norm = -5 (must be >= 0)");
//! assert!(clip_grad_value(&mut g, f64::NAN).is_err());
//! assert_eq!(g["w"].item(), 3.0); // untouched
//! ```

use super::{OptimError, check};
use crate::tensor::Tensor;
use indexmap::IndexMap;

/// A clipping bound: `>= 0`, possibly `+inf`, never NaN.
fn bound(function: &'static str, name: &'static str, value: f64) -> Result<(), OptimError> {
    check(function, name, value, value >= 0.0, "must be >= 0")
}

/// Scales all gradients together so their global L2 norm (over every
/// element of every gradient) is at most `max_norm`, and returns the norm
/// measured before clipping. As in PyTorch the scale is
/// `max_norm / (norm + 1e-6)`, applied only when it is below 1; the
/// direction of the whole gradient is kept.
///
/// The norm is accumulated scaled, as BLAS's `dnrm2`: squares of the
/// elements divided by the largest magnitude seen so far, so `[1e200, 1e200]`
/// measures `1.41e200` (not an overflow to inf, which zeroed every gradient)
/// and `[1e-200, 1e-200]` measures `1.41e-200` (not an underflow to 0).
/// Edges: a NaN anywhere gives a NaN norm and the gradients are left as
/// they are (the NaN stays visible); an infinite element gives an infinite
/// norm and scales every gradient by 0, as PyTorch does.
///
/// # Errors
/// If `max_norm` is negative or NaN (see the [module docs](self)); nothing
/// is changed then.
///
/// ```
/// use indexmap::IndexMap;
/// use tapegrad::{Tensor, optim::clip::clip_grad_norm};
/// let mut g = IndexMap::from([
///     ("w".to_string(), Tensor::from_vec(vec![3.0], &[1])),
///     ("b".to_string(), Tensor::from_vec(vec![4.0], &[1])),
/// ]);
/// let norm = clip_grad_norm(&mut g, 1.0).unwrap();
/// assert_eq!(norm, 5.0);
/// assert!((g["w"].item() - 0.6).abs() < 1e-6 && (g["b"].item() - 0.8).abs() < 1e-6);
/// ```
pub fn clip_grad_norm(grads: &mut IndexMap<String, Tensor>, max_norm: f64) -> Result<f64, OptimError> {
    bound("clip_grad_norm", "max_norm", max_norm)?;
    let norm = scaled_norm(grads.values().flat_map(|g| g.data()).copied());
    let scale = max_norm / (norm + 1e-6);
    if scale < 1.0 {
        grads.values_mut().for_each(|g| g.map_inplace(|x| x * scale));
    }
    Ok(norm)
}

/// The L2 norm of `values` without overflow or underflow: `scale * sqrt(ssq)`
/// with `scale` the largest magnitude so far and `ssq` the sum of
/// `(x / scale)^2`, rescaled whenever a larger element arrives (the
/// algorithm of BLAS's `dnrm2`, one pass).
fn scaled_norm(values: impl Iterator<Item = f64>) -> f64 {
    let (mut scale, mut ssq) = (0.0f64, 1.0f64);
    for x in values {
        if x.is_nan() {
            return f64::NAN;
        }
        let a = x.abs();
        if a == 0.0 {
            continue;
        }
        if a.is_infinite() {
            return f64::INFINITY; // the rescale below would compute inf / inf
        }
        if scale < a {
            ssq = 1.0 + ssq * (scale / a) * (scale / a);
            scale = a;
        } else {
            ssq += (a / scale) * (a / scale);
        }
    }
    scale * ssq.sqrt()
}

/// Clamps every gradient element into `[-clip_value, clip_value]`; each
/// element is clipped on its own, so the direction may change. A NaN
/// element stays NaN.
///
/// # Errors
/// If `clip_value` is negative or NaN (see the [module docs](self));
/// nothing is changed then.
///
/// ```
/// use indexmap::IndexMap;
/// use tapegrad::{Tensor, optim::clip::clip_grad_value};
/// let mut g = IndexMap::from([("w".to_string(), Tensor::from_vec(vec![-3.0, 0.5, 9.0], &[3]))]);
/// clip_grad_value(&mut g, 1.0).unwrap();
/// assert_eq!(g["w"].data(), &[-1.0, 0.5, 1.0]);
/// ```
pub fn clip_grad_value(grads: &mut IndexMap<String, Tensor>, clip_value: f64) -> Result<(), OptimError> {
    bound("clip_grad_value", "clip_value", clip_value)?;
    grads.values_mut().for_each(|g| g.map_inplace(|x| x.clamp(-clip_value, clip_value)));
    Ok(())
}
