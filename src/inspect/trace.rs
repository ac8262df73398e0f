//! The backward sweep, step by step: for each node from the output back to
//! the first, the gradient it received from above (its *upstream*), the
//! local derivative of its op, and what it sent to each input. This is the
//! chain rule, `d loss/d input = d loss/d node * d node/d input`, written out.
//!
//! ```text
//! node 6 sigmoid "hidden.a": upstream -0.3, local s(1-s) = 0.24, sends -0.072 to node 5
//! ```
//!
//! The traced sweep runs the same backward rules as [`Var::backward`]; to
//! see each input's contribution on its own, it zeroes the input's adjoint
//! before the node's rule runs, reads what the rule added, and adds the
//! earlier total back.

use super::{fmt_num, op_label, preview};
use crate::ops::{Op, input_indices};
use crate::tape::{Arena, BackwardError, Gradients, SweepObserver, TapeInner, Var, sweep_observed};
use crate::tensor::{Tensor, for_each_broadcast};
use std::fmt;
use std::ops::ControlFlow;

/// One node's step of the reverse sweep.
///
/// ```
/// let tape = tapegrad::Tape::new();
/// let x = tape.scalar(3.0);
/// let y = x * 2.0;
/// let step = y.backward_traced().1.steps.remove(0); // the output's step comes first
/// assert_eq!((step.node, step.op.as_str(), step.upstream.item()), (1, "mul_scalar(2)", 1.0));
/// assert_eq!((step.sends[0].0, step.sends[0].1.item()), (0, 2.0));
/// ```
#[derive(Clone, Debug)]
pub struct TraceStep {
    /// The node's index on the tape.
    pub node: usize,
    /// Its op, with parameters (`mul_scalar(0.5)`).
    pub op: String,
    /// Its name, if it has one.
    pub name: Option<String>,
    /// d(output)/d(node): the gradient that reached it from every later node.
    pub upstream: Tensor,
    /// The local derivative(s) of its op, one per input.
    pub local: Vec<Local>,
    /// What it sent to each input that needs a gradient: (input node, contribution).
    pub sends: Vec<(usize, Tensor)>,
}

/// The local derivative of an op with respect to one input.
///
/// ```
/// let tape = tapegrad::Tape::new();
/// let (a, b) = (tape.scalar(2.0), tape.scalar(5.0));
/// let (_, trace) = (a * b).backward_traced();
/// let local = &trace.steps[0].local[0]; // d(a b)/da, at the recorded a and b
/// assert_eq!((local.text.as_str(), local.value.as_ref().unwrap().item()), ("d/da = b", 5.0));
/// ```
#[derive(Clone, Debug)]
pub struct Local {
    /// The derivative in words: `s(1-s)`, `d/da = b`, `dA = dC B^T`.
    pub text: String,
    /// Its value at the recorded inputs, for elementwise ops (shaped like
    /// the op's output); `None` where the derivative is a matrix product or
    /// a layout change rather than a number per element.
    pub value: Option<Tensor>,
}

/// The whole reverse sweep, last node first. `Display` prints it as a
/// chain-rule walk, one line per node.
///
/// ```
/// let tape = tapegrad::Tape::new();
/// let x = tape.scalar(0.0).named("x");
/// let y = x.sigmoid().named("y");
/// let (_, trace) = y.backward_traced();
/// let step = trace.step(y).unwrap();
/// assert_eq!(step.local[0].text, "s(1-s)");
/// assert_eq!(trace.sent(y, x).unwrap().item(), 0.25);
/// assert_eq!(trace.to_string().lines().next().unwrap(),
///            "node 1 sigmoid \"y\": upstream 1, local s(1-s) = 0.25, sends 0.25 to node 0");
/// ```
#[derive(Clone, Debug, Default)]
pub struct Trace {
    /// One step per node that needs a gradient, from the output back.
    pub steps: Vec<TraceStep>,
}

impl Trace {
    /// The step of node `v`, if the sweep visited it.
    ///
    /// ```
    /// let tape = tapegrad::Tape::new();
    /// let x = tape.scalar(2.0);
    /// let y = x * x;
    /// assert_eq!(y.backward_traced().1.step(x).unwrap().upstream.item(), 4.0);
    /// ```
    pub fn step(&self, v: Var<'_>) -> Option<&TraceStep> {
        self.steps.iter().find(|s| s.node == v.index())
    }

    /// What node `from` sent to its input `to`: d(output)/d(from) times
    /// d(from)/d(to), shaped like `to`.
    ///
    /// ```
    /// let tape = tapegrad::Tape::new();
    /// let x = tape.scalar(3.0);
    /// let y = x * 5.0;
    /// assert_eq!(y.backward_traced().1.sent(y, x).unwrap().item(), 5.0);
    /// ```
    pub fn sent(&self, from: Var<'_>, to: Var<'_>) -> Option<&Tensor> {
        self.step(from)?.sends.iter().find(|(i, _)| *i == to.index()).map(|(_, t)| t)
    }
}

