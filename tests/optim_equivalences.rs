//! The optimizers against the notes' forms of the same rules, and weight
//! decay against an L2 penalty (whose gradient comes from the tape).

use indexmap::IndexMap;
use tapegrad::optim::{Adam, AdamConfig, AdamW, AdamWConfig, Optimizer, Sgd, SgdConfig};
use tapegrad::{Tape, Tensor, loss};

/// A non-quadratic test function and its gradient by hand:
/// f(x, y) = x^4 / 4 + 2 y^2 + x y,  grad = (x^3 + y, 4 y + x).
fn grad(p: [f64; 2]) -> [f64; 2] {
    [p[0].powi(3) + p[1], 4.0 * p[1] + p[0]]
}

#[test]
fn notes_momentum_is_pytorch_momentum_at_a_constant_rate() {
    let (alpha, rho) = (0.05, 0.9);
    // the notes: v <- rho v - alpha g(theta); theta <- theta + v
    let (mut theta, mut v) = ([1.5, -1.0], [0.0, 0.0]);
    let mut opt = Sgd::new(SgdConfig { lr: alpha, momentum: rho, ..Default::default() }).unwrap();
    let mut p = theta;
    for step in 0..40 {
        let g = grad(theta);
        for i in 0..2 {
            v[i] = rho * v[i] - alpha * g[i];
            theta[i] += v[i];
        }
        let g = grad(p);
        opt.update("p", &mut p, &g).unwrap();
        for i in 0..2 {
            assert!((p[i] - theta[i]).abs() < 1e-12, "step {step}: {p:?} vs {theta:?}");
        }
    }
}

#[test]
fn nesterov_uses_the_look_ahead_gradient() {
    let (alpha, rho) = (0.05, 0.9);
    // the notes: v <- rho v - alpha g(theta + rho v); theta <- theta + v.
    // PyTorch's parameter is the look-ahead point phi = theta + rho v.
    let (mut theta, mut v) = ([1.5, -1.0], [0.0, 0.0]);
    let mut opt = Sgd::new(SgdConfig { lr: alpha, momentum: rho, nesterov: true, ..Default::default() }).unwrap();
    let mut phi = theta; // v = 0 at the start, so phi = theta
    let mut classic = Sgd::new(SgdConfig { lr: alpha, momentum: rho, ..Default::default() }).unwrap();
    let mut c = theta;
    let mut max_gap_to_classic: f64 = 0.0;
    for step in 0..40 {
        let g = grad([theta[0] + rho * v[0], theta[1] + rho * v[1]]);
        for i in 0..2 {
            v[i] = rho * v[i] - alpha * g[i];
            theta[i] += v[i];
        }
        let g = grad(phi);
        opt.update("p", &mut phi, &g).unwrap();
        let g = grad(c);
        classic.update("p", &mut c, &g).unwrap();
        for i in 0..2 {
            let look_ahead = theta[i] + rho * v[i];
            assert!((phi[i] - look_ahead).abs() < 1e-12, "step {step}: {phi:?} vs look-ahead {look_ahead}");
            max_gap_to_classic = max_gap_to_classic.max((phi[i] - c[i]).abs());
        }
    }
    // and it is not plain momentum in disguise
    assert!(max_gap_to_classic > 1e-3);
}

/// Loss f(w) = mean((X w - y)^2) / 2 on a fixed little problem, plus
/// `penalty * sum(w^2) / 2`; returns the loss's gradient from the tape.
fn tape_grad(w: &[f64], penalty: f64) -> Vec<f64> {
    let tape = Tape::new();
    let x = tape.constant(Tensor::from_vec(vec![1.0, 2.0, 1.0, -1.0, 1.0, 0.5], &[3, 2]));
    let y = tape.constant(Tensor::from_vec(vec![3.0, 0.0, 2.0], &[3, 1]));
    let wv = tape.var_from_slice(w, &[2, 1]);
    let mut l = loss::mse_half(x.matmul(wv), y);
    if penalty != 0.0 {
        l = l + 0.5 * penalty * loss::l2(&[wv]);
    }
    l.backward().wrt(wv).into_data()
}

