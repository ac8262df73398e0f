//! `layer_norm(eps)`: each lane of the last axis normalised to mean 0 and
//! variance 1, `y = (x - mean) / sqrt(var + eps)` with the biased variance
//! (divided by `n`, not `n - 1`), PyTorch's `F.layer_norm(x, [n])` without
//! the affine part (that is [`nn::LayerNorm`](crate::nn::LayerNorm)'s).
//!
//! A composition, not an op of its own: `mean_axis`, `-`, `square`,
//! `mean_axis`, `+ eps`, `sqrt`, `/`, six nodes whose rules are already
//! tested, so its gradient, tangent and differentiable backward come for
//! free and the tape shows every step. Numerically it is the two-pass
//! formula (centre, then square), which does not lose the variance to
//! cancellation as `mean(x^2) - mean(x)^2` does.
//!
//! Edges: a lane whose spread is past ~1e154 overflows its variance to
//! `inf` and normalises to 0 (and NaN at an infinite element), as
//! PyTorch's in f64; a constant lane normalises to 0, with `eps` keeping
//! the division finite.

use crate::tape::Var;
use crate::tensor::ShapeError;

/// PyTorch's default `eps` for `LayerNorm`.
pub const LAYER_NORM_EPS: f64 = 1e-5;

impl<'t> Var<'t> {
    /// Normalises each lane of the last axis to mean 0 and variance 1:
    /// `(x - mean) / sqrt(var + eps)`, the variance biased (PyTorch's;
    /// its default `eps` is [`LAYER_NORM_EPS`], 1e-5).
    ///
    /// # Panics
    /// As [`Var::try_layer_norm`] errs.
    ///
    /// ```
    /// use tapegrad::{Tape, Tensor};
    /// let tape = Tape::new();
    /// let x = tape.var(Tensor::from_vec(vec![1.0, 3.0, 10.0, 10.0], &[2, 2]));
    /// let y = x.layer_norm(0.0).value(); // mean 2, variance 1; a constant row
    /// assert_eq!(y.data()[..2], [-1.0, 1.0]);
    /// assert!(y.data()[2].is_nan()); // 0 / 0 with eps = 0: use eps > 0
    /// ```
    pub fn layer_norm(self, eps: f64) -> Var<'t> {
        self.try_layer_norm(eps).unwrap_or_else(|e| panic!("{e}"))
    }

    /// Like [`Var::layer_norm`], but a 0-d Var (no last axis), an empty
    /// last axis, or a negative or NaN `eps` is an error.
    ///
    /// ```
    /// let tape = tapegrad::Tape::new();
    /// let e = tape.scalar(1.0).try_layer_norm(1e-5).unwrap_err();
    /// assert_eq!(e.to_string(), "layer_norm: shape []: needs a last axis to normalise over");
    /// ```
    pub fn try_layer_norm(self, eps: f64) -> Result<Var<'t>, ShapeError> {
        let shape = self.shape();
        let err = |reason: String| ShapeError::new("layer_norm", &[&shape], reason);
        match shape.last() {
            None => return Err(err("needs a last axis to normalise over".into())),
            Some(0) => return Err(err("the last axis is empty".into())),
            Some(_) => {}
        }
        if eps.is_nan() || eps < 0.0 {
            return Err(err(format!("eps = {eps} must be >= 0")));
        }
        let centred = self - self.mean_axis(-1, true);
        let var = centred.square().mean_axis(-1, true);
        Ok(centred / (var + eps).sqrt())
    }
}

#[cfg(test)]
mod tests {
    use crate::{Tape, Tensor};

    /// Against the formula in loops: value and the closed-form gradient
    /// `dx = (g - mean(g) - y mean(g y)) / sqrt(var + eps)` per row.
    #[test]
    fn layer_norm_matches_the_formula_in_loops() {
        let (rows, n, eps) = (3, 4, 1e-5);
        let xs: Vec<f64> = (0..rows * n).map(|i| ((i * 37 % 13) as f64 - 6.0) * 0.3).collect();
        let gs: Vec<f64> = (0..rows * n).map(|i| ((i * 5 % 7) as f64) - 3.0).collect();
        let tape = Tape::new();
        let x = tape.var(Tensor::from_vec(xs.clone(), &[rows, n]));
        let y = x.layer_norm(eps);
        let g = (y * tape.constant(Tensor::from_vec(gs.clone(), &[rows, n]))).sum().backward().wrt(x);
        for r in 0..rows {
            let row = &xs[r * n..(r + 1) * n];
            let gr = &gs[r * n..(r + 1) * n];
            let mean = row.iter().sum::<f64>() / n as f64;
            let var = row.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / n as f64;
            let sd = (var + eps).sqrt();
            let yr: Vec<f64> = row.iter().map(|v| (v - mean) / sd).collect();
            let mg = gr.iter().sum::<f64>() / n as f64;
            let mgy = gr.iter().zip(&yr).map(|(a, b)| a * b).sum::<f64>() / n as f64;
            for k in 0..n {
                let i = r * n + k;
                assert!((y.value().data()[i] - yr[k]).abs() < 1e-14, "y[{i}]");
                let want = (gr[k] - mg - yr[k] * mgy) / sd;
                assert!((g.data()[i] - want).abs() < 1e-12, "dx[{i}]: {} vs {want}", g.data()[i]);
            }
        }
    }
}
