//! The speed work added fast paths to the elementwise ops (no broadcasting,
//! or only leading 1s: `[3]` with `[1, 3]`) and to small matrix products.
//! These tests check each fast path against central differences (and
//! known values), on shapes that take it and shapes that don't.

use rand::SeedableRng;
use tapegrad::check::{GradcheckOptions, gradcheck};
use tapegrad::tensor::{MatRef, gemm};
use tapegrad::{Tape, Tensor, Var};

/// Every binary op, with the divisor kept away from 0.
fn all_binary<'t>(a: Var<'t>, b: Var<'t>) -> Var<'t> {
    let d = b * b + 1.0;
    ((a + b) * (a - b) + a / d + a.maximum(b)).sum()
}

#[test]
fn binary_ops_gradcheck_on_shapes_with_and_without_broadcasting() {
    let mut rng = rand_chacha::ChaCha12Rng::seed_from_u64(11);
    let pairs: [(&[usize], &[usize]); 8] = [
        (&[], &[]),
        (&[3], &[3]),
        (&[3], &[1, 3]),
        (&[1, 3], &[3]),
        (&[1, 1], &[1]),
        (&[1], &[1, 1]),
        (&[2, 3], &[3]),    // real broadcasting: bias over rows
        (&[3, 1], &[1, 3]), // equal element counts, but broadcasts to [3, 3]
    ];
    for (sa, sb) in pairs {
        let a = Tensor::randn(sa, &mut rng);
        let b = Tensor::randn(sb, &mut rng);
        gradcheck(|_, v| all_binary(v[0], v[1]), &[a, b], &GradcheckOptions::default())
            .unwrap_or_else(|e| panic!("shapes {sa:?} and {sb:?}: {e}"));
    }
}

#[test]
fn leading_ones_broadcast_gives_numpy_shapes() {
    let tape = Tape::new();
    let cases: [(&[usize], &[usize], &[usize]); 5] = [
        (&[3], &[1, 3], &[1, 3]),
        (&[1, 3], &[3], &[1, 3]),
        (&[1, 1], &[1], &[1, 1]),
        (&[], &[1], &[1]),
        (&[3, 1], &[1, 3], &[3, 3]),
    ];
    for (sa, sb, out) in cases {
        let a = tape.var(Tensor::ones(sa));
        let b = tape.var(Tensor::ones(sb));
        assert_eq!((a + b).shape().as_slice(), out, "{sa:?} + {sb:?}");
        assert_eq!((a * b).value().data(), vec![1.0; out.iter().product()].as_slice());
    }
}

#[test]
fn small_gemm_matches_a_naive_product_with_transposes_and_beta() {
    let mut rng = rand_chacha::ChaCha12Rng::seed_from_u64(12);
    for (m, k, n) in [(1, 1, 3), (3, 1, 1), (1, 3, 1), (4, 5, 6), (2, 7, 3)] {
        let a = Tensor::randn(&[k, m], &mut rng); // stored transposed, read through .t()
        let b = Tensor::randn(&[k, n], &mut rng);
        let c0 = Tensor::randn(&[m, n], &mut rng);
        let mut c = c0.data().to_vec();
        gemm(0.5, MatRef::row_major(a.data(), k, m).t(), MatRef::row_major(b.data(), k, n), 2.0, &mut c);
        for i in 0..m {
            for j in 0..n {
                let dot: f64 = (0..k).map(|p| a.data()[p * m + i] * b.data()[p * n + j]).sum();
                let want = 0.5 * dot + 2.0 * c0.data()[i * n + j];
                assert!((c[i * n + j] - want).abs() < 1e-12, "({m},{k},{n}) at ({i},{j})");
            }
        }
    }
}

/// Every unary op the backward inlines, plus a few it doesn't (exp, ln,
/// abs, powi through their fn pointers), kept away from kinks.
fn all_unary<'t>(x: Var<'t>) -> Var<'t> {
    let parts = [
        x.sigmoid(),
        x.tanh(),
        (x + 3.0).relu(),
        x.square(),
        x * 0.7,
        x + 1.5,
        x.sin(),
        x.cos(),
        x.exp(),
        (x * x + 1.0).ln(),
        (x + 5.0).abs(),
        x.powi(3),
        -x,
        2.0 - x,
        1.0 / (x * x + 1.0),
    ];
    parts.into_iter().reduce(|a, b| a + b).expect("non-empty").sum()
}

