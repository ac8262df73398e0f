//! sigmoid, tanh, log_softmax and cross_entropy at inputs of +-1000:
//! finite values and finite gradients, both equal to their limits.

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
