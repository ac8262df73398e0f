//! micrograd's two-moons demo under `cargo test`: the scalar-level and
//! tensor-level models must agree to rounding at every step, and the
//! training must reach the accuracy micrograd's demo reports (100%).

use rand::SeedableRng;
use rand_chacha::ChaCha12Rng;
use tapegrad::notes::moons::{learning_rate, make_moons, network, scalar_step, tensor_step};

#[test]
fn scalar_and_tensor_levels_agree_and_reach_full_accuracy() {
    let mut rng = ChaCha12Rng::seed_from_u64(0);
    let (x, y) = make_moons(100, 0.1, &mut rng);
    let mut mlp = network(&mut rng);
    let mut scalar = mlp.params().clone();
    let (mut first, mut last, mut accuracy) = (f64::NAN, f64::NAN, 0.0);
    for k in 0..100 {
        let (ls, acc_s) = scalar_step(&mut scalar, &x, &y, learning_rate(k));
        let (lt, acc_t) = tensor_step(&mut mlp, &x, &y, learning_rate(k));
        // Same arithmetic in a different order: rounding-level differences only.
        assert!((ls - lt).abs() <= 1e-12 * ls.abs().max(1.0), "step {k}: scalar {ls} vs tensor {lt}");
        assert_eq!(acc_s, acc_t, "step {k}: the two levels classify differently");
        if k == 0 {
            first = lt;
        }
        (last, accuracy) = (lt, acc_t);
    }
    assert!(scalar.max_abs_diff(mlp.params()) < 1e-10, "final weights differ");
    assert!(last < 0.1 * first, "loss fell only from {first} to {last}");
    // `accuracy` is measured before the last update; micrograd's demo reports 100%.
    assert_eq!(accuracy, 1.0, "training accuracy {accuracy}");
}

#[test]
fn make_moons_is_two_noisy_half_circles() {
    let mut rng = ChaCha12Rng::seed_from_u64(3);
    let (x, y) = make_moons(200, 0.0, &mut rng);
    for (p, &label) in x.iter().zip(&y) {
        // Without noise, each point lies on its moon's unit circle:
        // the first centred at (0, 0), the second at (1, 0.5).
        let (cx, cy) = if label < 0.0 { (0.0, 0.0) } else { (1.0, 0.5) };
        let r = ((p[0] - cx).powi(2) + (p[1] - cy).powi(2)).sqrt();
        assert!((r - 1.0).abs() < 1e-12, "point {p:?} label {label}: radius {r}");
        // upper half for the first moon, lower half for the second
        assert!(if label < 0.0 { p[1] >= -1e-12 } else { p[1] <= 0.5 + 1e-12 });
    }
    assert_eq!(y.iter().filter(|&&l| l > 0.0).count(), 100);
}
