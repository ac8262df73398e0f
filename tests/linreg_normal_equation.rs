//! The normal equation against known exact solutions, and its errors.

use rand::SeedableRng;
use rand_chacha::ChaCha12Rng;
use tapegrad::Tensor;
use tapegrad::notes::linreg::{LinRegError, design_matrix, normal_equation, ridge};

#[test]
fn three_points_by_hand() {
    // x = 0, 1, 2; y = 1, 2, 4. mean x = 1, mean y = 7/3;
    // slope = sum (x - 1)(y - 7/3) / sum (x - 1)^2 = (4/3 + 0 + 5/3) / 2 = 3/2
    // intercept = 7/3 - 3/2 = 5/6
    let x = design_matrix(&Tensor::from_vec(vec![0.0, 1.0, 2.0], &[3])).unwrap();
    let theta = normal_equation(&x, &Tensor::from_vec(vec![1.0, 2.0, 4.0], &[3])).unwrap();
    assert!((theta[0] - 5.0 / 6.0).abs() < 1e-14 && (theta[1] - 1.5).abs() < 1e-14, "{theta:?}");
}

#[test]
fn recovers_the_generating_theta_of_noise_free_data() {
    let mut rng = ChaCha12Rng::seed_from_u64(3);
    let features = Tensor::randn(&[50, 4], &mut rng);
    let x = design_matrix(&features).unwrap();
    let truth = [1.5, -2.0, 0.5, 3.0, -0.25];
    let y = x.matmul(&Tensor::from_vec(truth.to_vec(), &[5, 1]));
    let theta = normal_equation(&x, &y).unwrap();
    for (t, w) in theta.iter().zip(truth) {
        assert!((t - w).abs() < 1e-12, "{theta:?}");
    }
}

#[test]
fn residual_of_noisy_data_is_orthogonal_to_every_column() {
    // the least-squares optimality condition X^T (y - X theta) = 0
    let mut rng = ChaCha12Rng::seed_from_u64(9);
    let x = design_matrix(&Tensor::randn(&[40, 3], &mut rng)).unwrap();
    let y = Tensor::randn(&[40, 1], &mut rng);
    let theta = normal_equation(&x, &y).unwrap();
    let residual = &y - &x.matmul(&Tensor::from_vec(theta, &[4, 1]));
    let xtr = x.t().matmul(&residual);
    assert!(xtr.data().iter().all(|v| v.abs() < 1e-12), "{xtr}");
}

#[test]
fn dependent_columns_are_a_clear_error_not_nan() {
    // column 2 = 2 * column 1
    let mut rng = ChaCha12Rng::seed_from_u64(1);
    let a = Tensor::randn(&[10, 1], &mut rng);
    let features: Vec<f64> = a.data().iter().flat_map(|&v| [v, 2.0 * v]).collect();
    let x = design_matrix(&Tensor::from_vec(features, &[10, 2])).unwrap();
    let e = normal_equation(&x, &Tensor::ones(&[10])).unwrap_err();
    assert!(matches!(e, LinRegError::RankDeficient { column: 2, rows: 10, cols: 3, .. }), "{e:?}");
    assert!(e.to_string().starts_with("normal equation: X^T X is singular (X is rank-deficient, 10 x 3): column 2"));
    // an L2 penalty makes it solvable
    assert!(ridge(&x, &Tensor::ones(&[10]), 0.1).unwrap().iter().all(|v| v.is_finite()));
}

#[test]
fn fewer_samples_than_columns_is_rank_deficient() {
    let x = design_matrix(&Tensor::from_vec(vec![1.0, 2.0, 3.0, 4.0], &[2, 2])).unwrap();
    let e = normal_equation(&x, &Tensor::ones(&[2])).unwrap_err();
    assert!(e.to_string().contains("fewer samples than columns"), "{e}");
}

#[test]
fn bad_shapes_are_named() {
    let e = normal_equation(&Tensor::ones(&[3, 2]), &Tensor::ones(&[4])).unwrap_err();
    assert_eq!(e.to_string(), "normal_equation: X has shape [3, 2] and y [4]; expected [n, m] and [n]");
    let e = design_matrix(&Tensor::ones(&[2, 2, 2])).unwrap_err();
    assert_eq!(e.to_string(), "design_matrix: x has shape [2, 2, 2]; expected [n] or [n, d]");
}

#[test]
fn ridge_solution_zeroes_the_penalised_gradient() {
    // d/dtheta [ sum((X theta - y)^2) / (2N) + lambda/2 sum_{j>=1} theta_j^2 ]
    //   = X^T (X theta - y) / N + lambda * [0, theta_1, ...] = 0
    let mut rng = ChaCha12Rng::seed_from_u64(5);
    let x = design_matrix(&Tensor::randn(&[30, 3], &mut rng)).unwrap();
    let y = Tensor::randn(&[30, 1], &mut rng);
    let lambda = 0.7;
    let theta = ridge(&x, &y, lambda).unwrap();
    let r = &x.matmul(&Tensor::from_vec(theta.clone(), &[4, 1])) - &y;
    let g = x.t().matmul(&r).scale(1.0 / 30.0);
    for (j, (&gj, &tj)) in g.data().iter().zip(&theta).enumerate() {
        let penalty = if j == 0 { 0.0 } else { lambda * tj };
        assert!((gj + penalty).abs() < 1e-13, "coordinate {j}");
    }
}
