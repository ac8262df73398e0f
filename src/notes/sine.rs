//! The notes' worked example (SEED.md chapter 4): fit `sin x` on
//! `x = 0, 0.1, ... < 2 pi` (63 points) with a 1-n-1 network, sigmoid
//! hidden layer, linear output, per-sample SGD over a freshly shuffled
//! order every epoch. One step for each [`Engine`] (the tape, the tape
//! recorded once and replayed, the notes' hand-written layers) and one run
//! ([`train`]), shared by
//! `examples/sine.rs`, the tests and `benches/sine.rs`.
//!
//! The third engine, plain loops over `f64` arrays (the speed yardstick),
//! is not library code: it lives with the benches
//! (`benches/workloads/sine_loops.rs`) and implements [`Engine`] from
//! there.
//!
//! ```
//! use tapegrad::notes::{manual::ManualMlp, sine::{TapeSgd, train}};
//! let tape = train::<TapeSgd>(3, 20, 0.1, 0);
//! let manual = train::<ManualMlp>(3, 20, 0.1, 0);
//! assert!(tape.params.max_abs_diff(&manual.params) < 1e-12); // same run, two engines
//! ```

use super::manual::ManualMlp;
use crate::loss;
use crate::nn::{Mlp, MlpSpec, Params, ReplayStep};
use crate::optim::{Optimizer, Sgd, SgdConfig};
use crate::tape::Tape;
use crate::tensor::Tensor;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha12Rng;

/// The inputs `0, 0.1, 0.2, ... < 2 pi` (63 points) and the targets `sin x`.
///
/// ```
/// let (x, t) = tapegrad::notes::sine::data();
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
/// let mlp = tapegrad::notes::sine::network(3, &mut rand_chacha::ChaCha12Rng::seed_from_u64(0));
/// assert_eq!(mlp.params().numel(), 10);
/// ```
pub fn network(hidden: usize, rng: &mut impl Rng) -> Mlp {
    MlpSpec::new(&[1, hidden, 1]).build(rng)
}

/// A way to train the notes' network one sample at a time: what [`train`]
/// runs. [`TapeSgd`] (the tape) and [`ManualMlp`] (the notes' layers)
/// implement it here; the benches' plain-loops yardstick implements it
/// from `benches/workloads/sine_loops.rs`.
///
/// ```
/// use rand::SeedableRng;
/// use tapegrad::notes::{manual::ManualMlp, sine::{Engine, TapeSgd, network}};
/// let mlp = network(3, &mut rand_chacha::ChaCha12Rng::seed_from_u64(7));
/// let (mut tape, mut manual) = (TapeSgd::start(mlp.clone()), ManualMlp::start(mlp));
/// for k in 0..5 {
///     let x = 0.5 * k as f64;
///     let (a, b) = (Engine::step(&mut tape, x, x.sin(), 0.1), Engine::step(&mut manual, x, x.sin(), 0.1));
///     assert!((a - b).abs() < 1e-14);
/// }
/// assert_eq!(TapeSgd::NAME, "Tape");
/// assert!(Engine::params(&tape).max_abs_diff(&Engine::params(&manual)) < 1e-14);
/// ```
pub trait Engine {
    /// The name runs are printed under.
    const NAME: &'static str;
    /// Starts from the weights of `mlp` (as [`network`] draws them).
    fn start(mlp: Mlp) -> Self;
    /// One SGD step on the sample `(x, t)`; returns the error
    /// `0.5 (y - t)^2` before the update.
    fn step(&mut self, x: f64, t: f64, lr: f64) -> f64;
    /// The weights, named `hidden.w`, `hidden.b`, `out.w`, `out.b`.
    fn params(&self) -> Params;
}

/// The tape engine's training state: the network, plain [`Sgd`] stepping
/// it, and one tape reused for every step, so steps after the first
/// allocate nothing.
///
/// ```
/// use rand::SeedableRng;
/// use tapegrad::notes::sine::{TapeSgd, network};
/// let mut sgd = TapeSgd::new(network(3, &mut rand_chacha::ChaCha12Rng::seed_from_u64(0)));
/// let first = sgd.step(1.0, 1f64.sin(), 0.1);
/// for _ in 0..100 { sgd.step(1.0, 1f64.sin(), 0.1); }
/// assert!(sgd.step(1.0, 1f64.sin(), 0.1) < first);
/// ```
pub struct TapeSgd {
    /// The network being trained.
    pub mlp: Mlp,
    opt: Sgd,
    tape: Tape,
}

