//! Checked mode: find the first op whose value or gradient is not finite
//! (NaN or infinite), like PyTorch's `detect_anomaly`, and report it as an
//! error instead of letting the NaN spread silently through every later node.
//!
//! Turn it on with [`Tape::checked`] or [`Tape::set_checked`]. While it is
//! on, the tape notes the first node whose value is not finite as it records
//! it; [`Tape::check`] reports it, and [`Var::try_backward_checked`] also
//! checks every gradient the backward sweep sends, stopping at the first bad
//! one. When it is off, recording costs one `bool` test more, and
//! [`Tape::check`] scans the recorded values instead.
//!
//! ```
//! use tapegrad::Tape;
//! let tape = Tape::checked();
//! let x = tape.scalar(0.0).named("x");
//! let y = x.ln() * 2.0;               // ln(0) = -inf, then -inf * 2
//! let err = tape.check().unwrap_err();
//! assert_eq!((err.node, err.op.as_str()), (1, "ln"));  // the first bad op, not the last
//! assert_eq!(
//!     err.to_string(),
//!     "checked mode: node 1 `ln` computed a value that is not finite in the forward pass\n  \
//!      value: shape [], min -inf, max -inf, 0 NaN, 1 inf\n  \
//!      input node 0 \"x\": shape [], min 0, max 0, all finite"
//! );
//! assert!(y.try_backward_checked().is_err());
//! ```

use super::fmt_num;
use super::trace::{check_scalar, observed_sweep};
use crate::tape::{BackwardError, Gradients, Tape, TapeInner, Var};
use crate::tensor::Shape;
use std::fmt;
use std::ops::ControlFlow;

/// Where the bad number appeared.
///
/// ```
/// use tapegrad::inspect::Phase;
/// let tape = tapegrad::Tape::new();
/// let x = tape.scalar(0.0);
/// let err = x.sqrt().try_backward_checked().unwrap_err(); // sqrt(0) = 0 is fine, its gradient is not
/// assert_eq!(err.anomaly().unwrap().phase, Phase::Backward);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Phase {
    /// An op computed a value that is not finite.
    Forward,
    /// An op's backward rule sent a gradient that is not finite.
    Backward,
}

/// A short account of a tensor: its shape, smallest and largest value
/// (NaNs left out) and how many NaNs and infinities it holds.
///
/// ```
/// use tapegrad::inspect::Summary;
/// let s = Summary::of(&[1.0, f64::NAN, -2.0, f64::INFINITY], &[4]);
/// assert_eq!((s.min, s.max, s.nan, s.inf), (-2.0, f64::INFINITY, 1, 1));
/// assert_eq!(s.to_string(), "shape [4], min -2, max inf, 1 NaN, 1 inf");
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Summary {
    /// The tensor's shape.
    pub shape: Shape,
    /// Smallest value that is not NaN (`NaN` if every value is NaN).
    pub min: f64,
    /// Largest value that is not NaN (`NaN` if every value is NaN).
    pub max: f64,
    /// Number of NaN values.
    pub nan: usize,
    /// Number of infinite values, of either sign.
    pub inf: usize,
}

impl Summary {
    /// Summarises `values`, a tensor of `shape`.
    ///
    /// ```
    /// let s = tapegrad::inspect::Summary::of(&[0.5, 3.0], &[2]);
    /// assert_eq!((s.min, s.max, s.has_nan()), (0.5, 3.0, false));
    /// ```
    pub fn of(values: &[f64], shape: &[usize]) -> Summary {
        let (mut min, mut max) = (f64::NAN, f64::NAN);
        for &v in values.iter().filter(|v| !v.is_nan()) {
            min = min.min(v); // f64::min ignores the NaN it starts from
            max = max.max(v);
        }
        Summary {
            shape: Shape::from_slice(shape),
            min,
            max,
            nan: values.iter().filter(|v| v.is_nan()).count(),
            inf: values.iter().filter(|v| v.is_infinite()).count(),
        }
    }

    /// True when some value is NaN.
    ///
    /// ```
    /// assert!(tapegrad::inspect::Summary::of(&[f64::NAN], &[]).has_nan());
    /// ```
    pub fn has_nan(&self) -> bool {
        self.nan > 0
    }
}

impl fmt::Display for Summary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "shape {:?}, min {}, max {}", self.shape.as_slice(), fmt_num(self.min), fmt_num(self.max))?;
        if self.nan == 0 && self.inf == 0 {
            return f.write_str(", all finite");
        }
        write!(f, ", {} NaN, {} inf", self.nan, self.inf)
    }
}

/// One input of the op that went wrong.
///
/// ```
/// let tape = tapegrad::Tape::checked();
/// let _ = tape.scalar(-1.0).named("x").ln(); // ln(-1) = NaN
/// let err = tape.check().unwrap_err();
/// let input = &err.inputs[0]; // the op's one input
/// assert_eq!((input.node, input.name.as_deref(), input.value.min), (0, Some("x"), -1.0));
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct InputSummary {
    /// The input's node index.
    pub node: usize,
    /// The input's name, if it has one.
    pub name: Option<String>,
    /// Its value.
    pub value: Summary,
}

