//! General matrix multiply: `C = alpha * A B + beta * C`.
//!
//! Large products go to `matrixmultiply::dgemm`, the crate's one `unsafe`
//! call, behind [`gemm`], which checks every length and stride first. Tiny
//! products (the 1-3-1 sine network multiplies 1x1 by 1x3) run a plain
//! loop instead, because packing panels for them costs more than the math.

/// A read-only view of a matrix inside a slice: element (i, j) lives at
/// `data[i * row_stride + j * col_stride]`.
///
/// A transposed operand is the same slice with the strides swapped, so
/// `A^T` is read in place rather than copied.
///
/// ```
/// use tapegrad::tensor::MatRef;
/// let a = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]; // 2x3, row-major
/// let at = MatRef::row_major(&a, 2, 3).t(); // 3x2 view of the same data
/// assert_eq!((at.rows, at.cols), (3, 2));
/// assert_eq!(at.get(2, 1), 6.0);
/// ```
#[derive(Clone, Copy, Debug)]
pub struct MatRef<'a> {
    /// The backing elements.
    pub data: &'a [f64],
    /// Number of rows of the view.
    pub rows: usize,
    /// Number of columns of the view.
    pub cols: usize,
    /// Distance in `data` between (i, j) and (i + 1, j).
    pub row_stride: usize,
    /// Distance in `data` between (i, j) and (i, j + 1).
    pub col_stride: usize,
}

impl<'a> MatRef<'a> {
    /// A contiguous row-major `rows x cols` matrix.
    ///
    /// ```
    /// let m = tapegrad::tensor::MatRef::row_major(&[1.0, 2.0], 1, 2);
    /// assert_eq!(m.get(0, 1), 2.0);
    /// ```
    pub fn row_major(data: &'a [f64], rows: usize, cols: usize) -> Self {
        MatRef { data, rows, cols, row_stride: cols, col_stride: 1 }
    }

    /// The transpose, as a view of the same data.
    ///
    /// ```
    /// let m = tapegrad::tensor::MatRef::row_major(&[1.0, 2.0], 1, 2).t();
    /// assert_eq!((m.rows, m.cols, m.get(1, 0)), (2, 1, 2.0));
    /// ```
    pub fn t(self) -> Self {
        MatRef {
            data: self.data,
            rows: self.cols,
            cols: self.rows,
            row_stride: self.col_stride,
            col_stride: self.row_stride,
        }
    }

    /// Element (i, j).
    ///
    /// ```
    /// let m = tapegrad::tensor::MatRef::row_major(&[1.0, 2.0, 3.0, 4.0], 2, 2);
    /// assert_eq!(m.get(1, 0), 3.0);
    /// ```
    #[inline]
    pub fn get(&self, i: usize, j: usize) -> f64 {
        self.data[i * self.row_stride + j * self.col_stride]
    }

    /// True when every element the view can address lies inside `data`.
    fn in_bounds(&self) -> bool {
        if self.rows == 0 || self.cols == 0 {
            return true;
        }
        let last = (self.rows - 1)
            .checked_mul(self.row_stride)
            .and_then(|r| (self.cols - 1).checked_mul(self.col_stride).and_then(|c| r.checked_add(c)));
        matches!(last, Some(l) if l < self.data.len())
            && self.row_stride <= isize::MAX as usize
            && self.col_stride <= isize::MAX as usize
    }
}

/// Products with at most this many multiply-adds use the plain loop.
const SMALL_GEMM: usize = 4096;

