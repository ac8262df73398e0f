//! Plain values with no gradients: [`Tensor`] is an f64 array, row-major and
//! contiguous, with its shape in a [`Shape`].
//!
//! Everything the tape records is computed with the kernels in this module,
//! and the hand-written reference layers (`notes::manual`) use the same
//! `Tensor` math without a tape.

mod axis;
mod display;
pub(crate) use display::fmt_num;
mod gemm;
mod math;
mod shape;

pub use axis::Axis;
pub(crate) use axis::{resolve_axis, resolve_new_axis};
pub use gemm::{GemmWorkspace, MatRef, gemm, gemm_portable, gemm_with};
pub(crate) use gemm::{gemm_is_small, gemm_of_checked_shapes};
pub(crate) use math::{
    MAX_KEEP_NAN_SRC, SIGN_SRC, binary_into, log_softmax_into, max_keep_nan, sign, sum_axis_into, transpose_into,
    unbroadcast_add, with_source,
};
pub use math::{RELU_SRC, STABLE_SIGMOID_SRC, STABLE_SOFTPLUS_SRC, relu, stable_sigmoid, stable_softplus};
pub use shape::{Shape, ShapeError, broadcast_shape, for_each_broadcast, numel, try_numel};
pub(crate) use shape::{
    broadcast_strides, check_2d, check_reshape, checked_numel, matmul_dims, reduced_shape, repeats_over_rows,
    row_major_strides, same_shape, split_axis, strip_leading_ones,
};

use rand::Rng;
use rand_distr::{Distribution, StandardNormal, Uniform};

/// An n-dimensional array of `f64`, row-major and contiguous.
///
/// ```
/// use tapegrad::Tensor;
/// let t = Tensor::from_vec(vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0], &[2, 3]);
/// assert_eq!(t.shape(), &[2, 3]);
/// assert_eq!(t.sum_axis(0, false).data(), &[5.0, 7.0, 9.0]);
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Tensor {
    pub(crate) shape: Shape,
    pub(crate) data: Vec<f64>,
}

impl Tensor {
    /// A tensor of `shape` holding `data` in row-major order.
    ///
    /// # Panics
    /// If `data.len()` is not the product of `shape`; the message names both.
    /// Use [`Tensor::try_from_vec`] to get a `Result` instead.
    ///
    /// ```
    /// let t = tapegrad::Tensor::from_vec(vec![1.0, 2.0], &[2, 1]);
    /// assert_eq!(t.get(&[1, 0]), 2.0);
    /// ```
    pub fn from_vec(data: Vec<f64>, shape: &[usize]) -> Tensor {
        Tensor::try_from_vec(data, shape).unwrap_or_else(|e| panic!("{e}"))
    }

    /// Like [`Tensor::from_vec`], but a length that does not fit is an
    /// error, and so is a shape whose element count overflows a `usize`.
    ///
    /// ```
    /// let e = tapegrad::Tensor::try_from_vec(vec![1.0; 5], &[2, 3]).unwrap_err();
    /// assert_eq!(e.to_string(), "from_vec: shape [2, 3]: 5 values cannot fill 6 elements");
    /// assert!(tapegrad::Tensor::try_from_vec(vec![], &[1 << 32, 1 << 32]).is_err());
    /// ```
    pub fn try_from_vec(data: Vec<f64>, shape: &[usize]) -> Result<Tensor, ShapeError> {
        let n = checked_numel("from_vec", shape)?;
        if data.len() != n {
            return Err(ShapeError::new(
                "from_vec",
                &[shape],
                format!("{} values cannot fill {n} elements", data.len()),
            ));
        }
        Ok(Tensor { shape: Shape::from_slice(shape), data })
    }

    /// A 0-dimensional tensor holding one value.
    ///
    /// ```
    /// let s = tapegrad::Tensor::scalar(3.0);
    /// assert_eq!((s.shape().len(), s.item()), (0, 3.0));
    /// ```
    pub fn scalar(value: f64) -> Tensor {
        Tensor { shape: Shape::new(), data: vec![value] }
    }

