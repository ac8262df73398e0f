//! Regression tests for values that used to come out wrong at the edges
//! (issue 9, "Wrong results"): each asserts the correct number, worked out
//! by hand or from a closed form, not only that nothing panics.

use tapegrad::nn::{Activation, Params};
use tapegrad::optim::clip::clip_grad_norm;
use tapegrad::optim::{Optimizer, Sgd, SgdConfig};
use tapegrad::{Tape, Tensor, loss};

/// Cross-entropy picks the target's log-probability: a non-target class at
/// log-probability -inf contributes nothing (0 * -inf used to make NaN).
#[test]
fn cross_entropy_ignores_a_non_target_class_at_minus_infinity() {
    for row in [[0.0, f64::NEG_INFINITY], [1e308, -1e308]] {
        let tape = Tape::new();
        let z = tape.var(Tensor::from_vec(row.to_vec(), &[1, 2]));
        let l = loss::cross_entropy(z, &[0]);
        assert_eq!(l.item(), 0.0, "{row:?}");
        // d/dz = softmax(z) - onehot = [1, 0] - [1, 0]
        assert_eq!(l.backward().wrt(z).data(), &[0.0, 0.0], "{row:?}");
    }
}

/// The target at -inf is an infinitely wrong prediction: loss +inf, not NaN.
#[test]
fn cross_entropy_of_a_target_at_minus_infinity_is_infinite() {
    let tape = Tape::new();
    let z = tape.var(Tensor::from_vec(vec![0.0, f64::NEG_INFINITY], &[1, 2]));
    assert_eq!(loss::cross_entropy(z, &[1]).item(), f64::INFINITY);
}

/// `log_softmax` of equal huge logits is -ln 2 each (it used to lose every
/// digit to `x - (max + ln sum)`), and its gradient for the seed [1, 0] is
/// `seed - softmax * sum(seed)` = [0.5, -0.5].
#[test]
fn log_softmax_keeps_its_digits_for_huge_equal_logits() {
    let ln2 = 2f64.ln();
    for m in [1e16, -1e16, 1e300, -1e300] {
        let tape = Tape::new();
        let x = tape.var(Tensor::from_vec(vec![m, m], &[1, 2]));
        let y = x.log_softmax();
        assert_eq!(y.value().data(), &[-ln2, -ln2], "at {m}");
        let g = y.backward_with(&Tensor::from_vec(vec![1.0, 0.0], &[1, 2])).wrt(x);
        assert_eq!(g.data(), &[0.5, -0.5], "at {m}");
    }
    // The same for the tensor-only kernel.
    let t = Tensor::from_vec(vec![1e16, 1e16], &[2]).log_softmax();
    assert_eq!(t.data(), &[-ln2, -ln2]);
}

/// relu and maximum propagate NaN, as PyTorch does (`f64::max` drops it).
#[test]
fn relu_and_maximum_propagate_nan() {
    let tape = Tape::new();
    let nan = tape.scalar(f64::NAN);
    let one = tape.scalar(1.0);
    assert!(nan.relu().item().is_nan());
    assert!(nan.maximum(one).item().is_nan());
    assert!(one.maximum(nan).item().is_nan());
    // tensor lanes too (not only the 0-d scalar lane)
    let v = tape.var(Tensor::from_vec(vec![f64::NAN, -1.0, 2.0], &[3]));
    let w = tape.var(Tensor::from_vec(vec![0.0, f64::NAN, 1.0], &[3]));
    let r = v.relu().value();
    assert!(r.data()[0].is_nan() && r.data()[1..] == [0.0, 2.0]);
    let m = v.maximum(w).value();
    assert!(m.data()[0].is_nan() && m.data()[1].is_nan() && m.data()[2] == 2.0);
    // and the hand-written layers' relu
    let a = Activation::Relu.apply_tensor(&Tensor::from_vec(vec![f64::NAN, -1.0], &[2]));
    assert!(a.data()[0].is_nan() && a.data()[1] == 0.0);
}

/// A NaN difference is not "no difference".
#[test]
fn max_abs_diff_reports_nan() {
    let a = Tensor::from_vec(vec![1.0, f64::NAN], &[2]);
    assert!(a.max_abs_diff(&Tensor::from_vec(vec![1.0, 2.0], &[2])).is_nan());
    let (mut p, mut q) = (Params::new(), Params::new());
    p.insert("w", a);
    q.insert("w", Tensor::from_vec(vec![1.0, 2.0], &[2]));
    assert!(p.max_abs_diff(&q).is_nan());
}

/// `x^0 = 1` has derivative 0 everywhere, also at x = 0 (0 * 0^-1 was NaN).
#[test]
fn powf_zero_has_zero_gradient_at_zero() {
    let tape = Tape::new();
    let x = tape.var(Tensor::from_vec(vec![0.0, 2.0], &[2]));
    let y = x.powf(0.0);
    assert_eq!(y.value().data(), &[1.0, 1.0]);
    assert_eq!(y.sum().backward().wrt(x).data(), &[0.0, 0.0]);
    let s = tape.scalar(0.0);
    assert_eq!(s.powf(0.0).backward().wrt(s).item(), 0.0);
    assert_eq!(s.powi(0).backward().wrt(s).item(), 0.0);
}

