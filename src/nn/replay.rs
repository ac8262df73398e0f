//! A training step recorded once and replayed for every batch
//! ([`Tape::replay`](crate::Tape::replay)): the parameters and the step's
//! inputs (data, targets) are written into the recorded tape, the tape is
//! replayed, swept backward, and the optimizer steps as usual.
//!
//! The step's program must be the same for every batch: same ops, same
//! shapes, no branch on a value (see [`crate::tape::replay`]).
//! [`ReplayStep::check`] records the step again and compares.
//!
//! ```
//! use rand::SeedableRng;
//! use tapegrad::{Tensor, loss, nn::{MlpSpec, ReplayStep}, optim::{Optimizer, Sgd, SgdConfig}};
//! let mut mlp = MlpSpec::new(&[2, 4, 1]).build(&mut rand_chacha::ChaCha12Rng::seed_from_u64(0));
//! let mut opt = Sgd::new(SgdConfig { lr: 0.1, ..Default::default() }).unwrap();
//! let (x, t) = (Tensor::zeros(&[3, 2]), Tensor::zeros(&[3, 1])); // shapes of a batch
//! let step = ReplayStep::record(mlp.params(), &[&x, &t], |vars, io| loss::mse(mlp.forward(vars, io[0]), io[1]));
//! let mut losses = vec![];
//! for _ in 0..20 {
//!     let (x, t) = ([0.0, 1.0, 1.0, 0.0, 1.0, 1.0], [1.0, 1.0, 0.0]); // this batch
//!     let grads = step.run(mlp.params(), &[&x, &t]).unwrap();
//!     losses.push(step.loss());
//!     opt.step(mlp.params_mut(), step.vars(), &grads).unwrap();
//! }
//! assert!(losses[19] < losses[0]);
//! ```

use super::{ParamVars, Params};
use crate::tape::{Gradients, Tape, Var};
use crate::tensor::{ShapeError, Tensor};

/// One training step on its own tape: recorded by [`ReplayStep::record`],
/// run again on new values by [`ReplayStep::run`].
pub struct ReplayStep {
    tape: Tape,
    /// Where the parameters sit on the tape (see [`ParamVars`]).
    first: usize,
    count: usize,
    owner: Option<u64>,
    /// The step's inputs (data, targets), in the order `record` got them.
    inputs: Vec<u32>,
    /// The loss node.
    loss: u32,
}

impl ReplayStep {
    /// Records the step once: the parameters as named leaf Vars
    /// ([`Params::on_tape`]), each of `inputs` as a constant, then
    /// `build(vars, inputs)`, which returns the loss. The values given here
    /// only fix the shapes; every [`ReplayStep::run`] writes its own.
    ///
    /// ```
    /// use tapegrad::{Tensor, nn::{Params, ReplayStep}};
    /// let mut p = Params::new();
    /// p.insert("w", Tensor::scalar(3.0));
    /// let step = ReplayStep::record(&p, &[&Tensor::scalar(2.0)], |v, io| (v.get(0) * io[0]).square());
    /// assert_eq!(step.loss(), 36.0);
    /// ```
    pub fn record(
        params: &Params,
        inputs: &[&Tensor],
        build: impl for<'t> FnOnce(ParamVars<'t>, &[Var<'t>]) -> Var<'t>,
    ) -> ReplayStep {
        let tape = Tape::new();
        let (vars, input_vars, loss) = record_on(&tape, params, inputs.iter().map(|t| (t.data(), t.shape())), build);
        let (first, count, owner) = vars.parts();
        let inputs = input_vars.iter().map(|v| v.idx).collect();
        let loss = loss.idx;
        ReplayStep { tape, first, count, owner, inputs, loss }
    }

    /// Runs the step on new values: writes the parameters and `inputs`
    /// (one slice per input of [`ReplayStep::record`], in that order) into
    /// the tape, replays it and sweeps it backward from the loss. Allocates
    /// nothing once the tape has swept once.
    ///
    /// An error (nothing run) when `params` are not the recorded ones (other
    /// names, shapes or count), an input has the wrong number of values, or
    /// the recorded loss is not a single element (there is no gradient of
    /// a vector to sweep: reduce it in `build`, `.sum()` or `.mean()`).
    ///
    /// ```
    /// use tapegrad::{Tensor, nn::{Params, ReplayStep}};
    /// let mut p = Params::new();
    /// p.insert("w", Tensor::scalar(3.0));
    /// let step = ReplayStep::record(&p, &[&Tensor::scalar(2.0)], |v, io| v.get(0) * io[0]);
    /// let g = step.run(&p, &[&[5.0]]).unwrap();
    /// assert_eq!((step.loss(), g.wrt(step.vars().get(0)).item()), (15.0, 5.0));
    /// assert!(step.run(&p, &[&[5.0, 6.0]]).is_err());
    /// ```
    pub fn run(&self, params: &Params, inputs: &[&[f64]]) -> Result<Gradients<'_>, ShapeError> {
        let loss = self.loss_var();
        if loss.len() != 1 {
            let reason = format!(
                "the loss (node {}) has {} elements, not one: reduce it (.sum(), .mean()) when recording the step",
                self.loss,
                loss.len()
            );
            return Err(ShapeError::new("replay", &[&loss.shape()], reason));
        }
        self.set(params, inputs)?;
        Ok(loss.backward())
    }

