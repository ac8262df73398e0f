//! The notes' chapter 2: gradient descent with numerical gradients, against
//! the closed form and the notes' printed numbers, and with tape gradients.

use tapegrad::notes::gd::{gradient_descent, gradient_descent_tape};

fn f(x: &[f64]) -> f64 {
    x[0] * x[0] + x[1] * x[1]
}

#[test]
fn matches_the_closed_form_x0_times_one_minus_2lr_to_the_k() {
    // grad f = 2x, so x_{k+1} = x_k - lr 2 x_k = (1 - 2 lr) x_k
    for (lr, steps) in [(0.1, 100), (0.01, 250), (0.3, 40), (0.45, 7)] {
        let x = gradient_descent(f, &[-3.0, 4.0], lr, steps);
        let factor = (1.0f64 - 2.0 * lr).powi(steps as i32);
        for (got, x0) in x.iter().zip([-3.0, 4.0]) {
            let want = x0 * factor;
            // central differences of x^2 are exact up to rounding, which is
            // about eps * h absolute per step (it matters only once x is tiny)
            assert!((got - want).abs() <= 1e-9 * want.abs() + 1e-18, "lr {lr}, {steps} steps: {got:e} vs {want:e}");
        }
    }
}

#[test]
fn reproduces_the_notes_printed_result() {
    // the notes print [-6.11110793e-10, 8.14814391e-10]
    let x = gradient_descent(f, &[-3.0, 4.0], 0.1, 100);
    assert!((x[0] - -6.11110793e-10).abs() < 1e-17, "{:e}", x[0]);
    assert!((x[1] - 8.14814391e-10).abs() < 1e-17, "{:e}", x[1]);
}

#[test]
fn tape_gradients_agree_with_numerical_ones() {
    let numeric = gradient_descent(f, &[-3.0, 4.0], 0.1, 100);
    let tape = gradient_descent_tape(|x| x.square().sum(), &[-3.0, 4.0], 0.1, 100);
    for (a, b) in numeric.iter().zip(&tape) {
        assert!((a - b).abs() <= 1e-9 * b.abs(), "{a:e} vs {b:e}");
    }
    // the tape's gradient is exact: only the rounding of 100 updates remains
    assert!((tape[0] - -3.0 * 0.8f64.powi(100)).abs() <= 1e-13 * tape[0].abs());
}

#[test]
fn tape_and_numerical_descent_agree_on_a_non_quadratic() {
    // f = (1 - a)^2 + 5 (b - a^2)^2, a gentle Rosenbrock
    let plain = |x: &[f64]| (1.0 - x[0]).powi(2) + 5.0 * (x[1] - x[0] * x[0]).powi(2);
    let numeric = gradient_descent(plain, &[-0.5, 0.5], 0.02, 300);
    let tape = gradient_descent_tape(
        |x| {
            // pick the coordinates with one-hot masks: a = x0, b = x1
            let a = (x * x.tape().constant_from_slice(&[1.0, 0.0], &[2])).sum();
            let b = (x * x.tape().constant_from_slice(&[0.0, 1.0], &[2])).sum();
            (1.0 - a).square() + 5.0 * (b - a.square()).square()
        },
        &[-0.5, 0.5],
        0.02,
        300,
    );
    let start_gap = ((-0.5f64 - 1.0).powi(2) + (0.5f64 - 1.0).powi(2)).sqrt();
    let end_gap = ((numeric[0] - 1.0).powi(2) + (numeric[1] - 1.0).powi(2)).sqrt();
    assert!(end_gap < start_gap / 2.0, "descent made progress");
    // h = 1e-4 leaves a truncation error of about h^2 / 6 * f''' per
    // gradient, which adds up over 300 steps to ~1e-7
    for (a, b) in numeric.iter().zip(&tape) {
        assert!((a - b).abs() < 1e-6, "{a} vs {b}");
    }
}
