//! Tensor behaviour without a tape: broadcasting, constructors, reductions,
//! row selection, seeded randomness, and NumPy-style printing.

use rand::SeedableRng;
use tapegrad::Tensor;

fn t(data: &[f64], shape: &[usize]) -> Tensor {
    Tensor::from_vec(data.to_vec(), shape)
}

#[test]
fn broadcasting_follows_numpy() {
    // (3,1) + (1,4) -> (3,4): a[i] + b[j]
    let a = t(&[0.0, 10.0, 20.0], &[3, 1]);
    let b = t(&[1.0, 2.0, 3.0, 4.0], &[1, 4]);
    let c = &a + &b;
    assert_eq!(c.shape(), &[3, 4]);
    for i in 0..3 {
        for j in 0..4 {
            assert_eq!(c.get(&[i, j]), 10.0 * i as f64 + (j + 1) as f64);
        }
    }
    // A bias [4] over a batch [2, 4], a scalar with a tensor, and 3-D vs (3,1).
    let batch = Tensor::arange(0.0, 8.0, 1.0).reshape(&[2, 4]);
    assert_eq!((&batch - &b.reshape(&[4])).data(), &[-1.0, -1.0, -1.0, -1.0, 3.0, 3.0, 3.0, 3.0]);
    assert_eq!((&Tensor::scalar(2.0) * &batch).data(), batch.scale(2.0).data());
    let cube = Tensor::ones(&[2, 3, 4]);
    let col = t(&[1.0, 2.0, 4.0], &[3, 1]);
    let q = &cube / &col;
    assert_eq!(q.shape(), &[2, 3, 4]);
    assert_eq!((q.get(&[1, 0, 3]), q.get(&[0, 2, 1])), (1.0, 0.25));
    assert_eq!(a.try_zip_with("max", &b, f64::max).unwrap().get(&[0, 3]), 4.0);
}

#[test]
fn arange_lengths() {
    let x = Tensor::arange(0.0, 2.0 * std::f64::consts::PI, 0.1);
    assert_eq!(x.len(), 63);
    assert_eq!(x.data()[62], 6.2); // 0.1 * 62, not an accumulated sum
    assert_eq!(Tensor::arange(0.0, 5.0, 1.0).data(), &[0.0, 1.0, 2.0, 3.0, 4.0]);
    assert_eq!(Tensor::arange(3.0, 0.0, -1.0).data(), &[3.0, 2.0, 1.0]);
    assert!(Tensor::arange(1.0, 1.0, 0.5).is_empty());
}

#[test]
fn axis_reductions_with_and_without_keepdim() {
    let x = Tensor::arange(0.0, 24.0, 1.0).reshape(&[2, 3, 4]);
    let s1 = x.sum_axis(1, false);
    assert_eq!(s1.shape(), &[2, 4]);
    assert_eq!(s1.data()[..4], [12.0, 15.0, 18.0, 21.0]); // 0+4+8, 1+5+9, ...
    assert_eq!(x.sum_axis(1, true).shape(), &[2, 1, 4]);
    assert_eq!(x.sum_axis(1, true).data(), s1.data());
    assert_eq!(x.sum_axis(0, false).data()[0], 12.0);
    assert_eq!(x.sum_axis(2, true).shape(), &[2, 3, 1]);
    assert_eq!(x.mean_axis(2, false).data(), &[1.5, 5.5, 9.5, 13.5, 17.5, 21.5]);
    assert_eq!(x.mean_axis(0, true).shape(), &[1, 3, 4]);
    assert_eq!(x.sum(), 276.0);
    assert_eq!(x.mean(), 11.5);
}

#[test]
fn select_rows_picks_a_mini_batch() {
    let x = Tensor::arange(0.0, 8.0, 1.0).reshape(&[4, 2]);
    let b = x.select_rows(&[3, 0, 3]);
    assert_eq!(b.shape(), &[3, 2]);
    assert_eq!(b.data(), &[6.0, 7.0, 0.0, 1.0, 6.0, 7.0]);
    assert_eq!(x.select_rows(&[]).shape(), &[0, 2]);
}

#[test]
fn matmul_transpose_and_log_softmax() {
    let a = Tensor::arange(1.0, 7.0, 1.0).reshape(&[2, 3]);
    assert_eq!(a.matmul(&a.t()).data(), &[14.0, 32.0, 32.0, 77.0]);
    let y = t(&[1.0, 2.0, 3.0], &[1, 3]).log_softmax();
    let lse = (1f64.exp() + 2f64.exp() + 3f64.exp()).ln();
    assert!(y.data().iter().zip([1.0, 2.0, 3.0]).all(|(v, x)| (v - (x - lse)).abs() < 1e-15));
}

