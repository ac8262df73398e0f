//! Stochastic gradient descent with momentum, dampening, Nesterov and
//! weight decay: `torch.optim.SGD`.

use super::{OptimError, Optimizer, ParamState, StateMap, check, non_negative, same_length};

/// Hyperparameters of [`Sgd`]; the defaults are PyTorch's.
///
/// ```
/// let c = tapegrad::optim::SgdConfig::default();
/// assert_eq!((c.lr, c.momentum, c.dampening, c.weight_decay, c.nesterov), (1e-3, 0.0, 0.0, 0.0, false));
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SgdConfig {
    /// Learning rate (the notes' alpha).
    pub lr: f64,
    /// Momentum factor (the notes' rho); 0 is plain SGD.
    pub momentum: f64,
    /// Dampening of the gradient's share in the momentum buffer.
    pub dampening: f64,
    /// L2 weight decay, added to the gradient as `weight_decay * theta`.
    pub weight_decay: f64,
    /// Nesterov momentum (needs `momentum > 0` and `dampening == 0`).
    pub nesterov: bool,
}

impl Default for SgdConfig {
    fn default() -> Self {
        SgdConfig { lr: 1e-3, momentum: 0.0, dampening: 0.0, weight_decay: 0.0, nesterov: false }
    }
}

/// SGD as `torch.optim.SGD` computes it. With the default config (no
/// momentum, no weight decay) it is plain SGD, `theta <- theta - lr * g`,
/// keeps no state, and does exactly the arithmetic of a hand-written loop.
/// Per step, with gradient `g`:
///
/// ```text
/// g <- g + weight_decay * theta                 (if weight_decay != 0)
/// b <- g                                        (first step)
/// b <- momentum * b + (1 - dampening) * g       (later steps)
/// g <- g + momentum * b   if nesterov,  else  g <- b      (if momentum != 0)
/// theta <- theta - lr * g
/// ```
///
/// **The notes' form.** The notes write momentum as `v <- rho v - alpha g;
/// theta <- theta + v`. With `v = -alpha b` this is exactly PyTorch's
/// `b <- rho b + g; theta <- theta - alpha b` while the rate is constant, so
/// both give the same path (they differ only when the rate changes
/// mid-run: PyTorch's buffer does not carry the old rate).
///
/// The notes' Nesterov takes the gradient at the look-ahead point,
/// `v <- rho v - alpha grad J(theta + rho v); theta <- theta + v`. PyTorch's
/// rule is the same algorithm written in the look-ahead variable
/// `phi = theta + rho v`: the parameter PyTorch stores *is* the look-ahead
/// point, so the gradient it is handed is the look-ahead gradient
/// (`tests/optim_sgd.rs` checks the two paths coincide).
///
/// ```
/// use tapegrad::optim::{Optimizer, Sgd, SgdConfig};
/// let mut opt = Sgd::new(SgdConfig { lr: 0.1, momentum: 0.9, ..Default::default() }).unwrap();
/// let mut x = [1.0];
/// opt.update("x", &mut x, &[1.0]).unwrap(); // b = 1,          x = 1 - 0.1
/// opt.update("x", &mut x, &[1.0]).unwrap(); // b = 0.9 + 1,    x = 0.9 - 0.19
/// assert!((x[0] - 0.71).abs() < 1e-15);
/// ```
#[derive(Clone, Debug)]
pub struct Sgd {
    config: SgdConfig,
    state: StateMap<SgdState>,
}

#[derive(Clone, Debug)]
struct SgdState {
    len: usize,
    /// Momentum buffer `b` (plain SGD keeps no state at all).
    buf: Vec<f64>,
    started: bool,
}

impl ParamState for SgdState {
    fn len(&self) -> usize {
        self.len
    }
}

impl Sgd {
    /// Builds the optimizer, checking every hyperparameter.
    ///
    /// ```
    /// use tapegrad::optim::{Sgd, SgdConfig};
    /// let e = Sgd::new(SgdConfig { nesterov: true, ..Default::default() }).unwrap_err();
    /// assert!(e.to_string().contains("momentum"));
    /// ```
    pub fn new(config: SgdConfig) -> Result<Sgd, OptimError> {
        non_negative("Sgd", "lr", config.lr)?;
        non_negative("Sgd", "momentum", config.momentum)?;
        non_negative("Sgd", "dampening", config.dampening)?;
        non_negative("Sgd", "weight_decay", config.weight_decay)?;
        if config.nesterov {
            let m = config.momentum;
            check("Sgd", "momentum", m, m > 0.0, "nesterov needs momentum > 0")?;
            let d = config.dampening;
            check("Sgd", "dampening", d, d == 0.0, "nesterov needs dampening = 0")?;
        }
        Ok(Sgd { config, state: StateMap::default() })
    }

    /// The hyperparameters in use (with the current learning rate).
    ///
    /// ```
    /// use tapegrad::optim::{Sgd, SgdConfig};
    /// assert_eq!(Sgd::new(SgdConfig::default()).unwrap().config().lr, 1e-3);
    /// ```
    pub fn config(&self) -> &SgdConfig {
        &self.config
    }
}

impl Optimizer for Sgd {
    fn update(&mut self, name: &str, param: &mut [f64], grad: &[f64]) -> Result<(), OptimError> {
        let SgdConfig { lr, momentum, dampening, weight_decay, nesterov } = self.config;
        same_length(name, param.len(), grad.len())?;
        if momentum == 0.0 && weight_decay == 0.0 {
            // Plain SGD, the notes' update: `p -= lr g` and nothing else (the
            // loop below does the same arithmetic with a branch per element).
            param.iter_mut().zip(grad).for_each(|(p, g)| *p -= lr * g);
            return Ok(());
        }
        // Only momentum needs a buffer; plain SGD keeps no state (nor does
        // PyTorch's), so it looks nothing up by name.
        let mut state = if momentum != 0.0 {
            Some(self.state.get(name, param.len(), grad.len(), |len| SgdState {
                len,
                buf: vec![0.0; len],
                started: false,
            })?)
        } else {
            None
        };
        for i in 0..param.len() {
            let mut g = grad[i];
            // Skipped at 0, as PyTorch does: `g + 0 * theta` would turn an
            // infinite theta into NaN and flip the sign of a zero gradient.
            if weight_decay != 0.0 {
                g += weight_decay * param[i];
            }
            if let Some(state) = state.as_deref_mut() {
                let b = &mut state.buf[i];
                *b = if state.started { momentum * *b + (1.0 - dampening) * g } else { g };
                g = if nesterov { g + momentum * *b } else { *b };
            }
            param[i] -= lr * g;
        }
        if let Some(state) = state {
            state.started = true;
        }
        Ok(())
    }

    lr_and_reset!();
}
