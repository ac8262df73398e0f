//! Gradient clipping by global norm and by value.

use indexmap::IndexMap;
use tapegrad::Tensor;
use tapegrad::optim::OptimError;
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
    let norm = clip_grad_norm(&mut g, 6.5).unwrap();
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
    assert_eq!(clip_grad_norm(&mut g, 20.0).unwrap(), 13.0);
    assert_eq!(g, grads());
}

#[test]
fn clipping_by_value_is_per_element() {
    let mut g = grads();
    clip_grad_value(&mut g, 3.5).unwrap();
    assert_eq!(g["w"].data(), &[3.0, 0.0, -3.5]);
    assert_eq!(g["b"].data(), &[3.5]);
}

/// Issue 18 item 6: a negative bound flipped every gradient's sign
/// (`scale = -1 / (norm + 1e-6)`), a NaN `max_norm` skipped clipping
/// silently and a NaN `clip_value` panicked inside `f64::clamp`. Each is an
/// error now, naming the function and the bound, and nothing is touched.
#[test]
fn negative_and_nan_bounds_are_errors_that_touch_nothing() {
    for bad in [-1.0, -5.0, -0.5e-300, f64::NEG_INFINITY, f64::NAN, -f64::NAN] {
        let mut g = grads();
        let e = clip_grad_norm(&mut g, bad).unwrap_err();
        assert!(
            matches!(e, OptimError::InvalidHyperparameter { optimizer: "clip_grad_norm", name: "max_norm", .. }),
            "{e}"
        );
        assert_eq!(g, grads(), "max_norm {bad}");
        let e = clip_grad_value(&mut g, bad).unwrap_err();
        assert!(
            matches!(e, OptimError::InvalidHyperparameter { optimizer: "clip_grad_value", name: "clip_value", .. }),
            "{e}"
        );
        assert_eq!(g, grads(), "clip_value {bad}");
    }
    let e = clip_grad_norm(&mut grads(), -5.0).unwrap_err();
    assert_eq!(e.to_string(), "clip_grad_norm: invalid max_norm = -5 (must be >= 0)");
    let e = clip_grad_value(&mut grads(), f64::NAN).unwrap_err();
    assert_eq!(e.to_string(), "clip_grad_value: invalid clip_value = NaN (must be >= 0)");
}

/// The edges of the valid range: `+inf` clips nothing, `0` (and `-0`)
/// zeroes every gradient, as the formulas say.
#[test]
fn infinite_and_zero_bounds_are_the_formulas_limits() {
    let mut g = grads();
    assert_eq!(clip_grad_norm(&mut g, f64::INFINITY).unwrap(), 13.0);
    clip_grad_value(&mut g, f64::INFINITY).unwrap();
    assert_eq!(g, grads());
    for zero in [0.0, -0.0] {
        let mut g = grads();
        clip_grad_norm(&mut g, zero).unwrap();
        assert!(g.values().flat_map(|t| t.data()).all(|&x| x == 0.0));
        let mut g = grads();
        clip_grad_value(&mut g, zero).unwrap();
        assert!(g.values().flat_map(|t| t.data()).all(|&x| x == 0.0));
    }
}
