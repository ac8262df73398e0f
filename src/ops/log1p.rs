//! `log1p(x) = ln(1 + x)`, elementwise, accurate for tiny `x`; `d/dx = 1/(1 + x)`.

use super::elementwise::{UnaryFn, unary};
use crate::tape::Var;

/// The `log1p` rule: forward and local derivative side by side.
pub(crate) struct Log1p;

impl UnaryFn for Log1p {
    const NAME: &'static str = "log1p";
    const TEXT: &'static str = "1/(1+x)";
    unary_fns! {
        f(x, _) = x.ln_1p();
        df(x, _, _) = 1.0 / (1.0 + x);
    }
    fn df_var<'t>(x: Var<'t>, _: Var<'t>, _: f64) -> Option<Var<'t>> {
        Some(1.0 / (x + 1.0))
    }
}

impl<'t> Var<'t> {
    /// `ln(1 + x)`, elementwise, without the rounding of `1 + x` for tiny
    /// `x` (`log1p(1e-20)` is `1e-20`, where `(1 + x).ln()` gives 0).
    ///
    /// ```
    /// let tape = tapegrad::Tape::new();
    /// let x = tape.scalar(1.0);
    /// let y = x.log1p();
    /// assert_eq!(y.item(), 2f64.ln());
    /// assert_eq!(y.backward().wrt(x).item(), 0.5); // 1/(1+x)
    /// assert_eq!(tape.scalar(1e-20).log1p().item(), 1e-20);
    /// ```
    pub fn log1p(self) -> Var<'t> {
        unary::<Log1p>(self, 0.0)
    }
}

use super::registry::OpCase;

/// This file's cases in the op registry (see [`super::registry`]).
pub(crate) const CASES: &[OpCase] = &[OpCase::unary("log1p", |v| v[0].log1p()).domain(-0.8, 2.0)];

#[cfg(test)]
mod tests {
    use super::super::testing::unary;
    #[test]
    fn log1p_matches_its_closed_form() {
        unary(|v| v.log1p(), &[-0.5, 0.0, 1e-20, 0.3, 10.0], f64::ln_1p, |x| 1.0 / (1.0 + x), 1e-15);
    }

    #[test]
    fn log1p_is_stable_at_extremes() {
        // Tiny inputs keep their digits; huge ones stay finite with a tiny slope.
        unary(|v| v.log1p(), &[1e-300, -1e-300], |x| x, |_| 1.0, 0.0);
        unary(|v| v.log1p(), &[1e16, 1e300], f64::ln_1p, |x| 1.0 / (1.0 + x), 1e-15);
        // At -1 the log is -inf and the slope +inf, as the math says.
        let tape = crate::Tape::new();
        let x = tape.scalar(-1.0);
        let y = x.log1p();
        assert_eq!((y.item(), y.backward().wrt(x).item()), (f64::NEG_INFINITY, f64::INFINITY));
    }

    #[test]
    fn log1p_passes_gradcheck() {
        use crate::check::{GradcheckOptions, gradcheck};
        let x = crate::Tensor::from_vec(vec![-0.7, 0.0, 0.4, 3.0], &[4]);
        gradcheck(|_, v| v[0].log1p().sum(), &[x], &GradcheckOptions::default()).unwrap();
    }
}
