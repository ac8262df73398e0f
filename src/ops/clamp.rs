//! `clamp(lo, hi)`, elementwise, as two nodes with one bound each (a node
//! has one scalar parameter): `clamp_min(lo)` then `clamp_max(hi)`, as
//! PyTorch's `clamp_min` and `clamp_max`.
//!
//! Gradient 1 inside `[lo, hi]`, 0 outside, and **1 on the boundary**, as
//! PyTorch's (`clamp_backward` passes the gradient where
//! `lo <= x <= hi`): a value sitting exactly on a bound still moves with
//! its input. A NaN input passes through as NaN (its gradient is 0, as
//! PyTorch's: NaN is not inside the bounds); `lo > hi` is an error (PyTorch
//! would silently return `hi` everywhere), and so is a NaN bound.

use super::elementwise::{UnaryFn, unary};
use crate::tape::Var;
use crate::tensor::{ShapeError, Tensor};

/// `max(x, lo)`, keeping NaN; derivative `[x >= lo]`.
pub(crate) struct ClampMin;
/// `min(x, hi)`, keeping NaN; derivative `[x <= hi]`.
pub(crate) struct ClampMax;

impl UnaryFn for ClampMin {
    const NAME: &'static str = "clamp_min";
    const TEXT: &'static str = "[x>=lo]";
    unary_fns! {
        // NaN < lo is false: NaN stays.
        f(x, lo) = if x < lo { lo } else { x };
        df(x, _, lo) = if x >= lo { 1.0 } else { 0.0 };
    }
    /// A mask of `x >= lo`, whose own derivative is zero.
    fn df_var<'t>(x: Var<'t>, _: Var<'t>, lo: f64) -> Option<Var<'t>> {
        Some(x.ge_mask(x.tape().constant(Tensor::scalar(lo))))
    }
    fn takes_param() -> bool {
        true
    }
}

impl UnaryFn for ClampMax {
    const NAME: &'static str = "clamp_max";
    const TEXT: &'static str = "[x<=hi]";
    unary_fns! {
        f(x, hi) = if x > hi { hi } else { x };
        df(x, _, hi) = if x <= hi { 1.0 } else { 0.0 };
    }
    /// A mask of `hi >= x`, whose own derivative is zero.
    fn df_var<'t>(x: Var<'t>, _: Var<'t>, hi: f64) -> Option<Var<'t>> {
        Some(x.tape().constant(Tensor::scalar(hi)).ge_mask(x))
    }
    fn takes_param() -> bool {
        true
    }
}

impl<'t> Var<'t> {
    /// Each element limited to `[lo, hi]` (PyTorch's `clamp(x, lo, hi)`);
    /// gradient 1 inside and on the bounds, 0 outside. Recorded as
    /// `clamp_min(lo)` and `clamp_max(hi)`. Infinite bounds are allowed
    /// (`clamp(0.0, f64::INFINITY)` is relu with gradient 1 at 0).
    ///
    /// # Panics
    /// If `lo > hi` or a bound is NaN (see [`Var::try_clamp`]).
    ///
    /// ```
    /// let tape = tapegrad::Tape::new();
    /// let x = tape.var(tapegrad::Tensor::from_vec(vec![-2.0, -1.0, 0.5, 1.0, 3.0], &[5]));
    /// let y = x.clamp(-1.0, 1.0);
    /// assert_eq!(y.value().data(), &[-1.0, -1.0, 0.5, 1.0, 1.0]);
    /// assert_eq!(y.sum().backward().wrt(x).data(), &[0.0, 1.0, 1.0, 1.0, 0.0]); // 1 on the bounds
    /// ```
    pub fn clamp(self, lo: f64, hi: f64) -> Var<'t> {
        self.try_clamp(lo, hi).unwrap_or_else(|e| panic!("{e}"))
    }

    /// Like [`Var::clamp`], but `lo > hi`, a NaN bound or a Var of another
    /// tape is an error.
    ///
    /// ```
    /// let tape = tapegrad::Tape::new();
    /// let e = tape.scalar(0.0).try_clamp(1.0, -1.0).unwrap_err();
    /// assert_eq!(e.to_string(), "clamp: shape []: lo 1 is above hi -1");
    /// ```
    pub fn try_clamp(self, lo: f64, hi: f64) -> Result<Var<'t>, ShapeError> {
        let err = |reason: String| ShapeError::new("clamp", &[&self.shape()], reason);
        if lo.is_nan() || hi.is_nan() {
            return Err(err(format!("the bounds must be numbers, got lo {lo} and hi {hi}")));
        }
        if lo > hi {
            return Err(err(format!("lo {lo} is above hi {hi}")));
        }
        self.tape.try_same_tape("clamp", &[self])?;
        Ok(unary::<ClampMax>(unary::<ClampMin>(self, lo), hi))
    }
}

use super::registry::OpCase;

/// This file's cases in the op registry (see [`super::registry`]).
pub(crate) const CASES: &[OpCase] =
    &[OpCase::unary("clamp_min", |v| v[0].clamp(-0.5, 1.0)), OpCase::unary("clamp_max", |v| v[0].clamp(-0.5, 1.0))];

#[cfg(test)]
mod tests {
    use super::super::testing::unary;

    #[test]
    fn clamp_matches_its_closed_form() {
        let inside = |x: f64| if (-1.0..=2.0).contains(&x) { 1.0 } else { 0.0 };
        let xs = [-5.0, -1.0, -0.5, 0.0, 1.5, 2.0, 7.0, -1e300, 1e300];
        unary(|v| v.clamp(-1.0, 2.0), &xs, |x| x.clamp(-1.0, 2.0), inside, 0.0);
        // a point interval: every input becomes it; the gradient is 1 only there
        unary(|v| v.clamp(0.5, 0.5), &[0.0, 0.5, 1.0], |_| 0.5, |x| f64::from(x == 0.5), 0.0);
        // one-sided
        unary(|v| v.clamp(0.0, f64::INFINITY), &[-1.0, 0.0, 2.0], |x| x.max(0.0), |x| f64::from(x >= 0.0), 0.0);
    }

    #[test]
    fn clamp_passes_a_nan_and_refuses_bad_bounds() {
        let tape = crate::Tape::new();
        let x = tape.scalar(f64::NAN);
        let y = x.clamp(-1.0, 1.0);
        assert!(y.item().is_nan());
        assert_eq!(y.backward().wrt(x).item(), 0.0); // NaN is not inside the bounds (PyTorch: 0)
        assert!(tape.scalar(0.0).try_clamp(f64::NAN, 1.0).unwrap_err().to_string().contains("must be numbers"));
        assert!(tape.scalar(0.0).try_clamp(2.0, 1.0).unwrap_err().to_string().contains("lo 2 is above hi 1"));
    }
}
