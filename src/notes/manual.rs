//! The notes' hand-written layers: forward and backward by hand, in plain
//! tensor math, with no tape.
//!
//! This is the teaching contrast (the same network, every gradient derived
//! on paper) and the independent truth the tape's gradients are tested
//! against. The code follows the notes line by line:
//!
//! ```text
//! HiddenLayer:  u = x w + b;  y = sigmoid(u)
//!   backward(grad_y): delta = grad_y * (1 - y) * y
//!                     grad_w = x^T delta;  grad_b = sum(delta, axis 0);  grad_x = delta w^T
//! OutputLayer:  u = x w + b;  y = u            (identity)
//!   backward(t):      delta = y - t            (the gradient of 0.5 (y - t)^2)
//! update(eta):  w -= eta grad_w;  b -= eta grad_b
//! ```
//!
//! Summing `delta` over axis 0 (the batch), not over everything, is what
//! keeps it right for batches larger than one.

use crate::nn::{Params, layer_name};
use crate::tensor::Tensor;
use crate::tensor::stable_sigmoid;
use rand::Rng;

/// A sigmoid layer with its backward pass written by hand.
///
/// ```
/// use tapegrad::{Tensor, notes::manual::HiddenLayer};
/// let mut layer = HiddenLayer::from_weights(Tensor::zeros(&[2, 3]), Tensor::zeros(&[3]));
/// let y = layer.forward(&Tensor::ones(&[1, 2]));
/// assert_eq!(y.data(), &[0.5, 0.5, 0.5]);      // sigmoid(0)
/// let grad_x = layer.backward(&Tensor::ones(&[1, 3]));
/// assert_eq!(layer.grad_b.data(), &[0.25, 0.25, 0.25]); // 1 * (1 - 0.5) * 0.5
/// assert_eq!(grad_x.shape(), &[1, 2]);
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct HiddenLayer {
    /// Weights, `n_upper x n`.
    pub w: Tensor,
    /// Biases, length `n`.
    pub b: Tensor,
    /// The input of the last forward pass (kept for backward).
    pub x: Tensor,
    /// The output of the last forward pass (kept for backward).
    pub y: Tensor,
    /// `x^T delta`, from the last backward pass.
    pub grad_w: Tensor,
    /// `sum(delta, axis 0)`, from the last backward pass.
    pub grad_b: Tensor,
}

impl HiddenLayer {
    /// `w` (`n_upper x n`) then `b` (`n`) from a standard normal, as the
    /// notes draw them.
    ///
    /// ```
    /// use rand::SeedableRng;
    /// let mut rng = rand_chacha::ChaCha12Rng::seed_from_u64(0);
    /// let layer = tapegrad::notes::manual::HiddenLayer::new(1, 3, &mut rng);
    /// assert_eq!((layer.w.shape(), layer.b.shape()), (&[1, 3][..], &[3][..]));
    /// ```
    pub fn new(n_upper: usize, n: usize, rng: &mut impl Rng) -> HiddenLayer {
        let (w, b) = draw(n_upper, n, rng);
        HiddenLayer::from_weights(w, b)
    }

    /// A layer with the given weights and biases.
    ///
    /// ```
    /// use tapegrad::{Tensor, notes::manual::HiddenLayer};
    /// let l = HiddenLayer::from_weights(Tensor::zeros(&[2, 3]), Tensor::zeros(&[3]));
    /// assert_eq!(l.grad_w.shape(), &[2, 3]);
    /// ```
    pub fn from_weights(w: Tensor, b: Tensor) -> HiddenLayer {
        check_weights("HiddenLayer", &w, &b);
        let (grad_w, grad_b) = (Tensor::zeros(w.shape()), Tensor::zeros(b.shape()));
        HiddenLayer { w, b, x: Tensor::zeros(&[0]), y: Tensor::zeros(&[0]), grad_w, grad_b }
    }