#[test]
fn unary_ops_gradcheck_on_scalars_and_tensors() {
    let mut rng = rand_chacha::ChaCha12Rng::seed_from_u64(13);
    for shape in [&[][..], &[1], &[3], &[2, 3]] {
        let x = Tensor::uniform(shape, -2.0, 2.0, &mut rng);
        gradcheck(|_, v| all_unary(v[0]), &[x], &GradcheckOptions::default())
            .unwrap_or_else(|e| panic!("shape {shape:?}: {e}"));
    }
}

#[test]
fn scalar_lane_sums_both_contributions_of_a_node_used_twice() {
    let tape = Tape::new();
    let x = tape.scalar(3.0);
    let g = (x * x + x / x).backward(); // d/dx (x^2 + 1) = 2x
    assert_eq!(g.wrt(x).item(), 6.0);
}

#[test]
fn scalar_lane_gives_constants_no_gradient_and_mixes_with_tensors() {
    let tape = Tape::new();
    let x = tape.scalar(2.0);
    let c = tape.constant(Tensor::scalar(5.0));
    let v = tape.var(Tensor::from_vec(vec![1.0, 2.0, 3.0], &[3]));
    let y = x * c + (v * x).sum(); // dy/dx = c + sum(v) = 11, dy/dv = x
    assert_eq!(y.shape().as_slice(), &[] as &[usize]);
    let g = y.backward();
    assert_eq!(g.wrt(x).item(), 11.0);
    assert_eq!(g.wrt(c).item(), 0.0);
    assert_eq!(g.wrt(v).data(), &[2.0, 2.0, 2.0]);
    assert!(!(c * c).requires_grad());
}

#[test]
#[should_panic(expected = "belongs to another tape")]
fn scalar_lane_still_catches_a_var_from_another_tape() {
    let (t1, t2) = (Tape::new(), Tape::new());
    let _ = t1.scalar(1.0) + t2.scalar(2.0);
}

/// Gradients of a few differently laid-out programs (constants first or
/// last, a constant output, scalars and tensors), as flat vectors.
fn program(tape: &Tape, which: usize) -> Vec<f64> {
    let data = Tensor::from_vec(vec![0.5, -1.0, 2.0, 0.25], &[2, 2]);
    match which {
        0 => {
            let c = tape.constant(&data); // constant first: its adjoints are never written
            let w = tape.var(Tensor::from_vec(vec![1.0, 2.0], &[2, 1]));
            let g = c.matmul(w).square().sum().backward();
            [g.wrt(w).data(), g.wrt(c).data()].concat()
        }
        1 => {
            let w = tape.var(&data); // a var where the constant was
            let c = tape.constant(Tensor::ones(&[2, 2]));
            let g = (w * c + w * w).sum().backward();
            [g.wrt(w).data(), g.wrt(c).data()].concat()
        }
        2 => {
            let c = tape.constant(&data); // a constant output: the seed lands in a constant
            let g = c.sum().backward();
            [g.wrt(c).data(), &[g.len() as f64]].concat()
        }
        _ => {
            let a = tape.scalar(0.7);
            let b = tape.scalar(-1.3);
            let g = (a * b + a.sin() * b.cos()).backward();
            vec![g.wrt(a).item(), g.wrt(b).item()]
        }
    }
}

#[test]
fn a_reused_adjoint_buffer_gives_the_gradients_of_a_fresh_tape() {
    let fresh: Vec<Vec<f64>> = (0..4).map(|w| program(&Tape::new(), w)).collect();
    let mut tape = Tape::new();
    for which in [0, 1, 0, 2, 1, 3, 2, 0, 3, 1, 1, 2] {
        tape.clear();
        assert_eq!(program(&tape, which), fresh[which], "program {which} on a reused tape");
    }
}

#[test]
fn two_live_gradients_do_not_share_a_buffer() {
    let tape = Tape::new();
    let x = tape.var(Tensor::from_vec(vec![1.0, 2.0], &[2]));
    let g1 = (x * 3.0).sum().backward();
    let g2 = (x * x).sum().backward();
    assert_eq!(g1.wrt(x).data(), &[3.0, 3.0]);
    assert_eq!(g2.wrt(x).data(), &[2.0, 4.0]);
    drop(g1);
    drop(g2);
    let g3 = x.sum().backward(); // reuses a buffer both sweeps wrote
    assert_eq!(g3.wrt(x).data(), &[1.0, 1.0]);
}
