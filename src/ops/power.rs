//! Powers, elementwise: `sqrt`, `square`, `powi`, `powf`.

use super::elementwise::{UnaryFn, unary};
use crate::tape::Var;

/// The `sqrt` rule: forward and local derivative side by side.
pub(crate) struct Sqrt;

impl UnaryFn for Sqrt {
    const NAME: &'static str = "sqrt";
    const TEXT: &'static str = "1/(2 sqrt(x))";
    unary_fns! {
        f(x, _) = x.sqrt();
        df(_, y, _) = 0.5 / y;
    }
    fn df_var<'t>(_: Var<'t>, y: Var<'t>, _: f64) -> Option<Var<'t>> {
        Some(0.5 / y)
    }
}

/// The `square` rule: forward and local derivative side by side.
pub(crate) struct Square;

impl UnaryFn for Square {
    const NAME: &'static str = "square";
    const TEXT: &'static str = "2x";
    unary_fns! {
        f(x, _) = x * x;
        df(x, _, _) = 2.0 * x;
    }
    fn df_var<'t>(x: Var<'t>, _: Var<'t>, _: f64) -> Option<Var<'t>> {
        Some(2.0 * x)
    }
}

/// The `powi` rule: forward and local derivative side by side.
///
/// Edges: `n = 0` has derivative 0 everywhere, also at `x = 0` (where
/// `0 * 0^-1` would be NaN); for `n = i32::MIN`, `n - 1` does not fit an
/// `i32`, so `x^(n-1)` is taken as a real power (exact: the exponent is a
/// whole number, so negative `x` keeps its sign rule).
pub(crate) struct Powi;

impl UnaryFn for Powi {
    const NAME: &'static str = "powi";
    const TEXT: &'static str = "n x^(n-1)";
    unary_fns! {
        f(x, p) = x.powi(p as i32);
        // `p as i32 - 1` would overflow at `i32::MIN`: a real power there.
        df(x, _, p) = if p == 0.0 {
            0.0
        } else if p as i32 != i32::MIN {
            p * x.powi(p as i32 - 1)
        } else {
            p * x.powf(p - 1.0)
        };
    }
    /// The edges of `df`, taken the same way.
    fn df_var<'t>(x: Var<'t>, _: Var<'t>, p: f64) -> Option<Var<'t>> {
        Some(match (p as i32).checked_sub(1) {
            _ if p == 0.0 => zero_derivative(x),
            Some(m) => p * x.powi(m),
            None => p * x.powf(p - 1.0),
        })
    }
}

/// The `powf` rule: forward and local derivative side by side.
///
/// Edge: `p = 0` has derivative 0 everywhere, also at `x = 0` (where
/// `0 * 0^-1` would be NaN), as for `powi`.
pub(crate) struct Powf;

impl UnaryFn for Powf {
    const NAME: &'static str = "powf";
    const TEXT: &'static str = "p x^(p-1)";
    unary_fns! {
        f(x, p) = x.powf(p);
        df(x, _, p) = if p == 0.0 { 0.0 } else { p * x.powf(p - 1.0) };
    }
    /// The edge of `df`, taken the same way.
    fn df_var<'t>(x: Var<'t>, _: Var<'t>, p: f64) -> Option<Var<'t>> {
        Some(if p == 0.0 { zero_derivative(x) } else { p * x.powf(p - 1.0) })
    }
}

