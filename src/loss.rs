//! Loss functions, each written with the tape's ops so its gradient comes
//! from the same backward rules as everything else.
//!
//! | loss | formula | used in |
//! |---|---|---|
//! | [`mse`] | `mean((p - t)^2)` | PyTorch's `MSELoss` |
//! | [`mse_half`] | `sum((p - t)^2) / (2N)` | the notes' linear regression (chapter 1) |
//! | [`sse_half`] | `0.5 * sum((p - t)^2)` | the notes' per-sample error (chapter 4) |
//! | [`cross_entropy`] | `-mean(log_softmax(z)[i, t_i])` | classification from logits |
//! | [`binary_cross_entropy`] | `-(y ln p + (1-y) ln(1-p))`, logs >= -100 | PyTorch's `BCELoss` |
//! | [`binary_cross_entropy_with_logits`] | `softplus(z) - y z` | PyTorch's `BCEWithLogitsLoss` |
//! | [`hinge`] | `mean(relu(1 - y * s))` | micrograd's max-margin demo |
//! | [`l2`] | `sum of w^2` over parameters | regularization |
//!
//! The binary cross-entropies take PyTorch's [`Reduction`] (mean, sum or
//! none); the older losses are means, as their PyTorch defaults.

use crate::tape::Var;
use crate::tensor::ShapeError;

/// Mean squared error, `mean((pred - target)^2)`.
///
/// # Panics
/// If `target` does not broadcast to the shape of `pred` (without enlarging it).
///
/// ```
/// use tapegrad::{Tape, Tensor, loss};
/// let tape = Tape::new();
/// let p = tape.var(Tensor::from_vec(vec![1.0, 3.0], &[2]));
/// let t = tape.constant(Tensor::from_vec(vec![0.0, 1.0], &[2]));
/// assert_eq!(loss::mse(p, t).item(), 2.5);
/// ```
pub fn mse<'t>(pred: Var<'t>, target: Var<'t>) -> Var<'t> {
    try_mse(pred, target).unwrap_or_else(|e| panic!("{e}"))
}

/// Like [`mse`], but a target that does not fit (or is on another tape) is
/// an error.
///
/// ```
/// use tapegrad::{Tape, Tensor, loss};
/// let tape = Tape::new();
/// let p = tape.var(Tensor::zeros(&[2]));
/// let e = loss::try_mse(p, tape.constant(Tensor::zeros(&[3]))).unwrap_err();
/// assert!(e.to_string().starts_with("mse: shapes [2] and [3]"));
/// ```
pub fn try_mse<'t>(pred: Var<'t>, target: Var<'t>) -> Result<Var<'t>, ShapeError> {
    Ok(residual("mse", pred, target)?.square().mean())
}

/// The notes' regression loss, `sum((pred - target)^2) / (2N)`: the 1/2
/// cancels the 2 of the derivative, and does not move the minimiser.
/// Shapes are checked as in [`mse`].
///
/// ```
/// use tapegrad::{Tape, Tensor, loss};
/// let tape = Tape::new();
/// let p = tape.var(Tensor::from_vec(vec![1.0, 3.0], &[2]));
/// let t = tape.constant(Tensor::from_vec(vec![0.0, 1.0], &[2]));
/// assert_eq!(loss::mse_half(p, t).item(), 1.25);
/// ```
pub fn mse_half<'t>(pred: Var<'t>, target: Var<'t>) -> Var<'t> {
    try_mse_half(pred, target).unwrap_or_else(|e| panic!("{e}"))
}

/// Like [`mse_half`], but a target that does not fit is an error.
///
/// ```
/// use tapegrad::{Tape, Tensor, loss};
/// let tape = Tape::new();
/// let p = tape.var(Tensor::zeros(&[2, 1]));
/// assert!(loss::try_mse_half(p, tape.constant(Tensor::zeros(&[2]))).is_err()); // would be [2, 2]
/// ```
pub fn try_mse_half<'t>(pred: Var<'t>, target: Var<'t>) -> Result<Var<'t>, ShapeError> {
    Ok(0.5 * residual("mse_half", pred, target)?.square().mean())
}

/// The notes' per-sample error, `0.5 * sum((pred - target)^2)`, whose
/// gradient with respect to `pred` is `pred - target` (the output delta).
/// Shapes are checked as in [`mse`].
///
/// ```
/// use tapegrad::{Tape, Tensor, loss};
/// let tape = Tape::new();
/// let p = tape.var(Tensor::from_vec(vec![1.0, 3.0], &[2]));
/// let t = tape.constant(Tensor::from_vec(vec![0.0, 1.0], &[2]));
/// let e = loss::sse_half(p, t);
/// assert_eq!(e.item(), 2.5);
/// assert_eq!(e.backward().wrt(p).data(), &[1.0, 2.0]);
/// ```
pub fn sse_half<'t>(pred: Var<'t>, target: Var<'t>) -> Var<'t> {
    try_sse_half(pred, target).unwrap_or_else(|e| panic!("{e}"))
}

