//! The tape: a list of nodes in the order the program computed them (a
//! Wengert list), and the arena their values live in.
//!
//! A node records which op made it, which earlier nodes it read, and where
//! its value lives in the arena. Because a node can only read nodes recorded
//! before it, the list is already in topological order, and `backward` is a
//! single sweep from the last node to the first (see [`backward`](self::Gradients)).
//!
//! Values live in one growable `Vec<f64>` owned by the tape; a node holds a
//! range into it. [`Tape::clear`] forgets the nodes but keeps the capacity,
//! so a training loop that reuses its tape allocates nothing after its first
//! step.
//!
//! The files, by job: `node.rs` (a node and its flags), `inputs.rs`
//! (variables and constants), `record.rs` (the one append path every node
//! takes), `lane.rs` (the 0-d lane recording, the sweep and replay share),
//! `op.rs` (the op interface), `backward.rs` (the reverse sweep),
//! `tangent.rs` (the forward sweep), `grad_graph.rs` (the differentiable
//! backward), `replay.rs` (run a recording again on new inputs).

mod backward;
pub(crate) mod emit_cx;
mod grad_graph;
mod inputs;
mod lane;
mod node;
pub(crate) mod op;
mod record;
pub mod replay;
mod tangent;
mod tangent_error;
mod var;

pub use backward::{BackwardError, Gradients};
pub(crate) use backward::{SweepObserver, sweep_observed};
pub(crate) use emit_cx::{EmitCx, Operand};
pub use grad_graph::{GradGraph, HigherOrderError};
pub(crate) use node::Node;
pub(crate) use op::{BackwardCx, ForwardCx, NodeParams, Op, StaticOp, TangentCx, VarCx, VarGrads};
pub(crate) use record::OutShape;
pub use replay::ReplayMismatch;
pub use tangent::Tangents;
#[cfg(test)]
pub(crate) use tangent::rerun_jvp;
pub use tangent_error::TangentError;
pub use var::Var;

use crate::tensor::{Shape, ShapeError};
use std::cell::RefCell;

/// Everything the tape records. Kept behind one `RefCell` so that `Var`s can
/// be `Copy` handles holding only `&Tape`.
#[derive(Default)]
pub(crate) struct TapeInner {
    /// The steps, in the order they were recorded.
    pub nodes: Vec<Node>,
    /// Every node's value, back to back.
    pub values: Vec<f64>,
    /// Every node's shape, back to back.
    pub dims: Vec<usize>,
    /// Inputs of the nodes that read more than two.
    pub spill: Vec<u32>,
    /// d(node)/d(input k) of the nodes with [`Node::PARTIALS`], which
    /// `Node::aux` indexes: stored when a 0-d elementwise op is recorded,
    /// so that its backward is one multiply-add per input.
    pub partials: Vec<[f64; 2]>,
    /// Total length of the gradient slots handed out so far.
    pub grad_len: usize,
    /// Ops owned by this tape (user ops), which `Node::aux` indexes when `Node::OWNED` is set.
    /// Shared (`Arc`), so the differentiable backward can hold one while it
    /// records new nodes.
    pub owned: Vec<std::sync::Arc<dyn Op>>,
    /// Names given with `Var::named`: (node, range into `name_text`).
    pub names: Vec<(u32, std::ops::Range<usize>)>,
    /// All names' text back to back, so naming allocates nothing in steady state.
    pub name_text: String,
    /// Checked mode (see `crate::inspect::anomaly`): note the first node
    /// whose value is not finite. Off by default.
    pub checked: bool,
    /// The first node recorded in checked mode with a non-finite value.
    pub first_anomaly: Option<u32>,
}

impl TapeInner {
    pub fn shape(&self, idx: u32) -> &[usize] {
        self.nodes[idx as usize].shape_in(&self.dims)
    }

    pub fn value(&self, idx: u32) -> &[f64] {
        &self.values[self.nodes[idx as usize].range()]
    }

    /// The nodes node `idx` read, in argument order.
    #[inline]
    pub fn args(&self, idx: u32) -> &[u32] {
        self.nodes[idx as usize].args_in(&self.spill)
    }

    /// The op of node `idx`.
    #[inline]
    pub fn op(&self, idx: u32) -> &dyn Op {
        self.nodes[idx as usize].op_in(&self.owned)
    }

    /// The op's label with the node's parameters (`powi(3)`).
    pub fn label(&self, idx: u32) -> String {
        self.op(idx).label(self.nodes[idx as usize].params())
    }

