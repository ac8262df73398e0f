//! `gelu(x)`, the tanh approximation of GELU (PyTorch's
//! `gelu(x, approximate='tanh')`), elementwise:
//! `0.5 x (1 + tanh(u))`, `u = sqrt(2/pi) (x + 0.044715 x^3)`,
//! with the exact derivative of that approximation (not of the erf form).
//!
//! Computed as `x sigmoid(2u)` (the same function: `(1 + tanh u) / 2 =
//! sigmoid(2u)`), which keeps the small values of `x < 0` exact where
//! `1 + tanh(u)` would cancel to 0 (PyTorch's formula gives 0 below about
//! -5.5; this one gives the true tiny value), and is stable at +-1e300.
//! The derivative is `s + 2 x s sigmoid(-2u) u'`, `s = sigmoid(2u)`,
//! `u' = sqrt(2/pi) (1 + 3 * 0.044715 x^2)`.
//!
//! Stability: beyond `|x| = 30` the gate `s` is exactly 0 or 1 in f64
//! (`|2u| > 745`), so `u` is computed from `x` clamped to [-30, 30]; that
//! changes no value or derivative and keeps `x^3` from overflowing, so the
//! derivative is 1 or 0 (not `0 * inf = NaN`) far out, in both backwards.
//! At the infinities the value and every derivative are the limits:
//! `gelu(+inf) = +inf`, `gelu(-inf) = 0`, slopes 1 and 0.

use super::elementwise::{UnaryFn, unary};
use crate::tape::Var;
use crate::tensor::{STABLE_SIGMOID_SRC, stable_sigmoid};

/// `sqrt(2 / pi)`.
const C: f64 = 0.797_884_560_802_865_4;
/// The cubic's coefficient.
const A: f64 = 0.044_715;
/// Where the gate saturates exactly in f64 (any `|x|` past about 22 does).
const SATURATED: f64 = 30.0;

crate::tensor::with_source! {
GELU_VALUE_SRC;
/// `x sigmoid(2u)` (0 below the gate's reach: `-0.0`, the sign of
/// `x * +0.0` for `x < 0`), with `u` of `x` clamped to [-30, 30]. The
/// literals are `C`, `A` and `SATURATED` (the source is copied into
/// generated code, which has no constants).
pub(crate) fn gelu_value(x: f64) -> f64 {
    let xc = x.clamp(-30.0, 30.0);
    let s = stable_sigmoid(2.0 * (0.797_884_560_802_865_4 * (xc + 0.044_715 * xc * xc * xc)));
    if s == 0.0 { -0.0 } else { x * s }
}
}

crate::tensor::with_source! {
GELU_SLOPE_SRC;
/// `s + 2 x s sigmoid(-2u) u'`, with `x` clamped as in [`gelu_value`].
pub(crate) fn gelu_slope(x: f64) -> f64 {
    let xc = x.clamp(-30.0, 30.0);
    let u = 0.797_884_560_802_865_4 * (xc + 0.044_715 * xc * xc * xc);
    let (s, s_neg) = (stable_sigmoid(2.0 * u), stable_sigmoid(-2.0 * u));
    s + 2.0 * xc * s * s_neg * (0.797_884_560_802_865_4 * (1.0 + 3.0 * 0.044_715 * xc * xc))
}
}

pub(crate) struct Gelu;

impl UnaryFn for Gelu {
    const NAME: &'static str = "gelu";
    const TEXT: &'static str = "s + 2x s(1-s) u', s = sigmoid(2u)";
    /// Where the gate is exactly 0 (`x` below about -22) the value is
    /// `-0.0`, what `x * 0` gives for finite `x`, and so the limit at
    /// `-inf` (where `x * 0` would be NaN). A NaN keeps its NaN gate.
    fn f(x: f64, _: f64) -> f64 {
        gelu_value(x)
    }
    /// Where `s_neg s` is 0, any finite (clamped) `x` gives 0.
    fn df(x: f64, _: f64, _: f64) -> f64 {
        gelu_slope(x)
    }
    // The emitter's text of `f` and `df`: the same functions, copied.
    const F_SRC: Option<&'static str> = Some("|x, _| gelu_value(x)");
    const DF_SRC: Option<&'static str> = Some("|x, _, _| gelu_slope(x)");
    const HELPERS: &'static [&'static str] = &[STABLE_SIGMOID_SRC, GELU_VALUE_SRC, GELU_SLOPE_SRC];
    /// The same formula with tape ops (the clamp's zero derivative outside
    /// [-30, 30] is exact: the gate is constant there).
    fn df_var<'t>(x: Var<'t>, _: Var<'t>, _: f64) -> Option<Var<'t>> {
        let xc = x.clamp(-SATURATED, SATURATED);
        let u = C * (xc + A * xc * xc * xc);
        let (s, s_neg) = ((2.0 * u).sigmoid(), (-2.0 * u).sigmoid());
        Some(s + 2.0 * xc * s * s_neg * (C * (1.0 + 3.0 * A * xc * xc)))
    }
}