/// Like [`sse_half`], but a target that does not fit is an error.
///
/// ```
/// use tapegrad::{Tape, Tensor, loss};
/// let tape = Tape::new();
/// let p = tape.var(Tensor::zeros(&[2]));
/// assert!(loss::try_sse_half(p, tape.constant(Tensor::zeros(&[3]))).is_err());
/// ```
pub fn try_sse_half<'t>(pred: Var<'t>, target: Var<'t>) -> Result<Var<'t>, ShapeError> {
    Ok(0.5 * residual("sse_half", pred, target)?.square().sum())
}

/// `pred - target`, after [`check_target`].
fn residual<'t>(op: &'static str, pred: Var<'t>, target: Var<'t>) -> Result<Var<'t>, ShapeError> {
    check_target(op, pred, target)?;
    Ok(pred - target)
}

/// A target may broadcast to the prediction's shape (a scalar, say) but
/// must not enlarge it: `[n, 1]` predictions against `[n]` targets would
/// silently compare every prediction with every target (an `[n, n]` loss).
/// Both must be on one tape.
fn check_target(op: &'static str, pred: Var<'_>, target: Var<'_>) -> Result<(), ShapeError> {
    pred.tape().try_same_tape(op, &[pred, target])?;
    // Read in place, in one borrow: a loss is recorded every training step,
    // and equal shapes (the usual case) need no broadcast worked out.
    pred.tape().with_shapes(pred.idx, target.idx, |p, t| {
        if crate::tensor::same_shape(p, t) {
            return Ok(());
        }
        let out = crate::tensor::broadcast_shape(op, p, t)?;
        if out.as_slice() != p {
            let reason =
                format!("the target would broadcast the prediction to {:?}; reshape one of them", out.as_slice());
            return Err(ShapeError::new(op, &[p, t], reason));
        }
        Ok(())
    })
}

/// Cross-entropy of `[n, c]` logits against class indices, through a stable
/// log-softmax: `-mean_i log_softmax(logits)[i, targets[i]]` (PyTorch's
/// `CrossEntropyLoss` with mean reduction).
///
/// # Panics
/// If `logits` is not 2-D, `targets` has the wrong length, or a class is
/// out of range (see [`try_cross_entropy`]).
///
/// ```
/// use tapegrad::{Tape, Tensor, loss};
/// let tape = Tape::new();
/// let z = tape.var(Tensor::zeros(&[2, 4]));
/// let l = loss::cross_entropy(z, &[1, 3]);
/// assert!((l.item() - 4f64.ln()).abs() < 1e-12);
/// ```
pub fn cross_entropy<'t>(logits: Var<'t>, targets: &[usize]) -> Var<'t> {
    try_cross_entropy(logits, targets).unwrap_or_else(|e| panic!("{e}"))
}

/// Like [`cross_entropy`], but bad shapes or classes are an error.
///
/// Edges: a non-target class at -inf (or so far below the rest that its
/// probability is 0) costs nothing, and a target at -inf costs +inf; an
/// empty batch gives NaN (the mean of nothing, as PyTorch's).
///
/// ```
/// use tapegrad::{Tape, Tensor, loss};
/// let tape = Tape::new();
/// let z = tape.var(Tensor::zeros(&[2, 4]));
/// let e = loss::try_cross_entropy(z, &[1, 4]).unwrap_err();
/// assert!(e.to_string().contains("class 4"));
/// ```
pub fn try_cross_entropy<'t>(logits: Var<'t>, targets: &[usize]) -> Result<Var<'t>, ShapeError> {
    let shape = logits.shape();
    let err = |reason: String| ShapeError::new("cross_entropy", &[&shape, &[targets.len()]], reason);
    if shape.len() != 2 {
        return Err(err("logits must be 2-D [batch, classes]".into()));
    }
    let (n, c) = (shape[0], shape[1]);
    if targets.len() != n {
        return Err(err(format!("{} targets for a batch of {n}", targets.len())));
    }
    if let Some(&bad) = targets.iter().find(|&&t| t >= c) {
        return Err(err(format!("class {bad} is out of range for {c} classes")));
    }
    // Pick the target's log-probability; multiplying by a one-hot instead
    // would make a non-target class at -inf cost `0 * -inf = NaN`.
    Ok(-logits.log_softmax().pick(targets).sum() / n as f64)
}