    /// A tensor of `shape` filled with `value`.
    ///
    /// ```
    /// assert_eq!(tapegrad::Tensor::full(&[2], 7.0).data(), &[7.0, 7.0]);
    /// ```
    pub fn full(shape: &[usize], value: f64) -> Tensor {
        Tensor { shape: Shape::from_slice(shape), data: vec![value; numel(shape)] }
    }

    /// A tensor of zeros.
    ///
    /// ```
    /// assert_eq!(tapegrad::Tensor::zeros(&[3]).data(), &[0.0; 3]);
    /// ```
    pub fn zeros(shape: &[usize]) -> Tensor {
        Tensor::full(shape, 0.0)
    }

    /// A tensor of ones.
    ///
    /// ```
    /// assert_eq!(tapegrad::Tensor::ones(&[1, 2]).data(), &[1.0, 1.0]);
    /// ```
    pub fn ones(shape: &[usize]) -> Tensor {
        Tensor::full(shape, 1.0)
    }

    /// NumPy's `arange`: `start, start + step, ...` while below `end` (above,
    /// for a negative step). Element i is `start + i * step`, as in NumPy, so
    /// rounding does not accumulate.
    ///
    /// # Panics
    /// If `step` is zero, a bound or the step is not finite, or the range
    /// has too many elements to allocate.
    ///
    /// ```
    /// let x = tapegrad::Tensor::arange(0.0, 2.0 * std::f64::consts::PI, 0.1);
    /// assert_eq!(x.len(), 63); // the notes' sine inputs
    /// ```
    pub fn arange(start: f64, end: f64, step: f64) -> Tensor {
        assert!(step != 0.0 && step.is_finite(), "arange: step must be finite and non-zero, got {step}");
        assert!(start.is_finite() && end.is_finite(), "arange: bounds must be finite, got {start} to {end}");
        let count = ((end - start) / step).ceil().max(0.0);
        // Checked here, or `as usize` saturates and the allocation fails deep inside.
        assert!(count <= (isize::MAX as usize / 8) as f64, "arange: {start} to {end} by {step} is {count} elements");
        let n = count as usize;
        let data: Vec<f64> = (0..n).map(|i| start + i as f64 * step).collect();
        Tensor::from_vec(data, &[n])
    }

    /// Standard normal samples drawn from `rng` (seed it for reproducible runs).
    ///
    /// ```
    /// use rand::SeedableRng;
    /// let mut rng = rand_chacha::ChaCha12Rng::seed_from_u64(0);
    /// let a = tapegrad::Tensor::randn(&[2, 2], &mut rng);
    /// let mut rng = rand_chacha::ChaCha12Rng::seed_from_u64(0);
    /// assert_eq!(a, tapegrad::Tensor::randn(&[2, 2], &mut rng));
    /// ```
    pub fn randn(shape: &[usize], rng: &mut impl Rng) -> Tensor {
        let data = (0..numel(shape)).map(|_| StandardNormal.sample(rng)).collect();
        Tensor { shape: Shape::from_slice(shape), data }
    }

    /// Uniform samples in `[0, 1)` drawn from `rng`.
    ///
    /// ```
    /// use rand::SeedableRng;
    /// let mut rng = rand_chacha::ChaCha12Rng::seed_from_u64(1);
    /// let u = tapegrad::Tensor::rand(&[100], &mut rng);
    /// assert!(u.data().iter().all(|&v| (0.0..1.0).contains(&v)));
    /// ```
    pub fn rand(shape: &[usize], rng: &mut impl Rng) -> Tensor {
        Tensor::uniform(shape, 0.0, 1.0, rng)
    }