impl TapeSgd {
    /// Trains `mlp` on its own tape.
    ///
    /// ```
    /// use rand::SeedableRng;
    /// let mlp = tapegrad::notes::sine::network(3, &mut rand_chacha::ChaCha12Rng::seed_from_u64(0));
    /// let _ = tapegrad::notes::sine::TapeSgd::new(mlp);
    /// ```
    pub fn new(mlp: Mlp) -> TapeSgd {
        // The default config is plain SGD (no momentum, no weight decay);
        // `step` sets the rate.
        let opt = Sgd::new(SgdConfig::default()).expect("the default SGD config is valid");
        TapeSgd { mlp, opt, tape: Tape::new() }
    }

    /// One SGD step on the sample `(x, t)`: the error `0.5 (y - t)^2` on
    /// the tape, its backward sweep, then plain [`Sgd`] at rate `lr`
    /// (`p -= lr * grad`, in place). Returns the error before the update.
    ///
    /// ```
    /// use rand::SeedableRng;
    /// let mlp = tapegrad::notes::sine::network(3, &mut rand_chacha::ChaCha12Rng::seed_from_u64(0));
    /// let e = tapegrad::notes::sine::TapeSgd::new(mlp).step(0.0, 0.0, 0.1);
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
        self.opt.set_lr(lr);
        self.opt
            .step(self.mlp.params_mut(), vars, &grads)
            .expect("plain SGD keeps no state and every gradient has its parameter's shape");
        error.item()
    }
}

/// The tape engine, recorded once: the step's tape (the error of one
/// sample, as [`TapeSgd`] records it) is recorded at the start and
/// replayed for every sample ([`ReplayStep`]), the parameters and the
/// sample written into it. The same ops on the same values: every error
/// and every weight is bit for bit [`TapeSgd`]'s.
///
/// ```
/// use rand::SeedableRng;
/// use tapegrad::notes::sine::{ReplaySgd, TapeSgd, network};
/// let mlp = network(3, &mut rand_chacha::ChaCha12Rng::seed_from_u64(0));
/// let (mut replay, mut tape) = (ReplaySgd::new(mlp.clone()), TapeSgd::new(mlp));
/// for k in 0..10 {
///     let x = 0.3 * k as f64;
///     assert_eq!(replay.step(x, x.sin(), 0.1).to_bits(), tape.step(x, x.sin(), 0.1).to_bits());
/// }
/// assert_eq!(replay.mlp, tape.mlp);
/// ```
pub struct ReplaySgd {
    /// The network being trained.
    pub mlp: Mlp,
    opt: Sgd,
    step: ReplayStep,
}

impl ReplaySgd {
    /// Records the step of `mlp` (on a sample of zeros: only the shapes
    /// matter) for replaying.
    ///
    /// ```
    /// use rand::SeedableRng;
    /// let mlp = tapegrad::notes::sine::network(3, &mut rand_chacha::ChaCha12Rng::seed_from_u64(0));
    /// let _ = tapegrad::notes::sine::ReplaySgd::new(mlp);
    /// ```
    pub fn new(mlp: Mlp) -> ReplaySgd {
        let opt = Sgd::new(SgdConfig::default()).expect("the default SGD config is valid");
        let sample = Tensor::zeros(&[1, 1]);
        let step = ReplayStep::record(mlp.params(), &[&sample, &sample], |vars, io| {
            loss::sse_half(mlp.forward(vars, io[0]), io[1])
        });
        ReplaySgd { mlp, opt, step }
    }

    /// One SGD step on the sample `(x, t)`, replayed: returns the error
    /// `0.5 (y - t)^2` before the update, as [`TapeSgd::step`].
    ///
    /// ```
    /// use rand::SeedableRng;
    /// let mlp = tapegrad::notes::sine::network(3, &mut rand_chacha::ChaCha12Rng::seed_from_u64(0));
    /// let e = tapegrad::notes::sine::ReplaySgd::new(mlp).step(0.0, 0.0, 0.1);
    /// assert!(e >= 0.0);
    /// ```
    pub fn step(&mut self, x: f64, t: f64, lr: f64) -> f64 {
        let grads = self.step.run(self.mlp.params(), &[&[x], &[t]]).expect("the recorded parameters and sample");
        self.opt.set_lr(lr);
        self.opt
            .step(self.mlp.params_mut(), self.step.vars(), &grads)
            .expect("plain SGD keeps no state and every gradient has its parameter's shape");
        self.step.loss()
    }
}

