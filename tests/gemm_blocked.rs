//! The packed GEMM against a plain triple loop, on integer-valued matrices
//! whose products and sums are exact in f64: the two must agree bit for bit,
//! whatever the blocking and summation order. The shapes straddle every
//! block edge (MR = 6, NR = 8, KC = 256, MC = 72, NC = 1024), and the views
//! include transposes and a strided sub-matrix.

use tapegrad::tensor::{GemmWorkspace, MatRef, gemm, gemm_with};

/// Small integers from a fixed sequence (-4..=4), so every product and sum
/// of at most a few thousand of them is an exactly representable integer.
fn ints(len: usize, seed: usize) -> Vec<f64> {
    (0..len).map(|i| ((i * 7 + seed * 13 + i / 5) % 9) as f64 - 4.0).collect()
}

/// `alpha * a b + beta * c` by the definition, element by element.
fn reference(alpha: f64, a: MatRef<'_>, b: MatRef<'_>, beta: f64, c: &[f64]) -> Vec<f64> {
    let (m, k, n) = (a.rows, a.cols, b.cols);
    let mut out = vec![0.0; m * n];
    for i in 0..m {
        for j in 0..n {
            let dot: f64 = (0..k).map(|p| a.get(i, p) * b.get(p, j)).sum();
            out[i * n + j] = if beta == 0.0 { alpha * dot } else { alpha * dot + beta * c[i * n + j] };
        }
    }
    out
}

fn check(m: usize, k: usize, n: usize, transpose_a: bool, transpose_b: bool, ws: &mut GemmWorkspace) {
    let (ad, bd) = (ints(m * k, m + n), ints(k * n, k));
    let a = if transpose_a { MatRef::row_major(&ad, k, m).t() } else { MatRef::row_major(&ad, m, k) };
    let b = if transpose_b { MatRef::row_major(&bd, n, k).t() } else { MatRef::row_major(&bd, k, n) };
    let c0 = ints(m * n, 3);
    for (alpha, beta) in [(1.0, 0.0), (2.0, 1.0), (-0.5, 3.0)] {
        let want = reference(alpha, a, b, beta, &c0);
        let mut got = c0.clone();
        gemm_with(ws, alpha, a, b, beta, &mut got);
        assert_eq!(got, want, "{m}x{k} by {k}x{n} (a^T {transpose_a}, b^T {transpose_b}), alpha {alpha}, beta {beta}");
        let mut got = c0.clone();
        gemm(alpha, a, b, beta, &mut got);
        assert_eq!(got, want, "gemm's thread workspace, {m}x{k} by {k}x{n}");
    }
}

#[test]
fn blocked_gemm_equals_the_definition_across_block_edges() {
    let mut ws = GemmWorkspace::new();
    for (m, k, n) in
        [(17, 17, 17), (64, 784, 128), (65, 257, 9), (3, 600, 50), (130, 40, 33), (5, 7, 1030), (1, 300, 40)]
    {
        for (ta, tb) in [(false, false), (true, false), (false, true), (true, true)] {
            check(m, k, n, ta, tb, &mut ws);
        }
    }
}

#[test]
fn beta_zero_ignores_nan_in_the_output_and_empty_sums_scale_it() {
    let a = ints(40 * 30, 1);
    let b = ints(30 * 20, 2);
    let mut c = vec![f64::NAN; 40 * 20];
    gemm(1.0, MatRef::row_major(&a, 40, 30), MatRef::row_major(&b, 30, 20), 0.0, &mut c);
    assert!(c.iter().all(|x| x.is_finite()), "beta = 0 must overwrite, not scale, the old contents");

    // k = 0 with a large m x n: the empty sum is 0, so C becomes beta C.
    let mut c = vec![2.0; 100 * 100];
    gemm(1.0, MatRef::row_major(&[], 100, 0), MatRef::row_major(&[], 0, 100), 0.5, &mut c);
    assert!(c.iter().all(|&x| x == 1.0));
}

