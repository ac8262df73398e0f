//! The yardstick: the notes' 1-n-1 sine network as the fastest plain Rust a
//! careful engineer would write for it. Not library code (the library ships
//! no benchmark yardstick); it lives here with the benches that time the tape
//! against it, and is compiled into the three places that run it, from this
//! one file:
//! - the benches, through `mod workloads;` (`benches/sine.rs`, `benches/sine_raw.rs`);
//! - `examples/sine.rs` (`--engine loops|all`), by `#[path]`;
//! - `tests/nn_params.rs` and `tests/alloc.rs`, by `#[path]`: a third,
//!   independent backward pass the tape is checked against.
//!
//! It uses only the public API of `tapegrad` (plus the notes' [`Engine`]
//! trait, so `notes::sine::train` can run it).

use tapegrad::Tensor;
use tapegrad::nn::{Mlp, Params};
use tapegrad::notes::sine::Engine;
use tapegrad::tensor::stable_sigmoid;

/// The notes' 1-n-1 network (sigmoid hidden layer, linear output) with
/// weights in flat arrays allocated once, the forward pass and the notes'
/// deltas as loops, derivatives by hand. It computes exactly what
/// `notes::sine::TapeSgd` and `notes::sine::manual_step` compute; the
/// benches time the tape against it.
#[derive(Clone, Debug)]
pub struct LoopsNet {
    w1: Vec<f64>,
    b1: Vec<f64>,
    w2: Vec<f64>,
    b2: f64,
    hidden: Vec<f64>,
}

impl LoopsNet {
    /// Copies the weights of a 1-n-1 network named as `notes::sine::network`
    /// names them.
    ///
    /// # Panics
    /// If a parameter is missing or has the wrong size.
    pub fn from_params(params: &Params) -> LoopsNet {
        let get = |name: &str| params.get(name).unwrap_or_else(|| panic!("LoopsNet: no parameter {name:?}")).data();
        let (w1, b1, w2, b2) = (get("hidden.w"), get("hidden.b"), get("out.w"), get("out.b"));
        let n = w1.len();
        assert!(b1.len() == n && w2.len() == n && b2.len() == 1, "LoopsNet: sizes do not make a 1-{n}-1 network");
        LoopsNet { w1: w1.to_vec(), b1: b1.to_vec(), w2: w2.to_vec(), b2: b2[0], hidden: vec![0.0; n] }
    }

    /// One SGD step on `(x, t)`; returns the error `0.5 (y - t)^2` before
    /// the update.
    pub fn step(&mut self, x: f64, t: f64, lr: f64) -> f64 {
        // forward: h = sigmoid(x w1 + b1), y = h w2 + b2
        let mut y = self.b2;
        for j in 0..self.hidden.len() {
            let h = stable_sigmoid(x * self.w1[j] + self.b1[j]);
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
    pub fn params(&self) -> Params {
        let n = self.hidden.len();
        let mut p = Params::new();
        p.insert("hidden.w", Tensor::from_vec(self.w1.clone(), &[1, n]));
        p.insert("hidden.b", Tensor::from_vec(self.b1.clone(), &[n]));
        p.insert("out.w", Tensor::from_vec(self.w2.clone(), &[n, 1]));
        p.insert("out.b", Tensor::from_vec(vec![self.b2], &[1]));
        p
    }
}

impl Engine for LoopsNet {
    const NAME: &'static str = "Loops";

    fn start(mlp: Mlp) -> LoopsNet {
        LoopsNet::from_params(mlp.params())
    }

    fn step(&mut self, x: f64, t: f64, lr: f64) -> f64 {
        LoopsNet::step(self, x, t, lr)
    }

    fn params(&self) -> Params {
        LoopsNet::params(self)
    }
}