/// d/dx x^n = n x^(n-1) for the extreme exponent i32::MIN: at x = 1 that is
/// n itself (computing n - 1 in i32 overflowed).
#[test]
fn powi_of_i32_min_has_the_right_gradient() {
    let tape = Tape::new();
    let x = tape.scalar(1.0);
    let y = x.powi(i32::MIN);
    assert_eq!(y.item(), 1.0);
    assert_eq!(y.backward().wrt(x).item(), i32::MIN as f64);
    let x = tape.scalar(-1.0); // (-1)^(even) = 1, derivative n (-1)^(n-1) = -n
    assert_eq!(x.powi(i32::MIN).backward().wrt(x).item(), -(i32::MIN as f64));
}

/// The ParamVars of one Params cannot step another Params of the same size:
/// the step is an error and changes nothing.
#[test]
fn step_refuses_the_vars_of_other_params() {
    let mut opt = Sgd::new(SgdConfig { lr: 0.1, ..Default::default() }).unwrap();
    let mut a = Params::new();
    a.insert("w", Tensor::scalar(1.0));
    let mut b = Params::new();
    b.insert("w", Tensor::scalar(5.0));
    let tape = Tape::new();
    let va = a.on_tape(&tape);
    let g = va.get(0).square().backward();
    let msg = opt.step(&mut b, va, &g).unwrap_err().to_string();
    assert!(msg.contains("step") && msg.contains("other Params"), "{msg}");
    assert_eq!(b["w"].item(), 5.0); // untouched
    // a clone is a different set of parameters too
    let mut c = a.clone();
    assert!(opt.step(&mut c, va, &g).is_err());
    assert_eq!(c["w"].item(), 1.0);
    // the owner steps fine: w -= 0.1 * 2w
    opt.step(&mut a, va, &g).unwrap();
    assert_eq!(a["w"].item(), 0.8);
}

/// Gradients swept on another tape cannot step the parameters, even when
/// that tape holds a recording of the same parameters.
#[test]
fn step_refuses_gradients_of_another_tape() {
    let mut opt = Sgd::new(SgdConfig { lr: 0.1, ..Default::default() }).unwrap();
    let mut p = Params::new();
    p.insert("w", Tensor::scalar(1.0));
    let (one, other) = (Tape::new(), Tape::new());
    let vars = p.on_tape(&one);
    let g_other = p.on_tape(&other).get(0).square().backward();
    let msg = opt.step(&mut p, vars, &g_other).unwrap_err().to_string();
    assert!(msg.contains("step") && msg.contains("another tape"), "{msg}");
    assert_eq!(p["w"].item(), 1.0); // untouched
}

/// The global norm is computed scaled, as BLAS's dnrm2: no overflow at
/// 1e200, no underflow at 1e-200.
#[test]
fn clip_grad_norm_neither_overflows_nor_underflows() {
    let sqrt2 = 2f64.sqrt();
    let mut g = indexmap::IndexMap::from([("w".to_string(), Tensor::from_vec(vec![1e200, 1e200], &[2]))]);
    let norm = clip_grad_norm(&mut g, 1.0).unwrap();
    assert!((norm / (sqrt2 * 1e200) - 1.0).abs() < 1e-15, "{norm}");
    for &v in g["w"].data() {
        assert!((v - 1.0 / sqrt2).abs() < 1e-12, "{v}");
    }
    let mut g = indexmap::IndexMap::from([
        ("w".to_string(), Tensor::from_vec(vec![1e-200], &[1])),
        ("b".to_string(), Tensor::from_vec(vec![1e-200], &[1])),
    ]);
    let norm = clip_grad_norm(&mut g, 1.0).unwrap();
    assert!((norm / (sqrt2 * 1e-200) - 1.0).abs() < 1e-15, "{norm}");
    assert_eq!(g["w"].item(), 1e-200); // far below max_norm: left alone
    // a NaN gradient gives a NaN norm and is not hidden by clipping
    let mut g = indexmap::IndexMap::from([("w".to_string(), Tensor::from_vec(vec![f64::NAN, 3.0], &[2]))]);
    assert!(clip_grad_norm(&mut g, 1.0).unwrap().is_nan());
}

/// Gradient descent and the normal equation refuse empty data alike.
#[test]
fn fit_gd_and_normal_equation_agree_on_empty_data() {
    use tapegrad::data::Batching;
    use tapegrad::notes::linreg::{GdOptions, fit_gd, normal_equation};
    let (x, y) = (Tensor::zeros(&[0, 2]), Tensor::zeros(&[0]));
    let e_ne = normal_equation(&x, &y).unwrap_err().to_string();
    let opts = GdOptions { batching: Batching::Full, lr: 0.1, epochs: 3, seed: 0 };
    let e_gd = fit_gd(&x, &y, &opts).unwrap_err().to_string();
    assert!(e_ne.contains("no samples") && e_gd.contains("no samples"), "{e_ne} / {e_gd}");
}

/// A NaN the output does not depend on is not the output's anomaly.
#[test]
fn checked_backward_ignores_nodes_the_output_does_not_read() {
    for tape in [Tape::new(), Tape::checked()] {
        let x = tape.scalar(-1.0);
        let _u = x.ln(); // NaN, but unused
        let g = (x * 2.0).try_backward_checked().unwrap();
        assert_eq!(g.wrt(x).item(), 2.0);
        // ...while one it does depend on is still reported
        let v = x.ln() + x;
        assert_eq!(v.try_backward_checked().unwrap_err().anomaly().unwrap().op, "ln");
    }
}
