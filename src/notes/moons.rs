//! micrograd's demo: a 2-16-16-1 ReLU network separating two interleaved
//! half-moons with the SVM max-margin loss, written at two levels that
//! must agree to rounding:
//! - [`scalar_step`]: every weight its own `tape.scalar`, every neuron a sum
//!   of products, exactly as micrograd builds it;
//! - [`tensor_step`]: the same network as an [`Mlp`], one matmul per layer.
//!
//! `examples/moons.rs` runs the demo and plots the decision boundary.
//!
//! ```
//! use rand::SeedableRng;
//! use rand_chacha::ChaCha12Rng;
//! use tapegrad::notes::moons;
//! let mut rng = ChaCha12Rng::seed_from_u64(0);
//! let (x, y) = moons::make_moons(20, 0.1, &mut rng);
//! let mut mlp = moons::network(&mut rng);
//! let mut scalar = mlp.params().clone();
//! let (ls, _) = moons::scalar_step(&mut scalar, &x, &y, 1.0);
//! let (lt, _) = moons::tensor_step(&mut mlp, &x, &y, 1.0);
//! assert!((ls - lt).abs() < 1e-12);
//! ```

use crate::nn::{Activation, Init, Mlp, MlpSpec, Params};
use crate::optim::{Optimizer, Sgd, SgdConfig};
use crate::{Tape, Tensor, Var, loss};
use rand::Rng;
use rand::seq::SliceRandom;
use rand_distr::{Distribution, Normal};

/// micrograd's L2 coefficient.
///
/// ```
/// use tapegrad::{Tape, notes::moons::{ALPHA, svm_loss}};
/// let tape = Tape::new();
/// let (s, w) = (tape.scalar(2.0), tape.scalar(3.0)); // margin met: the hinge is 0
/// assert_eq!(svm_loss(&[s], &[1.0], [w].into_iter()).item(), ALPHA * 9.0);
/// ```
pub const ALPHA: f64 = 1e-4;

/// micrograd's network: 2-16-16-1, ReLU hidden, linear output, weights
/// uniform in [-1, 1], biases 0.
///
/// ```
/// use rand::SeedableRng;
/// let mlp = tapegrad::notes::moons::network(&mut rand_chacha::ChaCha12Rng::seed_from_u64(0));
/// assert_eq!(mlp.params().numel(), 2 * 16 + 16 + 16 * 16 + 16 + 16 + 1);
/// ```
pub fn network(rng: &mut impl Rng) -> Mlp {
    MlpSpec::new(&[2, 16, 16, 1])
        .hidden(Activation::Relu)
        .weights(Init::Uniform(-1.0, 1.0))
        .biases(Init::Zeros)
        .build(rng)
}

/// micrograd's learning rate at step `k` of 100: `1.0 - 0.9 k / 100`.
///
/// ```
/// assert_eq!(tapegrad::notes::moons::learning_rate(0), 1.0);
/// ```
pub fn learning_rate(k: usize) -> f64 {
    1.0 - 0.9 * k as f64 / 100.0
}

/// sklearn's `make_moons`: an upper half circle and a lower half circle
/// shifted by (1, -0.5), n/2 points each, shuffled, plus Gaussian noise.
/// Labels are micrograd's: -1 for the first moon, +1 for the second.
///
/// ```
/// use rand::SeedableRng;
/// let (x, y) = tapegrad::notes::moons::make_moons(100, 0.1, &mut rand_chacha::ChaCha12Rng::seed_from_u64(0));
/// assert_eq!((x.len(), y.iter().filter(|&&l| l > 0.0).count()), (100, 50));
/// ```
pub fn make_moons(n: usize, noise: f64, rng: &mut impl Rng) -> (Vec<[f64; 2]>, Vec<f64>) {
    let n_out = n / 2;
    let n_in = n - n_out;
    let angle = |i: usize, m: usize| std::f64::consts::PI * i as f64 / (m.max(2) - 1) as f64; // linspace(0, pi, m)
    let outer = (0..n_out).map(|i| ([angle(i, n_out).cos(), angle(i, n_out).sin()], -1.0));
    let inner = (0..n_in).map(|i| ([1.0 - angle(i, n_in).cos(), 1.0 - angle(i, n_in).sin() - 0.5], 1.0));
    let mut points: Vec<([f64; 2], f64)> = outer.chain(inner).collect();
    points.shuffle(rng);
    let gauss = Normal::new(0.0, noise).expect("noise must be finite and non-negative");
    let x = points.iter().map(|(p, _)| [p[0] + gauss.sample(rng), p[1] + gauss.sample(rng)]).collect();
    (x, points.iter().map(|(_, l)| *l).collect())
}

/// micrograd's loss: `mean(relu(1 - y * score)) + ALPHA * sum(p^2)`, built
/// from scalar Vars.
///
/// ```
/// let tape = tapegrad::Tape::new();
/// let (s, w) = (tape.scalar(0.5), tape.scalar(2.0));
/// let l = tapegrad::notes::moons::svm_loss(&[s], &[1.0], [w].into_iter());
/// assert!((l.item() - (0.5 + 1e-4 * 4.0)).abs() < 1e-15);
/// ```
pub fn svm_loss<'t>(scores: &[Var<'t>], y: &[f64], params: impl Iterator<Item = Var<'t>>) -> Var<'t> {
    let hinge = scores.iter().zip(y).map(|(&s, &yi)| (1.0 - yi * s).relu()).reduce(|a, b| a + b).unwrap();
    let reg = params.map(|p| p * p).reduce(|a, b| a + b).unwrap();
    hinge * (1.0 / y.len() as f64) + ALPHA * reg
}