/// The first op whose value (forward) or gradient (backward) was not finite.
///
/// ```
/// let tape = tapegrad::Tape::checked();
/// let (a, b) = (tape.scalar(0.0), tape.scalar(0.0));
/// let q = (a / b).named("q");            // 0/0 = NaN
/// let err = tape.check().unwrap_err();
/// assert_eq!(err.node, q.index());
/// assert_eq!(err.phase, tapegrad::inspect::Phase::Forward);
/// assert!(err.to_string().starts_with("checked mode: node 2 `div` \"q\" computed a value that is not finite"));
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Anomaly {
    /// Forward value or backward gradient.
    pub phase: Phase,
    /// The node of the op that produced the bad number.
    pub node: usize,
    /// The op, with parameters (`powi(4)`).
    pub op: String,
    /// The node's name, if it has one.
    pub name: Option<String>,
    /// Forward: the node's value. Backward: the gradient the node received
    /// from above (its upstream), which was still finite.
    pub output: Summary,
    /// Backward only: the input that received a bad gradient, and what was sent.
    pub sent: Option<(usize, Summary)>,
    /// The op's inputs' values.
    pub inputs: Vec<InputSummary>,
}

impl Anomaly {
    fn new(inner: &TapeInner, phase: Phase, node: u32, output: Summary, sent: Option<(usize, Summary)>) -> Anomaly {
        let inputs = inner
            .args(node)
            .to_vec()
            .into_iter()
            .map(|i| InputSummary {
                node: i as usize,
                name: inner.name(i).map(str::to_owned),
                value: Summary::of(inner.value(i), inner.shape(i)),
            })
            .collect();
        Anomaly {
            phase,
            node: node as usize,
            op: super::op_label(inner, node),
            name: inner.name(node).map(str::to_owned),
            output,
            sent,
            inputs,
        }
    }
}

impl fmt::Display for Anomaly {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "checked mode: node {} `{}`", self.node, self.op)?;
        if let Some(name) = &self.name {
            write!(f, " {name:?}")?;
        }
        match (&self.phase, &self.sent) {
            (Phase::Backward, Some((to, g))) => {
                writeln!(f, " sent a gradient that is not finite to node {to} in the backward pass")?;
                writeln!(f, "  gradient sent: {g}")?;
                write!(f, "  upstream gradient: {}", self.output)?;
            }
            _ => write!(f, " computed a value that is not finite in the forward pass\n  value: {}", self.output)?,
        }
        for input in &self.inputs {
            write!(f, "\n  input node {}", input.node)?;
            if let Some(name) = &input.name {
                write!(f, " {name:?}")?;
            }
            write!(f, ": {}", input.value)?;
        }
        Ok(())
    }
}

impl std::error::Error for Anomaly {}

/// Why [`Var::try_backward_checked`] gave no gradients.
///
/// ```
/// use tapegrad::{Tensor, inspect::CheckedBackwardError};
/// let tape = tapegrad::Tape::checked();
/// let x = tape.var(Tensor::ones(&[2]));
/// let err = x.exp().try_backward_checked().unwrap_err(); // two elements: not a scalar
/// assert!(matches!(err, CheckedBackwardError::NotScalar(_)));
/// assert!(err.anomaly().is_none());
/// ```
#[derive(Clone, Debug, PartialEq)]
pub enum CheckedBackwardError {
    /// The output is not a single element.
    NotScalar(BackwardError),
    /// A value or gradient was not finite.
    Anomaly(Box<Anomaly>),
}

impl fmt::Display for CheckedBackwardError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CheckedBackwardError::NotScalar(e) => e.fmt(f),
            CheckedBackwardError::Anomaly(a) => a.fmt(f),
        }
    }
}

impl std::error::Error for CheckedBackwardError {}

impl CheckedBackwardError {
    /// The anomaly, when that is what went wrong.
    ///
    /// ```
    /// let tape = tapegrad::Tape::new();
    /// let x = tape.scalar(0.0);
    /// let err = x.sqrt().try_backward_checked().unwrap_err(); // d sqrt/dx = inf at 0
    /// assert_eq!(err.anomaly().unwrap().op, "sqrt");
    /// ```
    pub fn anomaly(&self) -> Option<&Anomaly> {
        match self {
            CheckedBackwardError::Anomaly(a) => Some(a),
            CheckedBackwardError::NotScalar(_) => None,
        }
    }
}

impl Tape {
    /// A new tape in checked mode (see [`crate::inspect::anomaly`]).
    ///
    /// ```
    /// assert!(tapegrad::Tape::checked().is_checked());
    /// ```
    pub fn checked() -> Tape {
        let tape = Tape::new();
        tape.set_checked(true);
        tape
    }

