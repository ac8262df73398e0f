//! Replay: record a program once, then run the same tape again on new
//! input values, without recording anew (ADOL-C's taping model, echidna's
//! bytecode tape).
//!
//! A recording fixes the program: which ops ran, on which nodes, with which
//! shapes. [`Tape::set`] writes new values into inputs (parameters, data,
//! targets) by their handles; [`Tape::replay`] recomputes every other
//! node's value in recording order, each through its op's forward (or its
//! scalar rule, for nodes of the 0-d lane, whose stored local partials are
//! refreshed too), into the slots the recording gave it. Then the usual
//! `backward` sweeps the tape. A replay allocates nothing, checks no shape
//! and borrows the tape once.
//!
//! **Shapes and control flow are fixed at recording.** A replay repeats the
//! ops the recording ran; it cannot take the other branch of an `if` on a
//! value, stop a loop earlier, or pick other indices. A program whose
//! control flow depends on values must be recorded again whenever that flow
//! may change. [`Tape::replay_checked`] catches a replay that no longer
//! matches its program, by recording the program again and comparing.
//!
//! ```
//! use tapegrad::{Tape, Tensor};
//! let tape = Tape::new();
//! let w = tape.var(Tensor::from_vec(vec![1.0, 2.0], &[2]));
//! let x = tape.constant(Tensor::from_vec(vec![3.0, 4.0], &[2]));
//! let loss = (w * x).sum().square(); // (w . x)^2 = 11^2
//! assert_eq!(loss.item(), 121.0);
//!
//! tape.set(x, &[1.0, -1.0]); // a new sample: w . x = -1
//! tape.replay();
//! assert_eq!(loss.item(), 1.0);
//! let g = loss.backward(); // d/dw = 2 (w . x) x
//! assert_eq!(g.wrt(w).data(), &[-2.0, 2.0]);
//! ```

use super::op::ForwardCx;
use super::{Tape, TapeInner, Var, lane};
use crate::tensor::{Shape, ShapeError};
use std::fmt;

impl Tape {
    /// Writes `data` into the input `var` (a [`Tape::var`], a
    /// [`Tape::constant`], a parameter), for the next [`Tape::replay`].
    /// Every other input keeps its value.
    ///
    /// # Panics
    /// As [`Tape::try_set`] errs.
    ///
    /// ```
    /// let tape = tapegrad::Tape::new();
    /// let a = tape.scalar(2.0);
    /// let y = a * a;
    /// tape.set(a, &[5.0]);
    /// assert_eq!((a.item(), y.item()), (5.0, 4.0)); // y waits for the replay
    /// tape.replay();
    /// assert_eq!(y.item(), 25.0);
    /// ```
    pub fn set(&self, var: Var<'_>, data: &[f64]) {
        self.try_set(var, data).unwrap_or_else(|e| panic!("{e}"))
    }

    /// Like [`Tape::set`], but an error, naming the input's shape, when
    /// `data` does not have the input's number of elements, when `var` is
    /// not an input (a computed node: the replay computes it), or when it
    /// belongs to another tape; and, for the indices of `pick`,
    /// `index_select` and `gather`, an error naming the op when an index
    /// is not a whole number in range (NaN, -1, 1.5, past the axis). A
    /// refused value is not written.
    ///
    /// ```
    /// use tapegrad::{Tape, Tensor};
    /// let tape = Tape::new();
    /// let x = tape.constant(Tensor::zeros(&[2, 3]));
    /// let e = tape.try_set(x, &[1.0, 2.0]).unwrap_err();
    /// assert_eq!(e.to_string(), "set: shape [2, 3]: 2 values for an input of 6 elements");
    /// let e = tape.try_set(x.exp(), &[0.0; 6]).unwrap_err();
    /// assert!(e.to_string().contains("node 1 is computed by `exp`, not an input"));
    ///
    /// let _y = x.pick(&[0, 2]); // its indices: a constant, node 2
    /// let e = tape.try_set(tape.node(2), &[0.0, 3.0]).unwrap_err();
    /// assert!(e.to_string().ends_with("input 1 of `pick` (node 3): element 1 is 3.0, not an index in 0..3"));
    /// ```
    pub fn try_set(&self, var: Var<'_>, data: &[f64]) -> Result<(), ShapeError> {
        self.try_same_tape("set", &[var])?;
        let mut inner = self.inner_mut("set");
        set_in(&mut inner, var.idx, data, None)
    }