    /// `u = x w + b; y = sigmoid(u)`.
    ///
    /// ```
    /// use tapegrad::{Tensor, notes::manual::HiddenLayer};
    /// let mut l = HiddenLayer::from_weights(Tensor::zeros(&[1, 1]), Tensor::zeros(&[1]));
    /// assert_eq!(l.forward(&Tensor::ones(&[1, 1])).item(), 0.5);
    /// ```
    pub fn forward(&mut self, x: &Tensor) -> Tensor {
        let u = &x.matmul(&self.w) + &self.b;
        self.x = x.clone();
        self.y = u.map(stable_sigmoid);
        self.y.clone()
    }

    /// `delta = grad_y * (1 - y) * y; grad_w = x^T delta;
    /// grad_b = sum(delta, axis 0)`; returns `grad_x = delta w^T`.
    ///
    /// ```
    /// use tapegrad::{Tensor, notes::manual::HiddenLayer};
    /// let mut l = HiddenLayer::from_weights(Tensor::ones(&[1, 1]), Tensor::zeros(&[1]));
    /// l.forward(&Tensor::zeros(&[1, 1]));
    /// assert_eq!(l.backward(&Tensor::ones(&[1, 1])).item(), 0.25); // s(1-s) w
    /// ```
    pub fn backward(&mut self, grad_y: &Tensor) -> Tensor {
        let one_minus_y = self.y.map(|y| 1.0 - y);
        let delta = grad_y.mul(&one_minus_y).mul(&self.y);
        let grad_x;
        (self.grad_w, self.grad_b, grad_x) = from_delta(&self.x, &self.w, &delta);
        grad_x
    }

    /// `w -= eta grad_w; b -= eta grad_b`.
    ///
    /// ```
    /// use tapegrad::{Tensor, notes::manual::HiddenLayer};
    /// let mut l = HiddenLayer::from_weights(Tensor::zeros(&[1, 1]), Tensor::zeros(&[1]));
    /// l.forward(&Tensor::ones(&[1, 1]));
    /// l.backward(&Tensor::ones(&[1, 1]));
    /// l.update(1.0);
    /// assert_eq!(l.b.item(), -0.25);
    /// ```
    pub fn update(&mut self, eta: f64) {
        sgd(&mut self.w, &mut self.b, &self.grad_w, &self.grad_b, eta);
    }
}

/// The identity output layer; its backward pass starts from the target.
///
/// ```
/// use tapegrad::{Tensor, notes::manual::OutputLayer};
/// let mut out = OutputLayer::from_weights(Tensor::ones(&[1, 1]), Tensor::zeros(&[1]));
/// let y = out.forward(&Tensor::from_vec(vec![2.0], &[1, 1]));
/// assert_eq!(y.item(), 2.0);
/// let grad_x = out.backward(&Tensor::from_vec(vec![0.5], &[1, 1]));
/// assert_eq!((out.grad_w.item(), grad_x.item()), (3.0, 1.5)); // x^T (y - t), (y - t) w^T
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct OutputLayer {
    /// Weights, `n_upper x n`.
    pub w: Tensor,
    /// Biases, length `n`.
    pub b: Tensor,
    /// The input of the last forward pass.
    pub x: Tensor,
    /// The output of the last forward pass.
    pub y: Tensor,
    /// `x^T delta`, from the last backward pass.
    pub grad_w: Tensor,
    /// `sum(delta, axis 0)`, from the last backward pass.
    pub grad_b: Tensor,
}

impl OutputLayer {
    /// `w` then `b` from a standard normal, as the notes draw them.
    ///
    /// ```
    /// use rand::SeedableRng;
    /// let mut rng = rand_chacha::ChaCha12Rng::seed_from_u64(0);
    /// let out = tapegrad::notes::manual::OutputLayer::new(3, 1, &mut rng);
    /// assert_eq!(out.w.shape(), &[3, 1]);
    /// ```
    pub fn new(n_upper: usize, n: usize, rng: &mut impl Rng) -> OutputLayer {
        let (w, b) = draw(n_upper, n, rng);
        OutputLayer::from_weights(w, b)
    }

