//! `dropout(p, training, rng)`: in training, each element is zeroed with
//! probability `p` and the survivors scaled by `1 / (1 - p)` ("inverted"
//! dropout, PyTorch's), so the expected value is unchanged and evaluation
//! needs no rescaling; out of training it is the identity.
//!
//! Recorded as `x * mask`, the mask a constant of 0s and `1 / (1 - p)`s
//! drawn from `rng`: its gradient is the mask (dropped elements get 0),
//! from the product's tested rules, and the same seed draws the same mask.

use crate::tape::Var;
use crate::tensor::ShapeError;
use rand::Rng;

impl<'t> Var<'t> {
    /// Inverted dropout: with `training`, each element is zeroed with
    /// probability `p` and the others multiplied by `1 / (1 - p)`; without
    /// it, `self` unchanged (no node). `p = 0` is the identity and `p = 1`
    /// zeroes everything (`x * 0`, so a NaN in `x` stays NaN: no op hides
    /// one). One draw from `rng` per element, in row-major order, so a
    /// seeded `rng` gives the same mask every run.
    ///
    /// # Panics
    /// As [`Var::try_dropout`] errs.
    ///
    /// ```
    /// use rand::SeedableRng;
    /// use tapegrad::{Tape, Tensor};
    /// let mut rng = rand_chacha::ChaCha12Rng::seed_from_u64(0);
    /// let tape = Tape::new();
    /// let x = tape.var(Tensor::ones(&[1000]));
    /// let y = x.dropout(0.25, true, &mut rng).value();
    /// assert!(y.data().iter().all(|&v| v == 0.0 || v == 1.0 / 0.75));
    /// assert!((y.data().iter().sum::<f64>() / 1000.0 - 1.0).abs() < 0.1); // the mean is kept
    /// assert_eq!(x.dropout(0.25, false, &mut rng).index(), x.index()); // evaluation: x itself
    /// ```
    pub fn dropout(self, p: f64, training: bool, rng: &mut impl Rng) -> Var<'t> {
        self.try_dropout(p, training, rng).unwrap_or_else(|e| panic!("{e}"))
    }

    /// Like [`Var::dropout`], but a `p` outside [0, 1] (or NaN) is an error.
    ///
    /// ```
    /// use rand::SeedableRng;
    /// let tape = tapegrad::Tape::new();
    /// let mut rng = rand_chacha::ChaCha12Rng::seed_from_u64(0);
    /// let e = tape.scalar(1.0).try_dropout(1.5, true, &mut rng).unwrap_err();
    /// assert_eq!(e.to_string(), "dropout: shape []: p = 1.5 is not a probability in [0, 1]");
    /// ```
    pub fn try_dropout(self, p: f64, training: bool, rng: &mut impl Rng) -> Result<Var<'t>, ShapeError> {
        let shape = self.shape();
        if !(0.0..=1.0).contains(&p) {
            return Err(ShapeError::new("dropout", &[&shape], format!("p = {p} is not a probability in [0, 1]")));
        }
        if !training || p == 0.0 {
            return Ok(self);
        }
        let keep = if p == 1.0 { 0.0 } else { 1.0 / (1.0 - p) };
        let mask = self.tape.try_constant_with(&shape, |mask| {
            for m in mask {
                *m = if rng.random::<f64>() < p { 0.0 } else { keep };
            }
        })?;
        Ok(self * mask)
    }
}

#[cfg(test)]
mod tests {
    use crate::{Tape, Tensor};
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha12Rng;

    #[test]
    fn dropout_draws_its_mask_from_the_seed_and_scales_the_survivors() {
        let p = 0.4;
        let tape = Tape::new();
        let x = tape.var(Tensor::arange(1.0, 13.0, 1.0).reshape(&[3, 4]));
        let y = x.dropout(p, true, &mut ChaCha12Rng::seed_from_u64(5));
        // The same draws by hand: element i dropped when its uniform is < p.
        let mut rng = ChaCha12Rng::seed_from_u64(5);
        let g = (y * 2.0).sum().backward().wrt(x);
        for (i, (&yv, &gv)) in y.value().data().iter().zip(g.data()).enumerate() {
            let kept = rng.random::<f64>() >= p;
            let scale = if kept { 1.0 / (1.0 - p) } else { 0.0 };
            assert_eq!(yv, (i + 1) as f64 * scale, "y[{i}]");
            assert_eq!(gv, 2.0 * scale, "dx[{i}]");
        }
        // Reproducible: the same seed, the same output.
        assert_eq!(x.dropout(p, true, &mut ChaCha12Rng::seed_from_u64(5)).value(), y.value());
    }

    #[test]
    fn dropout_edges() {
        let tape = Tape::new();
        let mut rng = ChaCha12Rng::seed_from_u64(0);
        let x = tape.var(Tensor::from_vec(vec![1.0, f64::NAN, -2.0], &[3]));
        assert_eq!(x.dropout(0.0, true, &mut rng).index(), x.index());
        let z = x.dropout(1.0, true, &mut rng).value();
        assert_eq!((z.data()[0], z.data()[2]), (0.0, 0.0));
        assert!(z.data()[1].is_nan()); // not hidden
        for bad in [-0.1, 1.1, f64::NAN] {
            assert!(x.try_dropout(bad, false, &mut rng).is_err(), "{bad}");
        }
    }
}