    /// Recomputes every node's value from the inputs' current values, in
    /// recording order, through the same op rules the recording ran, into
    /// the same slots (see the [module docs](self)). Inputs keep their
    /// values unless [`Tape::set`]. Bit for bit what a fresh recording of
    /// the same program on the same inputs computes.
    ///
    /// Shapes and control flow are those of the recording: a program whose
    /// branches depend on values must be recorded again, not replayed
    /// ([`Tape::replay_checked`] catches the difference). In checked mode
    /// the first non-finite value is looked for again, among all nodes.
    ///
    /// ```
    /// let tape = tapegrad::Tape::new();
    /// let x = tape.scalar(0.0);
    /// let y = x.sin() * 2.0;
    /// for k in 1..4 {
    ///     tape.set(x, &[k as f64]);
    ///     tape.replay();
    ///     assert_eq!(y.item(), (k as f64).sin() * 2.0);
    ///     assert_eq!(y.backward().wrt(x).item(), (k as f64).cos() * 2.0);
    /// }
    /// ```
    pub fn replay(&self) {
        replay_in(&mut self.inner_mut("replay"));
    }

    /// Writes several inputs and replays, under one borrow of the tape (the
    /// training helpers' path): `(node, values, shape)`, where a shape, when
    /// given, must be the node's too (a parameter replaced by one of the
    /// same size but another shape is refused).
    pub(crate) fn set_all_and_replay<'d>(
        &self,
        inputs: impl IntoIterator<Item = (u32, &'d [f64], Option<&'d [usize]>)>,
    ) -> Result<(), ShapeError> {
        let mut inner = self.inner_mut("replay");
        for (idx, data, shape) in inputs {
            set_in(&mut inner, idx, data, shape)?;
        }
        replay_in(&mut inner);
        Ok(())
    }

    /// [`Tape::replay`], then a check that the replay still is the
    /// program: `build` records the program again on a scratch tape, from
    /// the current inputs, and every node is compared with the replayed
    /// tape's: the op and its parameters, the inputs, the shape and the
    /// value, bit for bit. The first difference is the error (boxed: it is
    /// large, and rare): the program took another branch (its control flow
    /// depends on values: record it again), or an input was not
    /// [`Tape::set`].
    ///
    /// A debugging aid (it records the whole program once more); tests run
    /// it, training loops run [`Tape::replay`].
    ///
    /// ```
    /// use tapegrad::Tape;
    /// // relu written with an `if` on a value: a branch the tape cannot replay
    /// fn program(tape: &Tape, x0: f64) {
    ///     let x = tape.scalar(x0);
    ///     let _y = if x.item() > 0.0 { x * 1.0 } else { x * 0.0 };
    /// }
    /// let tape = Tape::new();
    /// program(&tape, 2.0);
    /// let x = tape.node(0);
    ///
    /// tape.set(x, &[3.0]); // same branch: the replay is the program
    /// assert!(tape.replay_checked(|t| program(t, 3.0)).is_ok());
    ///
    /// tape.set(x, &[-1.0]); // the other branch: caught
    /// let e = tape.replay_checked(|t| program(t, -1.0)).unwrap_err();
    /// assert_eq!(e.node, 1);
    /// assert!(e.to_string().starts_with("replay check: node 1: the replay ran `mul_scalar(1)` [] but the program now records `mul_scalar(0)` []"));
    /// ```
    pub fn replay_checked(&self, build: impl FnOnce(&Tape)) -> Result<(), Box<ReplayMismatch>> {
        self.replay();
        let scratch = Tape::new();
        build(&scratch);
        let (replayed, recorded) = (self.inner.borrow(), scratch.inner.borrow());
        first_difference(&replayed, &recorded).map_or(Ok(()), |m| Err(Box::new(m)))
    }
}