    /// A layer with the given weights and biases.
    ///
    /// ```
    /// use tapegrad::{Tensor, notes::manual::OutputLayer};
    /// let l = OutputLayer::from_weights(Tensor::zeros(&[3, 1]), Tensor::zeros(&[1]));
    /// assert_eq!(l.b.shape(), &[1]);
    /// ```
    pub fn from_weights(w: Tensor, b: Tensor) -> OutputLayer {
        check_weights("OutputLayer", &w, &b);
        let (grad_w, grad_b) = (Tensor::zeros(w.shape()), Tensor::zeros(b.shape()));
        OutputLayer { w, b, x: Tensor::zeros(&[0]), y: Tensor::zeros(&[0]), grad_w, grad_b }
    }

    /// `u = x w + b; y = u`.
    ///
    /// ```
    /// use tapegrad::{Tensor, notes::manual::OutputLayer};
    /// let mut l = OutputLayer::from_weights(Tensor::ones(&[2, 1]), Tensor::ones(&[1]));
    /// assert_eq!(l.forward(&Tensor::ones(&[1, 2])).item(), 3.0);
    /// ```
    pub fn forward(&mut self, x: &Tensor) -> Tensor {
        self.x = x.clone();
        self.y = &x.matmul(&self.w) + &self.b;
        self.y.clone()
    }

    /// `delta = y - t; grad_w = x^T delta; grad_b = sum(delta, axis 0)`;
    /// returns `grad_x = delta w^T`. This is the backward pass of the loss
    /// `0.5 * sum((y - t)^2)` and of the layer together.
    ///
    /// ```
    /// use tapegrad::{Tensor, notes::manual::OutputLayer};
    /// let mut l = OutputLayer::from_weights(Tensor::ones(&[1, 1]), Tensor::zeros(&[1]));
    /// l.forward(&Tensor::from_vec(vec![1.0, 2.0], &[2, 1]));  // a batch of two
    /// l.backward(&Tensor::zeros(&[2, 1]));
    /// assert_eq!(l.grad_b.item(), 3.0); // delta summed over the batch
    /// ```
    pub fn backward(&mut self, t: &Tensor) -> Tensor {
        let delta = self.y.sub(t);
        let grad_x;
        (self.grad_w, self.grad_b, grad_x) = from_delta(&self.x, &self.w, &delta);
        grad_x
    }

    /// `w -= eta grad_w; b -= eta grad_b`.
    ///
    /// ```
    /// use tapegrad::{Tensor, notes::manual::OutputLayer};
    /// let mut l = OutputLayer::from_weights(Tensor::ones(&[1, 1]), Tensor::zeros(&[1]));
    /// l.forward(&Tensor::ones(&[1, 1]));
    /// l.backward(&Tensor::zeros(&[1, 1]));
    /// l.update(0.5);
    /// assert_eq!(l.w.item(), 0.5);
    /// ```
    pub fn update(&mut self, eta: f64) {
        sgd(&mut self.w, &mut self.b, &self.grad_w, &self.grad_b, eta);
    }
}

/// A stack of [`HiddenLayer`]s and an [`OutputLayer`]: the notes' network
/// of any depth, trained by hand. Its parameters carry the same names as
/// an [`Mlp`](crate::nn::Mlp) of the same sizes (`"hidden.w"`, ..., `"out.b"`), so the
/// two compare name by name.
///
/// ```
/// use rand::SeedableRng;
/// use tapegrad::{Tensor, nn::MlpSpec, notes::manual::ManualMlp};
/// let mut rng = rand_chacha::ChaCha12Rng::seed_from_u64(3);
/// let mlp = MlpSpec::new(&[1, 3, 1]).build(&mut rng);
/// let mut net = ManualMlp::from_params(mlp.params());
/// let x = Tensor::from_vec(vec![0.5], &[1, 1]);
/// assert_eq!(net.forward(&x), mlp.predict(&x));
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct ManualMlp {
    /// The sigmoid layers, input first, with their parameter names.
    pub hidden: Vec<(String, HiddenLayer)>,
    /// The identity output layer (named `"out"`).
    pub out: OutputLayer,
}

