//! Gradients against closed forms computed without the engine: plain f64
//! arithmetic and plain loops.

use rand::SeedableRng;
use tapegrad::{Tape, Tensor, loss};

fn rng(seed: u64) -> rand_chacha::ChaCha12Rng {
    rand_chacha::ChaCha12Rng::seed_from_u64(seed)
}

fn assert_close(got: &[f64], want: &[f64], tol: f64) {
    assert_eq!(got.len(), want.len(), "lengths differ");
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        assert!((g - w).abs() <= tol * (1.0 + w.abs()), "element {i}: got {g}, want {w}\n got {got:?}\nwant {want:?}");
    }
}

/// softmax of each row of a row-major `rows x cols` slice, by hand.
fn softmax_rows(x: &[f64], cols: usize) -> Vec<f64> {
    x.chunks(cols)
        .flat_map(|row| {
            let m = row.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            let z: f64 = row.iter().map(|v| (v - m).exp()).sum();
            row.iter().map(move |v| (v - m).exp() / z).collect::<Vec<_>>()
        })
        .collect()
}

#[test]
fn sigmoid_derivative_is_s_times_one_minus_s() {
    for x0 in [-6.0, -2.5, -1.0, -0.3, 0.0, 0.7, 2.0, 6.0] {
        let tape = Tape::new();
        let x = tape.scalar(x0);
        let y = x.sigmoid();
        let s = 1.0 / (1.0 + f64::exp(-x0));
        assert!((y.item() - s).abs() < 1e-15, "sigmoid({x0})");
        assert!((y.backward().wrt(x).item() - s * (1.0 - s)).abs() < 1e-15, "sigmoid'({x0})");
    }
}

#[test]
fn cube_has_derivative_12_at_2() {
    let tape = Tape::new();
    let x = tape.scalar(2.0);
    for y in [x.powi(3), x * x * x, x.powf(3.0), x.square() * x] {
        assert!((y.backward().wrt(x).item() - 12.0).abs() < 1e-12, "{y:?}");
    }
}

/// The tape's gradients of `C = A B` under a random upstream `dC`, against
/// `dA = dC B^T` and `dB = A^T dC` written as plain loops.
fn check_matmul_gradients(m: usize, k: usize, n: usize, seed: u64) {
    let mut r = rng(seed);
    let (a0, b0, dc) = (Tensor::randn(&[m, k], &mut r), Tensor::randn(&[k, n], &mut r), Tensor::randn(&[m, n], &mut r));
    let tape = Tape::new();
    let (a, b) = (tape.var(&a0), tape.var(&b0));
    let g = a.matmul(b).backward_with(&dc);
    let (a0, b0, dc) = (a0.data(), b0.data(), dc.data());
    // dA[i][p] = sum_j dC[i][j] B[p][j];  dB[p][j] = sum_i A[i][p] dC[i][j]
    let mut da = vec![0.0; m * k];
    let mut db = vec![0.0; k * n];
    for i in 0..m {
        for p in 0..k {
            for j in 0..n {
                da[i * k + p] += dc[i * n + j] * b0[p * n + j];
                db[p * n + j] += a0[i * k + p] * dc[i * n + j];
            }
        }
    }
    assert_close(g.wrt(a).data(), &da, 1e-12);
    assert_close(g.wrt(b).data(), &db, 1e-12);
}

#[test]
fn matmul_gradients_are_dc_bt_and_at_dc() {
    check_matmul_gradients(3, 4, 5, 7); // the small-product loop
    check_matmul_gradients(1, 1, 3, 9); // the sine network's 1x1 by 1x3
    check_matmul_gradients(40, 50, 60, 8); // the matrixmultiply path
}

#[test]
fn sum_and_mean_spread_the_gradient() {
    let tape = Tape::new();
    let x = tape.var(Tensor::randn(&[3, 4], &mut rng(1)));
    assert_eq!(x.sum().backward().wrt(x).data(), &[1.0; 12]);
    assert_close(x.mean().backward().wrt(x).data(), &[1.0 / 12.0; 12], 1e-15);
}

#[test]
fn axis_reduction_gradients_repeat_the_seed_along_the_axis() {
    let (rows, cols) = (3, 4);
    let tape = Tape::new();
    let x = tape.var(Tensor::randn(&[rows, cols], &mut rng(2)));
    let g_cols = Tensor::from_vec(vec![1.0, -2.0, 3.0, 0.5], &[cols]);
    let g_rows = Tensor::from_vec(vec![4.0, -1.0, 0.25], &[rows, 1]);
    // sum over axis 0: dx[i][j] = g[j]; mean over axis 1: dx[i][j] = g[i] / cols.
    let want_sum: Vec<f64> = (0..rows * cols).map(|e| g_cols.data()[e % cols]).collect();
    let want_mean: Vec<f64> = (0..rows * cols).map(|e| g_rows.data()[e / cols] / cols as f64).collect();
    assert_eq!(x.sum_axis(0, false).backward_with(&g_cols).wrt(x).data(), want_sum.as_slice());
    let seed0_keep = g_cols.reshape(&[1, cols]);
    assert_eq!(x.sum_axis(0, true).backward_with(&seed0_keep).wrt(x).data(), want_sum.as_slice());
    assert_close(x.mean_axis(1, true).backward_with(&g_rows).wrt(x).data(), &want_mean, 1e-15);
    let seed1 = g_rows.reshape(&[rows]);
    assert_close(x.mean_axis(1, false).backward_with(&seed1).wrt(x).data(), &want_mean, 1e-15);

    // The middle axis of a 3-D tensor: dx[a][b][c] = g[a][c] / 3.
    let y = tape.var(Tensor::zeros(&[2, 3, 2]));
    let g = Tensor::from_vec(vec![1.0, 2.0, 3.0, 4.0], &[2, 2]);
    let want: Vec<f64> = (0..12).map(|e| g.data()[(e / 6) * 2 + e % 2] / 3.0).collect();
    assert_close(y.mean_axis(1, false).backward_with(&g).wrt(y).data(), &want, 1e-15);
}

