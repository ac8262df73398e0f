//! Learning-rate schedules, usable with any [`Optimizer`](super::Optimizer):
//! ask the schedule for the rate of step (or epoch) `t`, hand it to
//! [`Optimizer::set_lr`](super::Optimizer::set_lr).
//!
//! | type | PyTorch | rate at step t (from 0) |
//! |---|---|---|
//! | [`Constant`] | - | `lr` |
//! | [`StepLr`] | `StepLR` | `lr * gamma^floor(t / step_size)` |
//! | [`MultiStepLr`] | `MultiStepLR` | `lr * gamma^(milestones <= t)` |
//! | [`ExponentialLr`] | `ExponentialLR` | `lr * gamma^t` |
//! | [`CosineAnnealing`] | `CosineAnnealingLR` | `eta_min + (lr - eta_min) (1 + cos(pi t / t_max)) / 2` |
//! | [`LinearWarmup`] | `LinearLR` then another | ramps from `start_factor * lr` to the next schedule |
//! | [`ReduceOnPlateau`] | `ReduceLROnPlateau` | cut by `factor` when a metric stalls |
//!
//! ```
//! use tapegrad::optim::{Optimizer, Sgd, SgdConfig};
//! use tapegrad::optim::schedule::{Schedule, StepLr};
//! let mut opt = Sgd::new(SgdConfig { lr: 0.1, ..Default::default() }).unwrap();
//! let schedule = StepLr { lr: 0.1, step_size: 10, gamma: 0.5 };
//! for epoch in 0..30 {
//!     opt.set_lr(schedule.lr(epoch));
//!     // ... one epoch of opt.step(&mut params, vars, &grads) ...
//! }
//! assert_eq!(opt.lr(), 0.025);
//! ```

use super::{OptimError, non_negative, unit_interval};

/// A learning rate as a function of the step (or epoch) count `t`, from 0.
///
/// ```
/// use tapegrad::optim::schedule::Schedule;
/// struct Halving; // 1, 1/2, 1/4, ...
/// impl Schedule for Halving {
///     fn lr(&self, t: usize) -> f64 { 0.5f64.powi(t as i32) }
/// }
/// assert_eq!((Halving.lr(0), Halving.lr(3)), (1.0, 0.125));
/// ```
pub trait Schedule {
    /// The learning rate to use at step `t`.
    fn lr(&self, t: usize) -> f64;
}

/// The same rate at every step.
///
/// ```
/// use tapegrad::optim::schedule::{Constant, Schedule};
/// assert_eq!(Constant { lr: 0.3 }.lr(1000), 0.3);
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Constant {
    /// The rate.
    pub lr: f64,
}

impl Schedule for Constant {
    fn lr(&self, _t: usize) -> f64 {
        self.lr
    }
}

/// Decays by `gamma` every `step_size` steps (PyTorch's `StepLR`).
///
/// ```
/// use tapegrad::optim::schedule::{Schedule, StepLr};
/// let s = StepLr { lr: 1.0, step_size: 3, gamma: 0.1 };
/// assert_eq!((s.lr(2), s.lr(3)), (1.0, 0.1));
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct StepLr {
    /// Rate at step 0.
    pub lr: f64,
    /// Steps between decays (a `step_size` of 0 is treated as 1).
    pub step_size: usize,
    /// Factor per decay.
    pub gamma: f64,
}

impl Schedule for StepLr {
    fn lr(&self, t: usize) -> f64 {
        self.lr * self.gamma.powi((t / self.step_size.max(1)) as i32)
    }
}

/// Decays by `gamma` at each milestone (PyTorch's `MultiStepLR`).
///
/// ```
/// use tapegrad::optim::schedule::{MultiStepLr, Schedule};
/// let s = MultiStepLr { lr: 1.0, milestones: vec![2, 5], gamma: 0.5 };
/// assert_eq!([s.lr(1), s.lr(2), s.lr(5)], [1.0, 0.5, 0.25]);
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct MultiStepLr {
    /// Rate at step 0.
    pub lr: f64,
    /// Steps at which the rate is multiplied by `gamma`.
    pub milestones: Vec<usize>,
    /// Factor per milestone passed.
    pub gamma: f64,
}

impl Schedule for MultiStepLr {
    fn lr(&self, t: usize) -> f64 {
        let passed = self.milestones.iter().filter(|&&m| m <= t).count();
        self.lr * self.gamma.powi(passed as i32)
    }
}

/// Decays by `gamma` every step (PyTorch's `ExponentialLR`).
///
/// ```
/// use tapegrad::optim::schedule::{ExponentialLr, Schedule};
/// assert_eq!(ExponentialLr { lr: 2.0, gamma: 0.5 }.lr(3), 0.25);
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ExponentialLr {
    /// Rate at step 0.
    pub lr: f64,
    /// Factor per step.
    pub gamma: f64,
}

impl Schedule for ExponentialLr {
    fn lr(&self, t: usize) -> f64 {
        self.lr * self.gamma.powi(t as i32)
    }
}

/// Half a cosine from `lr` down to `eta_min` over `t_max` steps (PyTorch's
/// `CosineAnnealingLR`, closed form; past `t_max` it climbs back, as
/// PyTorch's does).
///
/// ```
/// use tapegrad::optim::schedule::{CosineAnnealing, Schedule};
/// let s = CosineAnnealing { lr: 1.0, t_max: 10, eta_min: 0.0 };
/// assert_eq!(s.lr(0), 1.0);
/// assert!((s.lr(5) - 0.5).abs() < 1e-15 && s.lr(10) < 1e-15);
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct CosineAnnealing {
    /// Rate at step 0.
    pub lr: f64,
    /// Steps to reach `eta_min` (0 is treated as 1).
    pub t_max: usize,
    /// The lowest rate.
    pub eta_min: f64,
}