/// Writes `data` into input node `idx`, after checking it fits (and has
/// `shape`, when one is given).
fn set_in(inner: &mut TapeInner, idx: u32, data: &[f64], shape: Option<&[usize]>) -> Result<(), ShapeError> {
    let node = inner.nodes[idx as usize];
    if !node.is_input() {
        let shape = node.shape_in(&inner.dims);
        let reason = format!(
            "node {idx} is computed by `{}`, not an input (a var or a constant): a replay computes it from its inputs",
            inner.label(idx)
        );
        return Err(ShapeError::new("set", &[shape], reason));
    }
    if data.len() != node.len as usize {
        let reason = format!("{} values for an input of {} elements", data.len(), node.len);
        return Err(ShapeError::new("set", &[node.shape_in(&inner.dims)], reason));
    }
    if let Some(shape) = shape.filter(|&s| s != node.shape_in(&inner.dims)) {
        let reason = format!("node {idx} was recorded with this shape, the new value has shape {shape:?}");
        return Err(ShapeError::new("set", &[node.shape_in(&inner.dims)], reason));
    }
    if node.is_guarded() {
        check_readers(inner, idx, data)?;
    }
    inner.values[node.range()].copy_from_slice(data);
    Ok(())
}

/// Asks every op reading the guarded input `idx` to check `data` as its
/// new value ([`Op::check_input`](super::Op::check_input)); the first refusal is the error, naming
/// the op, its node and the shapes of what it reads.
fn check_readers(inner: &TapeInner, idx: u32, data: &[f64]) -> Result<(), ShapeError> {
    for j in idx + 1..inner.nodes.len() as u32 {
        let cx = inner.forward_cx(j);
        for k in (0..cx.arity()).filter(|&k| inner.args(j)[k] == idx) {
            if let Err(reason) = inner.op(j).check_input(&cx, k, data) {
                let shapes: Vec<&[usize]> = (0..cx.arity()).map(|a| cx.shape(a)).collect();
                let reason = format!("node {idx} is input {k} of `{}` (node {j}): {reason}", inner.label(j));
                return Err(ShapeError::new("set", &shapes, reason));
            }
        }
    }
    Ok(())
}

impl Tape {
    /// Marks input `v` as read by position: a [`Tape::set`] of it is
    /// checked by every op that reads it ([`Op::check_input`](super::Op::check_input)) before it is
    /// written. Ops that read indices call it when they record.
    pub(crate) fn guard(&self, v: Var<'_>) {
        self.inner_mut("guard").nodes[v.idx as usize].flags |= super::Node::GUARDED;
    }
}

/// The replay loop: every computed node's value again, in recording order.
fn replay_in(inner: &mut TapeInner) {
    let TapeInner { nodes, values, dims, spill, partials, owned, checked, first_anomaly, .. } = inner;
    for node in nodes.iter().filter(|n| !n.is_input()) {
        let op = node.op_in(owned);
        if node.has_partials() {
            lane::replay(op, node, nodes, values, partials);
        } else {
            // As at recording: the op reads only the values below its
            // slot, and writes into a zeroed slot.
            let (before, rest) = values.split_at_mut(node.start as usize);
            let out = &mut rest[..node.len as usize];
            out.fill(0.0);
            op.forward(&ForwardCx::new(nodes, dims, before, node.args_in(spill), node), out);
        }
    }
    // Checked mode: the first non-finite value, looked for again after the
    // loop (the first by index is the first the replay made), so the loop
    // itself pays nothing for the mode.
    if *checked {
        let bad = nodes.iter().position(|n| values[n.range()].iter().any(|v| !v.is_finite()));
        *first_anomaly = bad.map(|i| i as u32);
    }
}