/// Max-margin (hinge) loss for labels `y` in {-1, +1}:
/// `mean(relu(1 - y * score))`, as in micrograd's demo.
///
/// # Panics
/// If `labels` does not broadcast to the shape of `scores` (without enlarging it).
///
/// ```
/// use tapegrad::{Tape, Tensor, loss};
/// let tape = Tape::new();
/// let s = tape.var(Tensor::from_vec(vec![2.0, 0.5], &[2]));
/// let y = tape.constant(Tensor::from_vec(vec![1.0, 1.0], &[2]));
/// assert_eq!(loss::hinge(s, y).item(), 0.25); // (0 + 0.5) / 2
/// ```
pub fn hinge<'t>(scores: Var<'t>, labels: Var<'t>) -> Var<'t> {
    try_hinge(scores, labels).unwrap_or_else(|e| panic!("{e}"))
}

/// Like [`hinge`], but labels that do not fit are an error.
///
/// ```
/// use tapegrad::{Tape, Tensor, loss};
/// let tape = Tape::new();
/// let s = tape.var(Tensor::zeros(&[2]));
/// assert!(loss::try_hinge(s, tape.constant(Tensor::ones(&[3]))).is_err());
/// ```
pub fn try_hinge<'t>(scores: Var<'t>, labels: Var<'t>) -> Result<Var<'t>, ShapeError> {
    check_target("hinge", scores, labels)?;
    Ok((1.0 - labels * scores).relu().mean())
}

/// The L2 penalty `sum over params of sum(w^2)`; multiply by lambda (or
/// lambda / 2) and add it to a loss.
///
/// # Panics
/// If `params` is empty.
///
/// ```
/// use tapegrad::{Tape, Tensor, loss};
/// let tape = Tape::new();
/// let w = tape.var(Tensor::from_vec(vec![1.0, 2.0], &[2]));
/// let b = tape.scalar(3.0);
/// assert_eq!(loss::l2(&[w, b]).item(), 14.0);
/// ```
pub fn l2<'t>(params: &[Var<'t>]) -> Var<'t> {
    try_l2(params).unwrap_or_else(|e| panic!("{e}"))
}

/// Like [`l2`], but no parameters, or parameters on different tapes, are
/// an error.
///
/// ```
/// let e = tapegrad::loss::try_l2(&[]).unwrap_err();
/// assert_eq!(e.to_string(), "l2: needs at least one parameter");
/// ```
pub fn try_l2<'t>(params: &[Var<'t>]) -> Result<Var<'t>, ShapeError> {
    let Some((first, rest)) = params.split_first() else {
        return Err(ShapeError::new("l2", &[], "needs at least one parameter"));
    };
    first.tape().try_same_tape("l2", params)?;
    Ok(rest.iter().fold(first.square().sum(), |acc, p| acc + p.square().sum()))
}

/// How a loss's per-element values become its result (PyTorch's
/// `reduction=` argument): their mean, their sum, or all of them.
///
/// ```
/// use tapegrad::{Tape, Tensor, loss::{self, Reduction}};
/// let tape = Tape::new();
/// let z = tape.var(Tensor::zeros(&[2]));
/// let y = tape.constant(Tensor::ones(&[2]));
/// let each = loss::binary_cross_entropy_with_logits(z, y, Reduction::None);
/// assert_eq!(each.shape().as_slice(), &[2]); // ln 2 per element
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Reduction {
    /// The mean over every element (PyTorch's default).
    #[default]
    Mean,
    /// The sum over every element.
    Sum,
    /// No reduction: one loss per element, shaped like the prediction.
    None,
}

impl Reduction {
    /// Applies the reduction to per-element losses.
    fn apply<'t>(self, each: Var<'t>) -> Var<'t> {
        match self {
            Reduction::Mean => each.mean(),
            Reduction::Sum => each.sum(),
            Reduction::None => each,
        }
    }
}

/// The smallest probability [`binary_cross_entropy`] takes the log of:
/// `e^-100`, so each log term is at least -100, PyTorch's clamp.
const BCE_FLOOR: f64 = 3.720075976020836e-44;

