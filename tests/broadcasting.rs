//! NumPy broadcasting, forward and backward, against a naive reference
//! that walks multi-indices by hand, on random compatible shape pairs.
//! This exercises every fast path of the broadcast kernel and the general
//! odometer walk, for values and for gradients summed back to each input.

use proptest::prelude::*;
use tapegrad::{Tape, Tensor};

/// An output shape and two operand shapes that broadcast to it: each
/// operand drops some leading dimensions and turns some extents into 1.
fn compatible_shapes() -> impl Strategy<Value = (Vec<usize>, Vec<usize>, Vec<usize>)> {
    proptest::collection::vec(1usize..4, 0..5).prop_flat_map(|out| {
        let n = out.len();
        let operand = move |out: Vec<usize>| {
            (0..=n, proptest::collection::vec(any::<bool>(), n)).prop_map(move |(drop, ones)| {
                (drop..n).map(|d| if ones[d] { 1 } else { out[d] }).collect::<Vec<usize>>()
            })
        };
        (Just(out.clone()), operand(out.clone()), operand(out))
    })
}

/// Row-major strides of `shape`.
fn strides(shape: &[usize]) -> Vec<usize> {
    let mut s = vec![1; shape.len()];
    for d in (0..shape.len().saturating_sub(1)).rev() {
        s[d] = s[d + 1] * shape[d + 1];
    }
    s
}

/// The flat index into `input` that output multi-index `idx` reads.
fn source_index(idx: &[usize], input: &[usize]) -> usize {
    let offset = idx.len() - input.len();
    let st = strides(input);
    (0..input.len()).map(|d| if input[d] == 1 { 0 } else { idx[offset + d] * st[d] }).sum()
}

/// Every multi-index of `shape`, in row-major order.
fn multi_indices(shape: &[usize]) -> Vec<Vec<usize>> {
    let n: usize = shape.iter().product();
    let st = strides(shape);
    (0..n).map(|flat| (0..shape.len()).map(|d| (flat / st[d]) % shape[d]).collect()).collect()
}

fn filled(shape: &[usize], salt: f64) -> Tensor {
    let n: usize = shape.iter().product();
    Tensor::from_vec((0..n).map(|i| ((i as f64 + salt) * 0.37).sin()).collect(), shape)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn values_and_gradients_match_a_naive_walk((out, sa, sb) in compatible_shapes()) {
        let (a0, b0) = (filled(&sa, 0.0), filled(&sb, 5.0));
        // Right-aligned, the larger extent wins (the shapes are compatible by
        // construction); both operands may have dropped or shrunk a dimension
        // of `out`, so the result can be smaller than `out`.
        let n = sa.len().max(sb.len());
        let extent = |s: &[usize], d: usize| if d + s.len() >= n { s[d + s.len() - n] } else { 1 };
        let expected_out: Vec<usize> = (0..n).map(|d| extent(&sa, d).max(extent(&sb, d))).collect();
        prop_assert!(expected_out.iter().zip(&out[out.len() - n..]).all(|(e, o)| e == o || *e == 1));
        let c = a0.mul(&b0);
        prop_assert_eq!(c.shape(), expected_out.as_slice());
        // Upstream gradient g, then dA[ia] = sum g[i] * b[ib], dB[ib] = sum g[i] * a[ia].
        let g = filled(&expected_out, 11.0);
        let (mut da, mut db) = (vec![0.0; a0.len()], vec![0.0; b0.len()]);
        for (flat, idx) in multi_indices(&expected_out).iter().enumerate() {
            let (ia, ib) = (source_index(idx, &sa), source_index(idx, &sb));
            prop_assert_eq!(c.data()[flat], a0.data()[ia] * b0.data()[ib]);
            da[ia] += g.data()[flat] * b0.data()[ib];
            db[ib] += g.data()[flat] * a0.data()[ia];
        }
        let tape = Tape::new();
        let (a, b) = (tape.var(&a0), tape.var(&b0));
        let grads = (a * b).backward_with(&g);
        for (got, want) in [(grads.wrt(a), da), (grads.wrt(b), db)] {
            prop_assert!(got.data().iter().zip(&want).all(|(x, y)| (x - y).abs() < 1e-12), "{:?} vs {:?}", got, want);
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(32))]

    #[test]
    fn incompatible_extents_are_an_error_naming_both_shapes(
        shape in proptest::collection::vec(2usize..4, 1..4), pick in any::<usize>()
    ) {
        // Change one extent (all are >= 2) to a different value other than 1.
        let mut other = shape.clone();
        let d = pick % shape.len();
        other[d] += 1;
        let (a, b) = (Tensor::zeros(&shape), Tensor::zeros(&other));
        let msg = a.try_mul(&b).unwrap_err().to_string();
        let head = format!("mul: shapes {shape:?} and {other:?}: cannot broadcast (dimension {d} is");
        prop_assert!(msg.starts_with(&head), "{}", msg);
        let tape = Tape::new();
        prop_assert_eq!(tape.var(&a).try_mul(tape.var(&b)).unwrap_err().to_string(), msg);
    }
}
