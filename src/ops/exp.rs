//! `exp` and `ln`, elementwise: `d/dx e^x = e^x`, `d/dx ln x = 1/x`.

use super::elementwise::{UnaryFn, unary};
use crate::tape::Var;

/// The `exp` rule: forward and local derivative side by side.
pub(crate) struct Exp;

impl UnaryFn for Exp {
    const NAME: &'static str = "exp";
    const TEXT: &'static str = "exp(x)";
    unary_fns! {
        f(x, _) = x.exp();
        df(_, y, _) = y;
    }
    fn df_var<'t>(_: Var<'t>, y: Var<'t>, _: f64) -> Option<Var<'t>> {
        Some(y)
    }
}

/// The `ln` rule: forward and local derivative side by side.
pub(crate) struct Ln;

impl UnaryFn for Ln {
    const NAME: &'static str = "ln";
    const TEXT: &'static str = "1/x";
    unary_fns! {
        f(x, _) = x.ln();
        df(x, _, _) = 1.0 / x;
    }
    fn df_var<'t>(x: Var<'t>, _: Var<'t>, _: f64) -> Option<Var<'t>> {
        Some(1.0 / x)
    }
}

impl<'t> Var<'t> {
    /// `e^x`, elementwise.
    ///
    /// ```
    /// let tape = tapegrad::Tape::new();
    /// let x = tape.scalar(1.0);
    /// assert_eq!(x.exp().backward().wrt(x).item(), 1f64.exp());
    /// ```
    pub fn exp(self) -> Var<'t> {
        unary::<Exp>(self, 0.0)
    }

    /// Natural logarithm, elementwise.
    ///
    /// ```
    /// let tape = tapegrad::Tape::new();
    /// let x = tape.scalar(4.0);
    /// assert_eq!(x.ln().backward().wrt(x).item(), 0.25);
    /// ```
    pub fn ln(self) -> Var<'t> {
        unary::<Ln>(self, 0.0)
    }
}

use super::registry::OpCase;

/// This file's cases in the op registry (see [`super::registry`]).
pub(crate) const CASES: &[OpCase] =
    &[OpCase::unary("exp", |v| v[0].exp()), OpCase::unary("ln", |v| v[0].ln()).domain(0.2, 3.0)];

#[cfg(test)]
mod tests {
    use super::super::testing::unary;
    #[test]
    fn exp_and_ln_match_their_closed_forms() {
        unary(|v| v.exp(), &[-2.0, 0.0, 0.5, 3.0], f64::exp, f64::exp, 1e-15);
        unary(|v| v.ln(), &[0.1, 1.0, 2.5, 100.0], f64::ln, |x| 1.0 / x, 1e-15);
    }
}
