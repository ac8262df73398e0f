//! Inputs: leaf variables (which get gradients) and constants (data,
//! targets), their values copied into the tape. They enter through the
//! same [`Tape::append`](super::record) as every other node.

use super::op::{Constant, ForwardCx, Leaf, NodeParams, StaticOp};
use super::record::{Kind, Value, push_dims, tape_full};
use super::{Tape, Var};
use crate::tensor::{ShapeError, Tensor, checked_numel};
use std::borrow::Borrow;

impl Tape {
    /// Records a leaf variable: an input that gets a gradient.
    /// Takes a `Tensor` or a `&Tensor` (copied into the tape's arena).
    ///
    /// ```
    /// use tapegrad::{Tape, Tensor};
    /// let tape = Tape::new();
    /// let w = tape.var(Tensor::ones(&[2, 2]));
    /// assert_eq!(w.shape().as_slice(), &[2, 2]);
    /// ```
    pub fn var(&self, value: impl Borrow<Tensor>) -> Var<'_> {
        let t = value.borrow();
        self.input::<Leaf>(t.shape(), t.data())
    }

    /// Records a constant: an input with no gradient (data, targets).
    ///
    /// ```
    /// use tapegrad::{Tape, Tensor};
    /// let tape = Tape::new();
    /// let x = tape.var(Tensor::scalar(3.0));
    /// let c = tape.constant(Tensor::scalar(2.0));
    /// let g = (x * c).backward();
    /// assert_eq!((g.wrt(x).item(), g.wrt(c).item()), (2.0, 0.0));
    /// ```
    pub fn constant(&self, value: impl Borrow<Tensor>) -> Var<'_> {
        let t = value.borrow();
        self.input::<Constant>(t.shape(), t.data())
    }

    /// Records a scalar leaf variable, micrograd style.
    ///
    /// ```
    /// let tape = tapegrad::Tape::new();
    /// let a = tape.scalar(3.0);
    /// assert_eq!((a * a).backward().wrt(a).item(), 6.0);
    /// ```
    pub fn scalar(&self, value: f64) -> Var<'_> {
        self.input::<Leaf>(&[], &[value])
    }

    /// Records a leaf variable from a slice and a shape, without building a
    /// `Tensor` first.
    ///
    /// # Panics
    /// If `data.len()` does not fit `shape` (see [`Tape::try_var_from_slice`]).
    ///
    /// ```
    /// let tape = tapegrad::Tape::new();
    /// let x = tape.var_from_slice(&[1.0, 2.0], &[2, 1]);
    /// assert_eq!(x.value().shape(), &[2, 1]);
    /// ```
    pub fn var_from_slice(&self, data: &[f64], shape: &[usize]) -> Var<'_> {
        self.try_var_from_slice(data, shape).unwrap_or_else(|e| panic!("{e}"))
    }

    /// Like [`Tape::var_from_slice`], but a length that does not fit the
    /// shape (or a shape whose element count overflows) is an error.
    ///
    /// ```
    /// let tape = tapegrad::Tape::new();
    /// let e = tape.try_var_from_slice(&[1.0], &[2]).unwrap_err();
    /// assert_eq!(e.to_string(), "var_from_slice: shape [2]: 1 values cannot fill 2 elements");
    /// ```
    pub fn try_var_from_slice(&self, data: &[f64], shape: &[usize]) -> Result<Var<'_>, ShapeError> {
        check_fill("var_from_slice", data, shape)?;
        Ok(self.input::<Leaf>(shape, data))
    }

    /// Records a constant from a slice and a shape.
    ///
    /// # Panics
    /// If `data.len()` does not fit `shape` (see [`Tape::try_constant_from_slice`]).
    ///
    /// ```
    /// let tape = tapegrad::Tape::new();
    /// let t = tape.constant_from_slice(&[0.5], &[1, 1]);
    /// assert_eq!(t.item(), 0.5);
    /// ```
    pub fn constant_from_slice(&self, data: &[f64], shape: &[usize]) -> Var<'_> {
        self.try_constant_from_slice(data, shape).unwrap_or_else(|e| panic!("{e}"))
    }

    /// Like [`Tape::constant_from_slice`], but a length that does not fit the
    /// shape (or a shape whose element count overflows) is an error.
    ///
    /// ```
    /// let tape = tapegrad::Tape::new();
    /// assert!(tape.try_constant_from_slice(&[], &[1 << 32, 1 << 32]).is_err());
    /// ```
    pub fn try_constant_from_slice(&self, data: &[f64], shape: &[usize]) -> Result<Var<'_>, ShapeError> {
        check_fill("constant_from_slice", data, shape)?;
        Ok(self.input::<Constant>(shape, data))
    }

    /// Records an input: its value copied in, a gradient slot if it is a
    /// leaf variable. Every caller has already made sure `data` fills
    /// `shape` (a `Tensor` does by construction, the `_from_slice` forms
    /// check it). Training loops record every parameter and sample this
    /// way each step; through [`Tape::append`](super::record), inlined,
    /// with nothing to check or read of operands.
    ///
    /// # Panics
    /// If the tape is full (more than 2^32 values or nodes).
    #[inline]
    fn input<O: StaticOp>(&self, shape: &[usize], data: &[f64]) -> Var<'_> {
        debug_assert_eq!(Some(data.len()), crate::tensor::try_numel(shape));
        let mut kind = Kind::of::<O>(NodeParams::default());
        kind.needs_grad = true; // a gradient slot if `O` passes one: `Leaf` does, `Constant` does not
        let value = Value::<fn(&ForwardCx<'_>, &mut [f64])>::Copy(data);
        let mut inner = self.inner_mut(kind.name);
        let name = kind.name;
        let (len, ndim) = push_dims(&mut inner, shape, name);
        match self.append(&mut inner, kind, &[], (len, ndim), value) {
            Some(v) => v,
            None => panic!("{}", tape_full(&mut inner, name, ndim, len)),
        }
    }

    /// Records a constant of `shape` written straight into the arena by
    /// `fill` (which gets a zeroed slot), with no tensor built first.
    ///
    /// # Panics
    /// On a full tape (see [`Tape::try_constant_with`]).
    pub(crate) fn constant_with(&self, shape: &[usize], fill: impl FnOnce(&mut [f64])) -> Var<'_> {
        self.try_constant_with(shape, fill).unwrap_or_else(|e| panic!("{e}"))
    }

    /// [`Tape::constant_with`], with a full tape an error (the `try_` forms
    /// of ops that record their indices as a constant).
    pub(crate) fn try_constant_with(
        &self,
        shape: &[usize],
        fill: impl FnOnce(&mut [f64]),
    ) -> Result<Var<'_>, ShapeError> {
        let kind = Kind::of::<Constant>(NodeParams::default());
        let value = Value::Computed(|_: &ForwardCx<'_>, out: &mut [f64]| fill(out));
        let mut inner = self.inner_mut(kind.name);
        let name = kind.name;
        let (len, ndim) = push_dims(&mut inner, shape, name);
        match self.append(&mut inner, kind, &[], (len, ndim), value) {
            Some(v) => Ok(v),
            None => Err(tape_full(&mut inner, name, ndim, len)),
        }
    }
}

/// Checks that `data` fills `shape` exactly, with the count checked.
fn check_fill(op: &'static str, data: &[f64], shape: &[usize]) -> Result<(), ShapeError> {
    let n = checked_numel(op, shape)?;
    if data.len() == n {
        Ok(())
    } else {
        Err(ShapeError::new(op, &[shape], format!("{} values cannot fill {n} elements", data.len())))
    }
}
