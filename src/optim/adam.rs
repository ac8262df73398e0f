//! Adam and AdamW (optionally AMSGrad): `torch.optim.Adam`, `torch.optim.AdamW`.

use super::{OptimError, Optimizer, ParamState, StateMap, non_negative, unit_interval};

/// Hyperparameters of [`Adam`]; the defaults are PyTorch's.
///
/// ```
/// let c = tapegrad::optim::AdamConfig::default();
/// assert_eq!((c.lr, c.betas, c.eps, c.weight_decay, c.amsgrad), (1e-3, (0.9, 0.999), 1e-8, 0.0, false));
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct AdamConfig {
    /// Learning rate.
    pub lr: f64,
    /// Decay rates of the first and second moment averages (the notes'
    /// rho1, rho2), each in [0, 1).
    pub betas: (f64, f64),
    /// Added to the denominator (outside the square root).
    pub eps: f64,
    /// L2 weight decay, *added to the gradient* (coupled; see [`AdamW`]).
    pub weight_decay: f64,
    /// Divide by the running maximum of the second moment (AMSGrad).
    pub amsgrad: bool,
}

impl Default for AdamConfig {
    fn default() -> Self {
        AdamConfig { lr: 1e-3, betas: (0.9, 0.999), eps: 1e-8, weight_decay: 0.0, amsgrad: false }
    }
}

/// Hyperparameters of [`AdamW`]; the defaults are PyTorch's (note the
/// nonzero weight decay).
///
/// ```
/// let c = tapegrad::optim::AdamWConfig::default();
/// assert_eq!((c.lr, c.betas, c.eps, c.weight_decay, c.amsgrad), (1e-3, (0.9, 0.999), 1e-8, 1e-2, false));
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct AdamWConfig {
    /// Learning rate.
    pub lr: f64,
    /// Decay rates of the first and second moment averages, each in [0, 1).
    pub betas: (f64, f64),
    /// Added to the denominator (outside the square root).
    pub eps: f64,
    /// Decoupled weight decay: `theta <- theta (1 - lr weight_decay)`
    /// before the Adam step.
    pub weight_decay: f64,
    /// Divide by the running maximum of the second moment (AMSGrad).
    pub amsgrad: bool,
}

impl Default for AdamWConfig {
    fn default() -> Self {
        AdamWConfig { lr: 1e-3, betas: (0.9, 0.999), eps: 1e-8, weight_decay: 1e-2, amsgrad: false }
    }
}

/// Adam as `torch.optim.Adam` computes it. At step t (from 1):
///
/// ```text
/// g <- g + weight_decay * theta                       (coupled L2)
/// m <- beta1 m + (1 - beta1) g
/// v <- beta2 v + (1 - beta2) g*g
/// if amsgrad: vmax <- max(vmax, v);  v_used = vmax  else v_used = v
/// theta <- theta - lr * (m / (1 - beta1^t)) / (sqrt(v_used / (1 - beta2^t)) + eps)
/// ```
///
/// For AMSGrad this follows PyTorch's code (`torch.maximum(max_exp_avg_sqs,
/// exp_avg_sq)`, then division by `sqrt(1 - beta2^t)`): the maximum is kept
/// of the raw `v` and bias-corrected afterwards. PyTorch's documentation
/// pseudo-code writes the maximum over the bias-corrected `v`, a slightly
/// different rule; the code is what sets the trajectory users see.
///
/// **The notes' form** (SEED.md ch. 3: `s`, `r`, `rho1`, `rho2`) is the same
/// rule with two slips mended: the notes' first moment averages `g*g`
/// where it must average `g`, and their bias correction divides by
/// `1 - rho` where it must divide by `1 - rho^t`. Because of the
/// correction, the first step is `lr * g / (|g| + eps)`: about `lr` in
/// every coordinate, whatever the gradient's size.
///
/// ```
/// use tapegrad::optim::{Adam, AdamConfig, Optimizer};
/// let mut opt = Adam::new(AdamConfig { lr: 0.1, ..Default::default() }).unwrap();
/// let mut x = [1.0, 1.0];
/// opt.update("x", &mut x, &[1e-3, 1e3]).unwrap();
/// assert!((x[0] - 0.9).abs() < 1e-5 && (x[1] - 0.9).abs() < 1e-12);
/// ```
#[derive(Clone, Debug)]
pub struct Adam {
    config: AdamConfig,
    state: StateMap<AdamState>,
}

/// Adam with decoupled weight decay (Loshchilov and Hutter), as
/// `torch.optim.AdamW` computes it: first `theta <- theta (1 - lr
/// weight_decay)`, then the [`Adam`] step on the bare gradient. Unlike
/// Adam's coupled decay, the shrinkage is not divided by `sqrt(v)`, so it
/// acts equally on every coordinate.
///
/// ```
/// use tapegrad::optim::{AdamW, AdamWConfig, Optimizer};
/// let mut opt = AdamW::new(AdamWConfig { lr: 0.1, weight_decay: 0.5, ..Default::default() }).unwrap();
/// let mut x = [2.0];
/// opt.update("x", &mut x, &[4.0]).unwrap(); // 2 * (1 - 0.05) - 0.1
/// assert!((x[0] - 1.8).abs() < 1e-9);
/// ```
#[derive(Clone, Debug)]
pub struct AdamW {
    config: AdamWConfig,
    state: StateMap<AdamState>,
}

