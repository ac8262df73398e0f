//! Gradient clipping by global norm and by value.

use indexmap::IndexMap;
use tapegrad::Tensor;
use tapegrad::optim::clip::{clip_grad_norm, clip_grad_value};

fn grads() -> IndexMap<String, Tensor> {
    IndexMap::from([
        ("w".to_string(), Tensor::from_vec(vec![3.0, 0.0, -12.0], &[3])),
        ("b".to_string(), Tensor::from_vec(vec![4.0], &[1])),
    ])
}

#[test]
fn global_norm_is_taken_over_all_gradients_and_direction_is_kept() {
    let mut g = grads();
    // norm = sqrt(9 + 144 + 16) = 13
    let norm = clip_grad_norm(&mut g, 6.5);
    assert_eq!(norm, 13.0);
    let scale = 6.5 / (13.0 + 1e-6);
    assert_eq!(g["w"].data(), &[3.0 * scale, 0.0, -12.0 * scale]);
    assert_eq!(g["b"].data(), &[4.0 * scale]);
    let after = g.values().flat_map(|t| t.data()).map(|x| x * x).sum::<f64>().sqrt();
    assert!(after <= 6.5 && after > 6.5 - 1e-6);
}

#[test]
fn gradients_under_the_norm_are_untouched() {
    let mut g = grads();
    assert_eq!(clip_grad_norm(&mut g, 20.0), 13.0);
    assert_eq!(g, grads());
}

#[test]
fn clipping_by_value_is_per_element() {
    let mut g = grads();
    clip_grad_value(&mut g, 3.5);
    assert_eq!(g["w"].data(), &[3.0, 0.0, -3.5]);
    assert_eq!(g["b"].data(), &[3.5]);
}