impl<'t> Var<'t> {
    /// GELU in its tanh approximation, elementwise: `0.5 x (1 + tanh(sqrt(2/pi)
    /// (x + 0.044715 x^3)))`, PyTorch's `gelu(x, approximate='tanh')` (as in
    /// GPT-2 and BERT), with the exact derivative of that formula.
    ///
    /// ```
    /// let tape = tapegrad::Tape::new();
    /// let x = tape.scalar(1.0);
    /// let y = x.gelu();
    /// let u = (2.0 / std::f64::consts::PI).sqrt() * (1.0 + 0.044715);
    /// assert!((y.item() - 0.5 * (1.0 + u.tanh())).abs() < 1e-15);
    /// ```
    pub fn gelu(self) -> Var<'t> {
        unary::<Gelu>(self, 0.0)
    }
}

use super::registry::OpCase;

/// This file's cases in the op registry (see [`super::registry`]).
pub(crate) const CASES: &[OpCase] = &[OpCase::unary("gelu", |v| v[0].gelu())];

#[cfg(test)]
mod tests {
    use super::super::testing::unary;
    use std::f64::consts::PI;

    /// PyTorch's formula and its derivative, written out plainly.
    fn tanh_form(x: f64) -> f64 {
        0.5 * x * (1.0 + ((2.0 / PI).sqrt() * (x + 0.044715 * x.powi(3))).tanh())
    }
    fn tanh_form_derivative(x: f64) -> f64 {
        let c = (2.0 / PI).sqrt();
        let t = (c * (x + 0.044715 * x.powi(3))).tanh();
        0.5 * (1.0 + t) + 0.5 * x * (1.0 - t * t) * c * (1.0 + 3.0 * 0.044715 * x * x)
    }

    #[test]
    fn gelu_matches_the_tanh_form() {
        unary(|v| v.gelu(), &[-3.0, -1.0, -0.3, 0.0, 0.5, 1.0, 2.0, 4.0], tanh_form, tanh_form_derivative, 1e-14);
    }

    #[test]
    fn gelu_is_stable_at_extremes() {
        // Far out: the identity (slope 1) and 0 (slope 0), no overflow, no NaN.
        unary(|v| v.gelu(), &[40.0, 1e16, 1e300], |x| x, |_| 1.0, 0.0);
        unary(|v| v.gelu(), &[-40.0, -1e16, -1e300], |_| 0.0, |_| 0.0, 0.0);
        // At the infinities, the limits: gelu(+inf) = +inf with slope 1,
        // gelu(-inf) = 0 with slope 0 (not -inf * 0 = NaN), in value,
        // backward and tangent...
        unary(|v| v.gelu(), &[f64::INFINITY], |x| x, |_| 1.0, 0.0);
        unary(|v| v.gelu(), &[f64::NEG_INFINITY], |_| 0.0, |_| 0.0, 0.0);
        // ... and in the differentiable backward, whose own derivative (the
        // second) is 0 there too: the gate is constant far out.
        let tape = crate::Tape::new();
        for (x, slope) in [(f64::INFINITY, 1.0), (f64::NEG_INFINITY, 0.0)] {
            let v = tape.scalar(x);
            let d = v.gelu().grad_graph().unwrap().wrt(v);
            assert_eq!((d.item(), d.grad_graph().unwrap().wrt(v).item()), (slope, 0.0), "at {x}");
        }
        // At -8 the tanh form cancels to 0; x sigmoid(2u) keeps the value:
        // x e^(2u) / (1 + e^(2u)) with 2u = -2c(8 + 0.044715 * 512).
        let two_u = -2.0 * (2.0 / PI).sqrt() * (8.0 + 0.044715 * 512.0);
        let want = -8.0 * two_u.exp() / (1.0 + two_u.exp());
        let tape = crate::Tape::new();
        let got = tape.scalar(-8.0).gelu().item();
        assert!(want < 0.0 && (got - want).abs() <= 1e-14 * want.abs(), "{got} vs {want}");
    }

    #[test]
    fn gelu_keeps_a_nan() {
        let tape = crate::Tape::new();
        assert!(tape.scalar(f64::NAN).gelu().item().is_nan());
    }
}
