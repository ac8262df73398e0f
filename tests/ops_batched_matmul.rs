//! `matmul` with 3-D operands, on random sizes and every broadcasting case
//! PyTorch allows for batches: backward against central differences and
//! forward mode, the differentiable backward against differences of the
//! gradient, each batch's product against a plain triple loop, and the
//! errors naming both shapes.

mod common;

use common::{assert_gradcheck, weighted_sum};
use proptest::prelude::*;
use rand::SeedableRng;
use tapegrad::check::{GradcheckOptions, gradcheck_forward, hvpcheck};
use tapegrad::{Tape, Tensor};

/// Operand shapes for batch `b`, sizes `m, k, n`: 3-D x 2-D, 2-D x 3-D,
/// 3-D x 3-D, and a batch of 1 against a batch of `b` on either side.
fn shapes(case: usize, b: usize, m: usize, k: usize, n: usize) -> (Vec<usize>, Vec<usize>) {
    match case {
        0 => (vec![b, m, k], vec![k, n]),
        1 => (vec![m, k], vec![b, k, n]),
        2 => (vec![b, m, k], vec![b, k, n]),
        3 => (vec![1, m, k], vec![b, k, n]),
        _ => (vec![b, m, k], vec![1, k, n]),
    }
}

/// `C[i] = A[i or 0] B[i or 0]` by the definition, as a plain loop.
fn by_hand(a: &Tensor, b: &Tensor) -> Vec<f64> {
    let (sa, sb) = (a.shape(), b.shape());
    let mat = |s: &[usize]| if s.len() == 3 { (s[0], s[1], s[2]) } else { (1, s[0], s[1]) };
    let ((ba, m, k), (bb, _, n)) = (mat(sa), mat(sb));
    let batch = ba.max(bb);
    let mut c = vec![0.0; batch * m * n];
    for i in 0..batch {
        let (ia, ib) = (if ba == 1 { 0 } else { i }, if bb == 1 { 0 } else { i });
        for r in 0..m {
            for col in 0..n {
                c[(i * m + r) * n + col] =
                    (0..k).map(|j| a.data()[(ia * m + r) * k + j] * b.data()[(ib * k + j) * n + col]).sum();
            }
        }
    }
    c
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(32))]

    #[test]
    fn batched_matmul_passes_every_check(case in 0usize..5, b in 1usize..4, m in 1usize..4, k in 1usize..4,
                                         n in 1usize..4, seed in any::<u64>()) {
        let mut rng = rand_chacha::ChaCha12Rng::seed_from_u64(seed);
        let (sa, sb) = shapes(case, b, m, k, n);
        let (a, bt) = (Tensor::randn(&sa, &mut rng), Tensor::randn(&sb, &mut rng));
        let (va, vb) = (Tensor::randn(&sa, &mut rng), Tensor::randn(&sb, &mut rng));

        let tape = Tape::new();
        let c = tape.var(&a).matmul(tape.var(&bt));
        let shape = c.shape();
        prop_assert_eq!(shape.as_slice(), &[b, m, n][..]);
        for (got, want) in c.value().data().iter().zip(by_hand(&a, &bt)) {
            prop_assert!((got - want).abs() <= 1e-13 * (1.0 + want.abs()), "{} vs {}", got, want);
        }

        let inputs = [a.clone(), bt.clone()];
        assert_gradcheck(|tape, v| weighted_sum(tape, v[0].matmul(v[1])), &inputs);
        gradcheck_forward(|tape, v| weighted_sum(tape, v[0].matmul(v[1])), &inputs, 1e-12)
            .unwrap_or_else(|e| panic!("{e}"));
        // tanh makes the second derivative nonzero in both operands.
        hvpcheck(|tape, v| weighted_sum(tape, v[0].matmul(v[1]).tanh()), &inputs, &[va, vb],
                 &GradcheckOptions::default()).unwrap_or_else(|e| panic!("{e}"));
    }
}

#[test]
fn a_shared_weight_gets_the_sum_over_the_batch() {
    // [b, m, k] x [k, n] is the 2-D product of the stacked [b m, k] rows.
    let mut rng = rand_chacha::ChaCha12Rng::seed_from_u64(3);
    let (x, w) = (Tensor::randn(&[3, 2, 4], &mut rng), Tensor::randn(&[4, 5], &mut rng));
    let tape = Tape::new();
    let (vx, vw) = (tape.var(&x), tape.var(&w));
    let g3 = vx.matmul(vw).square().sum().backward().wrt(vw);
    let tape2 = Tape::new();
    let vw2 = tape2.var(&w);
    let g2 = tape2.constant(x.reshape(&[6, 4])).matmul(vw2).square().sum().backward().wrt(vw2);
    for (a, b) in g3.data().iter().zip(g2.data()) {
        assert!((a - b).abs() < 1e-12, "{a} vs {b}");
    }
}

#[test]
fn batched_errors_name_both_shapes() {
    let tape = Tape::new();
    let v = |s: &[usize]| tape.var(Tensor::zeros(s));
    let e = |a: &[usize], b: &[usize]| v(a).try_matmul(v(b)).unwrap_err().to_string();
    assert_eq!(
        e(&[2, 3, 4], &[3, 4, 5]),
        "matmul: shapes [2, 3, 4] and [3, 4, 5]: batch dimensions 2 and 3 do not broadcast"
    );
    assert_eq!(e(&[2, 3, 4], &[3, 5]), "matmul: shapes [2, 3, 4] and [3, 5]: inner dimensions 4 and 3 differ");
    assert_eq!(
        e(&[2, 2, 3, 4], &[4, 5]),
        "matmul: shapes [2, 2, 3, 4] and [4, 5]: operands must be 2-D (a matrix) or 3-D (a batch of matrices)"
    );
    let other = Tape::new();
    let f = other.var(Tensor::zeros(&[4, 5]));
    assert!(v(&[2, 3, 4]).try_matmul(f).unwrap_err().to_string().contains("another tape"));
}
