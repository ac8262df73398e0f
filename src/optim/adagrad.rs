//! AdaGrad: `torch.optim.Adagrad`.

use super::{OptimError, Optimizer, ParamState, StateMap, non_negative};

/// Hyperparameters of [`AdaGrad`]; the defaults are PyTorch's.
///
/// ```
/// let c = tapegrad::optim::AdaGradConfig::default();
/// assert_eq!((c.lr, c.lr_decay, c.weight_decay, c.initial_accumulator_value, c.eps), (1e-2, 0.0, 0.0, 0.0, 1e-10));
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct AdaGradConfig {
    /// Learning rate.
    pub lr: f64,
    /// The rate used at step t is `lr / (1 + (t - 1) * lr_decay)`.
    pub lr_decay: f64,
    /// L2 weight decay, added to the gradient.
    pub weight_decay: f64,
    /// Starting value of the sum of squared gradients.
    pub initial_accumulator_value: f64,
    /// Added to the denominator (outside the square root).
    pub eps: f64,
}

impl Default for AdaGradConfig {
    fn default() -> Self {
        AdaGradConfig { lr: 1e-2, lr_decay: 0.0, weight_decay: 0.0, initial_accumulator_value: 0.0, eps: 1e-10 }
    }
}

/// AdaGrad as `torch.optim.Adagrad` computes it. At step t (from 1):
///
/// ```text
/// clr <- lr / (1 + (t - 1) * lr_decay)
/// g   <- g + weight_decay * theta
/// r   <- r + g * g                      (r starts at initial_accumulator_value)
/// theta <- theta - clr * g / (sqrt(r) + eps)
/// ```
///
/// **The notes' form** is `r <- r + g*g; theta <- theta - alpha g /
/// sqrt(r + eps)`: the same rule, except that eps sits inside the root there
/// and outside here (PyTorch's place); with eps = 1e-10 the two agree to
/// many digits. Since `r` only grows, every coordinate's step shrinks.
///
/// ```
/// use tapegrad::optim::{AdaGrad, AdaGradConfig, Optimizer};
/// let mut opt = AdaGrad::new(AdaGradConfig { lr: 0.5, ..Default::default() }).unwrap();
/// let mut x = [0.0];
/// opt.update("x", &mut x, &[2.0]).unwrap(); // r = 4, step = 0.5 * 2 / 2
/// assert!((x[0] + 0.5).abs() < 1e-9);
/// ```
#[derive(Clone, Debug)]
pub struct AdaGrad {
    config: AdaGradConfig,
    state: StateMap<AdaGradState>,
}

#[derive(Clone, Debug)]
struct AdaGradState {
    sum: Vec<f64>,
    step: u64,
}

impl ParamState for AdaGradState {
    fn len(&self) -> usize {
        self.sum.len()
    }
}

impl AdaGrad {
    /// Builds the optimizer, checking every hyperparameter.
    ///
    /// ```
    /// use tapegrad::optim::{AdaGrad, AdaGradConfig};
    /// let e = AdaGrad::new(AdaGradConfig { eps: -1.0, ..Default::default() }).unwrap_err();
    /// assert_eq!(e.to_string(), "AdaGrad: invalid eps = -1 (must be >= 0)");
    /// ```
    pub fn new(config: AdaGradConfig) -> Result<AdaGrad, OptimError> {
        non_negative("AdaGrad", "lr", config.lr)?;
        non_negative("AdaGrad", "lr_decay", config.lr_decay)?;
        non_negative("AdaGrad", "weight_decay", config.weight_decay)?;
        non_negative("AdaGrad", "initial_accumulator_value", config.initial_accumulator_value)?;
        non_negative("AdaGrad", "eps", config.eps)?;
        Ok(AdaGrad { config, state: StateMap::default() })
    }
}

impl Optimizer for AdaGrad {
    fn update(&mut self, name: &str, param: &mut [f64], grad: &[f64]) -> Result<(), OptimError> {
        let AdaGradConfig { lr, lr_decay, weight_decay, initial_accumulator_value, eps } = self.config;
        let state = self.state.get(name, param.len(), grad.len(), |len| AdaGradState {
            sum: vec![initial_accumulator_value; len],
            step: 0,
        })?;
        state.step += 1;
        let clr = lr / (1.0 + (state.step - 1) as f64 * lr_decay);
        for ((p, &g), r) in param.iter_mut().zip(grad).zip(&mut state.sum) {
            let g = g + weight_decay * *p;
            *r += g * g;
            *p -= clr * g / (r.sqrt() + eps);
        }
        Ok(())
    }

    lr_and_reset!();
}