/// `c = alpha * a b + beta * c`, with `c` a contiguous row-major
/// `a.rows x b.cols` matrix. With `beta == 0.0`, `c` is overwritten (its old
/// contents, even NaN, are ignored).
///
/// # Panics
/// If the inner dimensions differ, `c` has the wrong length, or a view
/// addresses elements outside its slice. These are checked before the
/// unsafe call, which is what makes that call sound.
///
/// ```
/// use tapegrad::tensor::{gemm, MatRef};
/// let a = [1.0, 2.0, 3.0, 4.0]; // [[1, 2], [3, 4]]
/// let mut c = [0.0; 4];
/// gemm(1.0, MatRef::row_major(&a, 2, 2), MatRef::row_major(&a, 2, 2).t(), 0.0, &mut c);
/// assert_eq!(c, [5.0, 11.0, 11.0, 25.0]); // A A^T
/// ```
pub fn gemm(alpha: f64, a: MatRef<'_>, b: MatRef<'_>, beta: f64, c: &mut [f64]) {
    let (m, k, n) = (a.rows, a.cols, b.cols);
    assert_eq!(k, b.rows, "gemm: inner dimensions {k} and {} differ", b.rows);
    assert_eq!(c.len(), m * n, "gemm: output holds {} elements, expected {m}x{n}", c.len());
    assert!(a.in_bounds(), "gemm: left operand view ({m}x{k}) runs past its {} elements", a.data.len());
    assert!(b.in_bounds(), "gemm: right operand view ({k}x{n}) runs past its {} elements", b.data.len());
    if m == 0 || n == 0 {
        return;
    }
    if m * n * k <= SMALL_GEMM {
        small_gemm(alpha, a, b, beta, c, n);
    } else {
        dgemm_checked(alpha, a, b, beta, c, n);
    }
}

/// [`gemm`] for the tape's matmul, whose views come from arena slices of
/// checked shapes: a tiny product goes straight to the loop, skipping view
/// checks that cost more than a 3-element product (the loop's indexing is
/// still bounds-checked); larger ones take the checked path to the unsafe call.
pub(crate) fn gemm_of_checked_shapes(alpha: f64, a: MatRef<'_>, b: MatRef<'_>, beta: f64, c: &mut [f64]) {
    if a.rows * b.cols * a.cols <= SMALL_GEMM && a.cols == b.rows && c.len() == a.rows * b.cols {
        small_gemm(alpha, a, b, beta, c, b.cols);
    } else {
        gemm(alpha, a, b, beta, c);
    }
}

/// The plain triple loop for tiny products, walking the strides directly
/// (the sine network's products have 1 to 3 elements, so the loop's setup
/// is most of its cost: plain index loops, no `chunks` and its division).
fn small_gemm(alpha: f64, a: MatRef<'_>, b: MatRef<'_>, beta: f64, c: &mut [f64], n: usize) {
    let (m, k) = (a.rows, a.cols);
    let (ad, bd) = (a.data, b.data);
    let mut ic = 0;
    for i in 0..m {
        for j in 0..n {
            // Walk row i of a and column j of b by their strides.
            let (mut ia, mut ib) = (i * a.row_stride, j * b.col_stride);
            let mut acc = 0.0;
            for _ in 0..k {
                acc += ad[ia] * bd[ib];
                ia += a.col_stride;
                ib += b.row_stride;
            }
            c[ic] = if beta == 0.0 { alpha * acc } else { alpha * acc + beta * c[ic] };
            ic += 1;
        }
    }
}

/// The audited unsafe call. Preconditions, all established by [`gemm`]:
/// `a` addresses only elements below `a.data.len()` (likewise `b`), `c` is
/// exactly `m x n` contiguous row-major, strides fit in `isize`, and `c`
/// does not overlap `a` or `b` (guaranteed by `&mut` vs `&`).
#[allow(unsafe_code)]
fn dgemm_checked(alpha: f64, a: MatRef<'_>, b: MatRef<'_>, beta: f64, c: &mut [f64], n: usize) {
    let (m, k) = (a.rows, a.cols);
    // SAFETY: see the preconditions above; every pointer offset dgemm
    // computes is (i * rs + j * cs) with i, j inside the checked extents.
    unsafe {
        matrixmultiply::dgemm(
            m,
            k,
            n,
            alpha,
            a.data.as_ptr(),
            a.row_stride as isize,
            a.col_stride as isize,
            b.data.as_ptr(),
            b.row_stride as isize,
            b.col_stride as isize,
            beta,
            c.as_mut_ptr(),
            n as isize,
            1,
        );
    }
}