impl ManualMlp {
    /// Draws the layers as the notes do (each layer's `w` then `b`, from a
    /// standard normal); the same RNG draws as `MlpSpec::new(sizes).build`.
    ///
    /// # Panics
    /// With fewer than two sizes.
    ///
    /// ```
    /// use rand::SeedableRng;
    /// use tapegrad::{nn::MlpSpec, notes::manual::ManualMlp};
    /// let net = ManualMlp::new(&[1, 3, 1], &mut rand_chacha::ChaCha12Rng::seed_from_u64(5));
    /// let mlp = MlpSpec::new(&[1, 3, 1]).build(&mut rand_chacha::ChaCha12Rng::seed_from_u64(5));
    /// assert_eq!(&net.params(), mlp.params());
    /// ```
    pub fn new(sizes: &[usize], rng: &mut impl Rng) -> ManualMlp {
        assert!(sizes.len() >= 2, "ManualMlp: need at least an input and an output size, got {sizes:?}");
        let n = sizes.len() - 1;
        let hidden = (0..n - 1).map(|k| (layer_name(k, n), HiddenLayer::new(sizes[k], sizes[k + 1], rng))).collect();
        ManualMlp { hidden, out: OutputLayer::new(sizes[n - 1], sizes[n], rng) }
    }

    /// Copies the weights of `params`, read in order as `(w, b)` pairs: every
    /// pair but the last a hidden layer, the last the output layer.
    ///
    /// # Panics
    /// If `params` does not hold an even, nonzero number of tensors.
    ///
    /// ```
    /// use rand::SeedableRng;
    /// use tapegrad::{nn::MlpSpec, notes::manual::ManualMlp};
    /// let mlp = MlpSpec::new(&[2, 4, 4, 1]).build(&mut rand_chacha::ChaCha12Rng::seed_from_u64(0));
    /// assert_eq!(ManualMlp::from_params(mlp.params()).hidden.len(), 2);
    /// ```
    pub fn from_params(params: &Params) -> ManualMlp {
        let n = params.len();
        assert!(n >= 2 && n.is_multiple_of(2), "ManualMlp::from_params: need (w, b) pairs, got {n} tensors");
        let all: Vec<(&str, &Tensor)> = params.iter().collect();
        let pair = |k: usize| (all[2 * k].1.clone(), all[2 * k + 1].1.clone());
        let name_of = |k: usize| all[2 * k].0.trim_end_matches(".w").to_string();
        let hidden = (0..n / 2 - 1)
            .map(|k| {
                let (w, b) = pair(k);
                (name_of(k), HiddenLayer::from_weights(w, b))
            })
            .collect();
        let (w, b) = pair(n / 2 - 1);
        ManualMlp { hidden, out: OutputLayer::from_weights(w, b) }
    }

    /// Forward through every layer.
    ///
    /// ```
    /// use rand::SeedableRng;
    /// use tapegrad::{Tensor, notes::manual::ManualMlp};
    /// let mut net = ManualMlp::new(&[2, 3, 1], &mut rand_chacha::ChaCha12Rng::seed_from_u64(0));
    /// assert_eq!(net.forward(&Tensor::ones(&[5, 2])).shape(), &[5, 1]);
    /// ```
    pub fn forward(&mut self, x: &Tensor) -> Tensor {
        let h = self.hidden.iter_mut().fold(x.clone(), |h, (_, layer)| layer.forward(&h));
        self.out.forward(&h)
    }

    /// Backward from the target through every layer (the gradient of
    /// `0.5 * sum((y - t)^2)`); each layer keeps its `grad_w` and `grad_b`.
    ///
    /// ```
    /// use rand::SeedableRng;
    /// use tapegrad::{Tensor, notes::manual::ManualMlp};
    /// let mut net = ManualMlp::new(&[1, 3, 1], &mut rand_chacha::ChaCha12Rng::seed_from_u64(0));
    /// net.forward(&Tensor::ones(&[1, 1]));
    /// net.backward(&Tensor::zeros(&[1, 1]));
    /// assert_eq!(net.grads()["hidden.w"].shape(), &[1, 3]);
    /// ```
    pub fn backward(&mut self, t: &Tensor) {
        let grad = self.out.backward(t);
        self.hidden.iter_mut().rev().fold(grad, |g, (_, layer)| layer.backward(&g));
    }

