//! sigmoid, tanh, log_softmax and cross_entropy at inputs of +-1000, far
//! past it (+-1e16, +-1e300, +-1e308) and next to -inf: values and
//! gradients equal to their closed forms or limits.

use tapegrad::{Tape, Tensor, loss};

fn all_finite(t: &Tensor) -> bool {
    t.data().iter().all(|v| v.is_finite())
}

#[test]
fn sigmoid_and_tanh_saturate_cleanly() {
    let tape = Tape::new();
    let x = tape.var(Tensor::from_vec(vec![-1000.0, 1000.0, -745.0, 710.0], &[4]));
    for (y, lo) in [(x.sigmoid(), 0.0), (x.tanh(), -1.0)] {
        let g = y.sum().backward().wrt(x);
        assert!(all_finite(&y.value()) && all_finite(&g), "{:?}: {} / {}", y, y.value(), g);
        assert_eq!(y.value().data()[..2], [lo, 1.0]);
        assert!(g.data().iter().all(|d| d.abs() < 1e-300), "{g}");
    }
}

#[test]
fn log_softmax_is_finite_at_plus_minus_1000() {
    let tape = Tape::new();
    let x = tape.var(Tensor::from_vec(vec![1000.0, -1000.0, 0.0, 1000.0, 1000.0, -1000.0], &[2, 3]));
    let y = x.log_softmax();
    let v = y.value();
    assert!(all_finite(&v), "{v}");
    assert_eq!(v.data()[..3], [0.0, -2000.0, -1000.0]);
    let ln2 = 2f64.ln();
    assert!((v.data()[3] + ln2).abs() < 1e-12 && (v.data()[4] + ln2).abs() < 1e-12);
    let seed = Tensor::from_vec(vec![1.0, 0.0, 0.0, 0.0, 1.0, 0.0], &[2, 3]);
    let g = y.backward_with(&seed).wrt(x);
    assert!(all_finite(&g), "{g}");
    // g - softmax * sum(g): row 0 softmax = [1, 0, 0], row 1 = [.5, .5, 0].
    let want = [0.0, 0.0, 0.0, -0.5, 0.5, 0.0];
    assert!(g.data().iter().zip(want).all(|(a, b)| (a - b).abs() < 1e-12), "{g}");
}

#[test]
fn cross_entropy_is_finite_at_plus_minus_1000() {
    let tape = Tape::new();
    let z = tape.var(Tensor::from_vec(vec![1000.0, -1000.0, -1000.0, 1000.0], &[2, 2]));
    // Row 0 right with certainty (loss 0), row 1 wrong (loss 2000).
    let l = loss::cross_entropy(z, &[0, 0]);
    assert_eq!(l.item(), 1000.0);
    let g = l.backward().wrt(z);
    assert!(all_finite(&g), "{g}");
    // (softmax - onehot) / N = [[0, 0], [-1, 1]] / 2
    assert_eq!(g.data(), &[0.0, 0.0, -0.5, 0.5]);
}

#[test]
fn sigmoid_matches_its_definition_where_that_is_safe() {
    for x in [-30.0, -1.0, 0.0, 1.0, 30.0] {
        let s = tapegrad::tensor::stable_sigmoid(x);
        assert!((s - 1.0 / (1.0 + f64::exp(-x))).abs() < 1e-16);
    }
}

/// Far past +-1000: sigmoid and tanh at +-1e16 and +-1e300 are their
/// limits, with gradient exactly 0 (the true derivative underflows).
#[test]
fn sigmoid_and_tanh_at_huge_magnitudes() {
    let tape = Tape::new();
    let xs = vec![-1e300, -1e16, 1e16, 1e300];
    let x = tape.var(Tensor::from_vec(xs, &[4]));
    let s = x.sigmoid();
    assert_eq!(s.value().data(), &[0.0, 0.0, 1.0, 1.0]);
    assert_eq!(s.sum().backward().wrt(x).data(), &[0.0; 4]);
    let t = x.tanh();
    assert_eq!(t.value().data(), &[-1.0, -1.0, 1.0, 1.0]);
    assert_eq!(t.sum().backward().wrt(x).data(), &[0.0; 4]);
}