    /// What node `idx`'s op saw when it computed its value (read again
    /// after the fact: the trace, replay).
    pub fn forward_cx(&self, idx: u32) -> ForwardCx<'_> {
        ForwardCx::new(&self.nodes, &self.dims, &self.values, self.args(idx), &self.nodes[idx as usize])
    }

    pub fn name(&self, idx: u32) -> Option<&str> {
        // Latest name wins; one look-up scans the names once. Code that
        // wants many nodes' names uses `names_by_node` instead, which is
        // linear where a scan per node would be quadratic.
        self.names.iter().rev().find(|(n, _)| *n == idx).map(|(_, r)| &self.name_text[r.clone()])
    }

    /// Every node's name (`None` for the unnamed), indexed by node, built in
    /// one pass over the names; the latest name given to a node wins.
    pub fn names_by_node(&self) -> Vec<Option<&str>> {
        let mut by_node = vec![None; self.nodes.len()];
        for (n, r) in &self.names {
            by_node[*n as usize] = Some(&self.name_text[r.clone()]);
        }
        by_node
    }
}

/// A recording of a computation, for reverse-mode differentiation.
///
/// ```
/// use tapegrad::{Tape, Tensor};
/// let tape = Tape::new();
/// let x = tape.var(Tensor::from_vec(vec![1.0, 2.0, 3.0], &[3]));
/// let y = (x * x).sum();            // y = sum x_i^2
/// let g = y.backward();
/// assert_eq!(g.wrt(x).data(), &[2.0, 4.0, 6.0]); // dy/dx = 2x
/// ```
#[derive(Default)]
pub struct Tape {
    pub(crate) inner: RefCell<TapeInner>,
    /// The adjoint buffer of the last dropped `Gradients`, kept for reuse.
    pub(crate) spare: RefCell<SpareAdjoints>,
    /// The sweep's "does the output depend on this node" flags, kept for reuse.
    pub(crate) spare_reached: RefCell<Vec<bool>>,
    /// Room for backward rules that need some (broadcasting), kept for reuse.
    pub(crate) spare_scratch: RefCell<Vec<f64>>,
    /// The tangent buffer of the last dropped `Tangents`, kept for reuse.
    pub(crate) spare_tangents: RefCell<Vec<f64>>,
    /// The forward sweep's "carries a tangent" flags, kept for reuse.
    pub(crate) spare_live: RefCell<Vec<bool>>,
}

/// An adjoint buffer kept for the next sweep, and how much of it is known
/// to be zero already, so that sweep re-zeroes only the rest.
#[derive(Default)]
pub(crate) struct SpareAdjoints {
    pub buf: Vec<f64>,
    /// `buf[..clean_below]` is all zeros: a sweep writes only the slots of
    /// the nodes it visits, and the parameters recorded first are often
    /// not reached again (a frozen layer, an unused input).
    pub clean_below: usize,
}

impl Tape {
    /// An empty tape.
    pub fn new() -> Tape {
        Tape::default()
    }

    /// Forgets every node but keeps the arenas' capacity, so the next
    /// recording of the same size allocates nothing. Needs `&mut self`:
    /// the borrow checker proves no `Var` of the old recording survives.
    ///
    /// ```
    /// let mut tape = tapegrad::Tape::new();
    /// for step in 0..3 {
    ///     tape.clear();
    ///     let x = tape.scalar(step as f64);
    ///     assert_eq!((x * x).backward().wrt(x).item(), 2.0 * step as f64);
    /// }
    /// assert_eq!(tape.len(), 2);
    /// ```
    pub fn clear(&mut self) {
        let inner = self.inner.get_mut();
        inner.nodes.clear();
        inner.values.clear();
        inner.dims.clear();
        inner.spill.clear();
        inner.partials.clear();
        inner.grad_len = 0;
        inner.owned.clear();
        inner.names.clear();
        inner.name_text.clear();
        inner.first_anomaly = None;
    }

    /// Number of recorded nodes.
    ///
    /// ```
    /// let tape = tapegrad::Tape::new();
    /// let a = tape.scalar(1.0);
    /// let _ = a.sin();
    /// assert_eq!(tape.len(), 2);
    /// ```
    pub fn len(&self) -> usize {
        self.inner.borrow().nodes.len()
    }

