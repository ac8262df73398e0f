//! The notes' worked programs, apart from the library's building blocks.
//!
//! Everything else in the crate is a building block a model is made of
//! (`tensor`, `tape`, `ops`, `loss`, `nn`, `optim`, `check`, `inspect`,
//! `snapshot`, `data`). The modules here are the programs of the study
//! notes (docs/SEED.md) written with those blocks, chapter by chapter, plus
//! the notes' hand-written layers that the tape is tested against. Read them
//! as worked examples; build your own models from the blocks.
//!
//! - [`linreg`] (chapter 1): the design matrix, the normal equation by
//!   Cholesky, and batch / mini-batch / stochastic gradient descent.
//! - [`gd`] (chapter 2): gradient descent on a plain function, with
//!   numerical or tape gradients.
//! - [`manual`] (chapter 4): `HiddenLayer` and `OutputLayer` exactly as the
//!   notes write them, backward by hand, no tape: the independent truth the
//!   tape's gradients are tested against.
//! - [`sine`] (chapter 4): the notes' program fitting `sin x`, one step
//!   for each engine and the whole run.
//! - [`one_sample`] (chapter 4): the sine network on one sample, recorded
//!   with the notes' names, and the edges its deltas flow along (the
//!   `trace` and `stepper` examples).
//! - [`moons`] (beyond the notes): micrograd's two-moons demo at the scalar
//!   and the tensor level.
//!
//! ```
//! use tapegrad::notes::gd::gradient_descent;
//! let x = gradient_descent(|x| x[0] * x[0], &[1.0], 0.25, 1); // x -= 0.25 * 2x
//! assert!((x[0] - 0.5).abs() < 1e-9); // central differences: 2x up to rounding
//! ```

pub mod compiled;
pub mod gd;
pub mod linreg;
pub mod manual;
pub mod moons;
pub mod neuron;
pub mod one_sample;
pub mod sine;
