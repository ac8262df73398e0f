//! Gradient descent on a plain function (the notes' chapter 2): with
//! numerical gradients, as the notes do, and with the tape's gradients.

use crate::check::numerical_gradient;
use crate::tape::{Tape, Var};

/// The notes' central-difference step, `h = 1e-4`.
///
/// ```
/// use tapegrad::{check::numerical_gradient, notes::gd::NOTES_H};
/// assert_eq!(NOTES_H, 1e-4);
/// let g = numerical_gradient(|x| x[0] * x[0], &[3.0], NOTES_H); // d(x^2)/dx = 6 at 3
/// assert!((g[0] - 6.0).abs() < 1e-9);
/// ```
pub const NOTES_H: f64 = 1e-4;

/// The notes' `gradient_descent(f, init_x, lr, step_num)`: `x -= lr *
/// grad`, `steps` times, with the gradient from
/// [`numerical_gradient`] (central differences, `h = 1e-4`).
///
/// The notes' worked example, `f = x0^2 + x1^2` from `(-3, 4)` with
/// `lr = 0.1` for 100 steps, ends near `[-6.11e-10, 8.15e-10]`: each step
/// multiplies `x` by `1 - 2 lr = 0.8`.
///
/// ```
/// use tapegrad::notes::gd::gradient_descent;
/// let x = gradient_descent(|x| x[0] * x[0] + x[1] * x[1], &[-3.0, 4.0], 0.1, 100);
/// assert!((x[0] + 6.111e-10).abs() < 1e-13 && (x[1] - 8.148e-10).abs() < 1e-13);
/// ```
pub fn gradient_descent(mut f: impl FnMut(&[f64]) -> f64, init: &[f64], lr: f64, steps: usize) -> Vec<f64> {
    let mut x = init.to_vec();
    for _ in 0..steps {
        let grad = numerical_gradient(&mut f, &x, NOTES_H);
        x.iter_mut().zip(&grad).for_each(|(xi, gi)| *xi -= lr * gi);
    }
    x
}

/// The same descent with exact gradients from the tape: `f` builds the
/// scalar from a Var holding `x` (shape `[x.len()]`). One tape is reused
/// across steps (cleared each step), so memory does not grow.
///
/// ```
/// use tapegrad::notes::gd::gradient_descent_tape;
/// let x = gradient_descent_tape(|x| x.square().sum(), &[-3.0, 4.0], 0.1, 100);
/// assert!((x[0] - (-3.0 * 0.8f64.powi(100))).abs() < 1e-20);
/// ```
pub fn gradient_descent_tape(f: impl for<'t> Fn(Var<'t>) -> Var<'t>, init: &[f64], lr: f64, steps: usize) -> Vec<f64> {
    let mut x = init.to_vec();
    let mut tape = Tape::new();
    for _ in 0..steps {
        tape.clear();
        let xv = tape.var_from_slice(&x, &[x.len()]);
        let grads = f(xv).backward();
        grads.with_grad(xv, |g| {
            if let Some(g) = g {
                x.iter_mut().zip(g).for_each(|(xi, gi)| *xi -= lr * gi);
            }
        });
    }
    x
}