fn trajectory(opt: &mut impl Optimizer, penalty: f64, steps: usize) -> Vec<[f64; 2]> {
    let mut w = [2.0, -3.0];
    (0..steps)
        .map(|_| {
            let g = tape_grad(&w, penalty);
            opt.update("w", &mut w, &g).unwrap();
            w
        })
        .collect()
}

fn max_gap(a: &[[f64; 2]], b: &[[f64; 2]]) -> f64 {
    a.iter().zip(b).flat_map(|(p, q)| [(p[0] - q[0]).abs(), (p[1] - q[1]).abs()]).fold(0.0, f64::max)
}

#[test]
fn sgd_weight_decay_equals_an_l2_penalty() {
    let lambda = 0.3;
    let cfg = SgdConfig { lr: 0.1, momentum: 0.8, ..Default::default() };
    let decayed = trajectory(&mut Sgd::new(SgdConfig { weight_decay: lambda, ..cfg }).unwrap(), 0.0, 50);
    let penalised = trajectory(&mut Sgd::new(cfg).unwrap(), lambda, 50);
    let bare = trajectory(&mut Sgd::new(cfg).unwrap(), 0.0, 50);
    assert!(max_gap(&decayed, &penalised) < 1e-12);
    assert!(max_gap(&decayed, &bare) > 1e-2, "the decay must change something");
}

#[test]
fn adam_weight_decay_is_l2_but_adamw_is_not() {
    let lambda = 0.3;
    let adam = AdamConfig { lr: 0.05, ..Default::default() };
    let coupled = trajectory(&mut Adam::new(AdamConfig { weight_decay: lambda, ..adam }).unwrap(), 0.0, 60);
    let penalised = trajectory(&mut Adam::new(adam).unwrap(), lambda, 60);
    let decoupled = trajectory(
        &mut AdamW::new(AdamWConfig { lr: 0.05, weight_decay: lambda, ..Default::default() }).unwrap(),
        0.0,
        60,
    );
    // Adam's weight_decay is added to the gradient: the same as the L2 loss
    assert!(max_gap(&coupled, &penalised) < 1e-12);
    // AdamW shrinks the weights outside the adaptive scaling: a different path
    assert!(max_gap(&coupled, &decoupled) > 1e-2);
}

#[test]
fn adamw_without_decay_is_adam() {
    let a = trajectory(&mut Adam::new(AdamConfig { lr: 0.05, ..Default::default() }).unwrap(), 0.0, 30);
    let w = trajectory(
        &mut AdamW::new(AdamWConfig { lr: 0.05, weight_decay: 0.0, ..Default::default() }).unwrap(),
        0.0,
        30,
    );
    assert_eq!(a, w);
}

#[test]
fn step_over_named_maps_matches_update_per_parameter() {
    let mut params = IndexMap::from([
        ("hidden.w".to_string(), Tensor::from_vec(vec![1.0, 2.0, 3.0, 4.0], &[2, 2])),
        ("hidden.b".to_string(), Tensor::from_vec(vec![0.5, -0.5], &[2])),
    ]);
    let grads = IndexMap::from([
        ("hidden.b".to_string(), Tensor::from_vec(vec![1.0, 1.0], &[2])),
        ("hidden.w".to_string(), Tensor::from_vec(vec![0.1, -0.2, 0.3, -0.4], &[2, 2])),
    ]);
    let cfg = AdamConfig { lr: 0.01, ..Default::default() };
    let mut by_map = Adam::new(cfg).unwrap();
    let mut by_name = Adam::new(cfg).unwrap();
    let mut w = params["hidden.w"].data().to_vec();
    let mut b = params["hidden.b"].data().to_vec();
    for _ in 0..3 {
        by_map.step(&mut params, &grads).unwrap();
        by_name.update("hidden.w", &mut w, grads["hidden.w"].data()).unwrap();
        by_name.update("hidden.b", &mut b, grads["hidden.b"].data()).unwrap();
    }
    assert_eq!(params["hidden.w"].data(), w.as_slice());
    assert_eq!(params["hidden.b"].data(), b.as_slice());
}