impl Schedule for CosineAnnealing {
    fn lr(&self, t: usize) -> f64 {
        let phase = std::f64::consts::PI * t as f64 / self.t_max.max(1) as f64;
        self.eta_min + (self.lr - self.eta_min) * (1.0 + phase.cos()) / 2.0
    }
}

/// A linear warm-up from `start_factor * then.lr(0)` to `then.lr(0)` over
/// `warmup_steps` steps, then the schedule `then` (counted from the end of
/// the warm-up). PyTorch's `LinearLR` followed by another schedule in a
/// `SequentialLR`.
///
/// ```
/// use tapegrad::optim::schedule::{Constant, LinearWarmup, Schedule};
/// let s = LinearWarmup { warmup_steps: 4, start_factor: 0.0, then: Constant { lr: 0.8 } };
/// assert_eq!([s.lr(0), s.lr(1), s.lr(4), s.lr(9)], [0.0, 0.2, 0.8, 0.8]);
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LinearWarmup<S> {
    /// Length of the ramp.
    pub warmup_steps: usize,
    /// Fraction of the target rate at step 0.
    pub start_factor: f64,
    /// The schedule after the ramp.
    pub then: S,
}

impl<S: Schedule> Schedule for LinearWarmup<S> {
    fn lr(&self, t: usize) -> f64 {
        if t < self.warmup_steps {
            let frac = t as f64 / self.warmup_steps as f64;
            self.then.lr(0) * (self.start_factor + (1.0 - self.start_factor) * frac)
        } else {
            self.then.lr(t - self.warmup_steps)
        }
    }
}

/// Cuts the rate by `factor` once a metric (to be minimised, e.g. a
/// validation loss) has not improved for more than `patience` epochs
/// (PyTorch's `ReduceLROnPlateau`, mode `min`, relative threshold).
///
/// An epoch improves when `metric < best * (1 - threshold)`. After a cut the
/// scheduler waits `cooldown` epochs before counting again; the rate never
/// goes below `min_lr`.
///
/// ```
/// use tapegrad::optim::schedule::ReduceOnPlateau;
/// let mut s = ReduceOnPlateau::new(1.0, 0.5, 1).unwrap();
/// assert_eq!(s.step(3.0), 1.0); // best = 3
/// assert_eq!(s.step(3.0), 1.0); // 1 bad epoch: not more than patience
/// assert_eq!(s.step(3.0), 0.5); // 2 bad epochs: cut
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct ReduceOnPlateau {
    lr: f64,
    /// Factor of each cut, in [0, 1).
    pub factor: f64,
    /// Bad epochs tolerated before a cut.
    pub patience: usize,
    /// Relative improvement needed to count as better.
    pub threshold: f64,
    /// Epochs to wait after a cut.
    pub cooldown: usize,
    /// Floor of the rate.
    pub min_lr: f64,
    best: f64,
    bad_epochs: usize,
    cooldown_left: usize,
}

impl ReduceOnPlateau {
    /// Starts at `lr` with PyTorch's other defaults (threshold 1e-4,
    /// cooldown 0, min_lr 0). PyTorch's defaults for the rest are factor
    /// 0.1 and patience 10.
    ///
    /// ```
    /// use tapegrad::optim::schedule::ReduceOnPlateau;
    /// let e = ReduceOnPlateau::new(0.1, 1.5, 10).unwrap_err();
    /// assert!(e.to_string().contains("factor = 1.5"));
    /// ```
    pub fn new(lr: f64, factor: f64, patience: usize) -> Result<ReduceOnPlateau, OptimError> {
        non_negative("ReduceOnPlateau", "lr", lr)?;
        unit_interval("ReduceOnPlateau", "factor", factor)?;
        Ok(ReduceOnPlateau {
            lr,
            factor,
            patience,
            threshold: 1e-4,
            cooldown: 0,
            min_lr: 0.0,
            best: f64::INFINITY,
            bad_epochs: 0,
            cooldown_left: 0,
        })
    }

    /// Records one epoch's metric and returns the rate for the next epoch.
    ///
    /// ```
    /// use tapegrad::optim::schedule::ReduceOnPlateau;
    /// let mut s = ReduceOnPlateau::new(1.0, 0.1, 0).unwrap();
    /// assert_eq!(s.step(1.0), 1.0);
    /// assert_eq!(s.step(0.5), 1.0);   // improved
    /// assert!((s.step(0.5) - 0.1).abs() < 1e-15); // stalled once, patience 0: cut
    /// ```
    pub fn step(&mut self, metric: f64) -> f64 {
        if metric < self.best * (1.0 - self.threshold) {
            self.best = metric;
            self.bad_epochs = 0;
        } else {
            self.bad_epochs += 1;
        }
        if self.cooldown_left > 0 {
            self.cooldown_left -= 1;
            self.bad_epochs = 0;
        }
        if self.bad_epochs > self.patience {
            let reduced = (self.lr * self.factor).max(self.min_lr);
            // PyTorch ignores cuts smaller than 1e-8
            if self.lr - reduced > 1e-8 {
                self.lr = reduced;
            }
            self.cooldown_left = self.cooldown;
            self.bad_epochs = 0;
        }
        self.lr
    }

    /// The current rate.
    ///
    /// ```
    /// let s = tapegrad::optim::schedule::ReduceOnPlateau::new(0.1, 0.1, 10).unwrap();
    /// assert_eq!(s.lr(), 0.1);
    /// ```
    pub fn lr(&self) -> f64 {
        self.lr
    }
}