#[derive(Clone, Debug)]
struct AdamState {
    m: Vec<f64>,
    v: Vec<f64>,
    /// Running maximum of `v` (amsgrad only), else empty.
    v_max: Vec<f64>,
    step: i32,
}

impl ParamState for AdamState {
    fn len(&self) -> usize {
        self.m.len()
    }
}

fn check_adam(name: &'static str, lr: f64, betas: (f64, f64), eps: f64, weight_decay: f64) -> Result<(), OptimError> {
    non_negative(name, "lr", lr)?;
    unit_interval(name, "beta1", betas.0)?;
    unit_interval(name, "beta2", betas.1)?;
    non_negative(name, "eps", eps)?;
    non_negative(name, "weight_decay", weight_decay)
}

/// The shared Adam step on one parameter; `coupled_decay` is added to the
/// gradient (Adam's weight decay; 0 for AdamW).
fn adam_step(
    state: &mut AdamState,
    param: &mut [f64],
    grad: &[f64],
    (lr, (beta1, beta2), eps, coupled_decay, amsgrad): (f64, (f64, f64), f64, f64, bool),
) {
    state.step += 1;
    let bias1 = 1.0 - beta1.powi(state.step);
    let bias2_sqrt = (1.0 - beta2.powi(state.step)).sqrt();
    let step_size = lr / bias1;
    for i in 0..param.len() {
        let g = grad[i] + coupled_decay * param[i];
        let m = &mut state.m[i];
        *m = beta1 * *m + (1.0 - beta1) * g;
        let v = &mut state.v[i];
        *v = beta2 * *v + (1.0 - beta2) * g * g;
        let v_used = if amsgrad {
            state.v_max[i] = crate::tensor::max_keep_nan(state.v_max[i], *v); // keeps a NaN
            state.v_max[i]
        } else {
            *v
        };
        param[i] -= step_size * *m / (v_used.sqrt() / bias2_sqrt + eps);
    }
}

fn new_state(len: usize, amsgrad: bool) -> AdamState {
    AdamState {
        m: vec![0.0; len],
        v: vec![0.0; len],
        v_max: if amsgrad { vec![0.0; len] } else { Vec::new() },
        step: 0,
    }
}

impl Adam {
    /// Builds the optimizer, checking every hyperparameter.
    ///
    /// ```
    /// use tapegrad::optim::{Adam, AdamConfig};
    /// let e = Adam::new(AdamConfig { betas: (0.9, 1.0), ..Default::default() }).unwrap_err();
    /// assert_eq!(e.to_string(), "Adam: invalid beta2 = 1 (must be in [0, 1))");
    /// ```
    pub fn new(config: AdamConfig) -> Result<Adam, OptimError> {
        check_adam("Adam", config.lr, config.betas, config.eps, config.weight_decay)?;
        Ok(Adam { config, state: StateMap::default() })
    }
}

impl AdamW {
    /// Builds the optimizer, checking every hyperparameter.
    ///
    /// ```
    /// use tapegrad::optim::{AdamW, AdamWConfig};
    /// let e = AdamW::new(AdamWConfig { weight_decay: -0.1, ..Default::default() }).unwrap_err();
    /// assert_eq!(e.to_string(), "AdamW: invalid weight_decay = -0.1 (must be >= 0)");
    /// ```
    pub fn new(config: AdamWConfig) -> Result<AdamW, OptimError> {
        check_adam("AdamW", config.lr, config.betas, config.eps, config.weight_decay)?;
        Ok(AdamW { config, state: StateMap::default() })
    }
}

impl Optimizer for Adam {
    fn update(&mut self, name: &str, param: &mut [f64], grad: &[f64]) -> Result<(), OptimError> {
        let AdamConfig { lr, betas, eps, weight_decay, amsgrad } = self.config;
        let state = self.state.get(name, param.len(), grad.len(), |len| new_state(len, amsgrad))?;
        adam_step(state, param, grad, (lr, betas, eps, weight_decay, amsgrad));
        Ok(())
    }

    lr_and_reset!();
}

impl Optimizer for AdamW {
    fn update(&mut self, name: &str, param: &mut [f64], grad: &[f64]) -> Result<(), OptimError> {
        let AdamWConfig { lr, betas, eps, weight_decay, amsgrad } = self.config;
        let state = self.state.get(name, param.len(), grad.len(), |len| new_state(len, amsgrad))?;
        let shrink = 1.0 - lr * weight_decay;
        param.iter_mut().for_each(|p| *p *= shrink);
        adam_step(state, param, grad, (lr, betas, eps, 0.0, amsgrad));
        Ok(())
    }

    lr_and_reset!();
}
