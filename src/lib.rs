//! # tapegrad
//!
//! A small, fast, honest reverse-mode automatic-differentiation engine
//! built on a tape. A program records scalar and tensor operations on a
//! [`Tape`] as it runs; one reverse sweep over the tape gives every gradient.
//!
//! ```
//! use rand::SeedableRng;
//! use tapegrad::{Tape, Tensor};
//!
//! let mut rng = rand_chacha::ChaCha12Rng::seed_from_u64(0);
//! let tape = Tape::new();
//! let x = tape.var(Tensor::from_vec(vec![0.5, -1.0, 2.0, 0.1, 0.0, 3.0], &[2, 3]));
//! let w = tape.var(Tensor::randn(&[3, 4], &mut rng));
//! let b = tape.var(Tensor::zeros(&[4]));
//! let t = tape.constant(Tensor::ones(&[2, 4]));
//! let y = (x.matmul(w) + b).sigmoid();          // bias broadcasts over the batch
//! let loss = (y - t).powi(2).mean();
//! let grads = loss.backward();
//! let dw = grads.wrt(w);                         // same shape as w
//! assert_eq!(dw.shape(), &[3, 4]);
//! println!("loss = {}", loss.item());
//!
//! let a = tape.scalar(2.0);                      // micrograd-style scalars on the same tape
//! let f = a * a + 3.0 * a.sin() - a / 4.0;
//! let df_da = f.backward().wrt(a).item();
//! assert!((df_da - (4.0 + 3.0 * 2f64.cos() - 0.25)).abs() < 1e-12);
//! ```
//!
//! ## A guided tour, chapter by chapter
//!
//! tapegrad grows out of study notes on optimization and backpropagation.
//! Each chapter below is library code, an example you can run, and tests.
//! The notes' worked programs (linear regression, gradient descent on a
//! function, the hand-written layers, the sine and moons programs) live in
//! [`notes`], apart from the building blocks they are made of.
//!
//! ### 1. Linear regression: the normal equation vs gradient descent
//! A design matrix with a leading column of ones carries the bias. The
//! normal equation `X^T X theta = X^T y` is solved by Cholesky (never by an
//! inverse) in [`notes::linreg`]; [`notes::linreg::fit_gd`] reaches the same `theta` by
//! batch, mini-batch or stochastic gradient descent ([`data`]), with the
//! gradients taken from the tape on the notes' `1/(2N)` loss
//! ([`loss::mse_half`]). Example: `cargo run --release --example normal_equation`.
//!
//! ```
//! use tapegrad::{Tensor, notes::linreg::normal_equation};
//! // y = 1 + 2x, exactly, at x = 0, 1, 2: the design matrix is [1, x]
//! let x = Tensor::from_vec(vec![1.0, 0.0, 1.0, 1.0, 1.0, 2.0], &[3, 2]);
//! let y = Tensor::from_vec(vec![1.0, 3.0, 5.0], &[3]);
//! let theta = normal_equation(&x, &y).unwrap();
//! assert!((theta[0] - 1.0).abs() < 1e-12 && (theta[1] - 2.0).abs() < 1e-12);
//! ```
//!
//! ### 2. The numerical gradient, and gradient descent on a function
//! [`check::numerical_gradient`] is the notes' central difference;
//! [`notes::gd::gradient_descent`] steps `x -= lr * grad`. On `f = x0^2 + x1^2`
//! from `(-3, 4)` with `lr = 0.1` for 100 steps, each step multiplies `x`
//! by `1 - 2 lr = 0.8`. Example: `cargo run --release --example numerical_gd`.
//!
//! ```
//! use tapegrad::notes::gd::gradient_descent;
//! let x = gradient_descent(|x| x[0] * x[0] + x[1] * x[1], &[-3.0, 4.0], 0.1, 100);
//! assert!((x[0] - -3.0 * 0.8f64.powi(100)).abs() < 1e-12); // about -6.11e-10
//! ```
//!
//! ### 3. Optimizers, schedules, regularization
//! [`optim`] has SGD (momentum, Nesterov, weight decay), AdaGrad, RMSProp,
//! Adam and AdamW with PyTorch's update rules and defaults, one
//! [`optim::Optimizer`] trait with one way to step a model,
//! `opt.step(&mut params, vars, &grads)` (plain SGD is just `Sgd` with its
//! defaults), learning-rate
//! [`optim::schedule`]s and gradient [`optim::clip`]ping; [`loss::l2`] is
//! the penalty. Examples: `optimizers` (Rosenbrock and an ill-conditioned
//! quadratic) and `regularization` (a degree-9 polynomial, over-fitted and
//! cured).
//!
//! ```
//! use tapegrad::{Tape, optim::{Optimizer, Sgd, SgdConfig}};
//! let mut opt = Sgd::new(SgdConfig { lr: 0.1, momentum: 0.5, ..Default::default() }).unwrap();
//! let mut theta = [3.0];
//! for _ in 0..200 {
//!     let tape = Tape::new();
//!     let t = tape.var_from_slice(&theta, &[1]);
//!     let g = (t - 1.0).square().sum().backward().wrt(t); // minimum at 1
//!     opt.update("theta", &mut theta, g.data()).unwrap();
//! }
//! assert!((theta[0] - 1.0).abs() < 1e-6);
//! ```
//!
//! ### 4. Backpropagation through a sigmoid MLP
//! [`nn`] builds the notes' network declaratively ([`nn::MlpSpec`]) with
//! named parameters ([`nn::Params`]), and keeps the notes' hand-written
//! `HiddenLayer` / `OutputLayer` in [`notes::manual`] as the independent truth
//! the tape is tested against. The main example, `cargo run --release
//! --example sine`, trains both side by side on `sin x` and prints how far
//! apart their weights end (rounding level). `trace` prints the tape's
//! backward sweep next to the notes' deltas; `graph` draws the graph.
//!
//! ```
//! use rand::SeedableRng;
//! use tapegrad::{Tape, Tensor, loss, nn::{Activation, MlpSpec}, optim::{Optimizer, Sgd, SgdConfig}};
//! let mut rng = rand_chacha::ChaCha12Rng::seed_from_u64(0);
//! let mut mlp = MlpSpec::new(&[1, 3, 1]).hidden(Activation::Sigmoid).build(&mut rng);
//! let mut opt = Sgd::new(SgdConfig { lr: 0.1, ..Default::default() }).unwrap(); // plain SGD
//! let tape = Tape::new();
//! let vars = mlp.params().on_tape(&tape);           // named "hidden.w", "hidden.b", ...
//! let x = tape.constant(Tensor::from_vec(vec![0.5], &[1, 1]));
//! let t = tape.constant(Tensor::from_vec(vec![0.5f64.sin()], &[1, 1]));
//! let e = loss::sse_half(mlp.forward(vars, x), t);  // 0.5 (y - t)^2
//! let grads = e.backward();
//! assert_eq!(vars.grads(mlp.params(), &grads)["hidden.w"].shape(), &[1, 3]);
//! opt.step(mlp.params_mut(), vars, &grads).unwrap(); // p -= 0.1 * grad, by name
//! ```
//!
//! ### Beyond the notes
//! - Custom models are plain functions of [`Var`]s; custom ops bring their
//!   own backward rule ([`ops::custom::CustomOp`], or an elementwise
//!   [`ops::elementwise::UnaryFn`] rule, as fast as a built-in one).
//!   Examples: `moons` (micrograd's demo, at the scalar and the tensor
//!   level) and `custom_model`.
//! - Seeing inside: [`inspect`] prints the tape as a table, draws it as
//!   an SVG picture (or exports Graphviz DOT), traces the backward sweep
//!   step by step, and stops at the first op that makes a NaN or an infinity.
//! - Proving gradients: [`check::gradcheck`] (PyTorch's tolerances) and
//!   [`snapshot`] (a stable text form for insta snapshot tests).
//!
//! ```
//! use tapegrad::Tape;
//! let tape = Tape::new();
//! let x = tape.scalar(3.0).named("x");
//! let y = (x * x).sin().named("y");
//! let grads = y.backward();
//! println!("{}", grads.table()); // one row per step: op, inputs, value, gradient
//! assert!((grads.wrt(x).item() - 2.0 * 3.0 * 9f64.cos()).abs() < 1e-12);
//! ```
//!
//! ## Where things are
//! - [`tensor`]: plain values ([`Tensor`]), broadcasting, pure math
//!   (`tensor/math.rs`: stable sigmoid, softplus, the reduce-to-shape of
//!   broadcasting) and the packed GEMM with a reused workspace
//!   (`tensor/gemm.rs`).
//! - [`tape`]: the [`Tape`], [`Var`] handles, the backward sweep and
//!   [`Gradients`]; `tape/op.rs` is the op interface the tape knows every
//!   op by (docs/DESIGN.md, "The op interface"); [`tape::replay`] runs a
//!   recorded tape again on new input values (record once, replay many).
//! - [`ops`]: one file per op or small op family, each op whole: its `Var`
//!   method, forward rule, backward rule, trace words and its own test
//!   (sigmoid's are in `src/ops/sigmoid.rs`, `pick`'s in `src/ops/pick.rs`).
//! - [`loss`]: MSE in the notes' forms, cross-entropy, hinge, L2.
//! - [`nn`]: named parameters, layers, activations, initialisation, the MLP,
//!   parameters saved and loaded as safetensors ([`nn::safetensors`]), a
//!   training step recorded once and replayed per batch ([`nn::ReplayStep`]).
//! - [`inspect`]: the tape as a table, Graphviz DOT, an SVG picture
//!   (`inspect/svg.rs`), the backward trace, checked mode.
//! - [`check`]: numerical gradients and `gradcheck`.
//! - [`snapshot`]: a stable text form of gradients for snapshot tests.
//! - [`data`]: full-batch, mini-batch and stochastic iteration over seeded
//!   batches (chapter 1).
//! - [`optim`]: SGD (momentum, Nesterov), AdaGrad, RMSProp, Adam, AdamW with
//!   PyTorch's update rules; [`optim::schedule`] and [`optim::clip`]
//!   (chapter 3).
//! - [`notes`]: the notes' worked programs, not building blocks:
//!   [`notes::linreg`] (the normal equation by Cholesky, batch / mini-batch /
//!   stochastic GD; chapter 1), [`notes::gd`] (gradient descent on a plain
//!   function; chapter 2), [`notes::manual`] (the hand-written layers) and
//!   [`notes::sine`] (chapter 4), [`notes::moons`] (micrograd's demo).
#![deny(unsafe_code)]
#![warn(missing_docs)]

pub mod check;
pub mod data;
pub mod func;
pub mod inspect;
pub mod loss;
pub mod nn;
pub mod notes;
pub mod ops;
pub mod optim;
pub mod snapshot;
pub mod tape;
pub mod tensor;

pub use tape::{
    BackwardError, GradGraph, Gradients, HigherOrderError, ReplayMismatch, TangentError, Tangents, Tape, Var,
};
pub use tensor::{Axis, Shape, ShapeError, Tensor};

/// The README's Rust blocks, compiled and run as doctests so the quickstart
/// and every other snippet there stay true.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
