//! Initialisation of weights and biases from a seeded RNG.

use crate::tensor::Tensor;
use rand::Rng;

/// How to draw a layer's initial values. `fan_in`/`fan_out` are the
/// layer's input and output sizes.
///
/// | variant | distribution | from |
/// |---|---|---|
/// | `StandardNormal` | N(0, 1) | the notes (`np.random.randn`) |
/// | `Uniform(lo, hi)` | U[lo, hi) | micrograd (`random.uniform(-1, 1)`) |
/// | `XavierUniform` | U[-a, a), a = sqrt(6 / (fan_in + fan_out)) | Glorot & Bengio 2010 |
/// | `XavierNormal` | N(0, 2 / (fan_in + fan_out)) | Glorot & Bengio 2010 |
/// | `HeNormal` | N(0, 2 / fan_in) | He et al. 2015, for ReLU |
/// | `Zeros` | 0 | micrograd's biases |
///
/// ```
/// use rand::SeedableRng;
/// use tapegrad::nn::Init;
/// let mut rng = rand_chacha::ChaCha12Rng::seed_from_u64(0);
/// let w = Init::XavierUniform.draw(&[100, 50], 100, 50, &mut rng);
/// let a = (6.0f64 / 150.0).sqrt();
/// assert!(w.data().iter().all(|v| v.abs() <= a));
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Init {
    /// Standard normal, N(0, 1).
    StandardNormal,
    /// Uniform in `[low, high)`.
    Uniform(f64, f64),
    /// Glorot uniform: U[-a, a) with a = sqrt(6 / (fan_in + fan_out)).
    XavierUniform,
    /// Glorot normal: N(0, 2 / (fan_in + fan_out)).
    XavierNormal,
    /// He (Kaiming) normal: N(0, 2 / fan_in).
    HeNormal,
    /// All zeros (draws nothing from the RNG).
    Zeros,
}

impl Init {
    /// A tensor of `shape` drawn from this distribution.
    ///
    /// ```
    /// use rand::SeedableRng;
    /// use tapegrad::nn::Init;
    /// let mut rng = rand_chacha::ChaCha12Rng::seed_from_u64(0);
    /// assert_eq!(Init::Zeros.draw(&[2], 1, 2, &mut rng).data(), &[0.0, 0.0]);
    /// ```
    pub fn draw(self, shape: &[usize], fan_in: usize, fan_out: usize, rng: &mut impl Rng) -> Tensor {
        let (fi, fo) = (fan_in as f64, fan_out as f64);
        match self {
            Init::StandardNormal => Tensor::randn(shape, rng),
            Init::Uniform(low, high) => Tensor::uniform(shape, low, high, rng),
            Init::XavierUniform => {
                let a = (6.0 / (fi + fo)).sqrt();
                Tensor::uniform(shape, -a, a, rng)
            }
            Init::XavierNormal => Tensor::randn(shape, rng).scale((2.0 / (fi + fo)).sqrt()),
            Init::HeNormal => Tensor::randn(shape, rng).scale((2.0 / fi).sqrt()),
            Init::Zeros => Tensor::zeros(shape),
        }
    }
}
