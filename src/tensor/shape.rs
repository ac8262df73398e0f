//! Shapes, the shape error, and NumPy broadcasting.
//!
//! A shape is a `SmallVec<[usize; 4]>`: tensors of up to four dimensions keep
//! their shape inline, so creating one allocates nothing beyond its data.

use smallvec::SmallVec;
use std::fmt;

/// The shape of a tensor: one extent per dimension, outermost first.
///
/// ```
/// use tapegrad::Shape;
/// let s: Shape = Shape::from_slice(&[2, 3]);
/// assert_eq!(s.iter().product::<usize>(), 6);
/// ```
pub type Shape = SmallVec<[usize; 4]>;

/// An operation was given operands whose shapes do not fit it.
///
/// The message names the op and every shape involved, e.g.
/// `matmul: shapes [2, 3] and [4, 5] do not fit (inner dimensions 3 and 4 differ)`.
///
/// ```
/// use tapegrad::Tensor;
/// let err = Tensor::try_from_vec(vec![1.0, 2.0, 3.0], &[2, 2]).unwrap_err();
/// assert!(err.to_string().contains("from_vec"));
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ShapeError {
    /// The op that refused its operands (`"add"`, `"matmul"`, ...).
    pub op: &'static str,
    /// The shapes of the operands, in argument order.
    pub shapes: Vec<Shape>,
    /// What is wrong, in words.
    pub reason: String,
}

impl ShapeError {
    /// Builds an error for `op` with the operand shapes and a reason.
    ///
    /// ```
    /// use tapegrad::ShapeError;
    /// let e = ShapeError::new("add", &[&[2, 3], &[4]], "cannot broadcast");
    /// assert_eq!(e.to_string(), "add: shapes [2, 3] and [4]: cannot broadcast");
    /// ```
    pub fn new(op: &'static str, shapes: &[&[usize]], reason: impl Into<String>) -> Self {
        ShapeError { op, shapes: shapes.iter().map(|s| Shape::from_slice(s)).collect(), reason: reason.into() }
    }
}

impl fmt::Display for ShapeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.shapes.is_empty() {
            return write!(f, "{}: {}", self.op, self.reason); // nothing to show (`l2` of no parameters)
        }
        let word = if self.shapes.len() == 1 { "shape" } else { "shapes" };
        write!(f, "{}: {} ", self.op, word)?;
        for (i, s) in self.shapes.iter().enumerate() {
            if i > 0 {
                f.write_str(" and ")?;
            }
            write!(f, "{:?}", s.as_slice())?;
        }
        write!(f, ": {}", self.reason)
    }
}

impl std::error::Error for ShapeError {}

/// The number of elements of a shape (1 for a scalar, whose shape is `[]`).
///
/// # Panics
/// If the count does not fit a `usize` (see [`try_numel`]); a plain product
/// would wrap in release builds and claim, say, 0 elements for
/// `[1 << 32, 1 << 32]`.
///
/// ```
/// assert_eq!(tapegrad::tensor::numel(&[]), 1);
/// assert_eq!(tapegrad::tensor::numel(&[2, 0, 3]), 0);
/// ```
pub fn numel(shape: &[usize]) -> usize {
    try_numel(shape).unwrap_or_else(|| panic!("numel: shape {shape:?}: {TOO_MANY}"))
}

/// The number of elements of a shape, counted with checked multiplication:
/// `None` when it does not fit a `usize`. A shape with a 0 extent has 0
/// elements however large its other extents are.
///
/// Every place that multiplies a shape out goes through here (or through
/// [`numel`], which panics on `None`), so no count wraps around silently.
///
/// ```
/// use tapegrad::tensor::try_numel;
/// assert_eq!(try_numel(&[2, 3]), Some(6));
/// assert_eq!(try_numel(&[1 << 32, 1 << 32]), None);
/// assert_eq!(try_numel(&[1 << 32, 1 << 32, 0]), Some(0));
/// ```
pub fn try_numel(shape: &[usize]) -> Option<usize> {
    shape.iter().try_fold(1usize, |n, &d| n.checked_mul(d)).or_else(|| shape.contains(&0).then_some(0))
}

/// The reason given when a shape's element count overflows.
const TOO_MANY: &str = "more elements than a usize can count (the product of the extents overflows)";

/// [`try_numel`] as a `Result` whose error names `op` and the shape.
pub(crate) fn checked_numel(op: &'static str, shape: &[usize]) -> Result<usize, ShapeError> {
    try_numel(shape).ok_or_else(|| ShapeError::new(op, &[shape], TOO_MANY))
}

