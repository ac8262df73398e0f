//! RMSProp, optionally centered and with momentum: `torch.optim.RMSprop`.

use super::{OptimError, Optimizer, ParamState, StateMap, non_negative};

/// Hyperparameters of [`RmsProp`]; the defaults are PyTorch's.
///
/// ```
/// let c = tapegrad::optim::RmsPropConfig::default();
/// assert_eq!((c.lr, c.alpha, c.eps, c.weight_decay, c.momentum, c.centered), (1e-2, 0.99, 1e-8, 0.0, 0.0, false));
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RmsPropConfig {
    /// Learning rate.
    pub lr: f64,
    /// Smoothing constant of the squared-gradient average (the notes' rho).
    pub alpha: f64,
    /// Added to the denominator (outside the square root).
    pub eps: f64,
    /// L2 weight decay, added to the gradient.
    pub weight_decay: f64,
    /// Momentum on the scaled step; 0 for none.
    pub momentum: f64,
    /// Divide by an estimate of the gradient's variance instead of its
    /// second moment.
    pub centered: bool,
}

impl Default for RmsPropConfig {
    fn default() -> Self {
        RmsPropConfig { lr: 1e-2, alpha: 0.99, eps: 1e-8, weight_decay: 0.0, momentum: 0.0, centered: false }
    }
}

/// RMSProp as `torch.optim.RMSprop` computes it:
///
/// ```text
/// g <- g + weight_decay * theta
/// v <- alpha v + (1 - alpha) g*g                 (v starts at 0)
/// d <- v;   if centered: m <- alpha m + (1 - alpha) g;  d <- v - m*m
/// if momentum > 0: b <- momentum b + g / (sqrt(d) + eps);  theta <- theta - lr b
/// else:            theta <- theta - lr g / (sqrt(d) + eps)
/// ```
///
/// **The notes' form** is `r <- rho r + (1 - rho) g*g` with AdaGrad's step:
/// `alpha` here is the notes' `rho`, and eps sits outside the root (PyTorch)
/// instead of inside (notes).
///
/// ```
/// use tapegrad::optim::{Optimizer, RmsProp, RmsPropConfig};
/// let mut opt = RmsProp::new(RmsPropConfig { lr: 0.1, ..Default::default() }).unwrap();
/// let mut x = [0.0];
/// opt.update("x", &mut x, &[3.0]).unwrap(); // v = 0.01 * 9; step = 0.1 * 3 / sqrt(0.09) = 1
/// assert!((x[0] + 1.0).abs() < 1e-6);
/// ```
#[derive(Clone, Debug)]
pub struct RmsProp {
    config: RmsPropConfig,
    state: StateMap<RmsPropState>,
}

#[derive(Clone, Debug)]
struct RmsPropState {
    square_avg: Vec<f64>,
    /// Average gradient (centered only), else empty.
    grad_avg: Vec<f64>,
    /// Momentum buffer (momentum > 0 only), else empty.
    buf: Vec<f64>,
}

impl ParamState for RmsPropState {
    fn len(&self) -> usize {
        self.square_avg.len()
    }
}

impl RmsProp {
    /// Builds the optimizer, checking every hyperparameter.
    ///
    /// ```
    /// use tapegrad::optim::{RmsProp, RmsPropConfig};
    /// let e = RmsProp::new(RmsPropConfig { alpha: -0.5, ..Default::default() }).unwrap_err();
    /// assert_eq!(e.to_string(), "RmsProp: invalid alpha = -0.5 (must be >= 0)");
    /// ```
    pub fn new(config: RmsPropConfig) -> Result<RmsProp, OptimError> {
        non_negative("RmsProp", "lr", config.lr)?;
        non_negative("RmsProp", "alpha", config.alpha)?;
        non_negative("RmsProp", "eps", config.eps)?;
        non_negative("RmsProp", "weight_decay", config.weight_decay)?;
        non_negative("RmsProp", "momentum", config.momentum)?;
        Ok(RmsProp { config, state: StateMap::default() })
    }
}

impl Optimizer for RmsProp {
    fn update(&mut self, name: &str, param: &mut [f64], grad: &[f64]) -> Result<(), OptimError> {
        let RmsPropConfig { lr, alpha, eps, weight_decay, momentum, centered } = self.config;
        let with_momentum = momentum > 0.0;
        let state = self.state.get(name, param.len(), grad.len(), |len| RmsPropState {
            square_avg: vec![0.0; len],
            grad_avg: if centered { vec![0.0; len] } else { Vec::new() },
            buf: if with_momentum { vec![0.0; len] } else { Vec::new() },
        })?;
        for i in 0..param.len() {
            let g = grad[i] + weight_decay * param[i];
            let v = &mut state.square_avg[i];
            *v = alpha * *v + (1.0 - alpha) * g * g;
            let mut d = *v;
            if centered {
                let m = &mut state.grad_avg[i];
                *m = alpha * *m + (1.0 - alpha) * g;
                d -= *m * *m;
            }
            let scaled = g / (d.sqrt() + eps);
            if with_momentum {
                let b = &mut state.buf[i];
                *b = momentum * *b + scaled;
                param[i] -= lr * *b;
            } else {
                param[i] -= lr * scaled;
            }
        }
        Ok(())
    }

    lr_and_reset!();
}
