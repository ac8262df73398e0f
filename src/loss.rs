//! Loss functions, each written with the tape's ops so its gradient comes
//! from the same backward rules as everything else.
//!
//! | loss | formula | used in |
//! |---|---|---|
//! | [`mse`] | `mean((p - t)^2)` | PyTorch's `MSELoss` |
//! | [`mse_half`] | `sum((p - t)^2) / (2N)` | the notes' linear regression (chapter 1) |
//! | [`sse_half`] | `0.5 * sum((p - t)^2)` | the notes' per-sample error (chapter 4) |
//! | [`cross_entropy`] | `-mean(log_softmax(z)[i, t_i])` | classification from logits |
//! | [`hinge`] | `mean(relu(1 - y * s))` | micrograd's max-margin demo |
//! | [`l2`] | `sum of w^2` over parameters | regularization |

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