/// The first node where `replayed` and `recorded` differ, if any.
fn first_difference(replayed: &TapeInner, recorded: &TapeInner) -> Option<ReplayMismatch> {
    let (n, m) = (replayed.nodes.len(), recorded.nodes.len());
    for i in 0..n.min(m) as u32 {
        let (a, b) = (&replayed.nodes[i as usize], &recorded.nodes[i as usize]);
        let reason = if replayed.op(i).name() != recorded.op(i).name() || a.params() != b.params() {
            "another op".to_string()
        } else if replayed.args(i) != recorded.args(i) {
            format!("other inputs: nodes {:?}, not {:?}", recorded.args(i), replayed.args(i))
        } else if replayed.shape(i) != recorded.shape(i) {
            "another shape".to_string()
        } else if let Some(k) = differing_element(replayed.value(i), recorded.value(i)) {
            let (x, y) = (replayed.value(i)[k], recorded.value(i)[k]);
            let hint = if a.is_input() { " (an input not set before the replay?)" } else { "" };
            format!("element {k} of its value is {y:?} in the program but {x:?} in the replay{hint}")
        } else {
            continue;
        };
        return Some(ReplayMismatch::at(i, replayed, recorded, reason));
    }
    (n != m).then(|| {
        let reason = format!("the replay has {n} nodes, the program records {m}");
        ReplayMismatch::at(n.min(m) as u32, replayed, recorded, reason)
    })
}

/// The first element where two values differ bit for bit (NaN equals NaN
/// only with the same bits; 0.0 and -0.0 differ).
fn differing_element(a: &[f64], b: &[f64]) -> Option<usize> {
    a.iter().zip(b).position(|(x, y)| x.to_bits() != y.to_bits())
}

/// What [`Tape::replay_checked`] found: the first node where the replayed
/// tape and a fresh recording of the program differ.
///
/// ```
/// use tapegrad::Tape;
/// let tape = Tape::new();
/// let x = tape.scalar(1.0);
/// let _ = x.exp();
/// // The program now ends in `sin`: node 1 differs.
/// let e = tape.replay_checked(|t| { let _ = t.scalar(1.0).sin(); }).unwrap_err();
/// assert_eq!((e.node, e.replayed.as_str(), e.recorded.as_str()), (1, "exp", "sin"));
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct ReplayMismatch {
    /// The node's index.
    pub node: usize,
    /// Its op's label on the replayed tape (`"(none)"` past its end).
    pub replayed: String,
    /// Its op's label in the fresh recording (`"(none)"` past its end).
    pub recorded: String,
    /// Its shape on the replayed tape.
    pub replayed_shape: Shape,
    /// Its shape in the fresh recording.
    pub recorded_shape: Shape,
    /// What differs, in words.
    pub reason: String,
}

impl ReplayMismatch {
    fn at(i: u32, replayed: &TapeInner, recorded: &TapeInner, reason: String) -> ReplayMismatch {
        let label = |t: &TapeInner| if (i as usize) < t.nodes.len() { t.label(i) } else { "(none)".to_string() };
        let shape = |t: &TapeInner| {
            if (i as usize) < t.nodes.len() { Shape::from_slice(t.shape(i)) } else { Shape::new() }
        };
        ReplayMismatch {
            node: i as usize,
            replayed: label(replayed),
            recorded: label(recorded),
            replayed_shape: shape(replayed),
            recorded_shape: shape(recorded),
            reason,
        }
    }
}

impl fmt::Display for ReplayMismatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "replay check: node {}: the replay ran `{}` {:?} but the program now records `{}` {:?}: {}; \
             a program whose control flow depends on values must be recorded again, not replayed",
            self.node,
            self.replayed,
            self.replayed_shape.as_slice(),
            self.recorded,
            self.recorded_shape.as_slice(),
            self.reason
        )
    }
}

impl std::error::Error for ReplayMismatch {}