/// log_softmax far past +-1000 and with -inf entries, against closed forms.
#[test]
fn log_softmax_at_huge_magnitudes_and_minus_infinity() {
    let ln2 = 2f64.ln();
    let l = (1.0 + (-2f64).exp()).ln(); // ln(1 + e^-2)
    let inf = f64::INFINITY;
    // rows: equal huge logits; a spread of 2 at 1e16 (representable);
    // a spread of 2e300; a spread that overflows (-inf); -inf entries.
    let rows: [([f64; 3], [f64; 3]); 6] = [
        ([1e300, 1e300, -inf], [-ln2, -ln2, -inf]),
        ([1e16, 1e16 + 2.0, -inf], [-2.0 - l, -l, -inf]),
        ([-1e16, -1e16 - 2.0, -inf], [-l, -2.0 - l, -inf]),
        ([1e300, -1e300, -inf], [0.0, -2e300, -inf]),
        ([1e308, -1e308, -inf], [0.0, -inf, -inf]),
        ([-inf, 0.0, 0.0], [-inf, -ln2, -ln2]),
    ];
    for (x, want) in rows {
        let tape = Tape::new();
        let xv = tape.var(Tensor::from_vec(x.to_vec(), &[1, 3]));
        let y = xv.log_softmax();
        let got = y.value();
        for (g, w) in got.data().iter().zip(want) {
            assert!(g == &w || (g - w).abs() < 1e-15, "{x:?}: {got} vs {want:?}");
        }
        // seed e_1: grad = e_1 - softmax(x), finite even next to -inf
        let grad = y.backward_with(&Tensor::from_vec(vec![0.0, 1.0, 0.0], &[1, 3])).wrt(xv);
        let p: Vec<f64> = want.iter().map(|v| v.exp()).collect();
        let expect = [-p[0], 1.0 - p[1], -p[2]];
        assert!(grad.data().iter().zip(expect).all(|(a, b)| (a - b).abs() < 1e-15), "{x:?}: {grad}");
    }
    // A row that is all -inf has no distribution: NaN, not a made-up number.
    let tape = Tape::new();
    let y = tape.var(Tensor::from_vec(vec![-inf, -inf], &[1, 2])).log_softmax();
    assert!(y.value().data().iter().all(|v| v.is_nan()));
}

/// cross_entropy far past +-1000 and with -inf logits.
#[test]
fn cross_entropy_at_huge_magnitudes_and_minus_infinity() {
    let inf = f64::INFINITY;
    // (logits, target, loss, gradient)
    let cases: [([f64; 2], usize, f64, [f64; 2]); 7] = [
        ([1e16, 1e16], 0, 2f64.ln(), [-0.5, 0.5]),
        ([1e300, 1e300], 1, 2f64.ln(), [0.5, -0.5]),
        ([1e300, -1e300], 0, 0.0, [0.0, 0.0]),
        ([-1e300, 1e300], 0, 2e300, [-1.0, 1.0]),
        ([-1e308, 1e308], 0, inf, [-1.0, 1.0]), // the true loss 2e308 overflows
        ([0.0, -inf], 0, 0.0, [0.0, 0.0]),
        ([-inf, 5.0], 1, 0.0, [0.0, 0.0]),
    ];
    for (z, t, loss_want, grad_want) in cases {
        let tape = Tape::new();
        let zv = tape.var(Tensor::from_vec(z.to_vec(), &[1, 2]));
        let l = loss::cross_entropy(zv, &[t]);
        assert!(l.item() == loss_want || (l.item() - loss_want).abs() < 1e-15, "{z:?}: {}", l.item());
        let g = l.backward().wrt(zv);
        assert_eq!(g.data(), &grad_want, "{z:?}");
    }
}
