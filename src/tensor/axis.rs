//! Axes as the ops take them: a `usize` as before, or a signed integer
//! where a negative axis counts from the end (`-1` is the last), as in
//! PyTorch and NumPy. Every op that takes an axis turns it into an index
//! through [`resolve_axis`] (or [`resolve_new_axis`], for the ops that
//! insert one), so the rule and its error message are the same everywhere.

use super::ShapeError;

/// An axis argument: `usize` (from 0), or `i32` / `isize` / `i64`, where
/// `-1` is the last axis, `-2` the one before, and so on.
///
/// Integer literals work unannotated: `x.sum_axis(1, false)` and
/// `x.sum_axis(-1, false)` (both `i32`), as does a `usize` variable.
///
/// ```
/// let tape = tapegrad::Tape::new();
/// let x = tape.var(tapegrad::Tensor::ones(&[2, 3]));
/// assert_eq!(x.sum_axis(-1, false).value(), x.sum_axis(1, false).value());
/// let axis: usize = 0;
/// assert_eq!(x.sum_axis(axis, false).shape().as_slice(), &[3]);
/// ```
pub trait Axis: Copy {
    /// The axis as a signed count (negative: from the end). A `usize` too
    /// large for `i64` becomes `i64::MAX`, out of range of every shape.
    fn signed(self) -> i64;
}

impl Axis for usize {
    fn signed(self) -> i64 {
        i64::try_from(self).unwrap_or(i64::MAX)
    }
}
impl Axis for isize {
    fn signed(self) -> i64 {
        self as i64
    }
}
impl Axis for i64 {
    fn signed(self) -> i64 {
        self
    }
}
impl Axis for i32 {
    fn signed(self) -> i64 {
        self.into()
    }
}

/// `axis` as an index into `shape`: `-rank <= axis < rank`, a negative one
/// counted from the end. Out of range is an error naming `op`, the shape
/// and the rank.
pub(crate) fn resolve_axis(op: &'static str, shape: &[usize], axis: impl Axis) -> Result<usize, ShapeError> {
    within(axis.signed(), shape.len()).ok_or_else(|| {
        ShapeError::new(op, &[shape], format!("axis {} is out of range for {} dimensions", axis.signed(), shape.len()))
    })
}

/// The position of a *new* axis among `shape`'s (for `stack` and
/// `unsqueeze`): `-(rank + 1) <= axis <= rank`, so `-1` puts it last.
pub(crate) fn resolve_new_axis(op: &'static str, shape: &[usize], axis: impl Axis) -> Result<usize, ShapeError> {
    within(axis.signed(), shape.len() + 1).ok_or_else(|| {
        let reason = format!("axis {} is out of range for a new axis of {} dimensions", axis.signed(), shape.len());
        ShapeError::new(op, &[shape], reason)
    })
}

/// `axis` in `0..n`, counting a negative one back from `n`.
fn within(axis: i64, n: usize) -> Option<usize> {
    let n = i64::try_from(n).ok()?;
    let a = if axis < 0 { axis + n } else { axis };
    (0..n).contains(&a).then_some(a as usize)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn negative_axes_count_from_the_end() {
        let s = [2, 3, 4];
        assert_eq!(resolve_axis("op", &s, -1).unwrap(), 2);
        assert_eq!(resolve_axis("op", &s, -3).unwrap(), 0);
        assert_eq!(resolve_axis("op", &s, 1usize).unwrap(), 1);
        assert_eq!(resolve_axis("op", &s, 2isize).unwrap(), 2);
        assert_eq!(
            resolve_axis("op", &s, -4).unwrap_err().to_string(),
            "op: shape [2, 3, 4]: axis -4 is out of range for 3 dimensions"
        );
        assert!(resolve_axis("op", &s, 3).is_err());
        assert!(resolve_axis("op", &s, usize::MAX).is_err());
        assert!(resolve_axis("op", &[], 0).is_err() && resolve_axis("op", &[], -1).is_err());
        // A new axis may also go after the last one.
        assert_eq!(resolve_new_axis("op", &s, 3).unwrap(), 3);
        assert_eq!(resolve_new_axis("op", &s, -1).unwrap(), 3);
        assert_eq!(resolve_new_axis("op", &s, -4).unwrap(), 0);
        assert!(resolve_new_axis("op", &s, -5).is_err() && resolve_new_axis("op", &s, 4).is_err());
    }
}