#[test]
fn a_strided_sub_matrix_is_read_in_place() {
    // The left 50x70 corner of a 50x90 row-major matrix (row stride 90).
    let big = ints(50 * 90, 4);
    let a = MatRef { data: &big, rows: 50, cols: 70, row_stride: 90, col_stride: 1 };
    let bd = ints(70 * 30, 5);
    let b = MatRef::row_major(&bd, 70, 30);
    let mut c = vec![0.0; 50 * 30];
    gemm(1.0, a, b, 0.0, &mut c);
    assert_eq!(c, reference(1.0, a, b, 0.0, &c));
}

#[test]
fn the_workspace_stops_growing_once_it_fits() {
    let mut ws = GemmWorkspace::new();
    let (a, b) = (ints(64 * 784, 1), ints(784 * 128, 2));
    let mut c = vec![0.0; 64 * 128];
    let product = |ws: &mut GemmWorkspace, c: &mut [f64]| {
        gemm_with(ws, 1.0, MatRef::row_major(&a, 64, 784), MatRef::row_major(&b, 784, 128), 0.0, c)
    };
    product(&mut ws, &mut c);
    let size = ws.capacity();
    // A's 64 rows in 11 panels of 6 rows, and one 256 x 128 block of B.
    assert_eq!(size, 66 * 256 + 256 * 128);
    product(&mut ws, &mut c);
    assert_eq!(ws.capacity(), size);
}

#[test]
#[should_panic(expected = "gemm: left operand view (50x70) runs past its 3500 elements")]
fn a_view_past_its_slice_is_refused_before_the_kernel() {
    let a = vec![1.0; 50 * 70];
    let a = MatRef { data: &a, rows: 50, cols: 70, row_stride: 71, col_stride: 1 };
    let b = vec![1.0; 70 * 30];
    gemm(1.0, a, MatRef::row_major(&b, 70, 30), 0.0, &mut vec![0.0; 50 * 30]);
}

/// The same bits on every CPU: the vectorised kernel (AVX2 where the CPU
/// has it) and the portable one multiply, then add, in the same order, with
/// no fused multiply-add on either, so on non-integer data, where every
/// rounding shows, they agree bit for bit; so does the plain loop of tiny
/// products with the blocked path wherever both sum in the same order
/// (one KC block, beta 0).
#[test]
fn the_vectorised_and_portable_kernels_agree_bit_for_bit() {
    use rand::SeedableRng;
    use tapegrad::tensor::gemm_portable;
    let mut rng = rand_chacha::ChaCha12Rng::seed_from_u64(11);
    for (m, k, n) in [(17, 17, 17), (65, 257, 9), (64, 784, 128), (7, 300, 1030)] {
        let a = tapegrad::Tensor::randn(&[m, k], &mut rng);
        let b = tapegrad::Tensor::randn(&[k, n], &mut rng);
        let c0 = tapegrad::Tensor::randn(&[m, n], &mut rng);
        for (alpha, beta) in [(1.0, 0.0), (0.3, 1.7)] {
            let (am, bm) = (MatRef::row_major(a.data(), m, k), MatRef::row_major(b.data(), k, n));
            let (mut fast, mut portable) = (c0.data().to_vec(), c0.data().to_vec());
            gemm(alpha, am, bm, beta, &mut fast);
            gemm_portable(alpha, am, bm, beta, &mut portable);
            let differ = |x: &[f64], y: &[f64]| x.iter().zip(y).position(|(x, y)| x.to_bits() != y.to_bits());
            let at = differ(&fast, &portable);
            assert_eq!(at, None, "{m}x{k} by {k}x{n}, alpha {alpha}, beta {beta}: element {at:?} differs");
            // An independent truth for one block deep: each element summed
            // in k order, a multiply then an add, scaled by alpha.
            if k <= 256 && beta == 0.0 {
                let want: Vec<f64> = (0..m * n)
                    .map(|e| alpha * (0..k).fold(0.0, |s, p| s + a.data()[e / n * k + p] * b.data()[p * n + e % n]))
                    .collect();
                assert_eq!(differ(&fast, &want), None, "{m}x{k} by {k}x{n}: the k-order sum");
            }
        }
    }
}