/// Binary cross-entropy of probabilities `p` against targets `y` in [0, 1]:
/// `-(y ln p + (1 - y) ln(1 - p))` per element, then `reduction` (PyTorch's
/// `binary_cross_entropy`). Prefer [`binary_cross_entropy_with_logits`] on
/// the logits: `p = sigmoid(z)` rounds to exactly 1 from `z = 37`, and the
/// information in `1 - p` is gone before this loss sees it.
///
/// Edges, as PyTorch: each log is clamped to at least -100, so `p = 0`
/// with `y = 1` costs 100, not infinity. Here the clamp is on the
/// probability (`ln(max(p, e^-100))`, and the same for `1 - p`), so the
/// gradient is finite as well: 0 below `e^-100` (PyTorch's, differently,
/// clamps the denominator of `(p - y) / (p (1 - p))` to 1e-12).
///
/// # Panics
/// If `y` does not broadcast to `p`'s shape without enlarging it.
///
/// ```
/// use tapegrad::{Tape, Tensor, loss::{self, Reduction}};
/// let tape = Tape::new();
/// let p = tape.var(Tensor::from_vec(vec![0.8, 0.0], &[2]));
/// let y = tape.constant(Tensor::from_vec(vec![1.0, 1.0], &[2]));
/// let l = loss::binary_cross_entropy(p, y, Reduction::None).value();
/// assert!((l.data()[0] + 0.8f64.ln()).abs() < 1e-15);
/// assert!((l.data()[1] - 100.0).abs() < 1e-12); // clamped, as PyTorch's
/// ```
pub fn binary_cross_entropy<'t>(p: Var<'t>, y: Var<'t>, reduction: Reduction) -> Var<'t> {
    try_binary_cross_entropy(p, y, reduction).unwrap_or_else(|e| panic!("{e}"))
}

/// Like [`binary_cross_entropy`], but targets that do not fit are an error.
///
/// ```
/// use tapegrad::{Tape, Tensor, loss::{self, Reduction}};
/// let tape = Tape::new();
/// let p = tape.var(Tensor::full(&[2], 0.5));
/// let e = loss::try_binary_cross_entropy(p, tape.constant(Tensor::ones(&[3])), Reduction::Mean).unwrap_err();
/// assert!(e.to_string().starts_with("binary_cross_entropy: shapes [2] and [3]"));
/// ```
pub fn try_binary_cross_entropy<'t>(p: Var<'t>, y: Var<'t>, reduction: Reduction) -> Result<Var<'t>, ShapeError> {
    check_target("binary_cross_entropy", p, y)?;
    let ln_p = p.clamp(BCE_FLOOR, f64::INFINITY).ln();
    let ln_q = (1.0 - p).clamp(BCE_FLOOR, f64::INFINITY).ln();
    Ok(reduction.apply(-(y * ln_p + (1.0 - y) * ln_q)))
}

/// Binary cross-entropy on logits `z` (`p = sigmoid(z)`) against targets
/// `y` in [0, 1], written in the stable form
/// `softplus(z) - y z = max(z, 0) - y z + ln(1 + e^-|z|)` (PyTorch's
/// `binary_cross_entropy_with_logits`): no `exp` of a large number and no
/// `ln` of 0, so it is finite, with the finite gradient `sigmoid(z) - y`,
/// at any logit, +-1e300 included. The hand-written
/// `-(y ln p + (1 - y) ln(1 - p))` is already `inf` at `z = 40`.
///
/// # Panics
/// If `y` does not broadcast to `z`'s shape without enlarging it.
///
/// ```
/// use tapegrad::{Tape, Tensor, loss::{self, Reduction}};
/// let tape = Tape::new();
/// let z = tape.var(Tensor::from_vec(vec![1e300, -1e300], &[2]));
/// let y = tape.constant(Tensor::from_vec(vec![1.0, 1.0], &[2]));
/// let l = loss::binary_cross_entropy_with_logits(z, y, Reduction::Sum);
/// assert_eq!(l.item(), 1e300); // right: 0, wrong by 1e300: 1e300
/// assert_eq!(l.backward().wrt(z).data(), &[0.0, -1.0]); // sigmoid(z) - y
/// ```
pub fn binary_cross_entropy_with_logits<'t>(z: Var<'t>, y: Var<'t>, reduction: Reduction) -> Var<'t> {
    try_binary_cross_entropy_with_logits(z, y, reduction).unwrap_or_else(|e| panic!("{e}"))
}

/// Like [`binary_cross_entropy_with_logits`], but targets that do not fit
/// are an error.
///
/// ```
/// use tapegrad::{Tape, Tensor, loss::{self, Reduction}};
/// let tape = Tape::new();
/// let z = tape.var(Tensor::zeros(&[2, 1]));
/// let y = tape.constant(Tensor::zeros(&[2]));
/// assert!(loss::try_binary_cross_entropy_with_logits(z, y, Reduction::Mean).is_err()); // would be [2, 2]
/// ```
pub fn try_binary_cross_entropy_with_logits<'t>(
    z: Var<'t>,
    y: Var<'t>,
    reduction: Reduction,
) -> Result<Var<'t>, ShapeError> {
    check_target("binary_cross_entropy_with_logits", z, y)?;
    Ok(reduction.apply(z.softplus() - y * z))
}