    /// Uniform samples in `[low, high)` drawn from `rng`.
    ///
    /// # Panics
    /// If `low >= high` or either bound is not finite.
    ///
    /// ```
    /// use rand::SeedableRng;
    /// let mut rng = rand_chacha::ChaCha12Rng::seed_from_u64(1);
    /// let u = tapegrad::Tensor::uniform(&[10], -1.0, 1.0, &mut rng);
    /// assert!(u.data().iter().all(|&v| (-1.0..1.0).contains(&v)));
    /// ```
    pub fn uniform(shape: &[usize], low: f64, high: f64, rng: &mut impl Rng) -> Tensor {
        let dist = Uniform::new(low, high).unwrap_or_else(|e| panic!("uniform: bad range [{low}, {high}): {e}"));
        let data = (0..numel(shape)).map(|_| dist.sample(rng)).collect();
        Tensor { shape: Shape::from_slice(shape), data }
    }

    /// The shape, outermost dimension first.
    ///
    /// ```
    /// assert_eq!(tapegrad::Tensor::zeros(&[4, 5]).shape(), &[4, 5]);
    /// ```
    pub fn shape(&self) -> &[usize] {
        &self.shape
    }

    /// The elements in row-major order.
    ///
    /// ```
    /// assert_eq!(tapegrad::Tensor::ones(&[2]).data(), &[1.0, 1.0]);
    /// ```
    pub fn data(&self) -> &[f64] {
        &self.data
    }

    /// The elements, mutably (the shape stays fixed).
    ///
    /// ```
    /// let mut t = tapegrad::Tensor::zeros(&[2]);
    /// t.data_mut()[1] = 5.0;
    /// assert_eq!(t.data(), &[0.0, 5.0]);
    /// ```
    pub fn data_mut(&mut self) -> &mut [f64] {
        &mut self.data
    }

    /// Gives up the tensor and returns its elements.
    ///
    /// ```
    /// assert_eq!(tapegrad::Tensor::ones(&[2]).into_data(), vec![1.0, 1.0]);
    /// ```
    pub fn into_data(self) -> Vec<f64> {
        self.data
    }

    /// Number of elements.
    ///
    /// ```
    /// assert_eq!(tapegrad::Tensor::zeros(&[2, 3]).len(), 6);
    /// ```
    pub fn len(&self) -> usize {
        self.data.len()
    }

    /// True when the tensor has no elements.
    ///
    /// ```
    /// assert!(tapegrad::Tensor::zeros(&[0, 3]).is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }

    /// Number of dimensions (0 for a scalar).
    ///
    /// ```
    /// assert_eq!(tapegrad::Tensor::scalar(1.0).ndim(), 0);
    /// ```
    pub fn ndim(&self) -> usize {
        self.shape.len()
    }

    /// The single value of a one-element tensor.
    ///
    /// # Panics
    /// If the tensor does not hold exactly one element.
    ///
    /// ```
    /// assert_eq!(tapegrad::Tensor::full(&[1, 1], 2.5).item(), 2.5);
    /// ```
    pub fn item(&self) -> f64 {
        assert!(
            self.data.len() == 1,
            "item: shape {:?} holds {} elements, not one",
            self.shape.as_slice(),
            self.data.len()
        );
        self.data[0]
    }

    /// The element at a multi-index.
    ///
    /// # Panics
    /// If the index has the wrong number of dimensions or is out of range;
    /// the message gives the index and the shape.
    ///
    /// ```
    /// let t = tapegrad::Tensor::arange(0.0, 6.0, 1.0).reshape(&[2, 3]);
    /// assert_eq!(t.get(&[1, 2]), 5.0);
    /// ```
    pub fn get(&self, index: &[usize]) -> f64 {
        let ok = index.len() == self.ndim() && index.iter().zip(self.shape.iter()).all(|(i, d)| i < d);
        assert!(ok, "get: index {index:?} is outside shape {:?}", self.shape.as_slice());
        let flat = index.iter().zip(self.shape.iter()).fold(0, |acc, (i, d)| acc * d + i);
        self.data[flat]
    }
}
