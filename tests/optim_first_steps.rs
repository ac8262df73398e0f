//! Each optimizer's first steps against numbers worked by hand from its
//! published update rule (PyTorch's documentation), written here as plain
//! f64 arithmetic that does not call the optimizer code.

use tapegrad::optim::{
    AdaGrad, AdaGradConfig, Adam, AdamConfig, AdamW, AdamWConfig, Optimizer, RmsProp, RmsPropConfig, Sgd, SgdConfig,
};

/// Feeds the given gradients (one per step) to `opt` for a one-element
/// parameter starting at `x0` and returns the parameter after each step.
fn run(opt: &mut impl Optimizer, x0: f64, grads: &[f64]) -> Vec<f64> {
    let mut x = [x0];
    grads
        .iter()
        .map(|&g| {
            opt.update("x", &mut x, &[g]).unwrap();
            x[0]
        })
        .collect()
}

fn assert_close(got: &[f64], want: &[f64], tol: f64) {
    assert_eq!(got.len(), want.len());
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        assert!((g - w).abs() <= tol, "step {}: got {g:.17}, want {w:.17}", i + 1);
    }
}

#[test]
fn sgd_plain_is_theta_minus_lr_g() {
    let mut opt = Sgd::new(SgdConfig { lr: 0.1, ..Default::default() }).unwrap();
    // x1 = 1 - 0.1 * 2 = 0.8;  x2 = 0.8 - 0.1 * (-1) = 0.9
    assert_close(&run(&mut opt, 1.0, &[2.0, -1.0]), &[0.8, 0.9], 1e-15);
}

#[test]
fn sgd_momentum_with_dampening() {
    let cfg = SgdConfig { lr: 0.1, momentum: 0.9, dampening: 0.5, ..Default::default() };
    let mut opt = Sgd::new(cfg).unwrap();
    // step 1: b = g = 2 (no dampening on the first step);   x = 1 - 0.1 * 2 = 0.8
    // step 2: b = 0.9 * 2 + (1 - 0.5) * (-1) = 1.3;           x = 0.8 - 0.13 = 0.67
    assert_close(&run(&mut opt, 1.0, &[2.0, -1.0]), &[0.8, 0.67], 1e-15);
}

#[test]
fn sgd_momentum_with_weight_decay() {
    let cfg = SgdConfig { lr: 0.1, momentum: 0.9, dampening: 0.5, weight_decay: 0.1, ..Default::default() };
    let mut opt = Sgd::new(cfg).unwrap();
    // step 1: g = 2 + 0.1 * 1 = 2.1; b = 2.1;                       x = 1 - 0.21 = 0.79
    // step 2: g = -1 + 0.1 * 0.79 = -0.921; b = 0.9 * 2.1 + 0.5 * (-0.921) = 1.4295
    //         x = 0.79 - 0.14295 = 0.64705
    assert_close(&run(&mut opt, 1.0, &[2.0, -1.0]), &[0.79, 0.64705], 1e-14);
}

#[test]
fn sgd_nesterov_first_steps() {
    let cfg = SgdConfig { lr: 0.1, momentum: 0.9, nesterov: true, ..Default::default() };
    let mut opt = Sgd::new(cfg).unwrap();
    // step 1: b = 2; g' = 2 + 0.9 * 2 = 3.8;             x = 1 - 0.38 = 0.62
    // step 2: b = 0.9 * 2 - 1 = 0.8; g' = -1 + 0.72 = -0.28;  x = 0.62 + 0.028 = 0.648
    assert_close(&run(&mut opt, 1.0, &[2.0, -1.0]), &[0.62, 0.648], 1e-15);
}

#[test]
fn adagrad_first_steps() {
    let mut opt = AdaGrad::new(AdaGradConfig { lr: 0.1, ..Default::default() }).unwrap();
    let eps = 1e-10;
    // step 1: r = 4;      x = 1 - 0.1 * 2 / (sqrt(4) + eps)
    let x1 = 1.0 - 0.1 * 2.0 / (2.0 + eps);
    // step 2: r = 4 + 1;  x = x1 - 0.1 * 1 / (sqrt(5) + eps)
    let x2 = x1 - 0.1 * 1.0 / (5f64.sqrt() + eps);
    assert_close(&run(&mut opt, 1.0, &[2.0, 1.0]), &[x1, x2], 1e-15);
}