/// The shape NumPy broadcasting gives two operands of `op`.
///
/// Shapes are aligned at their last dimension; two extents fit when they are
/// equal or one of them is 1.
///
/// ```
/// use tapegrad::tensor::broadcast_shape;
/// assert_eq!(broadcast_shape("add", &[3, 1], &[1, 4]).unwrap().as_slice(), &[3, 4]);
/// assert_eq!(broadcast_shape("add", &[2, 4], &[4]).unwrap().as_slice(), &[2, 4]);
/// assert!(broadcast_shape("add", &[2, 3], &[4]).is_err());
/// ```
pub fn broadcast_shape(op: &'static str, a: &[usize], b: &[usize]) -> Result<Shape, ShapeError> {
    if a == b {
        return Ok(Shape::from_slice(a));
    }
    let n = a.len().max(b.len());
    let mut out = Shape::with_capacity(n);
    for i in 0..n {
        // Extent i counted from the left of the longer shape; a missing
        // leading dimension acts as 1.
        let da = extent_from_right(a, n - 1 - i);
        let db = extent_from_right(b, n - 1 - i);
        let d = match (da, db) {
            (x, y) if x == y => x,
            (1, y) => y,
            (x, 1) => x,
            (x, y) => {
                return Err(ShapeError::new(
                    op,
                    &[a, b],
                    format!("cannot broadcast (dimension {i} is {x} in one and {y} in the other)"),
                ));
            }
        };
        out.push(d);
    }
    // Two operands of countable size can still broadcast to an uncountable
    // one (`[n, 1]` with `[1, n]`, or empty inputs).
    if try_numel(&out).is_none() {
        return Err(ShapeError::new(op, &[a, b], format!("the result {:?} has {TOO_MANY}", out.as_slice())));
    }
    Ok(out)
}

fn extent_from_right(shape: &[usize], k: usize) -> usize {
    if k < shape.len() { shape[shape.len() - 1 - k] } else { 1 }
}

/// Row-major strides of `input` read as if it had shape `out`: a broadcast
/// dimension (extent 1, or missing) gets stride 0 so the same element is
/// read again along it.
pub(crate) fn broadcast_strides(input: &[usize], out: &[usize]) -> Shape {
    let mut strides: Shape = smallvec::smallvec![0; out.len()];
    let offset = out.len() - input.len();
    let mut step = 1;
    for k in (0..input.len()).rev() {
        strides[offset + k] = if input[k] == 1 { 0 } else { step };
        step *= input[k];
    }
    strides
}

/// Row-major strides of `shape` (the last axis 1), 0 along an axis of
/// extent 1, where the index is always 0.
pub(crate) fn row_major_strides(shape: &[usize]) -> Shape {
    broadcast_strides(shape, shape)
}

/// Calls `f(i, ia, ib)` for every element `i` of the broadcast output, with
/// `ia` and `ib` the elements of `a` and `b` that element reads.
///
/// Forward kernels use it to compute, and backward rules use it to send each
/// output's gradient back to the input element it came from, which is
/// exactly "sum the gradient over the broadcast dimensions".
///
/// ```
/// use tapegrad::tensor::for_each_broadcast;
/// let mut pairs = vec![];
/// for_each_broadcast(&[2, 2], &[2, 1], &[2], |i, ia, ib| pairs.push((i, ia, ib)));
/// assert_eq!(pairs, vec![(0, 0, 0), (1, 0, 1), (2, 1, 0), (3, 1, 1)]);
/// ```
///
/// # Panics
/// If `a` or `b` does not broadcast to `out` (a cheap check on the extents,
/// so a misuse is a clear message rather than an index error in `f`).
#[inline]
pub fn for_each_broadcast(out: &[usize], a: &[usize], b: &[usize], mut f: impl FnMut(usize, usize, usize)) {
    assert!(
        broadcasts_to(a, out) && broadcasts_to(b, out),
        "for_each_broadcast: shapes {a:?} and {b:?} do not broadcast to {out:?}"
    );
    let n = numel(out);
    let (na, nb) = (numel(a), numel(b));
    // Fast paths cover nearly every real use: equal shapes, a scalar on one
    // side, and a trailing-dimension bias such as [batch, m] + [m].
    if na == n && nb == n {
        (0..n).for_each(|i| f(i, i, i));
    } else if nb == 1 && na == n {
        (0..n).for_each(|i| f(i, i, 0));
    } else if na == 1 && nb == n {
        (0..n).for_each(|i| f(i, 0, i));
    } else if na == n && is_trailing(b, out) {
        (0..n).for_each(|i| f(i, i, i % nb));
    } else if nb == n && is_trailing(a, out) {
        (0..n).for_each(|i| f(i, i % na, i));
    } else {
        general_broadcast(out, a, b, f);
    }
}

/// True when every extent of `input` is 1 or the matching (right-aligned)
/// extent of `out`.
fn broadcasts_to(input: &[usize], out: &[usize]) -> bool {
    input.len() <= out.len() && input.iter().rev().zip(out.iter().rev()).all(|(&i, &o)| i == o || i == 1)
}

