//! `leaky_relu(x; slope) = x` for `x > 0`, else `slope * x`, elementwise;
//! `d/dx = 1` for `x > 0`, else `slope`. The slope is the node's parameter.
//!
//! At the kink the derivative is `slope`, as PyTorch's
//! (`leaky_relu_backward` tests `x > 0`), and the same side relu takes
//! (0 there, its slope). A NaN input gives NaN: `x > 0` is false for NaN,
//! so it is `slope * NaN`.

use super::elementwise::{UnaryFn, unary};
use crate::tape::Var;
use crate::tensor::ShapeError;

/// The `leaky_relu` rule: forward and local derivative side by side.
pub(crate) struct LeakyRelu;

impl UnaryFn for LeakyRelu {
    const NAME: &'static str = "leaky_relu";
    const TEXT: &'static str = "[x>0] + slope [x<=0]";
    unary_fns! {
        f(x, slope) = if x > 0.0 { x } else { slope * x };
        df(x, _, slope) = if x > 0.0 { 1.0 } else { slope };
    }
    /// `slope + (1 - slope) step(x)`: the mask is piecewise constant, so the
    /// second derivative is 0.
    fn df_var<'t>(x: Var<'t>, _: Var<'t>, slope: f64) -> Option<Var<'t>> {
        Some(x.step() * (1.0 - slope) + slope)
    }
    /// The slope shows only for negative inputs, which the default probe
    /// (at `x = 0.5`) misses.
    fn takes_param() -> bool {
        true
    }
}

impl<'t> Var<'t> {
    /// `x` where `x > 0`, else `slope * x`, elementwise (PyTorch's
    /// `leaky_relu(x, negative_slope)`; its default slope is 0.01). The
    /// derivative at 0 is `slope`, as PyTorch's.
    ///
    /// # Panics
    /// If `slope` is not finite (see [`Var::try_leaky_relu`]).
    ///
    /// ```
    /// let tape = tapegrad::Tape::new();
    /// let x = tape.var(tapegrad::Tensor::from_vec(vec![-2.0, 0.0, 3.0], &[3]));
    /// let y = x.leaky_relu(0.1);
    /// assert_eq!(y.value().data(), &[-0.2, 0.0, 3.0]);
    /// assert_eq!(y.sum().backward().wrt(x).data(), &[0.1, 0.1, 1.0]);
    /// ```
    pub fn leaky_relu(self, slope: f64) -> Var<'t> {
        self.try_leaky_relu(slope).unwrap_or_else(|e| panic!("{e}"))
    }

    /// Like [`Var::leaky_relu`], but a slope that is NaN or infinite is an
    /// error (it would turn every negative input into NaN or infinity).
    ///
    /// ```
    /// let tape = tapegrad::Tape::new();
    /// let e = tape.scalar(1.0).try_leaky_relu(f64::NAN).unwrap_err();
    /// assert_eq!(e.to_string(), "leaky_relu: shape []: the slope NaN is not finite");
    /// ```
    pub fn try_leaky_relu(self, slope: f64) -> Result<Var<'t>, ShapeError> {
        if !slope.is_finite() {
            return Err(ShapeError::new("leaky_relu", &[&self.shape()], format!("the slope {slope} is not finite")));
        }
        self.tape.try_same_tape("leaky_relu", &[self])?;
        Ok(unary::<LeakyRelu>(self, slope))
    }
}

use super::registry::OpCase;

/// This file's cases in the op registry (see [`super::registry`]).
pub(crate) const CASES: &[OpCase] = &[OpCase::unary("leaky_relu", |v| v[0].leaky_relu(0.1))];

#[cfg(test)]
mod tests {
    use super::super::testing::unary;
    #[test]
    fn leaky_relu_matches_its_closed_form() {
        let f = |x: f64| if x > 0.0 { x } else { 0.2 * x };
        let df = |x: f64| if x > 0.0 { 1.0 } else { 0.2 };
        unary(|v| v.leaky_relu(0.2), &[-3.0, -1e-300, 0.0, 1e-300, 2.5, 1e300], f, df, 0.0);
        // slope 0 is relu, slope 1 the identity
        unary(|v| v.leaky_relu(0.0), &[-3.0, 0.0, 2.0], |x| x.max(0.0), |x| f64::from(x > 0.0), 0.0);
        unary(|v| v.leaky_relu(1.0), &[-3.0, 0.0, 2.0], |x| x, |_| 1.0, 0.0);
    }

    #[test]
    fn leaky_relu_keeps_a_nan() {
        let tape = crate::Tape::new();
        assert!(tape.scalar(f64::NAN).leaky_relu(0.1).item().is_nan());
    }

    #[test]
    fn leaky_relu_shows_its_slope() {
        let tape = crate::Tape::new();
        let _ = tape.scalar(1.0).leaky_relu(0.25);
        assert!(tape.table().to_string().contains("leaky_relu(0.25)"), "{}", tape.table());
    }
}
