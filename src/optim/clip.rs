//! Gradient clipping on named gradients, applied before an optimizer step
//! (PyTorch's `clip_grad_norm_` and `clip_grad_value_`).

use crate::tensor::Tensor;
use indexmap::IndexMap;

/// Scales all gradients together so their global L2 norm (over every
/// element of every gradient) is at most `max_norm`, and returns the norm
/// measured before clipping. As in PyTorch the scale is
/// `max_norm / (norm + 1e-6)`, applied only when it is below 1; the
/// direction of the whole gradient is kept.
///
/// ```
/// use indexmap::IndexMap;
/// use tapegrad::{Tensor, optim::clip::clip_grad_norm};
/// let mut g = IndexMap::from([
///     ("w".to_string(), Tensor::from_vec(vec![3.0], &[1])),
///     ("b".to_string(), Tensor::from_vec(vec![4.0], &[1])),
/// ]);
/// let norm = clip_grad_norm(&mut g, 1.0);
/// assert_eq!(norm, 5.0);
/// assert!((g["w"].item() - 0.6).abs() < 1e-6 && (g["b"].item() - 0.8).abs() < 1e-6);
/// ```
pub fn clip_grad_norm(grads: &mut IndexMap<String, Tensor>, max_norm: f64) -> f64 {
    let norm = grads.values().flat_map(|g| g.data()).map(|x| x * x).sum::<f64>().sqrt();
    let scale = max_norm / (norm + 1e-6);
    if scale < 1.0 {
        grads.values_mut().for_each(|g| g.map_inplace(|x| x * scale));
    }
    norm
}

/// Clamps every gradient element into `[-clip_value, clip_value]`; each
/// element is clipped on its own, so the direction may change.
///
/// ```
/// use indexmap::IndexMap;
/// use tapegrad::{Tensor, optim::clip::clip_grad_value};
/// let mut g = IndexMap::from([("w".to_string(), Tensor::from_vec(vec![-3.0, 0.5, 9.0], &[3]))]);
/// clip_grad_value(&mut g, 1.0);
/// assert_eq!(g["w"].data(), &[-1.0, 0.5, 1.0]);
/// ```
pub fn clip_grad_value(grads: &mut IndexMap<String, Tensor>, clip_value: f64) {
    let c = clip_value.abs();
    grads.values_mut().for_each(|g| g.map_inplace(|x| x.clamp(-c, c)));
}
