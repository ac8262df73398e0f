//! `masked_fill(mask, value)`: `value` where the constant 0/1 `mask` is 1,
//! the Var's own element elsewhere (PyTorch's `x.masked_fill(mask, value)`).
//! The mask broadcasts to the Var's shape (a `[T, T]` causal mask over
//! `[B, T, T]` attention scores).
//!
//! Built on `where_`: the fill is a constant, so the filled elements get
//! no gradient and the others the upstream unchanged; `where_` adds
//! nothing at all for the unchosen branch, so filling with `-inf` before a
//! softmax leaves exact zeros in its output and no NaN in any gradient.

use crate::tape::Var;
use crate::tensor::{ShapeError, Tensor, broadcast_shape, for_each_broadcast};

impl<'t> Var<'t> {
    /// `value` where `mask` is 1, `self` where it is 0; `mask` holds only
    /// 0 and 1 and broadcasts to `self`'s shape. `value` may be infinite:
    /// `scores.masked_fill(&causal, f64::NEG_INFINITY).softmax(-1)` gives
    /// each masked position probability exactly 0.
    ///
    /// # Panics
    /// As [`Var::try_masked_fill`] errs.
    ///
    /// ```
    /// use tapegrad::{Tape, Tensor};
    /// let tape = Tape::new();
    /// let s = tape.var(Tensor::zeros(&[2, 2]));
    /// let future = Tensor::from_vec(vec![0.0, 1.0, 0.0, 0.0], &[2, 2]); // above the diagonal
    /// let p = s.masked_fill(&future, f64::NEG_INFINITY).softmax(-1);
    /// assert_eq!(p.value().data(), &[1.0, 0.0, 0.5, 0.5]);
    /// ```
    pub fn masked_fill(self, mask: &Tensor, value: f64) -> Var<'t> {
        self.try_masked_fill(mask, value).unwrap_or_else(|e| panic!("{e}"))
    }

    /// Like [`Var::masked_fill`], but a mask that does not broadcast to
    /// `self`'s shape (without enlarging it) or holds anything but 0 and 1
    /// is an error naming the shapes.
    ///
    /// ```
    /// use tapegrad::{Tape, Tensor};
    /// let tape = Tape::new();
    /// let x = tape.var(Tensor::zeros(&[2, 3]));
    /// let e = x.try_masked_fill(&Tensor::ones(&[2]), 0.0).unwrap_err();
    /// assert!(e.to_string().starts_with("masked_fill: shapes [2, 3] and [2]"), "{e}");
    /// ```
    pub fn try_masked_fill(self, mask: &Tensor, value: f64) -> Result<Var<'t>, ShapeError> {
        let shape = self.shape();
        let err = |reason: String| ShapeError::new("masked_fill", &[&shape, mask.shape()], reason);
        if broadcast_shape("masked_fill", &shape, mask.shape())? != shape {
            return Err(err("the mask must broadcast to the Var's shape without enlarging it".into()));
        }
        if let Some(bad) = mask.data().iter().find(|&&m| m != 0.0 && m != 1.0) {
            return Err(err(format!("the mask holds {bad}; it must hold only 0 and 1")));
        }
        let mut full = Tensor::zeros(&shape);
        let m = mask.data();
        let out = full.data_mut();
        for_each_broadcast(&shape, mask.shape(), &shape, |i, im, _| out[i] = m[im]);
        let fill = self.tape.try_constant_with(&shape, |v| v.fill(value))?;
        fill.try_where_(&full, self)
    }
}

#[cfg(test)]
mod tests {
    use crate::{Tape, Tensor};

    #[test]
    fn masked_fill_replaces_the_masked_elements_and_blocks_their_gradient() {
        let tape = Tape::new();
        let x = tape.var(Tensor::arange(1.0, 7.0, 1.0).reshape(&[2, 3]));
        let mask = Tensor::from_vec(vec![1.0, 0.0, 1.0], &[3]); // broadcast over rows
        let y = x.masked_fill(&mask, -5.0);
        assert_eq!(y.value().data(), &[-5.0, 2.0, -5.0, -5.0, 5.0, -5.0]);
        let w = tape.constant(Tensor::arange(10.0, 16.0, 1.0).reshape(&[2, 3]));
        assert_eq!((y * w).sum().backward().wrt(x).data(), &[0.0, 11.0, 0.0, 0.0, 14.0, 0.0]);
        let dx = Tensor::ones(&[2, 3]);
        assert_eq!(y.jvp(&[(x, &dx)]).unwrap().data(), &[0.0, 1.0, 0.0, 0.0, 1.0, 0.0]);
    }

    /// A causal mask with -inf before softmax: exact zeros, and the
    /// gradient (first and second order) has no NaN.
    #[test]
    fn minus_infinity_before_softmax_gives_exact_zeros_and_finite_gradients() {
        let tape = Tape::new();
        let s = tape.var(Tensor::from_vec((0..9).map(|i| (i as f64).sin()).collect(), &[3, 3]));
        let causal = Tensor::from_vec(vec![0., 1., 1., 0., 0., 1., 0., 0., 0.], &[3, 3]);
        let p = s.masked_fill(&causal, f64::NEG_INFINITY).softmax(-1);
        let pv = p.value();
        for (i, &m) in causal.data().iter().enumerate() {
            if m == 1.0 {
                assert_eq!(pv.data()[i], 0.0);
            }
        }
        assert_eq!(pv.data()[0], 1.0);
        let w = tape.constant(Tensor::from_vec((0..9).map(|i| i as f64).collect(), &[3, 3]));
        let loss = (p * w).sum();
        let g = loss.backward().wrt(s);
        assert!(g.data().iter().all(|v| v.is_finite()), "{g:?}");
        for (i, &m) in causal.data().iter().enumerate() {
            if m == 1.0 {
                assert_eq!(g.data()[i], 0.0);
            }
        }
        let h = crate::func::hvp(
            |_, v| {
                let w = v[0].tape().constant(Tensor::from_vec((0..9).map(|i| i as f64).collect(), &[3, 3]));
                (v[0].masked_fill(&causal, f64::NEG_INFINITY).softmax(-1) * w).sum()
            },
            &[s.value()],
            &[Tensor::ones(&[3, 3])],
        )
        .unwrap();
        assert!(h[0].data().iter().all(|v| v.is_finite()), "{h:?}");
    }
}
