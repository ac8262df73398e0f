//! The notes' worked example (SEED.md chapter 4): fit `sin x` on
//! `x = 0, 0.1, ... < 2 pi` (63 points) with a 1-n-1 network, sigmoid
//! hidden layer, linear output, per-sample SGD over a freshly shuffled
//! order every epoch. One step and one run for each engine, shared by
//! `examples/sine.rs`, the tests and `benches/sine.rs`.
//!
//! ```
//! use tapegrad::nn::sine::{Engine, train};
//! let tape = train(Engine::Tape, 3, 20, 0.1, 0);
//! let manual = train(Engine::Manual, 3, 20, 0.1, 0);
//! assert!(tape.params.max_abs_diff(&manual.params) < 1e-12); // same run, two engines
//! ```

use super::manual::ManualMlp;
use super::{Mlp, MlpSpec, Params};
use crate::loss;
use crate::tape::Tape;
use rand::SeedableRng;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;

/// The inputs `0, 0.1, 0.2, ... < 2 pi` (63 points) and the targets `sin x`.
///
/// ```
/// let (x, t) = tapegrad::nn::sine::data();
/// assert_eq!(x.len(), 63);
/// assert_eq!(t[10], 1f64.sin());
/// ```
pub fn data() -> (Vec<f64>, Vec<f64>) {
    // x_i = 0.1 i, as np.arange(0, 2 pi, 0.1) computes it
    let x: Vec<f64> = (0..).map(|i| 0.1 * i as f64).take_while(|&x| x < 2.0 * std::f64::consts::PI).collect();
    let t = x.iter().map(|x| x.sin()).collect();
    (x, t)
}

/// The notes' network, `1 - hidden - 1`, weights and biases from a
/// standard normal.
///
/// ```
/// use rand::SeedableRng;
/// let mlp = tapegrad::nn::sine::network(3, &mut rand::rngs::StdRng::seed_from_u64(0));
/// assert_eq!(mlp.params().numel(), 10);
/// ```
pub fn network(hidden: usize, rng: &mut StdRng) -> Mlp {
    MlpSpec::new(&[1, hidden, 1]).build(rng)
}

/// Which engine computes the gradients.
///
/// ```
/// use tapegrad::nn::sine::{Engine, train};
/// // the same seed draws the same weights and shuffles for every engine
/// let (tape, manual) = (train(Engine::Tape, 3, 5, 0.1, 7), train(Engine::Manual, 3, 5, 0.1, 7));
/// assert!(tape.params.max_abs_diff(&manual.params) < 1e-12);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Engine {
    /// The tape: forward recorded, backward derived.
    Tape,
    /// The notes' hand-written layers ([`ManualMlp`]).
    Manual,
    /// Plain loops over `f64` arrays ([`LoopsNet`]): the fastest code for
    /// this one network, the yardstick for the tape's speed.
    Loops,
}

/// The tape engine's training state: the network and one tape reused for
/// every step, so steps after the first allocate nothing.
///
/// ```
/// use rand::SeedableRng;
/// use tapegrad::nn::sine::{TapeSgd, network};
/// let mut sgd = TapeSgd::new(network(3, &mut rand::rngs::StdRng::seed_from_u64(0)));
/// let first = sgd.step(1.0, 1f64.sin(), 0.1);
/// for _ in 0..100 { sgd.step(1.0, 1f64.sin(), 0.1); }
/// assert!(sgd.step(1.0, 1f64.sin(), 0.1) < first);
/// ```
pub struct TapeSgd {
    /// The network being trained.
    pub mlp: Mlp,
    tape: Tape,
}

impl TapeSgd {
    /// Trains `mlp` on its own tape.
    ///
    /// ```
    /// use rand::SeedableRng;
    /// let mlp = tapegrad::nn::sine::network(3, &mut rand::rngs::StdRng::seed_from_u64(0));
    /// let _ = tapegrad::nn::sine::TapeSgd::new(mlp);
    /// ```
    pub fn new(mlp: Mlp) -> TapeSgd {
        TapeSgd { mlp, tape: Tape::new() }
    }

    /// One SGD step on the sample `(x, t)`: the error `0.5 (y - t)^2` on
    /// the tape, its backward sweep, `p -= lr * grad` in place. Returns the
    /// error before the update.
    ///
    /// ```
    /// use rand::SeedableRng;
    /// let mlp = tapegrad::nn::sine::network(3, &mut rand::rngs::StdRng::seed_from_u64(0));
    /// let e = tapegrad::nn::sine::TapeSgd::new(mlp).step(0.0, 0.0, 0.1);
    /// assert!(e >= 0.0);
    /// ```
    pub fn step(&mut self, x: f64, t: f64, lr: f64) -> f64 {
        self.tape.clear();
        let tape = &self.tape;
        let vars = self.mlp.params().on_tape(tape);
        let x = tape.constant_from_slice(&[x], &[1, 1]);
        let t = tape.constant_from_slice(&[t], &[1, 1]);
        let error = loss::sse_half(self.mlp.forward(vars, x), t);
        let grads = error.backward();
        self.mlp.params_mut().sgd_step(vars, &grads, lr);
        error.item()
    }
}

