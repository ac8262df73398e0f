//! `sin` and `cos`, elementwise: `d/dx sin x = cos x`, `d/dx cos x = -sin x`.

use super::elementwise::{UnaryFn, unary};
use crate::tape::Var;

/// The `sin` rule: forward and local derivative side by side.
pub(crate) struct Sin;

impl UnaryFn for Sin {
    const NAME: &'static str = "sin";
    const TEXT: &'static str = "cos(x)";
    unary_fns! {
        f(x, _) = x.sin();
        df(x, _, _) = x.cos();
    }
    fn df_var<'t>(x: Var<'t>, _: Var<'t>, _: f64) -> Option<Var<'t>> {
        Some(x.cos())
    }
}

/// The `cos` rule: forward and local derivative side by side.
pub(crate) struct Cos;

impl UnaryFn for Cos {
    const NAME: &'static str = "cos";
    const TEXT: &'static str = "-sin(x)";
    unary_fns! {
        f(x, _) = x.cos();
        df(x, _, _) = -x.sin();
    }
    fn df_var<'t>(x: Var<'t>, _: Var<'t>, _: f64) -> Option<Var<'t>> {
        Some(-x.sin())
    }
}

impl<'t> Var<'t> {
    /// Sine, elementwise.
    ///
    /// ```
    /// let tape = tapegrad::Tape::new();
    /// let x = tape.scalar(0.0);
    /// assert_eq!(x.sin().backward().wrt(x).item(), 1.0);
    /// ```
    pub fn sin(self) -> Var<'t> {
        unary::<Sin>(self, 0.0)
    }

    /// Cosine, elementwise.
    ///
    /// ```
    /// let tape = tapegrad::Tape::new();
    /// let x = tape.scalar(0.0);
    /// assert_eq!(x.cos().backward().wrt(x).item(), 0.0);
    /// ```
    pub fn cos(self) -> Var<'t> {
        unary::<Cos>(self, 0.0)
    }
}

use super::registry::OpCase;

/// This file's cases in the op registry (see [`super::registry`]).
pub(crate) const CASES: &[OpCase] = &[OpCase::unary("sin", |v| v[0].sin()), OpCase::unary("cos", |v| v[0].cos())];

#[cfg(test)]
mod tests {
    use super::super::testing::unary;
    #[test]
    fn sin_and_cos_match_their_closed_forms() {
        let xs = [-2.0, 0.0, 0.5, std::f64::consts::PI];
        unary(|v| v.sin(), &xs, f64::sin, f64::cos, 0.0);
        unary(|v| v.cos(), &xs, f64::cos, |x| -x.sin(), 0.0);
    }
}
