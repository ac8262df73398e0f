//! Linear regression (the notes' chapter 1): a design matrix whose first
//! column of ones carries the bias, the normal equation solved by Cholesky
//! (never by forming an inverse), and batch / mini-batch / stochastic
//! gradient descent driven by the tape.
//!
//! ```
//! use tapegrad::Tensor;
//! use tapegrad::data::Batching;
//! use tapegrad::notes::linreg::{design_matrix, fit_gd, normal_equation, GdOptions};
//!
//! // y = 1 + 2x exactly
//! let x = Tensor::from_vec(vec![0.0, 1.0, 2.0, 3.0], &[4]);
//! let y = Tensor::from_vec(vec![1.0, 3.0, 5.0, 7.0], &[4]);
//! let xd = design_matrix(&x).unwrap();
//! let theta = normal_equation(&xd, &y).unwrap();
//! assert!((theta[0] - 1.0).abs() < 1e-12 && (theta[1] - 2.0).abs() < 1e-12);
//! let fit = fit_gd(&xd, &y, &GdOptions { batching: Batching::Full, lr: 0.1, epochs: 2000, seed: 0 }).unwrap();
//! assert!((fit.theta[0] - 1.0).abs() < 1e-8 && (fit.theta[1] - 2.0).abs() < 1e-8);
//! ```

mod cholesky;

use crate::data::{Batches, Batching};
use crate::loss;
use crate::optim::{OptimError, Optimizer, Sgd, SgdConfig};
use crate::tape::Tape;
use crate::tensor::{MatRef, Tensor, gemm};
use std::fmt;

/// What can go wrong in a regression.
///
/// ```
/// use tapegrad::Tensor;
/// use tapegrad::notes::linreg::normal_equation;
/// // the third column is the sum of the first two
/// let x = Tensor::from_vec(vec![1.0, 0.0, 1.0, 1.0, 1.0, 2.0, 1.0, 2.0, 3.0], &[3, 3]);
/// let e = normal_equation(&x, &Tensor::ones(&[3])).unwrap_err();
/// assert!(e.to_string().contains("rank-deficient"));
/// ```
#[derive(Clone, Debug, PartialEq)]
pub enum LinRegError {
    /// Inputs of the wrong shape.
    Shape(String),
    /// `X^T X` is singular: some column of X is a linear combination of the
    /// columns before it (or there are fewer samples than columns).
    RankDeficient {
        /// The first column found to be dependent (0 is the bias column).
        column: usize,
        /// Rows and columns of X.
        rows: usize,
        /// Columns of X.
        cols: usize,
        /// The vanished Cholesky pivot.
        pivot: f64,
        /// The largest diagonal entry of `X^T X`.
        scale: f64,
    },
    /// The optimizer refused its hyperparameters (e.g. a negative `lr`).
    Optim(OptimError),
    /// A value that no regression can use: a NaN or infinity in X or y, or
    /// a ridge `lambda` that is negative or not finite. Named before any
    /// solving, so it is not misreported as a rank-deficient X.
    InvalidInput(String),
}

impl From<OptimError> for LinRegError {
    fn from(e: OptimError) -> Self {
        LinRegError::Optim(e)
    }
}

impl fmt::Display for LinRegError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LinRegError::Shape(s) => write!(f, "{s}"),
            LinRegError::Optim(e) => write!(f, "fit_gd: {e}"),
            LinRegError::InvalidInput(s) => write!(f, "{s}"),
            LinRegError::RankDeficient { column, rows, cols, pivot, scale } => {
                write!(
                    f,
                    "normal equation: X^T X is singular (X is rank-deficient, {rows} x {cols}): column {column} \
                     of X is (numerically) a combination of the columns before it (Cholesky pivot {pivot:.3e} \
                     against a largest diagonal of {scale:.3e})"
                )?;
                if rows < cols {
                    write!(f, "; there are fewer samples than columns")?;
                }
                write!(f, "; drop or merge dependent features, or add an L2 penalty (ridge)")
            }
        }
    }
}

impl std::error::Error for LinRegError {}

/// The design matrix: `x` (`[n]` for one feature or `[n, d]`) with a
/// leading column of ones, `[n, d + 1]`, so that `theta[0]` is the bias.
///
/// ```
/// use tapegrad::{Tensor, notes::linreg::design_matrix};
/// let xd = design_matrix(&Tensor::from_vec(vec![2.0, 3.0], &[2])).unwrap();
/// assert_eq!((xd.shape(), xd.data()), (&[2, 2][..], &[1.0, 2.0, 1.0, 3.0][..]));
/// ```
pub fn design_matrix(x: &Tensor) -> Result<Tensor, LinRegError> {
    let (n, d) = match x.shape() {
        [n] => (*n, 1),
        [n, d] => (*n, *d),
        s => return Err(LinRegError::Shape(format!("design_matrix: x has shape {s:?}; expected [n] or [n, d]"))),
    };
    if d == 0 {
        return Ok(Tensor::ones(&[n, 1]));
    }
    let mut data = Vec::with_capacity(n * (d + 1));
    for row in x.data().chunks(d) {
        data.push(1.0);
        data.extend_from_slice(row);
    }
    Ok(Tensor::from_vec(data, &[n, d + 1]))
}

