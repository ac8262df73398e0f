//! Tensor math without gradients. Each computation is a slice kernel
//! (`*_into`) that the tape's ops reuse on arena memory, plus the `Tensor`
//! method that wraps it.

use super::{MatRef, Shape, ShapeError, Tensor, broadcast_shape, for_each_broadcast, gemm, numel};
use super::{
    check_2d, check_axis, check_reshape, checked_numel, matmul_dims, reduced_shape, repeats_over_rows, split_axis,
};

/// `out[i] = f(a[ia], b[ib])` over the broadcast of `a` and `b`.
pub(crate) fn binary_into(
    out: &mut [f64],
    out_shape: &[usize],
    a: &[f64],
    a_shape: &[usize],
    b: &[f64],
    b_shape: &[usize],
    f: impl Fn(f64, f64) -> f64,
) {
    let n = out.len();
    // A bias over a batch, or a scalar with a tensor: row by row, no index map.
    if n > 0 && a.len() == n && repeats_over_rows(b_shape, out_shape) {
        for (o, a) in out.chunks_exact_mut(b.len()).zip(a.chunks_exact(b.len())) {
            o.iter_mut().zip(a).zip(b).for_each(|((o, &x), &y)| *o = f(x, y));
        }
    } else if n > 0 && b.len() == n && repeats_over_rows(a_shape, out_shape) {
        for (o, b) in out.chunks_exact_mut(a.len()).zip(b.chunks_exact(a.len())) {
            o.iter_mut().zip(a).zip(b).for_each(|((o, &x), &y)| *o = f(x, y));
        }
    } else {
        for_each_broadcast(out_shape, a_shape, b_shape, |i, ia, ib| out[i] = f(a[ia], b[ib]));
    }
}

/// Reduce-to-shape, the backward of broadcasting: adds `from` (shaped
/// `from_shape`, the broadcast output) into `to` (shaped `to_shape`, an
/// input that was broadcast to `from_shape`), summing over every extent
/// the broadcast repeated. Elements are added in `from`'s order, so the
/// result does not depend on which lane below runs.
///
/// Every broadcasting backward goes through here.
pub(crate) fn unbroadcast_add(from: &[f64], from_shape: &[usize], to: &mut [f64], to_shape: &[usize]) {
    let (n, k) = (from.len(), to.len());
    if n == 0 {
        return;
    }
    if k == n {
        to.iter_mut().zip(from).for_each(|(t, f)| *t += f);
    } else if repeats_over_rows(to_shape, from_shape) {
        // A bias over a batch, a scalar with anything: whole rows of `to`.
        for row in from.chunks_exact(k) {
            to.iter_mut().zip(row).for_each(|(t, f)| *t += f);
        }
    } else {
        for_each_broadcast(from_shape, to_shape, from_shape, |i, it, _| to[it] += from[i]);
    }
}

/// Numerically stable logistic function `1/(1 + e^-x)`: never evaluates
/// `exp` of a large positive number, so it is finite at +-1000.
///
/// ```
/// use tapegrad::tensor::stable_sigmoid;
/// assert_eq!(stable_sigmoid(-1000.0), 0.0);
/// assert_eq!(stable_sigmoid(0.0), 0.5);
/// ```
pub fn stable_sigmoid(x: f64) -> f64 {
    if x >= 0.0 {
        1.0 / (1.0 + (-x).exp())
    } else {
        let e = x.exp();
        e / (1.0 + e)
    }
}

/// Numerically stable softplus `ln(1 + e^x) = max(x, 0) + ln(1 + e^-|x|)`:
/// no overflow at +1e300, no loss of the tiny value at -40.
///
/// ```
/// use tapegrad::tensor::stable_softplus;
/// assert_eq!(stable_softplus(0.0), 2f64.ln());
/// assert_eq!(stable_softplus(1e300), 1e300);
/// assert_eq!(stable_softplus(-1e300), 0.0);
/// ```
pub fn stable_softplus(x: f64) -> f64 {
    relu(x) + (-x.abs()).exp().ln_1p()
}

