//! `unsqueeze(axis)` and `squeeze(axis)`: insert or remove an axis of
//! extent 1 (PyTorch's names). Neither moves an element, so both are
//! recorded as a `reshape` node: its forward, tangent, backward and
//! differentiable backward (`layout.rs`) are theirs, and the tape shows
//! the plain truth, a reshape.

use crate::tape::Var;
use crate::tensor::{Axis, ShapeError, resolve_axis, resolve_new_axis};

impl<'t> Var<'t> {
    /// A new axis of extent 1 at position `axis` (PyTorch's
    /// `x.unsqueeze(dim)`); `-1` puts it last. `[B, T]` to `[B, 1, T]` with
    /// `unsqueeze(1)`, ready to broadcast against `[B, T, T]`.
    ///
    /// # Panics
    /// As [`Var::try_unsqueeze`] errs.
    ///
    /// ```
    /// let tape = tapegrad::Tape::new();
    /// let x = tape.var(tapegrad::Tensor::zeros(&[2, 3]));
    /// assert_eq!(x.unsqueeze(1).shape().as_slice(), &[2, 1, 3]);
    /// assert_eq!(x.unsqueeze(-1).shape().as_slice(), &[2, 3, 1]);
    /// ```
    pub fn unsqueeze(self, axis: impl Axis) -> Var<'t> {
        self.try_unsqueeze(axis).unwrap_or_else(|e| panic!("{e}"))
    }

    /// Like [`Var::unsqueeze`], but an axis outside `-(rank + 1)..=rank`
    /// is an error.
    ///
    /// ```
    /// let tape = tapegrad::Tape::new();
    /// let e = tape.var(tapegrad::Tensor::zeros(&[2])).try_unsqueeze(3).unwrap_err();
    /// assert_eq!(e.to_string(), "unsqueeze: shape [2]: axis 3 is out of range for a new axis of 1 dimensions");
    /// ```
    pub fn try_unsqueeze(self, axis: impl Axis) -> Result<Var<'t>, ShapeError> {
        let mut shape = self.shape();
        let axis = resolve_new_axis("unsqueeze", &shape, axis)?;
        shape.insert(axis, 1);
        self.try_reshape(&shape)
    }

    /// Removes axis `axis`, which must have extent 1 (PyTorch's
    /// `x.squeeze(dim)`).
    ///
    /// Unlike PyTorch, which returns the Var unchanged when the axis is not
    /// of extent 1, that is an error here: a silent no-op would hide the
    /// shape bug that asked for it.
    ///
    /// # Panics
    /// As [`Var::try_squeeze`] errs.
    ///
    /// ```
    /// let tape = tapegrad::Tape::new();
    /// let x = tape.var(tapegrad::Tensor::zeros(&[2, 1, 3]));
    /// assert_eq!(x.squeeze(1).shape().as_slice(), &[2, 3]);
    /// assert_eq!(x.squeeze(-2).shape().as_slice(), &[2, 3]);
    /// ```
    pub fn squeeze(self, axis: impl Axis) -> Var<'t> {
        self.try_squeeze(axis).unwrap_or_else(|e| panic!("{e}"))
    }

    /// Like [`Var::squeeze`], but an axis out of range or of an extent
    /// other than 1 is an error.
    ///
    /// ```
    /// let tape = tapegrad::Tape::new();
    /// let e = tape.var(tapegrad::Tensor::zeros(&[2, 3])).try_squeeze(-1).unwrap_err();
    /// assert_eq!(e.to_string(), "squeeze: shape [2, 3]: axis 1 has extent 3, not 1");
    /// ```
    pub fn try_squeeze(self, axis: impl Axis) -> Result<Var<'t>, ShapeError> {
        let mut shape = self.shape();
        let axis = resolve_axis("squeeze", &shape, axis)?;
        if shape[axis] != 1 {
            return Err(ShapeError::new(
                "squeeze",
                &[&shape],
                format!("axis {axis} has extent {}, not 1", shape[axis]),
            ));
        }
        shape.remove(axis);
        self.try_reshape(&shape)
    }
}

#[cfg(test)]
mod tests {
    use crate::{Tape, Tensor};

    #[test]
    fn squeeze_and_unsqueeze_keep_the_elements_and_their_gradients() {
        let tape = Tape::new();
        let x = tape.var(Tensor::arange(1.0, 7.0, 1.0).reshape(&[2, 3]));
        let u = x.unsqueeze(0);
        assert_eq!((u.shape().as_slice(), u.value().data()), (&[1, 2, 3][..], x.value().data()));
        let s = u.squeeze(0);
        assert_eq!(s.shape().as_slice(), &[2, 3]);
        // Broadcast a [2, 1, 3] against [2, 2, 3]: d sum(w * x)/dx sums w over the new axis.
        let w = tape.constant(Tensor::arange(0.0, 12.0, 1.0).reshape(&[2, 2, 3]));
        let g = (x.unsqueeze(1) * w).sum().backward().wrt(x);
        assert_eq!(g.data(), &[3.0, 5.0, 7.0, 15.0, 17.0, 19.0]);
        let dx = Tensor::arange(10.0, 16.0, 1.0).reshape(&[2, 3]);
        assert_eq!(s.jvp(&[(x, &dx)]).unwrap().data(), dx.data());
        assert_eq!(tape.scalar(3.0).unsqueeze(-1).shape().as_slice(), &[1]);
    }
}