#[test]
fn adagrad_lr_decay_and_initial_accumulator() {
    let cfg = AdaGradConfig { lr: 0.1, lr_decay: 0.5, initial_accumulator_value: 0.25, ..Default::default() };
    let mut opt = AdaGrad::new(cfg).unwrap();
    let eps = 1e-10;
    // step 1: clr = 0.1; r = 0.25 + 4 = 4.25
    let x1 = 1.0 - 0.1 * 2.0 / (4.25f64.sqrt() + eps);
    // step 2: clr = 0.1 / (1 + 1 * 0.5); r = 4.25 + 1 = 5.25
    let x2 = x1 - (0.1 / 1.5) * 1.0 / (5.25f64.sqrt() + eps);
    assert_close(&run(&mut opt, 1.0, &[2.0, 1.0]), &[x1, x2], 1e-15);
}

#[test]
fn adagrad_steps_shrink_as_one_over_sqrt_t() {
    // A constant gradient g = 1: after t steps r = t, so step t is lr / sqrt(t).
    let mut opt = AdaGrad::new(AdaGradConfig { lr: 0.1, eps: 0.0, ..Default::default() }).unwrap();
    let xs = run(&mut opt, 0.0, &[1.0; 50]);
    let mut previous = f64::INFINITY;
    let mut x_prev = 0.0;
    for (t, &x) in xs.iter().enumerate() {
        let step = x_prev - x;
        assert!((step - 0.1 / ((t + 1) as f64).sqrt()).abs() < 1e-15, "step {}", t + 1);
        assert!(step < previous, "AdaGrad's step {} did not shrink", t + 1);
        previous = step;
        x_prev = x;
    }
}

#[test]
fn rmsprop_first_steps() {
    let mut opt = RmsProp::new(RmsPropConfig::default()).unwrap(); // lr 0.01, alpha 0.99, eps 1e-8
    let eps = 1e-8;
    // step 1: v = 0.01 * 4 = 0.04;                 x = 1 - 0.01 * 2 / (0.2 + eps)
    let x1 = 1.0 - 0.01 * 2.0 / (0.2 + eps);
    // step 2: v = 0.99 * 0.04 + 0.01 * 1 = 0.0496;  x = x1 + 0.01 / (sqrt(0.0496) + eps)
    let x2 = x1 + 0.01 / (0.0496f64.sqrt() + eps);
    assert_close(&run(&mut opt, 1.0, &[2.0, -1.0]), &[x1, x2], 1e-15);
}

#[test]
fn rmsprop_centered_first_steps() {
    let mut opt = RmsProp::new(RmsPropConfig { centered: true, ..Default::default() }).unwrap();
    let eps = 1e-8;
    // step 1: v = 0.04, m = 0.01 * 2 = 0.02, d = 0.04 - 0.0004 = 0.0396
    let x1 = 1.0 - 0.01 * 2.0 / (0.0396f64.sqrt() + eps);
    // step 2: v = 0.0496, m = 0.99 * 0.02 - 0.01 = 0.0098, d = 0.0496 - 0.0098^2
    let x2 = x1 + 0.01 / ((0.0496 - 0.0098f64 * 0.0098).sqrt() + eps);
    assert_close(&run(&mut opt, 1.0, &[2.0, -1.0]), &[x1, x2], 1e-14);
}

#[test]
fn rmsprop_momentum_first_steps() {
    let mut opt = RmsProp::new(RmsPropConfig { momentum: 0.9, ..Default::default() }).unwrap();
    let eps = 1e-8;
    // step 1: b = 2 / (sqrt(0.04) + eps);                 x = 1 - 0.01 b
    let b1 = 2.0 / (0.2 + eps);
    let x1 = 1.0 - 0.01 * b1;
    // step 2: b = 0.9 b1 + (-1) / (sqrt(0.0496) + eps);   x = x1 - 0.01 b
    let b2 = 0.9 * b1 - 1.0 / (0.0496f64.sqrt() + eps);
    let x2 = x1 - 0.01 * b2;
    assert_close(&run(&mut opt, 1.0, &[2.0, -1.0]), &[x1, x2], 1e-14);
}

