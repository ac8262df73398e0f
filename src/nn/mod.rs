//! Models: named parameters, layers, activations, initialisation and the
//! MLP built declaratively. (The notes' hand-written layers, the reference
//! the tape is tested against, are in [`crate::notes::manual`].)
//!
//! - [`Params`] / [`ParamVars`]: named, ordered parameters and their Vars on
//!   a tape for one step; gradients back by name.
//! - [`safetensors`]: `Params` saved to and loaded from safetensors files.
//! - [`Linear`] (with or without a bias), [`Embedding`], [`LayerNorm`],
//!   [`Activation`], [`Init`]: the pieces.
//! - [`no_grad`]: a model's own forward run without recording a backward.
//! - [`MlpSpec`] / [`Mlp`]: a network from sizes and activations.
//! - [`ReplayStep`]: a training step recorded once, replayed per batch.
//!
//! A model need not be an `Mlp`: any function of Vars is a model.
//!
//! ```
//! use tapegrad::{Tape, Tensor};
//! // a cubic, y = a + b x + c x^3, as a plain function of Vars
//! fn cubic<'t>(p: [tapegrad::Var<'t>; 3], x: tapegrad::Var<'t>) -> tapegrad::Var<'t> {
//!     p[0] + p[1] * x + p[2] * x.powi(3)
//! }
//! let tape = Tape::new();
//! let p = [tape.scalar(1.0), tape.scalar(2.0), tape.scalar(3.0)];
//! let x = tape.constant(Tensor::from_vec(vec![1.0, 2.0], &[2]));
//! let g = cubic(p, x).sum().backward();
//! assert_eq!(g.wrt(p[2]).item(), 1.0 + 8.0); // sum of x^3
//! ```

mod activation;
mod check;
mod embedding;
mod init;
mod layer_norm;
mod linear;
mod mlp;
mod no_grad;
pub mod params;
mod replay;
pub mod safetensors;

pub use activation::Activation;
pub use embedding::Embedding;
pub use init::Init;
pub use layer_norm::LayerNorm;
pub use linear::Linear;
pub(crate) use mlp::layer_name;
pub use mlp::{Mlp, MlpSpec};
pub use no_grad::no_grad;
pub use params::{ParamGrads, ParamVars, Params};
pub use replay::ReplayStep;
