//! Optimizers: the update rules of the notes' chapter 3, written so that a
//! user switching from `torch.optim` gets the same trajectory.
//!
//! # One way to step a model
//! After `loss.backward()`, a model's parameters move with
//! [`Optimizer::step`]: `opt.step(&mut params, vars, &grads)`, the
//! `optimizer.step()` a PyTorch user writes after `loss.backward()`. Plain
//! SGD is just another optimizer: [`Sgd`] with its default momentum,
//! dampening and weight decay (all 0) computes `p -= lr * g`, the same
//! arithmetic as a hand-written loop, bit for bit.
//!
//! Why the optimizer steps the parameters (`opt.step(&mut params, ..)`)
//! rather than the parameters stepping themselves (`params.step(&mut opt,
//! ..)`): the update rule and its state (momentum, running averages, step
//! counts) belong to the optimizer, as in `torch.optim`; `Params` only
//! holds values. A schedule drives the same object (`opt.set_lr`), and
//! swapping SGD for Adam changes one constructor, not the training loop.
//!
//! Underneath, [`Optimizer::update`] is the rule for one named tensor (a
//! plain `&mut [f64]` and its gradient): what each optimizer implements,
//! with its state kept under that name, so nothing is allocated once the
//! state exists. Call it directly only for values that are not a model's
//! [`Params`] (a point on a test function, a solver's
//! `theta`).
//!
//! | type | PyTorch | notes (SEED.md ch. 3) |
//! |---|---|---|
//! | [`Sgd`] | `torch.optim.SGD` | SGD, momentum, Nesterov |
//! | [`AdaGrad`] | `torch.optim.Adagrad` | AdaGrad |
//! | [`RmsProp`] | `torch.optim.RMSprop` | RMSProp |
//! | [`Adam`] | `torch.optim.Adam` | Adam (with the notes' two slips fixed) |
//! | [`AdamW`] | `torch.optim.AdamW` | - (decoupled weight decay) |
//!
//! Learning-rate schedules live in [`schedule`], gradient clipping in
//! [`clip`].
//!
//! ```
//! use tapegrad::{Tape, Tensor, nn::Params};
//! use tapegrad::optim::{Optimizer, Sgd, SgdConfig};
//!
//! let mut params = Params::new();
//! params.insert("w", Tensor::from_vec(vec![1.0, -2.0], &[2]));
//! let mut opt = Sgd::new(SgdConfig { lr: 0.1, ..Default::default() }).unwrap();
//! let tape = Tape::new();
//! let vars = params.on_tape(&tape);
//! let grads = (vars.get(0) * 0.5).sum().backward(); // d/dw = [0.5, 0.5]
//! opt.step(&mut params, vars, &grads).unwrap();     // w -= 0.1 * 0.5
//! assert_eq!(params["w"].data(), &[1.0 - 0.05, -2.0 - 0.05]);
//! ```

pub mod clip;
pub mod schedule;

/// The learning-rate accessors and `reset` every optimizer shares: each
/// keeps its rate in `self.config.lr` and its state in `self.state`.
macro_rules! lr_and_reset {
    () => {
        fn lr(&self) -> f64 {
            self.config.lr
        }

        fn set_lr(&mut self, lr: f64) {
            self.config.lr = lr;
        }

        fn reset(&mut self) {
            self.state.clear();
        }
    };
}

mod adagrad;
mod adam;
mod rmsprop;
mod sgd;

pub use adagrad::{AdaGrad, AdaGradConfig};
pub use adam::{Adam, AdamConfig, AdamW, AdamWConfig};
pub use rmsprop::{RmsProp, RmsPropConfig};
pub use sgd::{Sgd, SgdConfig};

use crate::nn::{ParamVars, Params};
use crate::tape::Gradients;
use indexmap::IndexMap;
use std::fmt;

