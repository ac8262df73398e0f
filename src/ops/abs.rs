//! `|x|`, elementwise; `d/dx = sign x`, and 0 at 0 (the subgradient PyTorch picks).

use super::elementwise::{UnaryFn, unary};
use crate::tape::Var;
use crate::tensor::sign;

/// The `abs` rule: forward and local derivative side by side.
pub(crate) struct Abs;

impl UnaryFn for Abs {
    const NAME: &'static str = "abs";
    const TEXT: &'static str = "sign(x)";
    const HELPERS: &'static [&'static str] = &[crate::tensor::SIGN_SRC];
    unary_fns! {
        f(x, _) = x.abs();
        df(x, _, _) = sign(x);
    }
    /// A mask, whose own derivative is zero.
    fn df_var<'t>(x: Var<'t>, _: Var<'t>, _: f64) -> Option<Var<'t>> {
        Some(x.sign())
    }
}

impl<'t> Var<'t> {
    /// Absolute value, elementwise (derivative 0 at 0).
    ///
    /// ```
    /// let tape = tapegrad::Tape::new();
    /// let x = tape.scalar(-3.0);
    /// assert_eq!(x.abs().backward().wrt(x).item(), -1.0);
    /// ```
    pub fn abs(self) -> Var<'t> {
        unary::<Abs>(self, 0.0)
    }
}

use super::registry::OpCase;

/// This file's cases in the op registry (see [`super::registry`]).
pub(crate) const CASES: &[OpCase] = &[OpCase::unary("abs", |v| v[0].abs())];

#[cfg(test)]
mod tests {
    use super::super::testing::unary;
    #[test]
    fn abs_matches_its_closed_form() {
        let sign = |x: f64| if x == 0.0 { 0.0 } else { x.signum() };
        unary(|v| v.abs(), &[-2.0, 0.0, 3.0], f64::abs, sign, 0.0);
    }
}