#[test]
fn log_softmax_gradient_is_g_minus_softmax_times_sum_g() {
    let (rows, cols) = (3, 5);
    let mut r = rng(3);
    let (x0, g) = (Tensor::randn(&[rows, cols], &mut r).scale(3.0), Tensor::randn(&[rows, cols], &mut r));
    let tape = Tape::new();
    let x = tape.var(&x0);
    let got = x.log_softmax().backward_with(&g).wrt(x);
    let p = softmax_rows(x0.data(), cols);
    let mut want = vec![0.0; rows * cols];
    for i in 0..rows {
        let total: f64 = g.data()[i * cols..(i + 1) * cols].iter().sum();
        for j in 0..cols {
            want[i * cols + j] = g.data()[i * cols + j] - p[i * cols + j] * total;
        }
    }
    assert_close(got.data(), &want, 1e-12);
}

#[test]
fn cross_entropy_gradient_is_softmax_minus_onehot_over_n() {
    let (n, c) = (4, 3);
    let z0 = Tensor::randn(&[n, c], &mut rng(4)).scale(2.0);
    let targets = [2, 0, 1, 2];
    let tape = Tape::new();
    let z = tape.var(&z0);
    let l = loss::cross_entropy(z, &targets);
    let p = softmax_rows(z0.data(), c);
    let want_loss = -(0..n).map(|i| p[i * c + targets[i]].ln()).sum::<f64>() / n as f64;
    assert!((l.item() - want_loss).abs() < 1e-12);
    let mut want = p.clone();
    for (i, &t) in targets.iter().enumerate() {
        want[i * c + t] -= 1.0;
    }
    want.iter_mut().for_each(|v| *v /= n as f64);
    assert_close(l.backward().wrt(z).data(), &want, 1e-12);
}

#[test]
fn regression_losses_have_their_textbook_gradients() {
    let (p0, t0) = (vec![1.0, -2.0, 0.5, 3.0], vec![0.0, 1.0, 0.5, -1.0]);
    let n = p0.len() as f64;
    let tape = Tape::new();
    let p = tape.var(Tensor::from_vec(p0.clone(), &[4]));
    let t = tape.constant(Tensor::from_vec(t0.clone(), &[4]));
    let diff: Vec<f64> = p0.iter().zip(&t0).map(|(a, b)| a - b).collect();
    let scaled = |k: f64| diff.iter().map(|d| k * d).collect::<Vec<_>>();
    assert_close(loss::mse(p, t).backward().wrt(p).data(), &scaled(2.0 / n), 1e-15); // 2(p-t)/N
    assert_close(loss::mse_half(p, t).backward().wrt(p).data(), &scaled(1.0 / n), 1e-15); // (p-t)/N
    assert_close(loss::sse_half(p, t).backward().wrt(p).data(), &scaled(1.0), 1e-15); // p-t
    // hinge: mean(relu(1 - y s)), gradient -y/N where the margin is violated.
    let s = tape.var(Tensor::from_vec(vec![2.0, 0.5, -0.5, -3.0], &[4]));
    let y = tape.constant(Tensor::from_vec(vec![1.0, 1.0, 1.0, -1.0], &[4]));
    let l = loss::hinge(s, y);
    assert_eq!(l.item(), (0.0 + 0.5 + 1.5 + 0.0) / 4.0);
    assert_eq!(l.backward().wrt(s).data(), &[0.0, -0.25, -0.25, 0.0]);
    // l2: sum w^2 over parameters, gradient 2w.
    let w = tape.var(Tensor::from_vec(vec![1.0, -3.0], &[2]));
    let b = tape.scalar(0.5);
    let g = loss::l2(&[w, b]).backward();
    assert_eq!((g.wrt(w).data(), g.wrt(b).item()), (&[2.0, -6.0][..], 1.0));
}

#[test]
fn kinks_take_the_documented_subgradients() {
    let tape = Tape::new();
    let z = tape.scalar(0.0);
    assert_eq!(z.relu().backward().wrt(z).item(), 0.0);
    assert_eq!(z.abs().backward().wrt(z).item(), 0.0);
    assert_eq!(z.sqrt().backward().wrt(z).item(), f64::INFINITY);
    // relu, abs and sqrt at 0 match PyTorch. A tie in maximum is
    // tapegrad's own rule (documented on `Var::maximum`): the whole
    // gradient goes to the first operand (PyTorch splits it in half).
    let (a, b) = (tape.scalar(1.0), tape.scalar(1.0));
    let g = a.maximum(b).backward();
    assert_eq!((g.wrt(a).item(), g.wrt(b).item()), (1.0, 0.0));
    // powi(0) is the constant 1, with derivative 0 even at 0.
    assert_eq!(z.powi(0).backward().wrt(z).item(), 0.0);
}