    /// `update(eta)` on every layer.
    ///
    /// ```
    /// use rand::SeedableRng;
    /// use tapegrad::{Tensor, notes::manual::ManualMlp};
    /// let mut net = ManualMlp::new(&[1, 3, 1], &mut rand_chacha::ChaCha12Rng::seed_from_u64(0));
    /// let before = net.params();
    /// net.forward(&Tensor::ones(&[1, 1]));
    /// net.backward(&Tensor::zeros(&[1, 1]));
    /// net.update(0.1);
    /// assert!(net.params().max_abs_diff(&before) > 0.0);
    /// ```
    pub fn update(&mut self, eta: f64) {
        self.hidden.iter_mut().for_each(|(_, layer)| layer.update(eta));
        self.out.update(eta);
    }

    /// The weights, named like an `Mlp`'s.
    ///
    /// ```
    /// use rand::SeedableRng;
    /// let net = tapegrad::notes::manual::ManualMlp::new(&[1, 3, 1], &mut rand_chacha::ChaCha12Rng::seed_from_u64(0));
    /// assert_eq!(net.params().names().last(), Some("out.b"));
    /// ```
    pub fn params(&self) -> Params {
        self.named(false)
    }

    /// The gradients of the last backward pass, named like the weights.
    ///
    /// ```
    /// use rand::SeedableRng;
    /// let net = tapegrad::notes::manual::ManualMlp::new(&[1, 3, 1], &mut rand_chacha::ChaCha12Rng::seed_from_u64(0));
    /// assert_eq!(net.grads()["out.w"].data(), &[0.0, 0.0, 0.0]); // no backward yet
    /// ```
    pub fn grads(&self) -> Params {
        self.named(true)
    }

    /// `(w, b)` or `(grad_w, grad_b)` of every layer under the `Mlp` names.
    fn named(&self, grads: bool) -> Params {
        let hidden = self.hidden.iter().map(|(n, l)| (n.as_str(), [&l.w, &l.b, &l.grad_w, &l.grad_b]));
        let out = std::iter::once(("out", [&self.out.w, &self.out.b, &self.out.grad_w, &self.out.grad_b]));
        let first = if grads { 2 } else { 0 };
        let mut p = Params::new();
        for (name, t) in hidden.chain(out) {
            p.insert(format!("{name}.w"), t[first].clone());
            p.insert(format!("{name}.b"), t[first + 1].clone());
        }
        p
    }
}

/// `w` (`n_upper x n`) then `b` (`n`) from a standard normal, in that order.
fn draw(n_upper: usize, n: usize, rng: &mut impl Rng) -> (Tensor, Tensor) {
    let w = Tensor::randn(&[n_upper, n], rng);
    (w, Tensor::randn(&[n], rng))
}

/// What both layers do with their delta: `grad_w = x^T delta`,
/// `grad_b = sum(delta, axis 0)`, `grad_x = delta w^T`.
fn from_delta(x: &Tensor, w: &Tensor, delta: &Tensor) -> (Tensor, Tensor, Tensor) {
    (x.t().matmul(delta), delta.sum_axis(0, false), delta.matmul(&w.t()))
}

/// `w -= eta grad_w; b -= eta grad_b`.
fn sgd(w: &mut Tensor, b: &mut Tensor, grad_w: &Tensor, grad_b: &Tensor, eta: f64) {
    w.axpy(-eta, grad_w);
    b.axpy(-eta, grad_b);
}

fn check_weights(layer: &str, w: &Tensor, b: &Tensor) {
    assert!(
        w.ndim() == 2 && b.shape() == [w.shape()[1]],
        "{layer}: w must be [n_upper, n] and b [n]; got w {:?} and b {:?}",
        w.shape(),
        b.shape()
    );
}