/// True when an output of shape `out` is whole rows of `numel(small)`
/// elements, each row combined with all of `small` (a bias over a batch, a
/// scalar with anything): output element i reads `small[i % numel(small)]`.
pub(crate) fn repeats_over_rows(small: &[usize], out: &[usize]) -> bool {
    numel(small) == 1 || is_trailing(small, out)
}

/// True when `small` equals the last dimensions of `out` (ignoring leading 1s),
/// so element i of the output reads element i % numel(small).
fn is_trailing(small: &[usize], out: &[usize]) -> bool {
    let s = strip_leading_ones(small);
    s.len() <= out.len() && !s.is_empty() && out[out.len() - s.len()..] == *s
}

/// `a == b`, compared by hand: shapes are a few extents (none, for
/// scalars), too short to pay for the `memcmp` call `==` on slices makes.
#[inline]
pub(crate) fn same_shape(a: &[usize], b: &[usize]) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x == y)
}

pub(crate) fn strip_leading_ones(s: &[usize]) -> &[usize] {
    let k = s.iter().take_while(|&&d| d == 1).count();
    &s[k..]
}

fn general_broadcast(out: &[usize], a: &[usize], b: &[usize], mut f: impl FnMut(usize, usize, usize)) {
    let sa = broadcast_strides(a, out);
    let sb = broadcast_strides(b, out);
    let nd = out.len();
    let mut idx: Shape = smallvec::smallvec![0; nd];
    let (mut ia, mut ib) = (0usize, 0usize);
    for i in 0..numel(out) {
        f(i, ia, ib);
        // Odometer increment of the multi-index, keeping ia and ib in step.
        for d in (0..nd).rev() {
            idx[d] += 1;
            ia += sa[d];
            ib += sb[d];
            if idx[d] < out[d] {
                break;
            }
            ia -= sa[d] * out[d];
            ib -= sb[d] * out[d];
            idx[d] = 0;
        }
    }
}

/// Splits `shape` around `axis` into (outer, extent, inner) element counts,
/// the three loops every axis reduction runs.
pub(crate) fn split_axis(shape: &[usize], axis: usize) -> (usize, usize, usize) {
    let outer = numel(&shape[..axis]);
    let inner = numel(&shape[axis + 1..]);
    (outer, shape[axis], inner)
}

/// The shape of a reduction of `shape` over `axis`, by `op`. An error when
/// reducing an empty axis leaves more elements than a `usize` counts
/// (`[1 << 40, 1 << 40, 0]` over axis 2).
pub(crate) fn reduced_shape(
    op: &'static str,
    shape: &[usize],
    axis: usize,
    keepdim: bool,
) -> Result<Shape, ShapeError> {
    let mut out = Shape::from_slice(shape);
    if keepdim {
        out[axis] = 1;
    } else {
        out.remove(axis);
    }
    if try_numel(&out).is_none() {
        return Err(ShapeError::new(op, &[shape], format!("the result {:?} has {TOO_MANY}", out.as_slice())));
    }
    Ok(out)
}

/// Checks that a matmul of `a` by `b` fits and returns (m, k, n).
pub(crate) fn matmul_dims(a: &[usize], b: &[usize]) -> Result<(usize, usize, usize), ShapeError> {
    if a.len() != 2 || b.len() != 2 {
        return Err(ShapeError::new("matmul", &[a, b], "both operands must be 2-D"));
    }
    if a[1] != b[0] {
        return Err(ShapeError::new("matmul", &[a, b], format!("inner dimensions {} and {} differ", a[1], b[0])));
    }
    // Empty operands (`[m, 0] x [0, n]`) can make an uncountable result.
    if try_numel(&[a[0], b[1]]).is_none() {
        return Err(ShapeError::new("matmul", &[a, b], format!("the result [{}, {}] has {TOO_MANY}", a[0], b[1])));
    }
    Ok((a[0], a[1], b[1]))
}

/// Checks that `from` can be reshaped to `to` (same number of elements).
pub(crate) fn check_reshape(from: &[usize], to: &[usize]) -> Result<(), ShapeError> {
    let n = numel(from); // an existing value's shape: countable
    match try_numel(to) {
        Some(m) if m == n => Ok(()),
        Some(m) => Err(ShapeError::new("reshape", &[from, to], format!("{n} elements cannot become {m}"))),
        None => Err(ShapeError::new("reshape", &[from, to], format!("{n} elements cannot become {TOO_MANY}"))),
    }
}

/// Checks that `shape` is 2-D, for transpose and row selection.
pub(crate) fn check_2d(op: &'static str, shape: &[usize]) -> Result<(usize, usize), ShapeError> {
    if shape.len() == 2 {
        Ok((shape[0], shape[1]))
    } else {
        Err(ShapeError::new(op, &[shape], "expected a 2-D tensor"))
    }
}
