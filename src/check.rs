//! Checking gradients against central differences.
//!
//! - [`numerical_gradient`]: the notes' chapter 2, for any plain closure.
//! - [`gradcheck`]: the tape's gradients of a function against central
//!   differences, with PyTorch's defaults and pass rule
//!   (`|analytic - numeric| <= atol + rtol * |numeric|`).
//! - [`gradcheck_forward`]: the same gradients against forward mode.
//! - [`hvpcheck`]: second derivatives. The tape's Hessian-vector product
//!   (reverse over reverse, [`crate::func::hvp`]) against central
//!   differences of the tape's *gradient* along the direction,
//!   `(g(x + h v) - g(x - h v)) / 2h`. Use it for anything you
//!   differentiate twice (a new op's `df_var`, a custom op's
//!   `backward_var`, a gradient penalty); check first order with
//!   [`gradcheck`] first, since this one trusts the gradient it differences.
//!
//! Which to use: central differences are an independent truth (they know
//! nothing of the rules), but only to about 1e-6, so a rule that is wrong by
//! less than the tolerance passes. Forward vs reverse compares two
//! independent derivations of every rule (each op's JVP and its VJP),
//! exactly, to about 1e-12: it catches the small slips a loose tolerance
//! hides (a transposed index in a rarely-hit branch, a missing term of a
//! product rule that is small at the test point), and it is cheap enough to
//! run on large inputs. It cannot catch a derivative that both rules get
//! wrong the same way (a wrong formula copied into both), which central
//! differences do. Run both.

use crate::tape::{Tape, Var};
use crate::tensor::{Shape, Tensor};
use std::fmt;

/// Central-difference gradient of `f` at `x`, one coordinate at a time:
/// `(f(x + h e_i) - f(x - h e_i)) / (2h)`. The notes use `h = 1e-4`.
///
/// ```
/// use tapegrad::check::numerical_gradient;
/// let g = numerical_gradient(|x| x[0] * x[0] + x[1] * x[1], &[3.0, 4.0], 1e-4);
/// assert!((g[0] - 6.0).abs() < 1e-6 && (g[1] - 8.0).abs() < 1e-6);
/// ```
pub fn numerical_gradient(mut f: impl FnMut(&[f64]) -> f64, x: &[f64], h: f64) -> Vec<f64> {
    let mut x = x.to_vec();
    let mut grad = vec![0.0; x.len()];
    for i in 0..x.len() {
        let saved = x[i];
        x[i] = saved + h;
        let plus = f(&x);
        x[i] = saved - h;
        let minus = f(&x);
        x[i] = saved; // restore, as the notes do
        grad[i] = (plus - minus) / (2.0 * h);
    }
    grad
}

/// Tolerances for [`gradcheck`]; the defaults are PyTorch's.
///
/// ```
/// let o = tapegrad::check::GradcheckOptions::default();
/// assert_eq!((o.eps, o.atol, o.rtol), (1e-6, 1e-5, 1e-3));
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct GradcheckOptions {
    /// Step of the central difference.
    pub eps: f64,
    /// Absolute tolerance.
    pub atol: f64,
    /// Relative tolerance (relative to the numeric value).
    pub rtol: f64,
}

impl Default for GradcheckOptions {
    fn default() -> Self {
        GradcheckOptions { eps: 1e-6, atol: 1e-5, rtol: 1e-3 }
    }
}

