//! Gradient checks of a model's parameters: [`check`](crate::check)'s
//! checks with one input per parameter, in the parameters' order, handed
//! to the model as the [`ParamVars`] its `forward` takes.

use super::{ParamVars, Params};
use crate::check::{GradcheckError, GradcheckOptions, Report, gradcheck, gradcheck_forward};
use crate::tape::{Tape, Var};
use crate::tensor::Tensor;

impl Params {
    /// Checks the tape's gradients of `loss` with respect to every
    /// parameter against central differences ([`check::gradcheck`](gradcheck),
    /// PyTorch's pass rule). `loss` builds the scalar from the parameters'
    /// Vars, as a training step does; input `k` of the report and of a
    /// [`Mismatch`](crate::check::Mismatch) is parameter `k`
    /// ([`Params::names`]).
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
        gradcheck(|tape, v| loss(tape, ParamVars::from_vars(tape, v)), &self.tensors(), options)
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
        gradcheck_forward(|tape, v| loss(tape, ParamVars::from_vars(tape, v)), &self.tensors(), rtol)
    }

    /// The values, in order: the checks' inputs.
    fn tensors(&self) -> Vec<Tensor> {
        self.iter().map(|(_, t)| t.clone()).collect()
    }
}
