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
//! let mut rng = rand::rngs::StdRng::seed_from_u64(0);
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
//! ## Where things are
//! - [`tensor`]: plain values ([`Tensor`]), broadcasting, matmul.
//! - [`tape`]: the [`Tape`], [`Var`] handles, the backward sweep and [`Gradients`].
//! - [`ops`]: every op's forward rule and backward rule, side by side.
//! - [`loss`]: MSE in the notes' forms, cross-entropy, hinge, L2.
//! - [`nn`]: named parameters, layers, the MLP, and the notes' hand-written layers.
//! - [`check`]: numerical gradients and `gradcheck`.
//! - [`snapshot`]: a stable text form of gradients for snapshot tests.
//! - [`gd`]: gradient descent on a plain function, numerical or tape
//!   gradients (SEED.md chapter 2).
//! - [`linreg`] and [`data`]: the normal equation by Cholesky, and batch /
//!   mini-batch / stochastic gradient descent on seeded batches (chapter 1).
//! - [`optim`]: SGD (momentum, Nesterov), AdaGrad, RMSProp, Adam, AdamW with
//!   PyTorch's update rules; [`optim::schedule`] and [`optim::clip`]
//!   (chapter 3).
#![deny(unsafe_code)]
#![warn(missing_docs)]

pub mod check;
pub mod data;
pub mod gd;
pub mod inspect;
pub mod linreg;
pub mod loss;
pub mod nn;
pub mod ops;
pub mod optim;
pub mod snapshot;
pub mod tape;
pub mod tensor;

pub use tape::{BackwardError, Gradients, Tape, Var};
pub use tensor::{Shape, ShapeError, Tensor};