impl fmt::Display for TraceStep {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "node {} {}", self.node, self.op)?;
        if let Some(name) = &self.name {
            write!(f, " {name:?}")?;
        }
        let up = preview(self.upstream.data(), self.upstream.shape());
        if self.sends.is_empty() && self.local.is_empty() {
            return write!(f, ": gradient {up}");
        }
        write!(f, ": upstream {up}")?;
        if !self.local.is_empty() {
            let locals: Vec<String> = self
                .local
                .iter()
                .map(|l| match &l.value {
                    Some(v) => format!("{} = {}", l.text, preview(v.data(), v.shape())),
                    None => l.text.clone(),
                })
                .collect();
            write!(f, ", local {}", locals.join(", "))?;
        }
        if self.sends.is_empty() {
            return write!(f, ", sends nothing (no input needs a gradient)");
        }
        let sends: Vec<String> =
            self.sends.iter().map(|(i, t)| format!("{} to node {i}", preview(t.data(), t.shape()))).collect();
        write!(f, ", sends {}", sends.join(", "))
    }
}

impl fmt::Display for Trace {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for step in &self.steps {
            writeln!(f, "{step}")?;
        }
        Ok(())
    }
}

impl<'t> Var<'t> {
    /// Runs `backward` and records every step of the sweep (see [`Trace`]).
    ///
    /// # Panics
    /// If the output has more than one element (see [`Var::try_backward_traced`]).
    ///
    /// ```
    /// let tape = tapegrad::Tape::new();
    /// let a = tape.scalar(2.0);
    /// let (grads, trace) = (a * a + a).backward_traced();
    /// assert_eq!(grads.wrt(a).item(), 5.0);
    /// assert_eq!(trace.steps.len(), 3); // add, mul, then the leaf a
    /// assert_eq!(trace.steps.last().unwrap().node, 0);
    /// ```
    pub fn backward_traced(self) -> (Gradients<'t>, Trace) {
        self.try_backward_traced().unwrap_or_else(|e| panic!("{e}"))
    }

    /// Like [`Var::backward_traced`], but a non-scalar output is an error.
    ///
    /// ```
    /// let tape = tapegrad::Tape::new();
    /// let x = tape.var(tapegrad::Tensor::ones(&[2]));
    /// assert!(x.exp().try_backward_traced().is_err());
    /// ```
    pub fn try_backward_traced(self) -> Result<(Gradients<'t>, Trace), BackwardError> {
        check_scalar(self)?;
        let mut trace = Trace::default();
        let grads = observed_sweep(self, |visit| {
            trace.steps.push(visit.step());
            ControlFlow::<()>::Continue(())
        });
        Ok((grads.unwrap_or_else(|()| unreachable!("the trace never stops the sweep")), trace))
    }
}

pub(crate) fn check_scalar(v: Var<'_>) -> Result<(), BackwardError> {
    if v.len() != 1 {
        return Err(BackwardError::NotScalar { node: v.index(), shape: v.shape() });
    }
    Ok(())
}

/// What the observed sweep shows its visitor about one node.
pub(crate) struct Visit<'a> {
    pub inner: &'a TapeInner,
    pub arena: &'a Arena<'a>,
    pub node: u32,
    pub upstream: &'a [f64],
    /// (input node, what this node's rule added to its adjoint).
    pub sent: &'a [(u32, Vec<f64>)],
}

impl Visit<'_> {
    fn tensor(&self, idx: u32, data: &[f64]) -> Tensor {
        Tensor::from_vec(data.to_vec(), self.inner.shape(idx))
    }

    /// The step as the trace records it.
    pub fn step(&self) -> TraceStep {
        TraceStep {
            node: self.node as usize,
            op: op_label(self.inner, self.node),
            name: self.inner.name(self.node).map(str::to_owned),
            upstream: self.tensor(self.node, self.upstream),
            local: local_derivatives(self.inner, self.arena, self.node),
            sends: self.sent.iter().map(|(i, g)| (*i as usize, self.tensor(*i, g))).collect(),
        }
    }
}

/// The reverse sweep of a scalar output (the crate's one sweep, in
/// `tape::backward`), calling `visit` after each node that needs a gradient
/// has sent its contributions; `visit` can stop the sweep early with `Break`.
///
/// The same backward rules run in the same order; each input's adjoint is
/// set aside and zeroed first, so the rule's contribution can be read on its
/// own, then added to the earlier total.
pub(crate) fn observed_sweep<'t, B>(
    output: Var<'t>,
    visit: impl FnMut(&Visit<'_>) -> ControlFlow<B>,
) -> Result<Gradients<'t>, B> {
    let mut watch = Watch { visit, stopped: None };
    let grads = sweep_observed(output, |g| g.fill(1.0), &mut watch);
    match watch.stopped {
        None => Ok(grads),
        Some(b) => Err(b), // dropping `grads` hands its buffer back
    }
}