/// One SGD step with the hand-written layers: forward, backward from the
/// target, update. Returns the error `0.5 (y - t)^2` before the update.
///
/// ```
/// use rand::SeedableRng;
/// use tapegrad::nn::{manual::ManualMlp, sine::manual_step};
/// let mut net = ManualMlp::new(&[1, 3, 1], &mut rand::rngs::StdRng::seed_from_u64(0));
/// assert!(manual_step(&mut net, 0.0, 0.0, 0.1) >= 0.0);
/// ```
pub fn manual_step(net: &mut ManualMlp, x: f64, t: f64, lr: f64) -> f64 {
    let x = crate::Tensor::from_vec(vec![x], &[1, 1]);
    let t = crate::Tensor::from_vec(vec![t], &[1, 1]);
    let y = net.forward(&x);
    net.backward(&t);
    net.update(lr);
    0.5 * (y.item() - t.item()).powi(2)
}

/// The notes' 1-n-1 network as the fastest plain Rust a careful engineer
/// would write for it: weights in flat arrays allocated once, the forward
/// pass and the notes' deltas as loops, derivatives by hand. It computes
/// exactly what [`TapeSgd`] and [`manual_step`] compute; the benches time
/// the tape against it.
///
/// ```
/// use rand::SeedableRng;
/// use tapegrad::nn::sine::{LoopsNet, TapeSgd, network};
/// let mlp = network(3, &mut rand::rngs::StdRng::seed_from_u64(0));
/// let mut loops = LoopsNet::from_params(mlp.params());
/// let mut tape = TapeSgd::new(mlp);
/// for k in 0..10 {
///     let x = 0.5 * k as f64;
///     assert!((loops.step(x, x.sin(), 0.1) - tape.step(x, x.sin(), 0.1)).abs() < 1e-14);
/// }
/// assert!(loops.params().max_abs_diff(tape.mlp.params()) < 1e-14);
/// ```
#[derive(Clone, Debug)]
pub struct LoopsNet {
    w1: Vec<f64>,
    b1: Vec<f64>,
    w2: Vec<f64>,
    b2: f64,
    hidden: Vec<f64>,
}

impl LoopsNet {
    /// Copies the weights of a 1-n-1 network named as [`network`] names them.
    ///
    /// # Panics
    /// If a parameter is missing or has the wrong size.
    ///
    /// ```
    /// use rand::SeedableRng;
    /// let mlp = tapegrad::nn::sine::network(4, &mut rand::rngs::StdRng::seed_from_u64(0));
    /// let net = tapegrad::nn::sine::LoopsNet::from_params(mlp.params());
    /// assert_eq!(net.params().numel(), 13);
    /// ```
    pub fn from_params(params: &Params) -> LoopsNet {
        let get = |name: &str| params.get(name).unwrap_or_else(|| panic!("LoopsNet: no parameter {name:?}")).data();
        let (w1, b1, w2, b2) = (get("hidden.w"), get("hidden.b"), get("out.w"), get("out.b"));
        let n = w1.len();
        assert!(b1.len() == n && w2.len() == n && b2.len() == 1, "LoopsNet: sizes do not make a 1-{n}-1 network");
        LoopsNet { w1: w1.to_vec(), b1: b1.to_vec(), w2: w2.to_vec(), b2: b2[0], hidden: vec![0.0; n] }
    }

    /// One SGD step on `(x, t)`; returns the error `0.5 (y - t)^2` before
    /// the update.
    ///
    /// ```
    /// use rand::SeedableRng;
    /// let mlp = tapegrad::nn::sine::network(3, &mut rand::rngs::StdRng::seed_from_u64(0));
    /// let mut net = tapegrad::nn::sine::LoopsNet::from_params(mlp.params());
    /// let first = net.step(1.0, 1f64.sin(), 0.1);
    /// assert!(net.step(1.0, 1f64.sin(), 0.1) < first);
    /// ```
    pub fn step(&mut self, x: f64, t: f64, lr: f64) -> f64 {
        // forward: h = sigmoid(x w1 + b1), y = h w2 + b2
        let mut y = self.b2;
        for j in 0..self.hidden.len() {
            let h = crate::ops::unary::stable_sigmoid(x * self.w1[j] + self.b1[j]);
            self.hidden[j] = h;
            y += h * self.w2[j];
        }
        // backward: the output delta y - t, then each hidden unit's delta
        // through the old w2 and the sigmoid's s(1 - s); update in place
        let delta = y - t;
        for j in 0..self.hidden.len() {
            let h = self.hidden[j];
            let delta_h = delta * self.w2[j] * h * (1.0 - h);
            self.w2[j] -= lr * delta * h;
            self.w1[j] -= lr * delta_h * x;
            self.b1[j] -= lr * delta_h;
        }
        self.b2 -= lr * delta;
        0.5 * delta * delta
    }