/// What can go wrong when building or stepping an optimizer.
///
/// ```
/// use tapegrad::optim::{Sgd, SgdConfig};
/// let e = Sgd::new(SgdConfig { lr: -0.1, ..Default::default() }).unwrap_err();
/// assert_eq!(e.to_string(), "Sgd: invalid lr = -0.1 (must be >= 0)");
/// ```
#[derive(Clone, Debug, PartialEq)]
pub enum OptimError {
    /// A hyperparameter is out of its range.
    InvalidHyperparameter {
        /// The optimizer or schedule being built, or the clipping function.
        optimizer: &'static str,
        /// The hyperparameter's name, as in PyTorch.
        name: &'static str,
        /// The rejected value.
        value: f64,
        /// The allowed range, in words.
        expected: &'static str,
    },
    /// A parameter and its gradient have different lengths.
    LengthMismatch {
        /// The parameter's name.
        param: String,
        /// Length of the parameter.
        param_len: usize,
        /// Length of the gradient.
        grad_len: usize,
    },
    /// The `ParamVars` handed to `step` were not made by these `Params`'
    /// `on_tape` (another model's, a clone's, or stale after a parameter
    /// was replaced): nothing was stepped.
    ForeignVars {
        /// What does not match, naming the parameter where one is at fault.
        detail: String,
    },
    /// A parameter's length changed since the optimizer first saw it, so its
    /// state no longer fits.
    StateMismatch {
        /// The parameter's name.
        param: String,
        /// Length the state was built for.
        state_len: usize,
        /// Length of the parameter now.
        param_len: usize,
    },
}

impl fmt::Display for OptimError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            OptimError::InvalidHyperparameter { optimizer, name, value, expected } => {
                write!(f, "{optimizer}: invalid {name} = {value} ({expected})")
            }
            OptimError::ForeignVars { detail } => f.write_str(detail),
            OptimError::LengthMismatch { param, param_len, grad_len } => {
                write!(
                    f,
                    "optimizer step: parameter \"{param}\" has {param_len} elements but its gradient has {grad_len}"
                )
            }
            OptimError::StateMismatch { param, state_len, param_len } => write!(
                f,
                "optimizer step: parameter \"{param}\" now has {param_len} elements but its optimizer state was built for {state_len}"
            ),
        }
    }
}

impl std::error::Error for OptimError {}

/// A first-order optimizer that moves named parameters by their gradients.
///
/// Implementors write [`Optimizer::update`] (the rule for one named
/// tensor) and the learning-rate accessors; [`Optimizer::step`], the one
/// way to step a model, is provided.
///
/// ```
/// use tapegrad::optim::{Adam, AdamConfig, Optimizer};
/// let mut opt = Adam::new(AdamConfig::default()).unwrap();
/// let mut w = [1.0, 2.0];
/// opt.update("w", &mut w, &[3.0, -4.0]).unwrap();
/// // Adam's first step moves every coordinate by lr against its gradient's sign
/// assert!((w[0] - (1.0 - 1e-3)).abs() < 1e-9 && (w[1] - (2.0 + 1e-3)).abs() < 1e-9);
/// opt.set_lr(0.5);
/// assert_eq!(opt.lr(), 0.5);
/// ```
pub trait Optimizer {
    /// Moves the parameter `name` by its gradient, creating its state on
    /// first sight. Errors if the lengths differ or changed since.
    fn update(&mut self, name: &str, param: &mut [f64], grad: &[f64]) -> Result<(), OptimError>;

    /// The current learning rate.
    fn lr(&self) -> f64;

    /// Sets the learning rate (what a [`schedule`] drives). Like PyTorch's
    /// `param_group["lr"] = x`, this is not validated.
    fn set_lr(&mut self, lr: f64);

    /// Forgets all state (momentum buffers, averages, step counts).
    fn reset(&mut self);