/// The derivative of `x^0`, a constant: zeros (not `0 * x^-1`, NaN at
/// `x = 0` and at infinite `x`). Every higher derivative through `x^k`
/// reaches this at its k-th step, so `d^k/dx^k x^k` at 0 is `k!`, not NaN.
fn zero_derivative(x: Var<'_>) -> Var<'_> {
    x.tape().constant(crate::Tensor::zeros(&x.shape()))
}

impl<'t> Var<'t> {
    /// Square root, elementwise (derivative +inf at 0, as PyTorch).
    ///
    /// ```
    /// let tape = tapegrad::Tape::new();
    /// let x = tape.scalar(4.0);
    /// assert_eq!(x.sqrt().backward().wrt(x).item(), 0.25);
    /// ```
    pub fn sqrt(self) -> Var<'t> {
        unary::<Sqrt>(self, 0.0)
    }

    /// `x^2`, elementwise.
    ///
    /// ```
    /// let tape = tapegrad::Tape::new();
    /// let x = tape.scalar(3.0);
    /// assert_eq!(x.square().backward().wrt(x).item(), 6.0);
    /// ```
    pub fn square(self) -> Var<'t> {
        unary::<Square>(self, 0.0)
    }

    /// `x^n` for an integer exponent, elementwise.
    ///
    /// ```
    /// let tape = tapegrad::Tape::new();
    /// let x = tape.scalar(2.0);
    /// assert_eq!(x.powi(3).backward().wrt(x).item(), 12.0);
    /// ```
    pub fn powi(self, n: i32) -> Var<'t> {
        unary::<Powi>(self, n as f64)
    }

    /// `x^p` for a real exponent, elementwise.
    ///
    /// ```
    /// let tape = tapegrad::Tape::new();
    /// let x = tape.scalar(4.0);
    /// assert_eq!(x.powf(0.5).backward().wrt(x).item(), 0.25);
    /// ```
    pub fn powf(self, p: f64) -> Var<'t> {
        unary::<Powf>(self, p)
    }
}

use super::registry::OpCase;

/// This file's cases in the op registry (see [`super::registry`]).
pub(crate) const CASES: &[OpCase] = &[
    OpCase::unary("sqrt", |v| v[0].sqrt()).domain(0.2, 3.0),
    OpCase::unary("square", |v| v[0].square()),
    OpCase::unary("powi", |v| v[0].powi(3)),
    OpCase::unary("powf", |v| v[0].powf(1.7)).domain(0.2, 3.0),
];

#[cfg(test)]
mod tests {
    use super::super::testing::unary;
    #[test]
    fn powers_match_their_closed_forms() {
        unary(|v| v.sqrt(), &[0.25, 1.0, 9.0], f64::sqrt, |x| 0.5 / x.sqrt(), 1e-15);
        unary(|v| v.square(), &[-3.0, 0.0, 1.5], |x| x * x, |x| 2.0 * x, 0.0);
        unary(|v| v.powi(3), &[-2.0, 0.5, 3.0], |x| x * x * x, |x| 3.0 * x * x, 1e-15);
        unary(|v| v.powi(0), &[-2.0, 0.0, 3.0], |_| 1.0, |_| 0.0, 0.0);
        unary(|v| v.powf(1.5), &[0.5, 2.0, 4.0], |x| x.powf(1.5), |x| 1.5 * x.sqrt(), 1e-15);
        unary(|v| v.powf(0.0), &[-2.0, 0.0, 3.0], |_| 1.0, |_| 0.0, 0.0); // 0 at 0, not 0 * inf
    }

    #[test]
    fn powi_of_i32_min_has_a_finite_gradient_at_one() {
        // d/dx x^n at 1 is n, also when n - 1 does not fit an i32.
        let tape = crate::Tape::new();
        let x = tape.scalar(1.0);
        assert_eq!(x.powi(i32::MIN).backward().wrt(x).item(), i32::MIN as f64);
        // The differentiable backward takes the same edge (it once computed `n - 1` in i32).
        assert_eq!(x.powi(i32::MIN).grad_graph().unwrap().wrt(x).item(), i32::MIN as f64);
    }

    /// The k-th derivative of `x^p` at 0, by repeated `grad_graph`, against
    /// the closed form `p (p-1) .. (p-k+1) 0^(p-k)`: `k!` when `k = p`, 0
    /// when `k > p` (the derivative of a constant), not `0 * 0^-1 = NaN`.
    #[test]
    fn derivatives_of_powers_at_zero_up_to_the_fourth() {
        let tape = crate::Tape::new();
        let x = tape.scalar(0.0);
        for p in 0..4 {
            for (name, y) in [("powf", x.powf(p as f64)), ("powi", x.powi(p))] {
                let mut d = y;
                for k in 1..=4 {
                    d = d.grad_graph().unwrap().wrt(x);
                    let want = match k.cmp(&p) {
                        std::cmp::Ordering::Equal => (1..=k).product::<i32>() as f64,
                        _ => 0.0,
                    };
                    assert_eq!(d.item(), want, "{name}({p}): derivative {k} at 0");
                }
            }
        }
    }
}