/// What a passing check measured, in the terms of its pass rule.
///
/// Every element passes when its error `|analytic - reference|` is at most
/// what the rule allows it: `atol + rtol * |numeric|` for [`gradcheck`]
/// and [`hvpcheck`], `rtol * max(1, |forward|)` for [`gradcheck_forward`].
/// `tolerance_used` is the largest error as a fraction of that allowance
/// (at most 1 in a passing report), and `worst_input` / `worst_index` name
/// the element where it is. `max_rel_error` is measured over
/// `max(1, |reference|)` as the rules measure it, so a gradient that is
/// truly 0 (where both sides are rounding noise) reads as its absolute
/// error, not as noise over noise.
///
/// ```
/// use tapegrad::{Tensor, check::{gradcheck, GradcheckOptions}};
/// let r = gradcheck(|_, x| x[0].sin().sum(), &[Tensor::ones(&[3])], &GradcheckOptions::default()).unwrap();
/// assert_eq!(r.checked, 3);
/// assert!(r.max_abs_error < 1e-8 && r.tolerance_used < 1e-3);
/// assert!(r.to_string().starts_with("3 elements passed; the closest to failing, input 0 index"));
/// ```
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Report {
    /// Number of input elements compared.
    pub checked: usize,
    /// Largest `|analytic - reference|`.
    pub max_abs_error: f64,
    /// Largest `|analytic - reference| / max(1, |reference|)`: relative
    /// above 1, absolute below.
    pub max_rel_error: f64,
    /// Largest error as a fraction of what the pass rule allows that
    /// element (0 when every error is 0; at most 1 when the check passed).
    pub tolerance_used: f64,
    /// The input (position in the `inputs` slice; for
    /// [`Params::gradcheck`](crate::nn::Params::gradcheck), the parameter's
    /// position) of the element with the largest `tolerance_used`.
    pub worst_input: usize,
    /// That element's flat (row-major) index within its input.
    pub worst_index: usize,
    /// The worst input's name, when the check knows one
    /// ([`Params::gradcheck`](crate::nn::Params::gradcheck): the parameter's).
    pub worst_name: Option<String>,
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let pct = 100.0 * self.tolerance_used;
        let used = if pct >= 0.1 || pct == 0.0 { format!("{pct:.1}%") } else { format!("{pct:.1e}%") };
        write!(
            f,
            "{} elements passed; the closest to failing, input {}{} index {}, used {used} of its tolerance \
             (max abs error {:.2e}, max rel error {:.2e})",
            self.checked,
            self.worst_input,
            named(&self.worst_name),
            self.worst_index,
            self.max_abs_error,
            self.max_rel_error
        )
    }
}

/// One element whose analytic gradient disagrees with the numeric one.
///
/// ```
/// use tapegrad::{Tensor, check::{gradcheck, GradcheckError, GradcheckOptions}};
/// // detach hides the second factor of x * x, so the tape says 3 at x = 3, not 6
/// let x = [Tensor::full(&[1], 3.0)];
/// let err = gradcheck(|_, x| (x[0] * x[0].detach()).sum(), &x, &GradcheckOptions::default()).unwrap_err();
/// let GradcheckError::Mismatch(m) = err else { panic!("{err}") };
/// assert_eq!((m[0].input, m[0].index, m[0].analytic), (0, 0, 3.0));
/// assert!((m[0].numeric - 6.0).abs() < 1e-6);
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Mismatch {
    /// Which input (position in the `inputs` slice).
    pub input: usize,
    /// Flat (row-major) index of the element within that input.
    pub index: usize,
    /// The tape's gradient.
    pub analytic: f64,
    /// The reference value: the central difference ([`gradcheck`]) or
    /// forward mode ([`gradcheck_forward`]).
    pub numeric: f64,
    /// The input's name, when the check knows one
    /// ([`Params::gradcheck`](crate::nn::Params::gradcheck): the parameter's).
    pub name: Option<String>,
}

/// ` (name)` after an input's position, when it has a name.
fn named(name: &Option<String>) -> String {
    name.as_ref().map(|n| format!(" ({n})")).unwrap_or_default()
}