    /// Turns checked mode on or off. Nodes recorded while it is off are
    /// not watched (but [`Tape::check`] with checked mode off scans them all).
    ///
    /// ```
    /// let tape = tapegrad::Tape::new();
    /// tape.set_checked(true);
    /// let _ = tape.scalar(1000.0).exp();
    /// assert_eq!(tape.check().unwrap_err().op, "exp");
    /// ```
    pub fn set_checked(&self, on: bool) {
        self.inner.borrow_mut().checked = on;
    }

    /// True in checked mode.
    ///
    /// ```
    /// assert!(!tapegrad::Tape::new().is_checked());
    /// ```
    pub fn is_checked(&self) -> bool {
        self.inner.borrow().checked
    }

    /// The first node whose value is not finite, as an error (boxed: the
    /// report is large and the `Ok` path should stay one word). In checked
    /// mode the tape noted it while recording, so this is free; otherwise
    /// it scans every value recorded so far.
    ///
    /// ```
    /// let tape = tapegrad::Tape::checked();
    /// let x = tape.scalar(4.0);
    /// let _ = x.sqrt();
    /// assert!(tape.check().is_ok());
    /// let _ = (-x).sqrt(); // NaN
    /// assert_eq!(tape.check().unwrap_err().node, 3);
    /// ```
    pub fn check(&self) -> Result<(), Box<Anomaly>> {
        let inner = self.inner.borrow();
        match first_bad_value(&inner, inner.nodes.len() as u32) {
            Some(i) => Err(Box::new(forward_anomaly(&inner, i))),
            None => Ok(()),
        }
    }
}

/// The first node before `end` whose value is not finite.
fn first_bad_value(inner: &TapeInner, end: u32) -> Option<u32> {
    if inner.checked {
        inner.first_anomaly.filter(|&i| i < end)
    } else {
        (0..end).find(|&i| inner.value(i).iter().any(|v| !v.is_finite()))
    }
}

/// The first node whose value is not finite among the nodes node `out`
/// reads, directly or through others (through `detach` too: its value is
/// still read). A NaN elsewhere on the tape is not the output's problem.
fn first_bad_value_read_by(inner: &TapeInner, out: u32) -> Option<u32> {
    let first = first_bad_value(inner, out + 1)?; // nothing bad at all: no walk
    let mut read = vec![false; out as usize + 1];
    read[out as usize] = true;
    for i in (first..=out).rev() {
        if !read[i as usize] {
            continue;
        }
        inner.args(i).iter().for_each(|&a| read[a as usize] = true);
    }
    let bad = |i: u32| inner.value(i).iter().any(|v| !v.is_finite());
    (first..=out).find(|&i| read[i as usize] && (i == first || bad(i)))
}

fn forward_anomaly(inner: &TapeInner, i: u32) -> Anomaly {
    let value = Summary::of(inner.value(i), inner.shape(i));
    Anomaly::new(inner, Phase::Forward, i, value, None)
}

impl<'t> Var<'t> {
    /// A backward sweep that checks every number: first that no value the
    /// output depends on is NaN or infinite (a bad value in a node the
    /// output does not read is not reported: it cannot reach the output), then that every gradient the
    /// sweep sends is finite, stopping at the first that is not.
    ///
    /// ```
    /// let tape = tapegrad::Tape::checked();
    /// let x = tape.scalar(2.0);
    /// let g = (x * x).try_backward_checked().unwrap();
    /// assert_eq!(g.wrt(x).item(), 4.0);
    ///
    /// let z = tape.scalar(0.0).named("z");
    /// let err = z.sqrt().try_backward_checked().unwrap_err();
    /// let a = err.anomaly().unwrap();
    /// assert_eq!((a.phase, a.node, a.sent.as_ref().unwrap().0), (tapegrad::inspect::Phase::Backward, 3, 2));
    /// ```
    pub fn try_backward_checked(self) -> Result<Gradients<'t>, CheckedBackwardError> {
        check_scalar(self).map_err(CheckedBackwardError::NotScalar)?;
        {
            let inner = self.tape.inner.borrow();
            if let Some(i) = first_bad_value_read_by(&inner, self.idx) {
                return Err(CheckedBackwardError::Anomaly(Box::new(forward_anomaly(&inner, i))));
            }
        }
        observed_sweep(self, |visit| {
            let bad = visit.sent.iter().find(|(_, g)| g.iter().any(|v| !v.is_finite()));
            match bad {
                None => ControlFlow::Continue(()),
                Some((to, g)) => {
                    let inner = visit.inner;
                    let upstream = Summary::of(visit.upstream, inner.shape(visit.node));
                    let sent = Summary::of(g, inner.shape(*to));
                    ControlFlow::Break(Anomaly::new(
                        inner,
                        Phase::Backward,
                        visit.node,
                        upstream,
                        Some((*to as usize, sent)),
                    ))
                }
            }
        })
        .map_err(|a| CheckedBackwardError::Anomaly(Box::new(a)))
    }
}