/// The sign of `x` as -1, 0 or 1: 0 at 0 (the subgradient of `|x|` PyTorch
/// picks) and, unlike `f64::signum`, 0 at -0.0 too. NaN gives 0.
pub(crate) fn sign(x: f64) -> f64 {
    if x > 0.0 {
        1.0
    } else if x < 0.0 {
        -1.0
    } else {
        0.0
    }
}

/// `max(x, 0)` that keeps a NaN (`f64::max` returns the other operand).
///
/// ```
/// use tapegrad::tensor::relu;
/// assert_eq!((relu(-1.0), relu(2.0)), (0.0, 2.0));
/// assert!(relu(f64::NAN).is_nan());
/// ```
pub fn relu(x: f64) -> f64 {
    if x > 0.0 || x.is_nan() { x } else { 0.0 }
}

/// `max(a, b)`, but NaN when either is NaN (`f64::max` returns the other
/// operand, which silently hides a NaN).
pub(crate) fn max_keep_nan(a: f64, b: f64) -> f64 {
    if a.is_nan() || b.is_nan() { a + b } else { a.max(b) }
}

/// `out[o, i] = sum_k x[o, k, i]`: the sum over one axis.
pub(crate) fn sum_axis_into(x: &[f64], shape: &[usize], axis: usize, out: &mut [f64]) {
    let (outer, n, inner) = split_axis(shape, axis);
    out.fill(0.0);
    for o in 0..outer {
        for k in 0..n {
            let src = &x[(o * n + k) * inner..][..inner];
            let dst = &mut out[o * inner..][..inner];
            dst.iter_mut().zip(src).for_each(|(d, s)| *d += s);
        }
    }
}

/// `out = x^T` for a row-major `rows x cols` matrix `x`.
pub(crate) fn transpose_into(x: &[f64], rows: usize, cols: usize, out: &mut [f64]) {
    for i in 0..rows {
        for j in 0..cols {
            out[j * rows + i] = x[i * cols + j];
        }
    }
}

/// Row-wise `log_softmax` over the last axis of length `n`, stable at any
/// magnitude: `y = (x - max) - ln(sum(exp(x - max)))`.
///
/// The shift is subtracted first and the log-sum second: `ln sum` is in
/// `[0, ln n]`, so nothing is lost, while `x - (max + ln sum)` rounds
/// `max + ln sum` back to `max` once `max` is past 2^53 (`[1e16, 1e16]`
/// gave `[0, 0]` instead of `-ln 2` each).
///
/// Edges: an element at -inf gets -inf and takes no probability; a row
/// that is all -inf, or holds +inf or NaN, has no finite shift and comes
/// out NaN (the honest answer, as PyTorch's).
pub(crate) fn log_softmax_into(x: &[f64], n: usize, out: &mut [f64]) {
    if n == 0 {
        return;
    }
    for (row, dst) in x.chunks_exact(n).zip(out.chunks_exact_mut(n)) {
        // `f64::max` skips a NaN here, but the NaN still reaches `ln_sum`.
        let max = row.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        // A row of -inf (or +inf) has no finite shift; fall back to 0 so the
        // result is the honest -inf / NaN rather than a shifted artefact.
        let shift = if max.is_finite() { max } else { 0.0 };
        let ln_sum = row.iter().map(|v| (v - shift).exp()).sum::<f64>().ln();
        dst.iter_mut().zip(row).for_each(|(d, v)| *d = (v - shift) - ln_sum);
    }
}