#[test]
fn seeded_randn_is_deterministic() {
    let draw = |seed| Tensor::randn(&[4, 5], &mut rand_chacha::ChaCha12Rng::seed_from_u64(seed));
    assert_eq!(draw(1), draw(1));
    assert_ne!(draw(1), draw(2));
    let big = Tensor::randn(&[10_000], &mut rand_chacha::ChaCha12Rng::seed_from_u64(3));
    let var = big.data().iter().map(|v| v * v).sum::<f64>() / big.len() as f64;
    assert!(big.mean().abs() < 0.05 && (var - 1.0).abs() < 0.05, "mean {} var {var}", big.mean());
}

/// Expected strings are what NumPy 2 prints for `print(np.array(...))`.
#[test]
fn display_matches_numpy() {
    let cases: Vec<(Tensor, &str)> = vec![
        (t(&[0.5, -1.0, 2.0, 0.1, 0.0, 3.0], &[2, 3]), "[[ 0.5 -1.   2. ]\n [ 0.1  0.   3. ]]"),
        (t(&[1.0, 2.0, 3.0], &[3]), "[1. 2. 3.]"),
        (t(&[1.0 / 3.0, -2.0 / 3.0], &[2]), "[ 0.33333333 -0.66666667]"),
        (Tensor::scalar(3.0), "3.0"),
        (Tensor::scalar(-0.25), "-0.25"),
        (Tensor::scalar(1e-5), "1e-05"),
        // Ratio of magnitudes above 1000: scientific, one digit count for all.
        (t(&[1.0, 2000.0], &[2]), "[1.e+00 2.e+03]"),
        (t(&[1.0, 2500.0, -3.0], &[3]), "[ 1.0e+00  2.5e+03 -3.0e+00]"),
        (t(&[f64::NAN, 1.5, f64::NEG_INFINITY], &[3]), "[ nan  1.5 -inf]"),
        (Tensor::zeros(&[2, 0]), "[]"),
        (Tensor::arange(0.0, 8.0, 1.0).reshape(&[2, 2, 2]), "[[[0. 1.]\n  [2. 3.]]\n\n [[4. 5.]\n  [6. 7.]]]"),
        // Rows wrap at 75 characters.
        (
            Tensor::arange(0.0, 2.0, 0.1),
            "[0.  0.1 0.2 0.3 0.4 0.5 0.6 0.7 0.8 0.9 1.  1.1 1.2 1.3 1.4 1.5 1.6 1.7\n 1.8 1.9]",
        ),
        // More than 1000 elements: the edges and "...".
        (Tensor::arange(0.0, 2000.0, 1.0), "[0.000e+00 1.000e+00 2.000e+00 ... 1.997e+03 1.998e+03 1.999e+03]"),
        (Tensor::full(&[1001], 0.5), "[0.5 0.5 0.5 ... 0.5 0.5 0.5]"),
        (
            Tensor::arange(0.0, 1100.0, 1.0).reshape(&[100, 11]).map(|v| v % 7.0),
            "[[0. 1. 2. ... 1. 2. 3.]\n [4. 5. 6. ... 5. 6. 0.]\n [1. 2. 3. ... 2. 3. 4.]\n ...\n \
             [3. 4. 5. ... 4. 5. 6.]\n [0. 1. 2. ... 1. 2. 3.]\n [4. 5. 6. ... 5. 6. 0.]]",
        ),
    ];
    for (tensor, want) in cases {
        assert_eq!(tensor.to_string(), want, "shape {:?}", tensor.shape());
    }
}

mod display_properties {
    use proptest::prelude::*;
    use tapegrad::Tensor;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(48))]

        /// Any shape (abbreviated or not) prints without panicking, with
        /// balanced brackets, rows no wider than NumPy's 75 columns, and
        /// "..." exactly when the tensor is abbreviated.
        #[test]
        fn display_is_well_formed(shape in proptest::collection::vec(1usize..40, 1..4), scale in -3i32..4) {
            let n: usize = shape.iter().product();
            let data = (0..n).map(|i| ((i * 37 % 101) as f64 - 50.0) * 10f64.powi(scale)).collect();
            let t = Tensor::from_vec(data, &shape);
            let s = t.to_string();
            prop_assert_eq!(s.matches('[').count(), s.matches(']').count());
            prop_assert!(s.starts_with(&"[".repeat(shape.len())), "{}", s);
            prop_assert!(s.lines().all(|l| l.len() <= 75), "{}", s);
            let abbreviated = n > 1000 && shape.iter().any(|&d| d > 6);
            prop_assert_eq!(s.contains("..."), abbreviated, "{}", s);
        }
    }
}
