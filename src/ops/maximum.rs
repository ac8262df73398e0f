//! `maximum(a, b)`, elementwise with broadcasting; the gradient goes to the
//! larger input (to `a` on a tie). A NaN in either input gives NaN, as
//! PyTorch's `maximum` (`f64::max` would return the other input and hide
//! the NaN).

use super::elementwise::{BinaryFn, binary};
use crate::tape::Var;
use crate::tensor::ShapeError;

/// The rule: forward and both partials side by side.
pub(crate) struct Maximum;

impl BinaryFn for Maximum {
    const NAME: &'static str = "maximum";
    const TEXT: [&'static str; 2] = ["[a>=b]", "[a<b]"];
    // The emitter's text of `f`, `da` and `db` below: the same operations.
    const F_SRC: Option<&'static str> = Some("|a, b| max_keep_nan(a, b)");
    const DA_SRC: Option<&'static str> = Some("|a, b, _| if a >= b { 1.0 } else { 0.0 }");
    const DB_SRC: Option<&'static str> = Some("|a, b, _| if a >= b { 0.0 } else { 1.0 }");
    const HELPERS: &'static [&'static str] = &[crate::tensor::MAX_KEEP_NAN_SRC];
    fn f(a: f64, b: f64) -> f64 {
        crate::tensor::max_keep_nan(a, b)
    }
    fn da(a: f64, b: f64, _: f64) -> f64 {
        if a >= b { 1.0 } else { 0.0 }
    }
    fn db(a: f64, b: f64, _: f64) -> f64 {
        if a >= b { 0.0 } else { 1.0 }
    }
    /// Masks, whose own derivatives are zero.
    fn da_var<'t>(a: Var<'t>, b: Var<'t>, _: Var<'t>) -> Option<Var<'t>> {
        Some(a.ge_mask(b))
    }
    fn db_var<'t>(a: Var<'t>, b: Var<'t>, _: Var<'t>) -> Option<Var<'t>> {
        Some(1.0 - a.ge_mask(b))
    }
}

impl<'t> Var<'t> {
    /// Elementwise maximum with broadcasting; the gradient goes to the
    /// larger input (to `self` on a tie). A NaN in either input gives NaN.
    ///
    /// # Panics
    /// If the shapes do not broadcast or `other` is from another tape (see
    /// [`Var::try_maximum`]).
    ///
    /// ```
    /// let tape = tapegrad::Tape::new();
    /// let (a, b) = (tape.scalar(1.0), tape.scalar(3.0));
    /// let g = a.maximum(b).backward();
    /// assert_eq!((g.wrt(a).item(), g.wrt(b).item()), (0.0, 1.0));
    /// ```
    pub fn maximum(self, other: Var<'t>) -> Var<'t> {
        self.try_maximum(other).unwrap_or_else(|e| panic!("{e}"))
    }

    /// Like [`Var::maximum`], but shapes that do not broadcast, or an
    /// operand from another tape, are an error.
    ///
    /// ```
    /// use tapegrad::{Tape, Tensor};
    /// let tape = Tape::new();
    /// let a = tape.var(Tensor::zeros(&[2]));
    /// let e = a.try_maximum(tape.var(Tensor::zeros(&[3]))).unwrap_err();
    /// assert!(e.to_string().starts_with("maximum: shapes [2] and [3]"));
    /// ```
    pub fn try_maximum(self, other: Var<'t>) -> Result<Var<'t>, ShapeError> {
        binary::<Maximum>(self, other)
    }
}

use super::registry::OpCase;

/// This file's cases in the op registry (see [`super::registry`]).
pub(crate) const CASES: &[OpCase] = &[OpCase::binary("maximum", |v| v[0].maximum(v[1])).shapes(&[&[2, 3], &[3]])];

#[cfg(test)]
mod tests {
    use crate::{Tape, Tensor};

    #[test]
    fn maximum_sends_the_gradient_to_the_larger_input() {
        let tape = Tape::new();
        let a = tape.var(Tensor::from_vec(vec![1.0, 5.0, 2.0], &[3]));
        let b = tape.var(Tensor::from_vec(vec![3.0, 4.0, 2.0], &[3]));
        let y = a.maximum(b);
        assert_eq!(y.value().data(), &[3.0, 5.0, 2.0]);
        let g = y.sum().backward();
        assert_eq!(g.wrt(a).data(), &[0.0, 1.0, 1.0]); // a tie goes to a
        assert_eq!(g.wrt(b).data(), &[1.0, 0.0, 0.0]);
        // Forward mode picks the same input: dy = da where a wins (ties too), else db.
        let (da, db) = (Tensor::from_vec(vec![10.0, 20.0, 30.0], &[3]), Tensor::from_vec(vec![1.0, 2.0, 3.0], &[3]));
        assert_eq!(y.jvp(&[(a, &da), (b, &db)]).unwrap().data(), &[1.0, 20.0, 30.0]);
    }

    #[test]
    fn maximum_keeps_a_nan_on_either_side() {
        let tape = Tape::new();
        let (n, one) = (tape.scalar(f64::NAN), tape.scalar(1.0));
        assert!(n.maximum(one).item().is_nan() && one.maximum(n).item().is_nan());
    }
}
