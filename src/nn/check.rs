//! Gradient checks of a model's parameters: [`check`](crate::check)'s
//! checks with one input per parameter, in the parameters' order, handed
//! to the model as the [`ParamVars`] its `forward` takes.

use super::{ParamVars, Params};
use crate::check::{GradcheckError, GradcheckOptions, Mismatch, Report, gradcheck, gradcheck_forward};
use crate::tape::{Tape, Var};
use crate::tensor::Tensor;

impl Params {
    /// Checks the tape's gradients of `loss` with respect to every
    /// parameter against central differences ([`check::gradcheck`](gradcheck),
    /// PyTorch's pass rule). `loss` builds the scalar from the parameters'
    /// Vars, as a training step does; input `k` of the report and of a
    /// [`Mismatch`] is parameter `k` ([`Params::names`]), and each names it
    /// (`worst_name`, `name`).
    ///
    /// ```
    /// use rand::SeedableRng;
    /// use tapegrad::{Tensor, loss, nn::MlpSpec};
    /// let mlp = MlpSpec::new(&[2, 3, 1]).build(&mut rand_chacha::ChaCha12Rng::seed_from_u64(0));
    /// let (x, t) = (Tensor::from_vec(vec![0.5, -1.0, 2.0, 0.25], &[2, 2]), Tensor::zeros(&[2, 1]));
    /// let report = mlp.params()
    ///     .gradcheck(|tape, vars| loss::mse(mlp.forward(vars, tape.constant(&x)), tape.constant(&t)), &Default::default())
    ///     .unwrap();
    /// assert_eq!(report.checked, mlp.params().numel());
    /// ```
    pub fn gradcheck<F>(&self, loss: F, options: &GradcheckOptions) -> Result<Report, GradcheckError>
    where
        F: for<'t> Fn(&'t Tape, ParamVars<'t>) -> Var<'t>,
    {
        self.name(gradcheck(|tape, v| loss(tape, ParamVars::from_vars(tape, v)), &self.tensors(), options))
    }

    /// Checks the tape's reverse-mode gradients of `loss` with respect to
    /// every parameter against forward mode, to
    /// `rtol * max(1, |forward|)` ([`check::gradcheck_forward`](gradcheck_forward)).
    ///
    /// ```
    /// use tapegrad::{Tensor, nn::Params};
    /// let mut p = Params::new();
    /// p.insert("w", Tensor::from_vec(vec![0.5, -2.0], &[2]));
    /// let r = p.gradcheck_forward(|_, v| v.get(0).tanh().sum(), 1e-12).unwrap();
    /// assert!(r.tolerance_used <= 1.0);
    /// ```
    pub fn gradcheck_forward<F>(&self, loss: F, rtol: f64) -> Result<Report, GradcheckError>
    where
        F: for<'t> Fn(&'t Tape, ParamVars<'t>) -> Var<'t>,
    {
        self.name(gradcheck_forward(|tape, v| loss(tape, ParamVars::from_vars(tape, v)), &self.tensors(), rtol))
    }

    /// The check's result with each input position's parameter name filled
    /// in, so a report or a failure names `layer1.w`, not "input 2".
    fn name(&self, result: Result<Report, GradcheckError>) -> Result<Report, GradcheckError> {
        let names: Vec<&str> = self.names().collect();
        let name_of = |k: usize| names.get(k).map(|n| n.to_string());
        let rename = |ms: Vec<Mismatch>| ms.into_iter().map(|m| Mismatch { name: name_of(m.input), ..m }).collect();
        match result {
            Ok(report) => Ok(Report { worst_name: name_of(report.worst_input), ..report }),
            Err(GradcheckError::Mismatch(ms)) => Err(GradcheckError::Mismatch(rename(ms))),
            Err(GradcheckError::ForwardMismatch(ms)) => Err(GradcheckError::ForwardMismatch(rename(ms))),
            Err(other) => Err(other),
        }
    }

    /// The values, in order: the checks' inputs.
    fn tensors(&self) -> Vec<Tensor> {
        self.iter().map(|(_, t)| t.clone()).collect()
    }
}