/// Why [`gradcheck`] failed.
///
/// ```
/// use tapegrad::{Tensor, check::{gradcheck, GradcheckError, GradcheckOptions}};
/// // detach hides x from the tape, so its analytic gradient is 0, not 2x
/// let err = gradcheck(|_, x| (x[0] * x[0].detach()).sum(), &[Tensor::ones(&[2])],
///                     &GradcheckOptions::default()).unwrap_err();
/// match err {
///     GradcheckError::Mismatch(m) => assert_eq!(m.len(), 2),
///     other => panic!("{other}"),
/// }
/// ```
#[derive(Clone, Debug, PartialEq)]
pub enum GradcheckError {
    /// The function did not return a one-element value.
    NotScalar(Shape),
    /// The inputs hold no elements, so a pass would prove nothing.
    NoElements,
    /// These elements disagree beyond tolerance.
    Mismatch(Vec<Mismatch>),
    /// These elements' reverse-mode gradients disagree with forward mode
    /// ([`gradcheck_forward`]; `numeric` holds the forward-mode value).
    ForwardMismatch(Vec<Mismatch>),
    /// Forward mode could not run ([`gradcheck_forward`] through a user op
    /// with no tangent rule).
    Tangent(crate::tape::TangentError),
    /// [`hvpcheck`]: the differentiable backward could not run (the message
    /// names the op).
    HigherOrder(String),
}

impl fmt::Display for GradcheckError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            GradcheckError::NotScalar(s) => {
                write!(f, "gradcheck: the function returned shape {:?}, not a scalar", s.as_slice())
            }
            GradcheckError::NoElements => {
                write!(f, "gradcheck: the inputs hold no elements, so nothing can be checked")
            }
            GradcheckError::Mismatch(ms) | GradcheckError::ForwardMismatch(ms) => {
                let (reference, word) = match self {
                    GradcheckError::Mismatch(_) => ("central differences", "numeric"),
                    _ => ("forward mode", "forward"),
                };
                writeln!(f, "gradcheck: {} element(s) disagree with {reference}:", ms.len())?;
                for m in ms {
                    writeln!(
                        f,
                        "  input {}{} index {}: analytic {:.10e}, {word} {:.10e}, difference {:.3e}",
                        m.input,
                        named(&m.name),
                        m.index,
                        m.analytic,
                        m.numeric,
                        (m.analytic - m.numeric).abs()
                    )?;
                }
                Ok(())
            }
            GradcheckError::Tangent(e) => write!(f, "gradcheck: {e}"),
            GradcheckError::HigherOrder(e) => write!(f, "hvpcheck: {e}"),
        }
    }
}

impl std::error::Error for GradcheckError {}

