//! `tanh`, elementwise; `d/dx = 1 - tanh^2 x = 1 - t^2`.

use super::elementwise::{UnaryFn, unary};
use crate::tape::Var;

/// The `tanh` rule: forward and local derivative side by side.
pub(crate) struct Tanh;

impl UnaryFn for Tanh {
    const NAME: &'static str = "tanh";
    const TEXT: &'static str = "1-t^2";
    unary_fns! {
        f(x, _) = x.tanh();
        df(_, t, _) = 1.0 - t * t;
    }
    fn df_var<'t>(_: Var<'t>, t: Var<'t>, _: f64) -> Option<Var<'t>> {
        Some(1.0 - t.square())
    }
}

impl<'t> Var<'t> {
    /// Hyperbolic tangent, elementwise.
    ///
    /// ```
    /// let tape = tapegrad::Tape::new();
    /// let x = tape.scalar(0.0);
    /// assert_eq!(x.tanh().backward().wrt(x).item(), 1.0);
    /// ```
    pub fn tanh(self) -> Var<'t> {
        unary::<Tanh>(self, 0.0)
    }
}

use super::registry::OpCase;

/// This file's cases in the op registry (see [`super::registry`]).
pub(crate) const CASES: &[OpCase] = &[OpCase::unary("tanh", |v| v[0].tanh())];

#[cfg(test)]
mod tests {
    use super::super::testing::unary;
    #[test]
    fn tanh_matches_its_closed_form() {
        unary(|v| v.tanh(), &[-3.0, -0.2, 0.0, 1.0, 800.0], f64::tanh, |x| 1.0 / x.cosh().powi(2), 1e-14);
    }
}