    /// True when nothing is recorded.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Number of `f64` values held in the arena (all nodes' values).
    ///
    /// ```
    /// let tape = tapegrad::Tape::new();
    /// let _ = tape.var(tapegrad::Tensor::zeros(&[2, 3]));
    /// assert_eq!(tape.value_count(), 6);
    /// ```
    pub fn value_count(&self) -> usize {
        self.inner.borrow().values.len()
    }

    /// Bytes of bookkeeping per node, not counting its value: the size of
    /// one node record plus its shape's extents.
    ///
    /// ```
    /// assert!(tapegrad::Tape::node_overhead_bytes(0) <= 48);
    /// ```
    pub fn node_overhead_bytes(ndim: usize) -> usize {
        std::mem::size_of::<Node>() + ndim * std::mem::size_of::<usize>()
    }

    /// The `Var` handle of node `index`, for tools that walk the tape.
    ///
    /// # Panics
    /// If there is no such node.
    ///
    /// ```
    /// let tape = tapegrad::Tape::new();
    /// let a = tape.scalar(4.0);
    /// assert_eq!(tape.node(0).item(), a.item());
    /// ```
    pub fn node(&self, index: usize) -> Var<'_> {
        let n = self.len();
        assert!(index < n, "node: index {index} is past the tape's {n} nodes");
        Var { tape: self, idx: index as u32 }
    }

    /// The recording, mutably. Recording inside a [`Var::with_value`]
    /// closure (which holds the values) is a usage error: say so, rather
    /// than RefCell's bare "already borrowed".
    pub(crate) fn inner_mut(&self, what: &str) -> std::cell::RefMut<'_, TapeInner> {
        self.inner.try_borrow_mut().unwrap_or_else(|_| {
            panic!("{what}: cannot record on the tape while its values are borrowed (inside Var::with_value?)")
        })
    }

    /// The `try_` forms' check that every operand was recorded on `self`:
    /// an error naming the op and the shapes each operand has on its own
    /// tape (read there, so a foreign node index is never looked up here).
    /// Every node is recorded through it too, so no op can mix tapes.
    #[inline]
    pub(crate) fn try_same_tape(&self, op: &'static str, operands: &[Var<'_>]) -> Result<(), ShapeError> {
        match operands.iter().find(|v| !std::ptr::eq(self, v.tape)) {
            None => Ok(()),
            Some(foreign) => Err(foreign_operand(op, operands, *foreign)),
        }
    }
}

/// The error for `foreign`, an operand of `op` recorded on another tape
/// (kept out of line: recording is hot, this is not).
#[cold]
fn foreign_operand(op: &'static str, operands: &[Var<'_>], foreign: Var<'_>) -> ShapeError {
    {
        let shapes: Vec<Shape> = operands.iter().map(|v| v.shape()).collect();
        let refs: Vec<&[usize]> = shapes.iter().map(|s| s.as_slice()).collect();
        let reason = format!(
            "an operand belongs to another tape (node {} of a different Tape); \
             Vars can only be combined with Vars recorded on the same tape",
            foreign.idx
        );
        ShapeError::new(op, &refs, reason)
    }
}

impl Tape {
    /// Calls `f` with the shapes of nodes `a` and `b`, read in place.
    pub(crate) fn with_shapes<R>(&self, a: u32, b: u32, f: impl FnOnce(&[usize], &[usize]) -> R) -> R {
        let inner = self.inner.borrow();
        f(inner.shape(a), inner.shape(b))
    }

    /// Calls `f(k, shape)` for the `count` nodes from `first` on (`k`
    /// counts from 0), in one borrow, stopping at the first error.
    pub(crate) fn try_for_each_shape<E>(
        &self,
        first: usize,
        count: usize,
        mut f: impl FnMut(usize, &[usize]) -> Result<(), E>,
    ) -> Result<(), E> {
        let inner = self.inner.borrow();
        (0..count).try_for_each(|k| f(k, inner.shape((first + k) as u32)))
    }

    /// Shape of node `idx`, copied out (inline, no allocation up to 4-D).
    pub(crate) fn shape_of(&self, idx: u32) -> Shape {
        Shape::from_slice(self.inner.borrow().shape(idx))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A tape moves to another thread with its recording (no `Rc` inside,
    /// user ops held as `Send`).
    #[test]
    fn tape_is_send() {
        fn assert_send<T: Send>() {}
        assert_send::<Tape>();
        assert_send::<TapeInner>();
    }
}
