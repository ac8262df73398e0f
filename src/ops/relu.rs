//! `relu(x) = max(x, 0)`, elementwise; `d/dx = 1` for x > 0, else 0 (0 at the kink, as PyTorch).
//! A NaN input gives NaN, as in PyTorch: `f64::max` would drop it and hide
//! the NaN from the rest of the program.

use super::elementwise::{UnaryFn, unary};
use crate::tape::Var;
use crate::tensor::relu;

/// The `relu` rule: forward and local derivative side by side.
pub(crate) struct Relu;

impl UnaryFn for Relu {
    const NAME: &'static str = "relu";
    const TEXT: &'static str = "[x>0]";
    const HELPERS: &'static [&'static str] = &[crate::tensor::RELU_SRC];
    unary_fns! {
        f(x, _) = relu(x);
        df(x, _, _) = if x > 0.0 { 1.0 } else { 0.0 };
    }
    /// A mask, whose own derivative is zero.
    fn df_var<'t>(x: Var<'t>, _: Var<'t>, _: f64) -> Option<Var<'t>> {
        Some(x.step())
    }
}

impl<'t> Var<'t> {
    /// `max(x, 0)`, elementwise (derivative 0 at 0); NaN stays NaN.
    ///
    /// ```
    /// let tape = tapegrad::Tape::new();
    /// let x = tape.scalar(2.0);
    /// assert_eq!(x.relu().backward().wrt(x).item(), 1.0);
    /// ```
    pub fn relu(self) -> Var<'t> {
        unary::<Relu>(self, 0.0)
    }
}

use super::registry::OpCase;

/// This file's cases in the op registry (see [`super::registry`]).
pub(crate) const CASES: &[OpCase] = &[OpCase::unary("relu", |v| v[0].relu())];

#[cfg(test)]
mod tests {
    use super::super::testing::unary;
    #[test]
    fn relu_matches_its_closed_form() {
        let step = |x: f64| if x > 0.0 { 1.0 } else { 0.0 };
        unary(|v| v.relu(), &[-2.0, 0.0, 3.0], |x| x.max(0.0), step, 0.0);
    }

    #[test]
    fn relu_keeps_a_nan() {
        let tape = crate::Tape::new();
        assert!(tape.scalar(f64::NAN).relu().item().is_nan());
    }
}
