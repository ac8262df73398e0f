//! Optimizers: the update rules of the notes' chapter 3, written so that a
//! user switching from `torch.optim` gets the same trajectory.
//!
//! Every optimizer implements [`Optimizer`]: [`Optimizer::update`] moves one
//! named parameter (a plain `&mut [f64]`) by its gradient and keeps its state
//! (momentum, running averages, step count) under that name, so it works
//! with any container and allocates nothing once the state exists.
//! [`Optimizer::step`] does the same over a whole map of named parameters.
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
//! use indexmap::IndexMap;
//! use tapegrad::Tensor;
//! use tapegrad::optim::{Optimizer, Sgd, SgdConfig};
//!
//! let mut params = IndexMap::from([("w".to_string(), Tensor::from_vec(vec![1.0, -2.0], &[2]))]);
//! let grads = IndexMap::from([("w".to_string(), Tensor::from_vec(vec![0.5, 0.5], &[2]))]);
//! let mut opt = Sgd::new(SgdConfig { lr: 0.1, ..Default::default() }).unwrap();
//! opt.step(&mut params, &grads).unwrap();
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

use crate::tensor::Tensor;
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
        /// The optimizer or schedule being built.
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
    /// A gradient names no parameter.
    UnknownGradient {
        /// The gradient's name.
        name: String,
    },
}

impl fmt::Display for OptimError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            OptimError::InvalidHyperparameter { optimizer, name, value, expected } => {
                write!(f, "{optimizer}: invalid {name} = {value} ({expected})")
            }
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
            OptimError::UnknownGradient { name } => {
                write!(f, "optimizer step: gradient \"{name}\" matches no parameter")
            }
        }
    }
}

impl std::error::Error for OptimError {}

/// A first-order optimizer that moves named parameters by their gradients.
///
/// Implementors write [`Optimizer::update`] (one parameter) and the
/// learning-rate accessors; [`Optimizer::step`] is provided.
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

    /// Updates every parameter that has a gradient of the same name.
    /// Parameters without a gradient are left alone (as PyTorch skips
    /// parameters whose `.grad` is `None`); a gradient without a parameter
    /// is an error.
    fn step(
        &mut self,
        params: &mut IndexMap<String, Tensor>,
        grads: &IndexMap<String, Tensor>,
    ) -> Result<(), OptimError> {
        if let Some(name) = grads.keys().find(|k| !params.contains_key(k.as_str())) {
            return Err(OptimError::UnknownGradient { name: name.clone() });
        }
        for (name, param) in params.iter_mut() {
            if let Some(grad) = grads.get(name) {
                self.update(name, param.data_mut(), grad.data())?;
            }
        }
        Ok(())
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
        if param_len != grad_len {
            return Err(OptimError::LengthMismatch { param: name.to_string(), param_len, grad_len });
        }
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