/// A method `name(&self, &Tensor) -> Tensor` that broadcasts and panics
/// with the op's name on a shape mismatch, plus its `try_` twin.
macro_rules! broadcasting_method {
    ($(#[$doc:meta])* $name:ident, $try_name:ident, $op:literal, $f:expr) => {
        $(#[$doc])*
        pub fn $name(&self, other: &Tensor) -> Tensor {
            self.$try_name(other).unwrap_or_else(|e| panic!("{e}"))
        }

        #[doc = concat!("Like [`Tensor::", stringify!($name), "`], but a shape mismatch is an error.")]
        ///
        /// ```
        /// use tapegrad::Tensor;
        #[doc = concat!("assert!(Tensor::zeros(&[2, 3]).", stringify!($try_name), "(&Tensor::zeros(&[2])).is_err());")]
        /// ```
        pub fn $try_name(&self, other: &Tensor) -> Result<Tensor, ShapeError> {
            self.try_zip_with($op, other, $f)
        }
    };
}

impl Tensor {
    /// `f(a, b)` elementwise over the NumPy broadcast of `self` and `other`;
    /// `op` names the operation in the error.
    ///
    /// ```
    /// use tapegrad::Tensor;
    /// let a = Tensor::from_vec(vec![1.0, 2.0], &[2, 1]);
    /// let b = Tensor::from_vec(vec![10.0, 20.0, 30.0], &[3]);
    /// let c = a.try_zip_with("max", &b, f64::max).unwrap();
    /// assert_eq!(c.shape(), &[2, 3]);
    /// ```
    pub fn try_zip_with(
        &self,
        op: &'static str,
        other: &Tensor,
        f: impl Fn(f64, f64) -> f64,
    ) -> Result<Tensor, ShapeError> {
        let shape = broadcast_shape(op, &self.shape, &other.shape)?;
        let mut out = vec![0.0; numel(&shape)];
        binary_into(&mut out, &shape, &self.data, &self.shape, &other.data, &other.shape, f);
        Ok(Tensor { shape, data: out })
    }

    broadcasting_method!(
        /// Elementwise sum with NumPy broadcasting.
        ///
        /// # Panics
        /// If the shapes do not broadcast; the message names `add` and both shapes.
        ///
        /// ```
        /// use tapegrad::Tensor;
        /// let c = Tensor::zeros(&[2, 3]).add(&Tensor::arange(0.0, 3.0, 1.0));
        /// assert_eq!(c.data(), &[0.0, 1.0, 2.0, 0.0, 1.0, 2.0]);
        /// ```
        add, try_add, "add", |a, b| a + b
    );
    broadcasting_method!(
        /// Elementwise difference with NumPy broadcasting.
        ///
        /// ```
        /// use tapegrad::Tensor;
        /// assert_eq!(Tensor::ones(&[2]).sub(&Tensor::scalar(3.0)).data(), &[-2.0, -2.0]);
        /// ```
        sub, try_sub, "sub", |a, b| a - b
    );
    broadcasting_method!(
        /// Elementwise product with NumPy broadcasting.
        ///
        /// ```
        /// use tapegrad::Tensor;
        /// let c = Tensor::full(&[3, 1], 2.0).mul(&Tensor::full(&[1, 4], 3.0));
        /// assert_eq!((c.shape(), c.data()[0]), (&[3, 4][..], 6.0));
        /// ```
        mul, try_mul, "mul", |a, b| a * b
    );
    broadcasting_method!(
        /// Elementwise quotient with NumPy broadcasting.
        ///
        /// ```
        /// use tapegrad::Tensor;
        /// assert_eq!(Tensor::ones(&[2]).div(&Tensor::scalar(4.0)).data(), &[0.25, 0.25]);
        /// ```
        div, try_div, "div", |a, b| a / b
    );

    /// A new tensor with `f` applied to every element.
    ///
    /// ```
    /// let t = tapegrad::Tensor::arange(0.0, 3.0, 1.0).map(|x| x * x);
    /// assert_eq!(t.data(), &[0.0, 1.0, 4.0]);
    /// ```
    pub fn map(&self, f: impl Fn(f64) -> f64) -> Tensor {
        Tensor { shape: self.shape.clone(), data: self.data.iter().map(|&x| f(x)).collect() }
    }

    /// Applies `f` to every element in place.
    ///
    /// ```
    /// let mut t = tapegrad::Tensor::ones(&[2]);
    /// t.map_inplace(|x| x * 3.0);
    /// assert_eq!(t.data(), &[3.0, 3.0]);
    /// ```
    pub fn map_inplace(&mut self, f: impl Fn(f64) -> f64) {
        self.data.iter_mut().for_each(|x| *x = f(*x));
    }

    /// Every element times `k`.
    ///
    /// ```
    /// assert_eq!(tapegrad::Tensor::ones(&[2]).scale(0.5).data(), &[0.5, 0.5]);
    /// ```
    pub fn scale(&self, k: f64) -> Tensor {
        self.map(|x| x * k)
    }

    /// `self += alpha * other`, elementwise, for same-shaped tensors (the
    /// update step of gradient descent: `w.axpy(-lr, &grad)`).
    ///
    /// # Panics
    /// If the shapes differ.
    ///
    /// ```
    /// let mut w = tapegrad::Tensor::ones(&[2]);
    /// w.axpy(-0.5, &tapegrad::Tensor::full(&[2], 2.0));
    /// assert_eq!(w.data(), &[0.0, 0.0]);
    /// ```
    pub fn axpy(&mut self, alpha: f64, other: &Tensor) {
        assert!(
            self.shape == other.shape,
            "axpy: shapes {:?} and {:?} differ",
            self.shape.as_slice(),
            other.shape.as_slice()
        );
        self.data.iter_mut().zip(&other.data).for_each(|(s, o)| *s += alpha * o);
    }

    /// Matrix product of two 2-D tensors, `[m, k] x [k, n] -> [m, n]`.
    ///
    /// # Panics
    /// If either operand is not 2-D or the inner dimensions differ; the
    /// message names `matmul` and both shapes.
    ///
    /// ```
    /// use tapegrad::Tensor;
    /// let a = Tensor::from_vec(vec![1.0, 2.0, 3.0, 4.0], &[2, 2]);
    /// assert_eq!(a.matmul(&a).data(), &[7.0, 10.0, 15.0, 22.0]);
    /// ```
    pub fn matmul(&self, other: &Tensor) -> Tensor {
        self.try_matmul(other).unwrap_or_else(|e| panic!("{e}"))
    }

    /// Like [`Tensor::matmul`], but a shape mismatch is an error.
    ///
    /// ```
    /// use tapegrad::Tensor;
    /// let e = Tensor::zeros(&[2, 3]).try_matmul(&Tensor::zeros(&[4, 5])).unwrap_err();
    /// assert!(e.to_string().starts_with("matmul: shapes [2, 3] and [4, 5]"));
    /// ```
    pub fn try_matmul(&self, other: &Tensor) -> Result<Tensor, ShapeError> {
        let (m, k, n) = matmul_dims(&self.shape, &other.shape)?;
        let mut out = vec![0.0; m * n];
        gemm(1.0, MatRef::row_major(&self.data, m, k), MatRef::row_major(&other.data, k, n), 0.0, &mut out);
        Ok(Tensor { shape: Shape::from_slice(&[m, n]), data: out })
    }

    /// A view of a 2-D tensor as a matrix, for [`gemm`] calls that read
    /// operands transposed through strides.
    ///
    /// # Panics
    /// If the tensor is not 2-D.
    ///
    /// ```
    /// let a = tapegrad::Tensor::zeros(&[2, 3]);
    /// assert_eq!(a.as_mat().t().rows, 3);
    /// ```
    pub fn as_mat(&self) -> MatRef<'_> {
        let (r, c) = check_2d("as_mat", &self.shape).unwrap_or_else(|e| panic!("{e}"));
        MatRef::row_major(&self.data, r, c)
    }

    /// The transpose of a 2-D tensor.
    ///
    /// # Panics
    /// If the tensor is not 2-D.
    ///
    /// ```
    /// let a = tapegrad::Tensor::arange(0.0, 6.0, 1.0).reshape(&[2, 3]);
    /// assert_eq!(a.t().shape(), &[3, 2]);
    /// assert_eq!(a.t().get(&[2, 1]), 5.0);
    /// ```
    pub fn t(&self) -> Tensor {
        self.try_t().unwrap_or_else(|e| panic!("{e}"))
    }

    /// Like [`Tensor::t`], but a tensor that is not 2-D is an error.
    ///
    /// ```
    /// let e = tapegrad::Tensor::zeros(&[3]).try_t().unwrap_err();
    /// assert_eq!(e.to_string(), "t: shape [3]: expected a 2-D tensor");
    /// ```
    pub fn try_t(&self) -> Result<Tensor, ShapeError> {
        let (r, c) = check_2d("t", &self.shape)?;
        let mut out = vec![0.0; self.data.len()];
        transpose_into(&self.data, r, c, &mut out);
        Ok(Tensor { shape: Shape::from_slice(&[c, r]), data: out })
    }

    /// The same elements under a new shape with as many elements.
    ///
    /// # Panics
    /// If the element counts differ.
    ///
    /// ```
    /// assert_eq!(tapegrad::Tensor::zeros(&[6]).reshape(&[3, 2]).shape(), &[3, 2]);
    /// ```
    pub fn reshape(&self, shape: &[usize]) -> Tensor {
        self.try_reshape(shape).unwrap_or_else(|e| panic!("{e}"))
    }

    /// Like [`Tensor::reshape`], but a wrong element count is an error.
    ///
    /// ```
    /// assert!(tapegrad::Tensor::zeros(&[6]).try_reshape(&[4]).is_err());
    /// ```
    pub fn try_reshape(&self, shape: &[usize]) -> Result<Tensor, ShapeError> {
        check_reshape(&self.shape, shape)?;
        Ok(Tensor { shape: Shape::from_slice(shape), data: self.data.clone() })
    }

    /// Sum of all elements.
    ///
    /// ```
    /// assert_eq!(tapegrad::Tensor::ones(&[2, 3]).sum(), 6.0);
    /// ```
    pub fn sum(&self) -> f64 {
        self.data.iter().sum()
    }

    /// Mean of all elements (NaN for an empty tensor).
    ///
    /// ```
    /// assert_eq!(tapegrad::Tensor::arange(0.0, 4.0, 1.0).mean(), 1.5);
    /// ```
    pub fn mean(&self) -> f64 {
        self.sum() / self.len() as f64
    }

    /// Sum over one axis; with `keepdim` the axis stays with extent 1.
    ///
    /// # Panics
    /// If `axis` is not a dimension of the tensor.
    ///
    /// ```
    /// let a = tapegrad::Tensor::arange(0.0, 6.0, 1.0).reshape(&[2, 3]);
    /// assert_eq!(a.sum_axis(1, false).data(), &[3.0, 12.0]);
    /// assert_eq!(a.sum_axis(1, true).shape(), &[2, 1]);
    /// ```
    pub fn sum_axis(&self, axis: usize, keepdim: bool) -> Tensor {
        self.try_sum_axis(axis, keepdim).unwrap_or_else(|e| panic!("{e}"))
    }

    /// Like [`Tensor::sum_axis`], but a bad axis is an error (as is a result
    /// too large to count: an empty axis of a huge tensor).
    ///
    /// ```
    /// let a = tapegrad::Tensor::ones(&[2, 3]);
    /// assert_eq!(a.try_sum_axis(0, false).unwrap().data(), &[2.0, 2.0, 2.0]);
    /// let e = a.try_sum_axis(2, false).unwrap_err();
    /// assert_eq!(e.to_string(), "sum_axis: shape [2, 3]: axis 2 is out of range for 2 dimensions");
    /// ```
    pub fn try_sum_axis(&self, axis: usize, keepdim: bool) -> Result<Tensor, ShapeError> {
        self.axis_sum("sum_axis", axis, keepdim)
    }

    /// The sum over `axis`, with errors naming `op`.
    fn axis_sum(&self, op: &'static str, axis: usize, keepdim: bool) -> Result<Tensor, ShapeError> {
        check_axis(op, &self.shape, axis)?;
        let shape = reduced_shape(op, &self.shape, axis, keepdim)?;
        let mut out = vec![0.0; numel(&shape)];
        sum_axis_into(&self.data, &self.shape, axis, &mut out);
        Ok(Tensor { shape, data: out })
    }

    /// Mean over one axis; with `keepdim` the axis stays with extent 1.
    ///
    /// # Panics
    /// If `axis` is not a dimension of the tensor.
    ///
    /// ```
    /// let a = tapegrad::Tensor::arange(0.0, 6.0, 1.0).reshape(&[2, 3]);
    /// assert_eq!(a.mean_axis(0, false).data(), &[1.5, 2.5, 3.5]);
    /// ```
    pub fn mean_axis(&self, axis: usize, keepdim: bool) -> Tensor {
        self.try_mean_axis(axis, keepdim).unwrap_or_else(|e| panic!("{e}"))
    }

    /// Like [`Tensor::mean_axis`], but a bad axis is an error. The mean over
    /// an empty axis is NaN (0 / 0), as PyTorch's.
    ///
    /// ```
    /// let a = tapegrad::Tensor::ones(&[2, 3]);
    /// assert_eq!(a.try_mean_axis(1, false).unwrap().data(), &[1.0, 1.0]);
    /// assert!(a.try_mean_axis(2, true).is_err());
    /// ```
    pub fn try_mean_axis(&self, axis: usize, keepdim: bool) -> Result<Tensor, ShapeError> {
        let sum = self.axis_sum("mean_axis", axis, keepdim)?;
        Ok(sum.scale(1.0 / self.shape[axis] as f64))
    }

    /// The rows of a 2-D tensor at `rows`, in that order (a mini-batch).
    ///
    /// # Panics
    /// If the tensor is not 2-D or a row index is out of range.
    ///
    /// ```
    /// let a = tapegrad::Tensor::arange(0.0, 6.0, 1.0).reshape(&[3, 2]);
    /// assert_eq!(a.select_rows(&[2, 0]).data(), &[4.0, 5.0, 0.0, 1.0]);
    /// ```
    pub fn select_rows(&self, rows: &[usize]) -> Tensor {
        let (r, c) = check_2d("select_rows", &self.shape).unwrap_or_else(|e| panic!("{e}"));
        let n = checked_numel("select_rows", &[rows.len(), c]).unwrap_or_else(|e| panic!("{e}"));
        let mut data = Vec::with_capacity(n);
        for &i in rows {
            assert!(i < r, "select_rows: row {i} is out of range for shape {:?}", self.shape.as_slice());
            data.extend_from_slice(&self.data[i * c..(i + 1) * c]);
        }
        Tensor { shape: Shape::from_slice(&[rows.len(), c]), data }
    }

    /// Row-wise log-softmax over the last axis, stable at any magnitude.
    ///
    /// ```
    /// let y = tapegrad::Tensor::from_vec(vec![1000.0, 0.0], &[2]).log_softmax();
    /// assert!(y.data()[0].abs() < 1e-12 && y.data()[1] == -1000.0);
    /// ```
    pub fn log_softmax(&self) -> Tensor {
        let n = self.shape.last().copied().unwrap_or(1);
        let mut out = vec![0.0; self.len()];
        log_softmax_into(&self.data, n, &mut out);
        Tensor { shape: self.shape.clone(), data: out }
    }

    /// The largest absolute elementwise difference to a same-shaped tensor.
    ///
    /// NaN when some pair differs by NaN (a NaN on either side): a NaN is
    /// never "no difference". 0 for empty tensors.
    ///
    /// # Panics
    /// If the shapes differ.
    ///
    /// ```
    /// use tapegrad::Tensor;
    /// assert_eq!(Tensor::ones(&[2]).max_abs_diff(&Tensor::zeros(&[2])), 1.0);
    /// assert!(Tensor::full(&[1], f64::NAN).max_abs_diff(&Tensor::zeros(&[1])).is_nan());
    /// ```
    pub fn max_abs_diff(&self, other: &Tensor) -> f64 {
        assert!(
            self.shape == other.shape,
            "max_abs_diff: shapes {:?} and {:?} differ",
            self.shape.as_slice(),
            other.shape.as_slice()
        );
        self.data.iter().zip(&other.data).map(|(a, b)| (a - b).abs()).fold(0.0, max_keep_nan)
    }
}

/// `&a + &b` and friends: broadcasting arithmetic on tensor references.
macro_rules! tensor_operator {
    ($trait:ident, $method:ident) => {
        impl std::ops::$trait<&Tensor> for &Tensor {
            type Output = Tensor;
            fn $method(self, rhs: &Tensor) -> Tensor {
                Tensor::$method(self, rhs)
            }
        }
    };
}
tensor_operator!(Add, add);
tensor_operator!(Sub, sub);
tensor_operator!(Mul, mul);
tensor_operator!(Div, div);