    /// Writes the parameters and the inputs, then replays (`run` without
    /// the backward sweep).
    fn set(&self, params: &Params, inputs: &[&[f64]]) -> Result<(), ShapeError> {
        // Which parameters, by id and count here; each one's shape under
        // the tape's one borrow, as it is written in.
        params.try_check_owner("replay", self.vars()).map_err(|reason| ShapeError::new("replay", &[], reason))?;
        if inputs.len() != self.inputs.len() {
            let reason = format!("{} inputs given, the step was recorded with {}", inputs.len(), self.inputs.len());
            return Err(ShapeError::new("replay", &[], reason));
        }
        let params = params.iter().enumerate().map(|(i, (_, t))| ((self.first + i) as u32, t.data(), Some(t.shape())));
        let data = self.inputs.iter().zip(inputs).map(|(&idx, d)| (idx, *d, None));
        self.tape.set_all_and_replay(params.chain(data))
    }

    /// The loss of the last run (or of the recording).
    ///
    /// # Panics
    /// If the loss is not a single element ([`ReplayStep::run`] errs).
    ///
    /// ```
    /// use tapegrad::{Tensor, nn::{Params, ReplayStep}};
    /// let step = ReplayStep::record(&Params::new(), &[&Tensor::scalar(2.0)], |_, io| io[0] * 4.0);
    /// assert_eq!(step.loss(), 8.0);
    /// ```
    pub fn loss(&self) -> f64 {
        self.loss_var().item()
    }

    /// The parameters' Vars on the step's tape, for
    /// [`Optimizer::step`](crate::optim::Optimizer::step).
    ///
    /// ```
    /// use tapegrad::{Tensor, nn::{Params, ReplayStep}};
    /// let mut p = Params::new();
    /// p.insert("w", Tensor::scalar(3.0));
    /// let step = ReplayStep::record(&p, &[], |v, _| v.get(0).square());
    /// assert_eq!(step.vars().get(0).name().as_deref(), Some("w"));
    /// ```
    pub fn vars(&self) -> ParamVars<'_> {
        ParamVars::from_parts(&self.tape, self.first, self.count, self.owner)
    }

    /// The step's tape (to print it, draw it, read a node).
    ///
    /// ```
    /// use tapegrad::{Tensor, nn::{Params, ReplayStep}};
    /// let step = ReplayStep::record(&Params::new(), &[&Tensor::scalar(2.0)], |_, io| io[0].exp());
    /// assert_eq!(step.tape().len(), 2);
    /// ```
    pub fn tape(&self) -> &Tape {
        &self.tape
    }

    /// Runs the step's replay and checks it against a fresh recording of
    /// `build` on the same parameters and inputs (see
    /// [`Tape::replay_checked`]): an error naming the first node that
    /// differs, e.g. when `build` branches on a value.
    ///
    /// # Panics
    /// As [`ReplayStep::run`] errs (parameters or inputs that do not fit).
    ///
    /// ```
    /// use tapegrad::{Tensor, Var, nn::{ParamVars, Params, ReplayStep}};
    /// // |w x|, written with an `if` on the value: not replayable across the sign change
    /// fn build<'t>(v: ParamVars<'t>, io: &[Var<'t>]) -> Var<'t> {
    ///     let y = v.get(0) * io[0];
    ///     if y.item() >= 0.0 { y } else { -y }
    /// }
    /// let mut p = Params::new();
    /// p.insert("w", Tensor::scalar(1.0));
    /// let step = ReplayStep::record(&p, &[&Tensor::scalar(2.0)], build);
    /// assert!(step.check(&p, &[&[3.0]], build).is_ok());
    /// assert_eq!(step.check(&p, &[&[-3.0]], build).unwrap_err().node, 3);
    /// ```
    pub fn check(
        &self,
        params: &Params,
        inputs: &[&[f64]],
        build: impl for<'t> FnOnce(ParamVars<'t>, &[Var<'t>]) -> Var<'t>,
    ) -> Result<(), Box<crate::tape::ReplayMismatch>> {
        self.set(params, inputs).unwrap_or_else(|e| panic!("{e}"));
        let shapes: Vec<_> = self.inputs.iter().map(|&i| self.tape.node(i as usize).shape()).collect();
        self.tape.replay_checked(|scratch| {
            let inputs = inputs.iter().zip(&shapes).map(|(d, s)| (*d, s.as_slice()));
            record_on(scratch, params, inputs, build);
        })
    }

    fn loss_var(&self) -> Var<'_> {
        self.tape.node(self.loss as usize)
    }
}

/// Records the parameters, the inputs (as constants) and `build` on `tape`.
fn record_on<'t, 'd>(
    tape: &'t Tape,
    params: &Params,
    inputs: impl Iterator<Item = (&'d [f64], &'d [usize])>,
    build: impl FnOnce(ParamVars<'t>, &[Var<'t>]) -> Var<'t>,
) -> (ParamVars<'t>, Vec<Var<'t>>, Var<'t>) {
    let vars = params.on_tape(tape);
    let inputs: Vec<Var<'t>> = inputs.map(|(data, shape)| tape.constant_from_slice(data, shape)).collect();
    let loss = build(vars, &inputs);
    (vars, inputs, loss)
}
