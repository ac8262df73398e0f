//! The notes' sine step compiled to Rust by [`crate::emit`]: the fourth
//! [`Engine`], with no tape at all. The step (the error of one sample and
//! its gradient with respect to the four weight tensors) was recorded once
//! by [`sine_step_module`] and written to `src/notes/compiled/sine_step.rs`,
//! a checked-in file that `tests/emit_fresh.rs` regenerates and compares.
//! It does the tape's float operations in the tape's order, so every error
//! and every weight is bit for bit [`TapeSgd`](super::sine::TapeSgd)'s.
//!
//! ```
//! use rand::SeedableRng;
//! use tapegrad::notes::{compiled::CompiledSgd, sine::{Engine, TapeSgd, network}};
//! let mlp = network(3, &mut rand_chacha::ChaCha12Rng::seed_from_u64(0));
//! let (mut c, mut t) = (CompiledSgd::start(mlp.clone()), TapeSgd::start(mlp));
//! for k in 0..10 {
//!     let x = 0.3 * k as f64;
//!     assert_eq!(c.step(x, x.sin(), 0.1).to_bits(), Engine::step(&mut t, x, x.sin(), 0.1).to_bits());
//! }
//! assert_eq!(Engine::params(&c), Engine::params(&t));
//! ```

use super::sine::{Engine, network};
use crate::emit::{EmitError, Module};
use crate::nn::{Mlp, Params};
use crate::tape::Tape;
use rand::SeedableRng;

/// The generated code: `sine_step(hidden_w, hidden_b, out_w, out_b, x, t)`
/// and `sine_step_grad(.., d_hidden_w, ..)`.
#[allow(missing_docs)]
pub mod step {
    include!("compiled/sine_step.rs");
}

/// Hidden units of the compiled step (the notes' network: 1-3-1).
pub const HIDDEN: usize = 3;

/// Records the notes' step on a tape (the network's four weight tensors
/// as arguments, the sample `x` and target `t` as inputs without
/// gradient) and emits it as the module `sine_step.rs` holds.
///
/// ```
/// let src = tapegrad::notes::compiled::sine_step_module().unwrap().to_source();
/// assert!(src.contains("pub fn sine_step_grad("));
/// ```
pub fn sine_step_module() -> Result<Module, EmitError> {
    let mlp = network(HIDDEN, &mut rand_chacha::ChaCha12Rng::seed_from_u64(0));
    let tape = Tape::new();
    let vars = mlp.params().on_tape(&tape);
    let x = tape.constant_from_slice(&[0.0], &[1, 1]).named("x");
    let t = tape.constant_from_slice(&[0.0], &[1, 1]).named("t");
    let args: Vec<_> = vars.iter().collect();
    // `mlp.forward` and `loss::sse_half`, op for op, with each node named
    // so that the generated code reads like the notes.
    let hidden_z = (x.matmul(args[0]).named("hidden_xw") + args[1]).named("hidden_z");
    let hidden_y = hidden_z.sigmoid().named("hidden_y");
    let y = (hidden_y.matmul(args[2]).named("out_xw") + args[3]).named("y");
    let residual = (y - t).named("residual");
    let error = (0.5 * residual.square().named("residual_sq").sum().named("sse")).named("error");
    Module::new().function_with_inputs("sine_step", error, &args, &[x, t])
}

/// The compiled engine's training state: the four weight tensors as the
/// fixed arrays the generated `sine_step_grad` reads, its four gradient
/// arrays, stepped by plain SGD (`p -= lr g`, as `Sgd`). The network is
/// kept only for its names and shapes ([`Engine::params`]).
pub struct CompiledSgd {
    mlp: Mlp,
    w: Weights,
    grads: Weights,
}

/// `hidden.w`, `hidden.b`, `out.w`, `out.b` of the 1-3-1 network.
type Weights = ([f64; 3], [f64; 3], [f64; 3], [f64; 1]);

impl Engine for CompiledSgd {
    const NAME: &'static str = "Compiled";

    /// # Panics
    /// If `mlp` is not 1-3-1: the step was compiled for that shape.
    fn start(mlp: Mlp) -> CompiledSgd {
        let shapes: Vec<&[usize]> = mlp.params().iter().map(|(_, t)| t.shape()).collect();
        assert_eq!(
            shapes,
            [&[1, 3][..], &[3], &[3, 1], &[1]],
            "the compiled sine step is for the 1-{HIDDEN}-1 network"
        );
        let p: Vec<&[f64]> = mlp.params().iter().map(|(_, t)| t.data()).collect();
        let w = (arr(p[0]), arr(p[1]), arr(p[2]), arr(p[3]));
        CompiledSgd { mlp, w, grads: ([0.0; 3], [0.0; 3], [0.0; 3], [0.0; 1]) }
    }

    fn step(&mut self, x: f64, t: f64, lr: f64) -> f64 {
        let (w, g) = (&mut self.w, &mut self.grads);
        let error = step::sine_step_grad(&w.0, &w.1, &w.2, &w.3, &[x], &[t], &mut g.0, &mut g.1, &mut g.2, &mut g.3);
        let pairs: [(&mut [f64], &[f64]); 4] = [(&mut w.0, &g.0), (&mut w.1, &g.1), (&mut w.2, &g.2), (&mut w.3, &g.3)];
        for (p, g) in pairs {
            p.iter_mut().zip(g).for_each(|(p, g)| *p -= lr * g);
        }
        error
    }

    fn params(&self) -> Params {
        let mut params = self.mlp.params().clone();
        let w: [&[f64]; 4] = [&self.w.0, &self.w.1, &self.w.2, &self.w.3];
        for ((_, p), w) in params.iter_mut().zip(w) {
            p.data_mut().copy_from_slice(w);
        }
        params
    }
}

/// A weight tensor's elements as the fixed array the generated code takes.
fn arr<const N: usize>(data: &[f64]) -> [f64; N] {
    data.try_into().expect("the shapes were checked at start")
}
