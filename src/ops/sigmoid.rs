//! `sigmoid(x) = 1 / (1 + e^-x)`, elementwise; `d/dx = s (1 - s)`.

use super::elementwise::{UnaryFn, unary};
use crate::tape::Var;
use crate::tensor::stable_sigmoid;

/// The rule: forward and local derivative side by side.
pub(crate) struct Sigmoid;

impl UnaryFn for Sigmoid {
    const NAME: &'static str = "sigmoid";
    const TEXT: &'static str = "s(1-s)";
    const HELPERS: &'static [&'static str] = &[crate::tensor::STABLE_SIGMOID_SRC];
    unary_fns! {
        /// Never evaluates `exp` of a large positive number: finite at +-1000.
        f(x, _) = stable_sigmoid(x);
        /// In terms of the output `s`, which the tape already holds.
        df(_, s, _) = s * (1.0 - s);
    }
    fn df_var<'t>(_: Var<'t>, s: Var<'t>, _: f64) -> Option<Var<'t>> {
        Some(s * (1.0 - s))
    }
}

impl<'t> Var<'t> {
    /// Logistic sigmoid `1/(1+e^-x)`, elementwise, stable at +-1000.
    ///
    /// ```
    /// let tape = tapegrad::Tape::new();
    /// let x = tape.scalar(0.0);
    /// assert_eq!(x.sigmoid().backward().wrt(x).item(), 0.25); // s(1-s)
    /// ```
    pub fn sigmoid(self) -> Var<'t> {
        unary::<Sigmoid>(self, 0.0)
    }
}

use super::registry::OpCase;

/// This file's cases in the op registry (see [`super::registry`]).
pub(crate) const CASES: &[OpCase] = &[OpCase::unary("sigmoid", |v| v[0].sigmoid())];

#[cfg(test)]
mod tests {
    #[test]
    fn sigmoid_matches_its_closed_form() {
        let s = |x: f64| 1.0 / (1.0 + (-x).exp());
        let ds = |x: f64| (-x).exp() / (1.0 + (-x).exp()).powi(2);
        super::super::testing::unary(|v| v.sigmoid(), &[-3.0, -0.5, 0.0, 0.7, 4.0], s, ds, 1e-14);
        // Stable: finite values and derivatives at +-1000.
        super::super::testing::unary(
            |v| v.sigmoid(),
            &[-1000.0, 1000.0],
            |x| if x > 0.0 { 1.0 } else { 0.0 },
            |_| 0.0,
            0.0,
        );
    }
}