/// Checks `x` is `[n, m]` and `y` holds `n` targets (`[n]` or `[n, 1]`),
/// with at least one sample: with none, the normal equation is `0 = 0` and
/// gradient descent's mean loss is `0 / 0`, so every regression refuses it
/// with the same message.
fn check_xy(op: &str, x: &Tensor, y: &Tensor) -> Result<(usize, usize), LinRegError> {
    let bad = || {
        LinRegError::Shape(format!("{op}: X has shape {:?} and y {:?}; expected [n, m] and [n]", x.shape(), y.shape()))
    };
    match x.shape() {
        [0, _] if y.is_empty() => {
            Err(LinRegError::Shape(format!("{op}: X has shape {:?}: no samples to fit", x.shape())))
        }
        [n, m] if y.len() == *n && y.shape().iter().filter(|&&s| s != 1).count() <= 1 => Ok((*n, *m)),
        _ => Err(bad()),
    }
}

/// The first element of `t` that is NaN or infinite, as an error naming
/// `what` and its position.
fn check_finite(op: &str, what: &str, t: &Tensor) -> Result<(), LinRegError> {
    match t.data().iter().position(|v| !v.is_finite()) {
        None => Ok(()),
        Some(i) => Err(LinRegError::InvalidInput(format!(
            "{op}: {what} holds {} at element {i} (shape {:?}); a regression needs finite data",
            t.data()[i],
            t.shape()
        ))),
    }
}

/// Solves `(X^T X + penalty) theta = X^T y` by Cholesky; `diag_add[j]` is
/// added to the diagonal.
fn solve_normal(op: &str, x: &Tensor, y: &Tensor, diag_add: impl Fn(usize) -> f64) -> Result<Vec<f64>, LinRegError> {
    let (n, m) = check_xy(op, x, y)?;
    check_finite(op, "X", x)?;
    check_finite(op, "y", y)?;
    let mut xtx = vec![0.0; m * m];
    gemm(1.0, x.as_mat().t(), x.as_mat(), 0.0, &mut xtx);
    let mut xty = vec![0.0; m];
    gemm(1.0, x.as_mat().t(), MatRef::row_major(y.data(), n, 1), 0.0, &mut xty);
    for j in 0..m {
        xtx[j * m + j] += diag_add(j);
    }
    cholesky::cholesky_solve(&xtx, m, &xty).map_err(|e| LinRegError::RankDeficient {
        column: e.column,
        rows: n,
        cols: m,
        pivot: e.pivot,
        scale: e.scale,
    })
}

/// The least-squares `theta` (`[m]`) of the design matrix `x` (`[n, m]`)
/// against targets `y`: the normal equation `X^T X theta = X^T y`, solved
/// by Cholesky. A rank-deficient `X` is an error naming the first dependent
/// column, not a NaN; so are no samples (`n = 0`) and a NaN or infinity in
/// `X` or `y` ([`LinRegError::InvalidInput`], named as such).
///
/// ```
/// use tapegrad::{Tensor, notes::linreg::normal_equation};
/// // an exactly determined system: theta = [2, -1]
/// let x = Tensor::from_vec(vec![1.0, 1.0, 1.0, 3.0], &[2, 2]);
/// let theta = normal_equation(&x, &Tensor::from_vec(vec![1.0, -1.0], &[2])).unwrap();
/// assert!((theta[0] - 2.0).abs() < 1e-12 && (theta[1] + 1.0).abs() < 1e-12);
/// ```
pub fn normal_equation(x: &Tensor, y: &Tensor) -> Result<Vec<f64>, LinRegError> {
    solve_normal("normal_equation", x, y, |_| 0.0)
}

/// Ridge regression: the minimiser of the notes' loss plus an L2 penalty on
/// every weight but the bias (column 0),
/// `sum((X theta - y)^2) / (2N) + lambda / 2 * sum_{j >= 1} theta_j^2`,
/// i.e. `(X^T X + N lambda I') theta = X^T y` with `I'` the identity
/// without its first entry. `lambda = 0` is [`normal_equation`]; a
/// negative or non-finite `lambda` is [`LinRegError::InvalidInput`].
///
/// ```
/// use tapegrad::{Tensor, notes::linreg::ridge};
/// let x = Tensor::from_vec(vec![1.0, -1.0, 1.0, 1.0], &[2, 2]);
/// let y = Tensor::from_vec(vec![0.0, 2.0], &[2]);
/// // without penalty theta = [1, 1]; with it the slope shrinks: (2 + 2 * 1) w = 2
/// let theta = ridge(&x, &y, 1.0).unwrap();
/// assert!((theta[0] - 1.0).abs() < 1e-12 && (theta[1] - 0.5).abs() < 1e-12);
/// ```
pub fn ridge(x: &Tensor, y: &Tensor, lambda: f64) -> Result<Vec<f64>, LinRegError> {
    // A negative lambda can make the system indefinite and a NaN poisons
    // it; either would surface as a misleading "rank-deficient X".
    if !(lambda.is_finite() && lambda >= 0.0) {
        return Err(LinRegError::InvalidInput(format!("ridge: lambda must be finite and >= 0, got {lambda}")));
    }
    let n = x.shape().first().copied().unwrap_or(0) as f64;
    solve_normal("ridge", x, y, |j| if j == 0 { 0.0 } else { n * lambda })
}

