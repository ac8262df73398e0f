//! Every gradient-descent flavour reaches the normal equation's theta; the
//! notes' conventions (1/(2N) vs 1/N, residual sign) do not move anything.

use rand::SeedableRng;
use rand_chacha::ChaCha12Rng;
use tapegrad::data::{Batches, Batching};
use tapegrad::notes::gd::gradient_descent_tape;
use tapegrad::notes::linreg::{GdOptions, design_matrix, fit_gd, normal_equation};
use tapegrad::{Tape, Tensor, loss};

/// y = 2 - x1 + 0.5 x2 + 3 x3 + noise(0.1), 200 samples.
fn data() -> (Tensor, Tensor) {
    let mut rng = ChaCha12Rng::seed_from_u64(11);
    let x = design_matrix(&Tensor::randn(&[200, 3], &mut rng)).unwrap();
    let truth = Tensor::from_vec(vec![2.0, -1.0, 0.5, 3.0], &[4, 1]);
    let y = &x.matmul(&truth) + &Tensor::randn(&[200, 1], &mut rng).scale(0.1);
    (x, y)
}

fn max_gap(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(p, q)| (p - q).abs()).fold(0.0, f64::max)
}

#[test]
fn every_flavour_converges_to_the_normal_equation() {
    let (x, y) = data();
    let exact = normal_equation(&x, &y).unwrap();
    let cases = [
        // batch GD converges exactly; the noisier flavours hover near the minimum
        (Batching::Full, 0.5, 200, 1e-10),
        (Batching::MiniBatch(20), 0.05, 100, 1e-2),
        (Batching::Stochastic, 0.005, 50, 1e-2),
    ];
    for (batching, lr, epochs, tol) in cases {
        let fit = fit_gd(&x, &y, &GdOptions { batching, lr, epochs, seed: 5 }).unwrap();
        let gap = max_gap(&fit.theta, &exact);
        assert!(gap < tol, "{}: theta {:?} vs {exact:?} (gap {gap:e})", batching.label(), fit.theta);
        // and its loss came down to the minimum's
        let first = fit.losses[0];
        let last = *fit.losses.last().unwrap();
        assert!(last < first / 100.0, "{}: loss {first} -> {last}", batching.label());
    }
}

#[test]
fn batch_loss_falls_every_epoch() {
    let (x, y) = data();
    let fit = fit_gd(&x, &y, &GdOptions { batching: Batching::Full, lr: 0.5, epochs: 30, seed: 0 }).unwrap();
    assert!(fit.losses.windows(2).all(|w| w[1] <= w[0]), "{:?}", fit.losses);
}

#[test]
fn same_seed_same_run_other_seed_other_run() {
    let (x, y) = data();
    let opts = GdOptions { batching: Batching::Stochastic, lr: 0.01, epochs: 3, seed: 8 };
    let a = fit_gd(&x, &y, &opts).unwrap();
    let b = fit_gd(&x, &y, &opts).unwrap();
    let c = fit_gd(&x, &y, &GdOptions { seed: 9, ..opts }).unwrap();
    assert_eq!(a, b);
    assert_ne!(a.theta, c.theta);
}

#[test]
fn batches_reshuffle_each_epoch_and_cover_every_sample() {
    let mut batches = Batches::new(12, Batching::MiniBatch(5), 4);
    let first: Vec<usize> = batches.epoch().flatten().copied().collect();
    let second: Vec<usize> = batches.epoch().flatten().copied().collect();
    assert_ne!(first, second, "a new order every epoch");
    for epoch in [first, second] {
        let mut sorted = epoch.clone();
        sorted.sort();
        assert_eq!(sorted, (0..12).collect::<Vec<_>>());
    }
    assert_eq!(batches.epoch().map(<[usize]>::len).collect::<Vec<_>>(), [5, 5, 2]);
}

