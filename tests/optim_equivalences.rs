//! The optimizers against the notes' forms of the same rules, and weight
//! decay against an L2 penalty (whose gradient comes from the tape).

use tapegrad::nn::Params;
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

/// Parameters `hidden.w` and `hidden.b` on a tape, with a loss whose
/// gradients are known exactly: `sum(w * gw) + sum(b * gb)` has gradient
/// `gw` for `w` and `gb` for `b`.
fn model_step(opt: &mut impl Optimizer, params: &mut Params, gw: &[f64], gb: &[f64]) {
    let tape = Tape::new();
    let vars = params.on_tape(&tape);
    let (w, b) = (vars.by_name(params, "hidden.w"), vars.by_name(params, "hidden.b"));
    let l = (w * tape.constant_from_slice(gw, &[2, 2])).sum() + (b * tape.constant_from_slice(gb, &[2])).sum();
    let grads = l.backward();
    opt.step(params, vars, &grads).unwrap();
}

fn two_params() -> Params {
    let mut p = Params::new();
    p.insert("hidden.w", Tensor::from_vec(vec![1.0, 2.0, 3.0, 4.0], &[2, 2]));
    p.insert("hidden.b", Tensor::from_vec(vec![0.5, -0.5], &[2]));
    p
}

#[test]
fn a_model_step_is_update_per_parameter_by_name() {
    let (gw, gb) = ([0.1, -0.2, 0.3, -0.4], [1.0, 1.0]);
    let cfg = AdamConfig { lr: 0.01, ..Default::default() };
    let (mut by_model, mut by_name) = (Adam::new(cfg).unwrap(), Adam::new(cfg).unwrap());
    let mut params = two_params();
    let mut w = params["hidden.w"].data().to_vec();
    let mut b = params["hidden.b"].data().to_vec();
    for _ in 0..3 {
        model_step(&mut by_model, &mut params, &gw, &gb);
        by_name.update("hidden.w", &mut w, &gw).unwrap();
        by_name.update("hidden.b", &mut b, &gb).unwrap();
    }
    assert_eq!(params["hidden.w"].data(), w.as_slice());
    assert_eq!(params["hidden.b"].data(), b.as_slice());
}

#[test]
fn plain_sgd_is_p_minus_lr_g_bit_for_bit() {
    // The default Sgd must do exactly the arithmetic of the hand-written
    // loop `p -= lr * g` on the tape's gradients (no `+ 0 * p`): checked
    // with `==` on every bit, including a negative-zero parameter and an
    // infinite one (which `g + 0 * p` would turn into NaN).
    let lr = 0.1;
    let mut params = two_params();
    params.insert("edge", Tensor::from_vec(vec![-0.0, f64::INFINITY], &[2]));
    let mut hand: Vec<Vec<f64>> = params.iter().map(|(_, t)| t.data().to_vec()).collect();
    let mut opt = Sgd::new(SgdConfig { lr, ..Default::default() }).unwrap();
    let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
    for _ in 0..4 {
        let tape = Tape::new();
        let vars = params.on_tape(&tape);
        let c = |v: &[f64], shape: &[usize]| tape.constant_from_slice(v, shape);
        let l = (vars.get(0) * c(&[0.1, -0.2, 0.3, -0.4], &[2, 2])).sum()
            + (vars.get(1) * c(&[1.0 / 3.0, 7.0], &[2])).sum()
            + (vars.get(2) * c(&[-0.0, 1.0], &[2])).sum();
        let grads = l.backward();
        for (i, p) in hand.iter_mut().enumerate() {
            let g = grads.wrt(vars.get(i));
            p.iter_mut().zip(g.data()).for_each(|(p, g)| *p -= lr * g);
        }
        opt.step(&mut params, vars, &grads).unwrap();
        for ((name, t), want) in params.iter().zip(&hand) {
            assert_eq!(bits(t.data()), bits(want), "{name}: {:?} vs {want:?}", t.data());
        }
    }
    assert_eq!(params["edge"].data()[1], f64::INFINITY);
}