impl Engine for ReplaySgd {
    const NAME: &'static str = "Replay";

    fn start(mlp: Mlp) -> ReplaySgd {
        ReplaySgd::new(mlp)
    }

    fn step(&mut self, x: f64, t: f64, lr: f64) -> f64 {
        ReplaySgd::step(self, x, t, lr)
    }

    fn params(&self) -> Params {
        self.mlp.params().clone()
    }
}

/// One SGD step with the hand-written layers: forward, backward from the
/// target, update. Returns the error `0.5 (y - t)^2` before the update.
///
/// ```
/// use rand::SeedableRng;
/// use tapegrad::notes::{manual::ManualMlp, sine::manual_step};
/// let mut net = ManualMlp::new(&[1, 3, 1], &mut rand_chacha::ChaCha12Rng::seed_from_u64(0));
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

impl Engine for TapeSgd {
    const NAME: &'static str = "Tape";

    fn start(mlp: Mlp) -> TapeSgd {
        TapeSgd::new(mlp)
    }

    fn step(&mut self, x: f64, t: f64, lr: f64) -> f64 {
        TapeSgd::step(self, x, t, lr)
    }

    fn params(&self) -> Params {
        self.mlp.params().clone()
    }
}

impl Engine for ManualMlp {
    const NAME: &'static str = "Manual";

    fn start(mlp: Mlp) -> ManualMlp {
        ManualMlp::from_params(mlp.params())
    }

    fn step(&mut self, x: f64, t: f64, lr: f64) -> f64 {
        manual_step(self, x, t, lr)
    }

    fn params(&self) -> Params {
        ManualMlp::params(self)
    }
}

/// What a training run leaves: the final weights and the error of every
/// epoch (the mean of `0.5 (y - t)^2` over the epoch's samples).
///
/// ```
/// use tapegrad::notes::sine::{Run, TapeSgd, train};
/// let Run { params, errors } = train::<TapeSgd>(4, 50, 0.1, 0);
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
/// from the same RNG every epoch. Every engine draws identical weights and
/// identical shuffles for the same seed.
///
/// ```
/// use tapegrad::notes::{manual::ManualMlp, sine::train};
/// let run = train::<ManualMlp>(3, 200, 0.1, 1);
/// assert_eq!(run.errors.len(), 200);
/// assert!(run.errors[199] < run.errors[0]);
/// ```
pub fn train<E: Engine>(hidden: usize, epochs: usize, lr: f64, seed: u64) -> Run {
    let mut rng = ChaCha12Rng::seed_from_u64(seed);
    let mlp = network(hidden, &mut rng);
    train_from::<E>(mlp, epochs, lr, &mut rng)
}

/// [`train`] from given starting weights (loaded from a file, say), the
/// sample order shuffled from `rng`. `train` is this after drawing the
/// network from its seeded RNG.
///
/// ```
/// use rand::SeedableRng;
/// use tapegrad::notes::{manual::ManualMlp, sine::{network, train, train_from}};
/// let mut rng = rand_chacha::ChaCha12Rng::seed_from_u64(1);
/// let mlp = network(3, &mut rng);
/// let run = train_from::<ManualMlp>(mlp, 20, 0.1, &mut rng);
/// assert_eq!(run.errors, train::<ManualMlp>(3, 20, 0.1, 1).errors);
/// ```
pub fn train_from<E: Engine>(mlp: Mlp, epochs: usize, lr: f64, rng: &mut impl Rng) -> Run {
    let (xs, ts) = data();
    let mut engine = E::start(mlp);
    let mut order: Vec<usize> = (0..xs.len()).collect();
    let mut errors = Vec::with_capacity(epochs);
    for _ in 0..epochs {
        order.shuffle(rng);
        let total: f64 = order.iter().map(|&i| engine.step(xs[i], ts[i], lr)).sum();
        errors.push(total / xs.len() as f64);
    }
    Run { params: engine.params(), errors }
}