#[test]
fn adam_first_step_is_lr_per_coordinate() {
    // m1 = 0.1 g, v1 = 0.001 g^2; bias-corrected: m = g, v = g^2, so the
    // step is lr * g / (|g| + eps): lr in every coordinate whatever |g|.
    let mut opt = Adam::new(AdamConfig { lr: 0.1, ..Default::default() }).unwrap();
    let grads = [0.5, -20.0, 3e-4, 1e6];
    let mut x = [1.0, 1.0, 1.0, 1.0];
    opt.update("x", &mut x, &grads).unwrap();
    for (i, (&xi, &g)) in x.iter().zip(&grads).enumerate() {
        let moved = 1.0 - xi;
        assert!((moved.abs() - 0.1).abs() < 1e-5, "coordinate {i} moved {moved}");
        assert_eq!(moved.signum(), g.signum(), "coordinate {i} moved with the gradient");
    }
}

#[test]
fn adam_second_step() {
    let mut opt = Adam::new(AdamConfig { lr: 0.1, ..Default::default() }).unwrap();
    let eps = 1e-8;
    // step 1 (g = 0.5): m = 0.05, v = 0.00025; m^ = 0.5, v^ = 0.25
    let x1 = 1.0 - 0.1 * 0.5 / (0.25f64.sqrt() + eps);
    // step 2 (g = 0.1): m = 0.9 * 0.05 + 0.1 * 0.1 = 0.055
    //                   v = 0.999 * 0.00025 + 0.001 * 0.01 = 0.00025975
    //                   m^ = 0.055 / (1 - 0.9^2), v^ = 0.00025975 / (1 - 0.999^2)
    let m_hat = 0.055 / (1.0 - 0.81);
    let v_hat: f64 = 0.00025975 / (1.0 - 0.998001);
    let x2 = x1 - 0.1 * m_hat / (v_hat.sqrt() + eps);
    assert_close(&run(&mut opt, 1.0, &[0.5, 0.1]), &[x1, x2], 1e-12);
}

#[test]
fn adam_amsgrad_keeps_the_largest_second_moment() {
    let eps = 1e-8;
    // step 1 (g = 10): m = 1, v = 0.1; step 1 is the same with or without amsgrad
    let x1 = 1.0 - 0.1 * (1.0 / 0.1) / ((0.1f64 / 0.001).sqrt() + eps);
    // step 2 (g = 0.1): m = 0.9 + 0.01 = 0.91; v = 0.0999 + 0.00001 = 0.09991 < 0.1
    //   amsgrad divides by sqrt(max(0.1, 0.09991) / (1 - 0.999^2)), plain Adam by sqrt(0.09991 / ..)
    let m_hat = 0.91 / 0.19;
    let ams_x2 = x1 - 0.1 * m_hat / ((0.1f64 / 0.001999).sqrt() + eps);
    let plain_x2 = x1 - 0.1 * m_hat / ((0.09991f64 / 0.001999).sqrt() + eps);
    let mut ams = Adam::new(AdamConfig { lr: 0.1, amsgrad: true, ..Default::default() }).unwrap();
    let mut plain = Adam::new(AdamConfig { lr: 0.1, ..Default::default() }).unwrap();
    assert_close(&run(&mut ams, 1.0, &[10.0, 0.1]), &[x1, ams_x2], 1e-12);
    assert_close(&run(&mut plain, 1.0, &[10.0, 0.1]), &[x1, plain_x2], 1e-12);
    assert!((ams_x2 - plain_x2).abs() > 1e-5);
}

#[test]
fn adamw_decays_before_the_adam_step() {
    let mut opt = AdamW::new(AdamWConfig { lr: 0.1, weight_decay: 0.1, ..Default::default() }).unwrap();
    let eps = 1e-8;
    // step 1: x = 2 (1 - 0.1 * 0.1) = 1.98, then the Adam step of g = 1: 0.1 * 1 / (1 + eps)
    let x1 = 2.0 * 0.99 - 0.1 / (1.0 + eps);
    // step 2 (g = 1 again): m^ = 1, v^ = 1
    let x2 = x1 * 0.99 - 0.1 / (1.0 + eps);
    assert_close(&run(&mut opt, 2.0, &[1.0, 1.0]), &[x1, x2], 1e-14);
}

#[test]
fn adam_coupled_weight_decay_enters_the_moments() {
    let mut opt = Adam::new(AdamConfig { lr: 0.1, weight_decay: 0.5, ..Default::default() }).unwrap();
    // step 1: g = 1 + 0.5 * 2 = 2, first step moves by lr: x = 2 - 0.1 * 2 / (2 + eps)
    let x1 = 2.0 - 0.1 * 2.0 / (2.0 + 1e-8);
    assert_close(&run(&mut opt, 2.0, &[1.0]), &[x1], 1e-15);
}