    /// One step over a model's parameters: every parameter the loss
    /// reaches moves by its gradient, by name, in the parameters' order
    /// (`vars` are the Vars [`Params::on_tape`] made from `params` for this
    /// step, `grads` the sweep of the loss). This is PyTorch's
    /// `optimizer.step()` after `loss.backward()`.
    ///
    /// Each gradient is read as a slice straight from `grads` (no `Tensor`
    /// is built), so once the optimizer has its state nothing is allocated:
    /// a training loop on a reused tape allocates nothing per step. A
    /// parameter the loss does not reach is left alone, as PyTorch skips
    /// parameters whose `.grad` is `None`. On an error (a parameter whose
    /// length changed under its name since the state was made) the step
    /// stops there and returns it.
    ///
    /// # Panics
    /// If `vars` was not made from these parameters.
    ///
    /// ```
    /// use tapegrad::{Tape, Tensor, nn::Params, optim::{Adam, AdamConfig, Optimizer}};
    /// let mut p = Params::new();
    /// p.insert("w", Tensor::from_vec(vec![3.0, -1.0], &[2]));
    /// let mut adam = Adam::new(AdamConfig { lr: 0.1, ..Default::default() }).unwrap();
    /// let tape = Tape::new();
    /// let vars = p.on_tape(&tape);
    /// let grads = vars.get(0).square().sum().backward();
    /// adam.step(&mut p, vars, &grads).unwrap();
    /// // Adam's first step moves each coordinate by lr against its gradient
    /// assert!((p["w"].data()[0] - 2.9).abs() < 1e-9 && (p["w"].data()[1] + 0.9).abs() < 1e-9);
    /// ```
    fn step<'t>(&mut self, params: &mut Params, vars: ParamVars<'t>, grads: &Gradients<'t>) -> Result<(), OptimError> {
        let mut result = Ok(());
        params
            .for_each_grad(vars, grads, |name, value, g| {
                if result.is_ok() {
                    result = self.update(name, value.data_mut(), g);
                }
            })
            .map_err(|detail| OptimError::ForeignVars { detail })?;
        result
    }
}

/// Per-parameter state kept by name: looked up without allocating once it
/// exists, created (one `String` for the name) on first sight.
#[derive(Clone, Debug)]
pub(crate) struct StateMap<S> {
    states: IndexMap<String, S>,
}

impl<S> Default for StateMap<S> {
    fn default() -> Self {
        StateMap { states: IndexMap::new() }
    }
}

/// What every per-parameter state can tell: how many elements it covers.
pub(crate) trait ParamState {
    fn len(&self) -> usize;
}

impl<S: ParamState> StateMap<S> {
    /// The state of `name`, checked against the lengths of `param` and
    /// `grad`, made by `init` if it does not exist yet.
    pub(crate) fn get(
        &mut self,
        name: &str,
        param_len: usize,
        grad_len: usize,
        init: impl FnOnce(usize) -> S,
    ) -> Result<&mut S, OptimError> {
        same_length(name, param_len, grad_len)?;
        let index = match self.states.get_index_of(name) {
            Some(i) => i,
            None => self.states.insert_full(name.to_string(), init(param_len)).0,
        };
        let state = &mut self.states[index];
        if state.len() != param_len {
            return Err(OptimError::StateMismatch { param: name.to_string(), state_len: state.len(), param_len });
        }
        Ok(state)
    }

    pub(crate) fn clear(&mut self) {
        self.states.clear();
    }
}

/// A parameter and its gradient must have the same length.
pub(crate) fn same_length(name: &str, param_len: usize, grad_len: usize) -> Result<(), OptimError> {
    if param_len == grad_len {
        Ok(())
    } else {
        Err(OptimError::LengthMismatch { param: name.to_string(), param_len, grad_len })
    }
}

/// Checks a hyperparameter at construction.
pub(crate) fn check(
    optimizer: &'static str,
    name: &'static str,
    value: f64,
    ok: bool,
    expected: &'static str,
) -> Result<(), OptimError> {
    if ok && !value.is_nan() {
        Ok(())
    } else {
        Err(OptimError::InvalidHyperparameter { optimizer, name, value, expected })
    }
}

/// `value >= 0` (and finite).
pub(crate) fn non_negative(optimizer: &'static str, name: &'static str, value: f64) -> Result<(), OptimError> {
    check(optimizer, name, value, value >= 0.0 && value.is_finite(), "must be >= 0")
}

/// `0 <= value < 1`.
pub(crate) fn unit_interval(optimizer: &'static str, name: &'static str, value: f64) -> Result<(), OptimError> {
    check(optimizer, name, value, (0.0..1.0).contains(&value), "must be in [0, 1)")
}