    /// The weights as named parameters (`hidden.w`, `hidden.b`, `out.w`, `out.b`).
    ///
    /// ```
    /// use rand::SeedableRng;
    /// let mlp = tapegrad::nn::sine::network(3, &mut rand::rngs::StdRng::seed_from_u64(0));
    /// let net = tapegrad::nn::sine::LoopsNet::from_params(mlp.params());
    /// assert_eq!(net.params().max_abs_diff(mlp.params()), 0.0);
    /// ```
    pub fn params(&self) -> Params {
        let n = self.hidden.len();
        let mut p = Params::new();
        p.insert("hidden.w", crate::Tensor::from_vec(self.w1.clone(), &[1, n]));
        p.insert("hidden.b", crate::Tensor::from_vec(self.b1.clone(), &[n]));
        p.insert("out.w", crate::Tensor::from_vec(self.w2.clone(), &[n, 1]));
        p.insert("out.b", crate::Tensor::from_vec(vec![self.b2], &[1]));
        p
    }
}

/// What a training run leaves: the final weights and the error of every
/// epoch (the mean of `0.5 (y - t)^2` over the epoch's samples).
///
/// ```
/// use tapegrad::nn::sine::{Engine, Run, train};
/// let Run { params, errors } = train(Engine::Loops, 4, 50, 0.1, 0);
/// assert_eq!(errors.len(), 50);
/// assert_eq!(params.names().collect::<Vec<_>>(), ["hidden.w", "hidden.b", "out.w", "out.b"]);
/// ```
#[derive(Clone, Debug)]
pub struct Run {
    /// The final weights, named `hidden.w`, `hidden.b`, `out.w`, `out.b`.
    pub params: Params,
    /// Mean error of each epoch, epoch 1 first.
    pub errors: Vec<f64>,
}

/// The notes' program: `epochs` epochs of per-sample SGD with rate `lr`,
/// a 1-`hidden`-1 network drawn from `seed`, the sample order reshuffled
/// from the same RNG every epoch. Both engines draw identical weights and
/// identical shuffles for the same seed.
///
/// ```
/// let run = tapegrad::nn::sine::train(tapegrad::nn::sine::Engine::Manual, 3, 200, 0.1, 1);
/// assert_eq!(run.errors.len(), 200);
/// assert!(run.errors[199] < run.errors[0]);
/// ```
pub fn train(engine: Engine, hidden: usize, epochs: usize, lr: f64, seed: u64) -> Run {
    let mut rng = StdRng::seed_from_u64(seed);
    let mlp = network(hidden, &mut rng);
    train_from(engine, mlp, epochs, lr, &mut rng)
}

/// [`train`] from given starting weights (loaded from a file, say), the
/// sample order shuffled from `rng`. `train` is this after drawing the
/// network from its seeded RNG.
///
/// ```
/// use rand::SeedableRng;
/// use tapegrad::nn::sine::{Engine, network, train, train_from};
/// let mut rng = rand::rngs::StdRng::seed_from_u64(1);
/// let mlp = network(3, &mut rng);
/// let run = train_from(Engine::Loops, mlp, 20, 0.1, &mut rng);
/// assert_eq!(run.errors, train(Engine::Loops, 3, 20, 0.1, 1).errors);
/// ```
pub fn train_from(engine: Engine, mlp: Mlp, epochs: usize, lr: f64, rng: &mut StdRng) -> Run {
    let (xs, ts) = data();
    let mut order: Vec<usize> = (0..xs.len()).collect();
    let mut errors = Vec::with_capacity(epochs);
    let mut run_epochs = |step: &mut dyn FnMut(f64, f64) -> f64| {
        for _ in 0..epochs {
            order.shuffle(rng);
            let total: f64 = order.iter().map(|&i| step(xs[i], ts[i])).sum();
            errors.push(total / xs.len() as f64);
        }
    };
    let params = match engine {
        Engine::Tape => {
            let mut sgd = TapeSgd::new(mlp);
            run_epochs(&mut |x, t| sgd.step(x, t, lr));
            sgd.mlp.params().clone()
        }
        Engine::Manual => {
            let mut net = ManualMlp::from_params(mlp.params());
            run_epochs(&mut |x, t| manual_step(&mut net, x, t, lr));
            net.params()
        }
        Engine::Loops => {
            let mut net = LoopsNet::from_params(mlp.params());
            run_epochs(&mut |x, t| net.step(x, t, lr));
            net.params()
        }
    };
    Run { params, errors }
}