/// The observer behind [`observed_sweep`]: isolates each rule's
/// contributions and shows them to `visit`.
struct Watch<F, B> {
    visit: F,
    stopped: Option<B>,
}

impl<F, B> SweepObserver for Watch<F, B>
where
    F: FnMut(&Visit<'_>) -> ControlFlow<B>,
{
    fn visit(
        &mut self,
        i: u32,
        inner: &TapeInner,
        upstream: &[f64],
        below: &mut [f64],
        rule: impl FnOnce(&mut [f64]),
    ) -> ControlFlow<()> {
        // Each input once, in argument order: `x * x` sends both of its
        // contributions into one adjoint, read as one.
        let mut inputs: Vec<u32> = Vec::new();
        for k in input_indices(inner, i) {
            if inner.nodes[k as usize].needs_grad && !inputs.contains(&k) {
                inputs.push(k);
            }
        }
        let earlier: Vec<Vec<f64>> = inputs.iter().map(|&k| below[inner.nodes[k as usize].range()].to_vec()).collect();
        for &k in &inputs {
            below[inner.nodes[k as usize].range()].fill(0.0);
        }
        rule(below);
        let mut sent = Vec::with_capacity(inputs.len());
        for (&k, before) in inputs.iter().zip(&earlier) {
            let slot = &mut below[inner.nodes[k as usize].range()];
            sent.push((k, slot.to_vec()));
            slot.iter_mut().zip(before).for_each(|(g, b)| *g += b);
        }
        let arena = inner.arena();
        match (self.visit)(&Visit { inner, arena: &arena, node: i, upstream, sent: &sent }) {
            ControlFlow::Continue(()) => ControlFlow::Continue(()),
            ControlFlow::Break(b) => {
                self.stopped = Some(b);
                ControlFlow::Break(())
            }
        }
    }
}

/// The local derivative(s) of node `me`'s op, in words and, for elementwise
/// ops, in numbers.
fn local_derivatives(inner: &TapeInner, arena: &Arena<'_>, me: u32) -> Vec<Local> {
    let node = &inner.nodes[me as usize];
    let text = |t: &str| Local { text: t.to_string(), value: None };
    let out_shape = arena.shape(me);
    match node.op {
        Op::Leaf | Op::Constant => vec![],
        Op::Detach => vec![text("0 (detached)")],
        Op::Unary(rule) => {
            let (xs, ys) = (arena.value(node.args[0]), arena.value(me));
            let d: Vec<f64> = xs.iter().zip(ys).map(|(&x, &y)| (rule.local)(x, y, node.param)).collect();
            vec![numeric(rule.local_text.to_string(), rule.local_text, Tensor::from_vec(d, out_shape))]
        }
        Op::Binary(rule) => {
            let [a, b] = node.args;
            let (av, bv, yv) = (arena.value(a), arena.value(b), arena.value(me));
            let (sa, sb) = (arena.shape(a), arena.shape(b));
            let (mut da, mut db) = (vec![0.0; yv.len()], vec![0.0; yv.len()]);
            for_each_broadcast(out_shape, sa, sb, |i, ia, ib| {
                da[i] = (rule.d_a)(av[ia], bv[ib], yv[i]);
                db[i] = (rule.d_b)(av[ia], bv[ib], yv[i]);
            });
            vec![
                numeric(format!("d/da = {}", rule.local_text[0]), rule.local_text[0], Tensor::from_vec(da, out_shape)),
                numeric(format!("d/db = {}", rule.local_text[1]), rule.local_text[1], Tensor::from_vec(db, out_shape)),
            ]
        }
        Op::MatMul => vec![text("dA = dC B^T"), text("dB = A^T dC")],
        Op::Transpose => vec![text("dX = dY^T")],
        Op::Reshape => vec![text("dX = dY reshaped")],
        Op::Sum => vec![text("1 to every element")],
        Op::Mean => {
            let n = arena.nodes[node.args[0] as usize].len;
            vec![text(&format!("1/n = 1/{n} = {} to every element", fmt_num(1.0 / n as f64)))]
        }
        Op::SumAxis { axis, .. } => vec![text(&format!("1, spread back along axis {axis}"))],
        Op::MeanAxis { axis, .. } => {
            let n = arena.shape(node.args[0])[axis as usize];
            vec![text(&format!("1/{n}, spread back along axis {axis}"))]
        }
        Op::LogSoftmax => vec![text("dX = dY - softmax(X) sum(dY)")],
        Op::Pick => vec![text("dY[r] to the picked X[r, idx[r]], 0 elsewhere")],
        Op::Custom(c) => vec![text(&format!("the custom backward of {}", inner.customs[c as usize].op.name()))],
    }
}

/// A local derivative with its values, left out when the formula is
/// already a number (`1`, `-1`): printing `1 = [[1 1 1]]` says nothing.
fn numeric(text: String, formula: &str, value: Tensor) -> Local {
    let value = if formula.parse::<f64>().is_ok() { None } else { Some(value) };
    Local { text, value }
}