/// Checks the tape's gradients of `f` at `inputs` against central
/// differences. `f` builds a scalar from one Var per input, on the tape
/// it is given; it is called once for the analytic gradients and twice per
/// input element for the numeric ones.
///
/// Inputs with no elements at all are an error ([`GradcheckError::NoElements`]),
/// not a vacuous pass. To check a model's parameters, see
/// [`Params::gradcheck`](crate::nn::Params::gradcheck); to store `f` in a
/// `let` first, wrap it in [`func::program`](crate::func::program).
///
/// ```
/// use tapegrad::{Tensor, check::{gradcheck, GradcheckOptions}};
/// let a = Tensor::from_vec(vec![0.3, -0.7, 1.1, 0.2], &[2, 2]);
/// let b = Tensor::from_vec(vec![0.5, 0.1], &[2]);
/// let report = gradcheck(
///     |_, v| (v[0].matmul(v[0]) + v[1]).tanh().sum(),
///     &[a, b],
///     &GradcheckOptions::default(),
/// ).unwrap();
/// assert_eq!(report.checked, 6);
/// ```
pub fn gradcheck<F>(f: F, inputs: &[Tensor], options: &GradcheckOptions) -> Result<Report, GradcheckError>
where
    F: for<'t> Fn(&'t Tape, &[Var<'t>]) -> Var<'t>,
{
    // Checked before `f` runs: with no inputs it would likely index an empty slice.
    if inputs.iter().all(|x| x.is_empty()) {
        return Err(GradcheckError::NoElements);
    }
    let analytic = analytic_gradients(&f, inputs)?;
    let mut tape = Tape::new();
    let mut eval = |xs: &[Tensor]| {
        tape.clear();
        let vars: Vec<Var<'_>> = xs.iter().map(|x| tape.var(x)).collect();
        f(&tape, &vars).item()
    };
    let mut work = inputs.to_vec();
    let mut tally = Tally::default();
    for input in 0..inputs.len() {
        for index in 0..inputs[input].len() {
            let saved = work[input].data()[index];
            work[input].data_mut()[index] = saved + options.eps;
            let plus = eval(&work);
            work[input].data_mut()[index] = saved - options.eps;
            let minus = eval(&work);
            work[input].data_mut()[index] = saved;
            let numeric = (plus - minus) / (2.0 * options.eps);
            let allowed = options.atol + options.rtol * numeric.abs();
            tally.compare(input, index, analytic[input].data()[index], numeric, allowed);
        }
    }
    tally.finish(GradcheckError::Mismatch)
}

/// The comparison every check makes, element by element: the report's
/// counts and largest errors, and the elements that fail.
#[derive(Default)]
struct Tally {
    report: Report,
    mismatches: Vec<Mismatch>,
}

impl Tally {
    /// Compares the tape's `analytic` value with the `reference` one; the
    /// element passes when they differ by at most `allowed`. NaN on either
    /// side fails (only a real comparison passes) and shows in the report.
    fn compare(&mut self, input: usize, index: usize, analytic: f64, reference: f64, allowed: f64) {
        let err = (analytic - reference).abs();
        let r = &mut self.report;
        r.checked += 1;
        r.max_abs_error = crate::tensor::max_keep_nan(r.max_abs_error, err);
        r.max_rel_error = crate::tensor::max_keep_nan(r.max_rel_error, err / reference.abs().max(1.0));
        // The fraction of the allowance used (an exact match uses none of
        // a zero allowance); NaN, the worst, is kept by the `!(<=)` test.
        let used = if err == 0.0 { 0.0 } else { err / allowed };
        if r.checked == 1 || !(r.tolerance_used.is_nan() || used <= r.tolerance_used) {
            (r.tolerance_used, r.worst_input, r.worst_index) = (used, input, index);
        }
        let passes = err <= allowed;
        if !passes {
            self.mismatches.push(Mismatch { input, index, analytic, numeric: reference, name: None });
        }
    }

    /// The report, or the failing elements wrapped as `error`.
    fn finish(self, error: fn(Vec<Mismatch>) -> GradcheckError) -> Result<Report, GradcheckError> {
        if self.mismatches.is_empty() { Ok(self.report) } else { Err(error(self.mismatches)) }
    }
}

fn analytic_gradients<F>(f: &F, inputs: &[Tensor]) -> Result<Vec<Tensor>, GradcheckError>
where
    F: for<'t> Fn(&'t Tape, &[Var<'t>]) -> Var<'t>,
{
    let tape = Tape::new();
    let vars: Vec<Var<'_>> = inputs.iter().map(|x| tape.var(x)).collect();
    let out = f(&tape, &vars);
    if out.len() != 1 {
        return Err(GradcheckError::NotScalar(out.shape()));
    }
    let grads = out.backward();
    Ok(vars.iter().map(|v| grads.wrt(*v)).collect())
}

/// Checks the tape's reverse-mode gradients of `f` at `inputs` against
/// forward mode: for every input element `j`, one tangent sweep along
/// `e_j` gives `df/dx_j`, which must equal the reverse sweep's gradient
/// element to `|rev - fwd| <= rtol * max(1, |fwd|)`. The two are
/// independent derivations of every rule, so `rtol` can be tight: 1e-12
/// is the intended value (see the module docs for when to use which check).
///
/// ```
/// use tapegrad::{Tensor, check::gradcheck_forward};
/// let a = Tensor::from_vec(vec![0.3, -0.7, 1.1, 0.2], &[2, 2]);
/// let b = Tensor::from_vec(vec![0.5, 0.1], &[2]);
/// let report = gradcheck_forward(|_, v| (v[0].matmul(v[0]) + v[1]).tanh().sum(), &[a, b], 1e-12).unwrap();
/// assert_eq!(report.checked, 6);
/// assert!(report.max_rel_error < 1e-14);
/// ```
pub fn gradcheck_forward<F>(f: F, inputs: &[Tensor], rtol: f64) -> Result<Report, GradcheckError>
where
    F: for<'t> Fn(&'t Tape, &[Var<'t>]) -> Var<'t>,
{
    if inputs.iter().all(|x| x.is_empty()) {
        return Err(GradcheckError::NoElements);
    }
    let tape = Tape::new();
    let vars: Vec<Var<'_>> = inputs.iter().map(|x| tape.var(x)).collect();
    let out = f(&tape, &vars);
    if out.len() != 1 {
        return Err(GradcheckError::NotScalar(out.shape()));
    }
    let reverse: Vec<Tensor> = {
        let grads = out.backward();
        vars.iter().map(|v| grads.wrt(*v)).collect()
    };
    let mut tally = Tally::default();
    for (input, (x, v)) in inputs.iter().zip(&vars).enumerate() {
        let mut e = Tensor::zeros(x.shape());
        for index in 0..x.len() {
            e.data_mut()[index] = 1.0;
            let forward = out.jvp(&[(*v, &e)]).map_err(GradcheckError::Tangent)?.item();
            e.data_mut()[index] = 0.0;
            tally.compare(input, index, reverse[input].data()[index], forward, rtol * forward.abs().max(1.0));
        }
    }
    tally.finish(GradcheckError::ForwardMismatch)
}

/// Checks the tape's Hessian-vector products of `f` at `inputs` along `v`
/// (one direction tensor per input) against central differences of the
/// tape's first-order gradient: `(grad f(x + eps v) - grad f(x - eps v)) /
/// (2 eps)`, with [`gradcheck`]'s pass rule on every element. The
/// differentiable backward must support every op `f` uses (else
/// [`GradcheckError::HigherOrder`]).
///
/// ```
/// use tapegrad::{Tensor, check::{hvpcheck, GradcheckOptions}};
/// let x = Tensor::from_vec(vec![0.3, -0.7, 1.1, 0.2], &[2, 2]);
/// let v = Tensor::from_vec(vec![1.0, 0.5, -0.25, 2.0], &[2, 2]);
/// let r = hvpcheck(|_, x| x[0].matmul(x[0]).tanh().sum(), &[x], &[v], &GradcheckOptions::default()).unwrap();
/// assert_eq!(r.checked, 4);
/// ```
pub fn hvpcheck<F>(f: F, inputs: &[Tensor], v: &[Tensor], options: &GradcheckOptions) -> Result<Report, GradcheckError>
where
    F: for<'t> Fn(&'t Tape, &[Var<'t>]) -> Var<'t>,
{
    if inputs.iter().all(|x| x.is_empty()) {
        return Err(GradcheckError::NoElements);
    }
    let analytic = crate::func::hvp(&f, inputs, v).map_err(|e| GradcheckError::HigherOrder(e.to_string()))?;
    let shifted = |sign: f64| -> Result<Vec<Tensor>, GradcheckError> {
        let xs: Vec<Tensor> = inputs
            .iter()
            .zip(v)
            .map(|(x, d)| {
                let mut x = x.clone();
                x.axpy(sign * options.eps, d);
                x
            })
            .collect();
        analytic_gradients(&f, &xs)
    };
    let (plus, minus) = (shifted(1.0)?, shifted(-1.0)?);
    let mut tally = Tally::default();
    for input in 0..inputs.len() {
        for index in 0..inputs[input].len() {
            let numeric = (plus[input].data()[index] - minus[input].data()[index]) / (2.0 * options.eps);
            let allowed = options.atol + options.rtol * numeric.abs();
            tally.compare(input, index, analytic[input].data()[index], numeric, allowed);
        }
    }
    tally.finish(GradcheckError::Mismatch)
}
