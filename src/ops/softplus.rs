//! `softplus(x) = ln(1 + e^x)`, elementwise, computed stably as
//! `max(x, 0) + log1p(exp(-|x|))`; `d/dx = sigmoid(x)`.

use super::elementwise::{UnaryFn, unary};
use crate::tape::Var;
use crate::tensor::{stable_sigmoid, stable_softplus};

/// The `softplus` rule: forward and local derivative side by side.
pub(crate) struct Softplus;

impl UnaryFn for Softplus {
    const NAME: &'static str = "softplus";
    const TEXT: &'static str = "sigmoid(x)";
    const HELPERS: &'static [&'static str] =
        &[crate::tensor::RELU_SRC, crate::tensor::STABLE_SOFTPLUS_SRC, crate::tensor::STABLE_SIGMOID_SRC];
    unary_fns! {
        f(x, _) = stable_softplus(x);
        df(x, _, _) = stable_sigmoid(x);
    }
    fn df_var<'t>(x: Var<'t>, _: Var<'t>, _: f64) -> Option<Var<'t>> {
        Some(x.sigmoid())
    }
}

impl<'t> Var<'t> {
    /// `ln(1 + e^x)`, elementwise: a smooth relu. Stable: finite at +-1e300,
    /// and exact to the last digit far out (`softplus(-40)` is `e^-40`).
    ///
    /// ```
    /// let tape = tapegrad::Tape::new();
    /// let x = tape.scalar(0.0);
    /// let y = x.softplus();
    /// assert_eq!(y.item(), 2f64.ln());
    /// assert_eq!(y.backward().wrt(x).item(), 0.5); // sigmoid(0)
    /// ```
    pub fn softplus(self) -> Var<'t> {
        unary::<Softplus>(self, 0.0)
    }
}

use super::registry::OpCase;

/// This file's cases in the op registry (see [`super::registry`]).
pub(crate) const CASES: &[OpCase] = &[OpCase::unary("softplus", |v| v[0].softplus())];

#[cfg(test)]
mod tests {
    use super::super::testing::unary;
    #[test]
    fn softplus_matches_its_closed_form() {
        let f = |x: f64| (1.0 + x.exp()).ln();
        let df = |x: f64| x.exp() / (1.0 + x.exp());
        unary(|v| v.softplus(), &[-5.0, -0.3, 0.0, 0.8, 6.0], f, df, 1e-14);
    }

    #[test]
    fn softplus_is_stable_at_extremes() {
        // ln(1 + e^x) -> x for large x, -> e^x for very negative x; the slope -> 1 and 0.
        unary(|v| v.softplus(), &[1e16, 1e300], |x| x, |_| 1.0, 0.0);
        unary(|v| v.softplus(), &[-1e16, -1e300], |_| 0.0, |_| 0.0, 0.0);
        unary(|v| v.softplus(), &[-40.0], |x| x.exp(), |x| x.exp(), 1e-15);
    }

    #[test]
    fn softplus_passes_gradcheck() {
        use crate::check::{GradcheckOptions, gradcheck};
        let x = crate::Tensor::from_vec(vec![-3.0, -0.1, 0.2, 2.5], &[2, 2]);
        gradcheck(|_, v| v[0].softplus().sum(), &[x], &GradcheckOptions::default()).unwrap();
    }
}