/// Settings of [`fit_gd`].
///
/// ```
/// use tapegrad::{data::Batching, notes::linreg::GdOptions};
/// let o = GdOptions { batching: Batching::MiniBatch(16), lr: 0.05, epochs: 100, seed: 42 };
/// assert_eq!(o.epochs, 100);
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct GdOptions {
    /// Samples per update: batch, mini-batch or stochastic.
    pub batching: Batching,
    /// Learning rate of plain SGD.
    pub lr: f64,
    /// Passes over the data.
    pub epochs: usize,
    /// Seed of the per-epoch shuffling.
    pub seed: u64,
}

/// What [`fit_gd`] found.
///
/// ```
/// use tapegrad::{Tensor, data::Batching, notes::linreg::{fit_gd, GdOptions}};
/// let x = Tensor::from_vec(vec![1.0, 0.0, 1.0, 1.0], &[2, 2]);
/// let fit = fit_gd(&x, &Tensor::ones(&[2]), &GdOptions { batching: Batching::Full, lr: 0.5, epochs: 3, seed: 0 }).unwrap();
/// assert_eq!(fit.losses.len(), 4); // before training, then after each epoch
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct GdFit {
    /// The parameters after the last epoch.
    pub theta: Vec<f64>,
    /// The full-data loss `sum((X theta - y)^2) / (2N)` before training
    /// (index 0) and after each epoch.
    pub losses: Vec<f64>,
}

/// Gradient descent on the notes' loss `sum((X theta - y)^2) / (2N)` from
/// `theta = 0`: each batch's loss is recorded on a tape
/// (`loss::mse_half`), its gradient comes from `backward`, and [`Sgd`]
/// takes the step. One tape is reused (cleared) for every update.
/// No samples is an error, the same as [`normal_equation`]'s; a NaN in the
/// data is not checked here and shows in `losses` and `theta`.
///
/// ```
/// use tapegrad::{Tensor, data::Batching, notes::linreg::{fit_gd, GdOptions}};
/// let x = Tensor::from_vec(vec![1.0, 0.0, 1.0, 1.0, 1.0, 2.0], &[3, 2]);
/// let y = Tensor::from_vec(vec![1.0, 2.0, 3.0], &[3]);
/// let fit = fit_gd(&x, &y, &GdOptions { batching: Batching::Stochastic, lr: 0.1, epochs: 300, seed: 1 }).unwrap();
/// assert!((fit.theta[1] - 1.0).abs() < 1e-3);
/// ```
pub fn fit_gd(x: &Tensor, y: &Tensor, options: &GdOptions) -> Result<GdFit, LinRegError> {
    let (n, m) = check_xy("fit_gd", x, y)?;
    let mut opt = Sgd::new(SgdConfig { lr: options.lr, ..Default::default() })?;
    let mut theta = vec![0.0; m];
    let mut batches = Batches::new(n, options.batching, options.seed);
    let mut tape = Tape::new();
    let mut losses = vec![full_loss(&mut tape, x, y, &theta)];
    let y_column = y.reshape(&[n, 1]);
    for _ in 0..options.epochs {
        for batch in batches.epoch() {
            tape.clear();
            let xv = tape.constant(x.select_rows(batch));
            let yv = tape.constant(y_column.select_rows(batch));
            let tv = tape.var_from_slice(&theta, &[m, 1]);
            let grads = loss::mse_half(xv.matmul(tv), yv).backward();
            grads.with_grad(tv, |g| opt.update("theta", &mut theta, g.expect("theta reaches the loss")))?;
        }
        losses.push(full_loss(&mut tape, x, y, &theta));
    }
    Ok(GdFit { theta, losses })
}

/// The notes' loss over all samples, `sum((X theta - y)^2) / (2N)`.
fn full_loss(tape: &mut Tape, x: &Tensor, y: &Tensor, theta: &[f64]) -> f64 {
    tape.clear();
    let xv = tape.constant(x);
    let yv = tape.constant_from_slice(y.data(), &[y.len(), 1]);
    let tv = tape.constant_from_slice(theta, &[theta.len(), 1]);
    loss::mse_half(xv.matmul(tv), yv).item()
}