/// The tape's gradient of `f(pred, y)` at theta.
fn gradient(
    x: &Tensor,
    y: &Tensor,
    theta: &[f64],
    f: impl for<'t> Fn(tapegrad::Var<'t>, tapegrad::Var<'t>) -> tapegrad::Var<'t>,
) -> Vec<f64> {
    let tape = Tape::new();
    let tv = tape.var_from_slice(theta, &[theta.len(), 1]);
    let pred = tape.constant(x).matmul(tv);
    f(pred, tape.constant(y)).backward().wrt(tv).into_data()
}

#[test]
fn residual_sign_does_not_change_the_gradient() {
    // the notes' Q2: (pred - y)^2 and (y - pred)^2 have one gradient,
    // dR/dw = (2/N) sum_i x_i (pred_i - y_i) for the 1/N form
    let (x, y) = data();
    let theta = [0.3, -0.7, 1.1, 0.2];
    let pred_minus_y = gradient(&x, &y, &theta, |p, t| (p - t).square().mean());
    let y_minus_pred = gradient(&x, &y, &theta, |p, t| (t - p).square().mean());
    // the notes' formula, written out with loops
    let (n, m) = (200, 4);
    let mut by_hand = vec![0.0; m];
    for i in 0..n {
        let row = &x.data()[i * m..(i + 1) * m];
        let pred: f64 = row.iter().zip(&theta).map(|(a, b)| a * b).sum();
        for j in 0..m {
            by_hand[j] += 2.0 / n as f64 * row[j] * (pred - y.data()[i]);
        }
    }
    assert!(max_gap(&pred_minus_y, &y_minus_pred) < 1e-12);
    assert!(max_gap(&pred_minus_y, &by_hand) < 1e-12, "{pred_minus_y:?} vs {by_hand:?}");
}

#[test]
fn half_and_full_mse_share_the_minimiser() {
    // 1/(2N) and 1/N differ by a constant factor: the gradient is halved,
    // the minimiser is the same. Run GD on each to convergence.
    let (x, y) = data();
    let exact = normal_equation(&x, &y).unwrap();
    let fit = |half: bool, lr: f64| {
        let (xc, yc) = (x.clone(), y.clone());
        gradient_descent_tape(
            move |t| {
                let tape = t.tape();
                let pred = tape.constant(&xc).matmul(t.reshape(&[4, 1]));
                if half { loss::mse_half(pred, tape.constant(&yc)) } else { loss::mse(pred, tape.constant(&yc)) }
            },
            &[0.0; 4],
            lr,
            300,
        )
    };
    let half = fit(true, 0.5);
    let full = fit(false, 0.5);
    assert!(max_gap(&half, &exact) < 1e-10, "{half:?} vs {exact:?}");
    assert!(max_gap(&full, &exact) < 1e-10, "{full:?} vs {exact:?}");
    // and the gradients are exactly in ratio 1 : 2 away from the minimum
    let theta = [1.0, 1.0, 1.0, 1.0];
    let g_half = gradient(&x, &y, &theta, loss::mse_half);
    let g_full = gradient(&x, &y, &theta, loss::mse);
    assert!(g_half.iter().zip(&g_full).all(|(h, f)| (2.0 * h - f).abs() < 1e-12));
}

#[test]
fn a_bad_learning_rate_is_an_optimizer_error_not_a_shape_error() {
    let x = Tensor::from_vec(vec![1.0, 0.0, 1.0, 1.0], &[2, 2]);
    let y = Tensor::from_vec(vec![1.0, 2.0], &[2]);
    let options = GdOptions { batching: Batching::Full, lr: -0.1, epochs: 1, seed: 0 };
    let err = fit_gd(&x, &y, &options).unwrap_err();
    assert!(matches!(err, tapegrad::notes::linreg::LinRegError::Optim(_)), "{err:?}");
    assert_eq!(err.to_string(), "fit_gd: Sgd: invalid lr = -0.1 (must be >= 0)");
}