/// Fraction of points whose score has the sign of their label.
///
/// ```
/// let acc = tapegrad::notes::moons::accuracy([0.5, -2.0, 1.0].into_iter(), &[1.0, -1.0, -1.0]);
/// assert!((acc - 2.0 / 3.0).abs() < 1e-15);
/// ```
pub fn accuracy(scores: impl Iterator<Item = f64>, y: &[f64]) -> f64 {
    scores.zip(y).filter(|(s, yi)| (*s > 0.0) == (**yi > 0.0)).count() as f64 / y.len() as f64
}

/// One step at the scalar level (see the module example); returns the loss
/// and the accuracy before the update.
///
/// ```
/// use rand::SeedableRng;
/// use tapegrad::notes::moons;
/// let mut rng = rand_chacha::ChaCha12Rng::seed_from_u64(1);
/// let (x, y) = moons::make_moons(8, 0.1, &mut rng);
/// let mut p = moons::network(&mut rng).params().clone();
/// let (first, _) = moons::scalar_step(&mut p, &x, &y, 0.1);
/// let (second, _) = moons::scalar_step(&mut p, &x, &y, 0.1);
/// assert!(second < first);
/// ```
///
/// Details: : every weight a `tape.scalar`, every
/// neuron `b + sum_i w_i x_i` built one multiply and one add at a time.
pub fn scalar_step(params: &mut Params, x: &[[f64; 2]], y: &[f64], lr: f64) -> (f64, f64) {
    let tape = Tape::new();
    // Scalars of W (n_in x n_out, row-major: w[i][j] at i * n_out + j) and b.
    let weights: Vec<Vec<Var>> =
        params.iter().map(|(_, t)| t.data().iter().map(|&v| tape.scalar(v)).collect()).collect();
    let layers: Vec<(&[Var], &[Var])> = weights.chunks(2).map(|wb| (&wb[0][..], &wb[1][..])).collect();
    let scores: Vec<Var> = x
        .iter()
        .map(|p| {
            let mut h: Vec<Var> = p.iter().map(|&v| tape.constant(Tensor::scalar(v))).collect();
            for (k, &(w, b)) in layers.iter().enumerate() {
                let n_out = b.len();
                h = (0..n_out)
                    .map(|j| {
                        let act = h.iter().enumerate().fold(b[j], |acc, (i, &xi)| acc + w[i * n_out + j] * xi);
                        if k + 1 < layers.len() { act.relu() } else { act }
                    })
                    .collect();
            }
            h[0]
        })
        .collect();
    let total = svm_loss(&scores, y, weights.iter().flatten().copied());
    let grads = total.backward();
    for ((_, t), vars) in params.iter_mut().zip(&weights) {
        for (p, &v) in t.data_mut().iter_mut().zip(vars) {
            *p -= lr * grads.with_grad(v, |g| g.map_or(0.0, |g| g[0]));
        }
    }
    (total.item(), accuracy(scores.iter().map(|s| s.item()), y))
}

/// The same step at the tensor level; returns the loss and the accuracy
/// before the update.
///
/// ```
/// use rand::SeedableRng;
/// use tapegrad::notes::moons;
/// let mut rng = rand_chacha::ChaCha12Rng::seed_from_u64(1);
/// let (x, y) = moons::make_moons(8, 0.1, &mut rng);
/// let mut mlp = moons::network(&mut rng);
/// let (first, _) = moons::tensor_step(&mut mlp, &x, &y, 0.1);
/// assert!(moons::tensor_step(&mut mlp, &x, &y, 0.1).0 < first);
/// ```
///
/// Details: the same step at the tensor level: one `Mlp`, one matmul per
/// layer, stepped by plain [`Sgd`] at rate `lr` (`p -= lr * grad`, the
/// arithmetic of `scalar_step`'s micrograd-style loop).
///
/// # Panics
/// If `lr` is negative or NaN (the optimizer refuses it).
pub fn tensor_step(mlp: &mut Mlp, x: &[[f64; 2]], y: &[f64], lr: f64) -> (f64, f64) {
    let tape = Tape::new();
    let vars = mlp.params().on_tape(&tape);
    let xs = tape.constant_from_slice(x.as_flattened(), &[x.len(), 2]);
    let ys = tape.constant_from_slice(y, &[y.len(), 1]);
    let scores = mlp.forward(vars, xs);
    let params: Vec<Var> = vars.iter().collect();
    let total = loss::hinge(scores, ys) + ALPHA * loss::l2(&params);
    let grads = total.backward();
    let mut sgd = Sgd::new(SgdConfig { lr, ..Default::default() }).expect("a learning rate >= 0");
    sgd.step(mlp.params_mut(), vars, &grads)
        .expect("plain SGD keeps no state and every gradient has its parameter's shape");
    let acc = scores.with_value(|s| accuracy(s.iter().copied(), y));
    (total.item(), acc)
}
