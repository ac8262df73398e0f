//! The reverse sweep and the gradients it produces.
//!
//! `backward` walks the tape once, from the output back to the first node.
//! Each node hands its adjoint (dOutput/dNode) to its inputs through its
//! op's vector-Jacobian product, which *adds* into the inputs' adjoints, so
//! a Var used several times receives the sum of its contributions. Every
//! node that needs a gradient gets an adjoint, intermediates included;
//! constants (a batch of data, targets) get none, so the adjoint buffer is
//! only as large as the part of the tape that leaf variables flow into.

use super::op::{BackwardCx, ForwardCx};
use super::{Node, Tape, TapeInner, Var, lane};
use crate::tensor::{Shape, Tensor};
use std::fmt;
use std::ops::ControlFlow;

/// Why a backward sweep could not start.
///
/// ```
/// use tapegrad::{Tape, Tensor};
/// let tape = Tape::new();
/// let x = tape.var(Tensor::ones(&[3]));
/// let err = (x * 2.0).try_backward().unwrap_err();
/// assert!(err.to_string().contains("backward_with"));
/// ```
#[derive(Clone, Debug, PartialEq)]
pub enum BackwardError {
    /// `backward()` needs a one-element output; this one has `shape`.
    NotScalar {
        /// The output's node index.
        node: usize,
        /// The output's shape.
        shape: Shape,
    },
    /// The seed given to `backward_with` does not have the output's shape.
    SeedShape {
        /// The output's shape.
        expected: Shape,
        /// The seed's shape.
        got: Shape,
    },
}

impl fmt::Display for BackwardError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BackwardError::NotScalar { node, shape } => write!(
                f,
                "backward: node {node} has shape {:?}, not a single element; reduce it first \
                 (e.g. .sum() or .mean()) or call backward_with(seed) with a seed of that shape",
                shape.as_slice()
            ),
            BackwardError::SeedShape { expected, got } => write!(
                f,
                "backward_with: the seed has shape {:?} but the output has shape {:?}",
                got.as_slice(),
                expected.as_slice()
            ),
        }
    }
}

impl std::error::Error for BackwardError {}

impl<'t> Var<'t> {
    /// Gradients of this one-element output with respect to every node.
    ///
    /// # Panics
    /// If the output has more than one element (see [`Var::try_backward`]).
    ///
    /// ```
    /// let tape = tapegrad::Tape::new();
    /// let x = tape.scalar(2.0);
    /// let y = x.powi(3);
    /// assert_eq!(y.backward().wrt(x).item(), 12.0); // 3 x^2
    /// ```
    pub fn backward(self) -> Gradients<'t> {
        self.try_backward().unwrap_or_else(|e| panic!("{e}"))
    }

    /// Like [`Var::backward`], but a non-scalar output is an error.
    ///
    /// ```
    /// let tape = tapegrad::Tape::new();
    /// assert!(tape.scalar(1.0).exp().try_backward().is_ok());
    /// ```
    pub fn try_backward(self) -> Result<Gradients<'t>, BackwardError> {
        let len = self.len();
        if len != 1 {
            return Err(BackwardError::NotScalar { node: self.index(), shape: self.shape() });
        }
        Ok(sweep(self, |g| g[0] = 1.0))
    }

    /// Vector-Jacobian product: gradients of `sum(seed * self)`, for an
    /// output of any shape.
    ///
    /// # Panics
    /// If `seed` does not have the output's shape.
    ///
    /// ```
    /// use tapegrad::{Tape, Tensor};
    /// let tape = Tape::new();
    /// let x = tape.var(Tensor::from_vec(vec![1.0, 2.0], &[2]));
    /// let g = (x * x).backward_with(&Tensor::from_vec(vec![1.0, 10.0], &[2]));
    /// assert_eq!(g.wrt(x).data(), &[2.0, 40.0]);
    /// ```
    pub fn backward_with(self, seed: &Tensor) -> Gradients<'t> {
        self.try_backward_with(seed).unwrap_or_else(|e| panic!("{e}"))
    }

    /// Like [`Var::backward_with`], but a seed of the wrong shape is an error.
    ///
    /// ```
    /// use tapegrad::{Tape, Tensor};
    /// let tape = Tape::new();
    /// let x = tape.var(Tensor::ones(&[2]));
    /// assert!(x.try_backward_with(&Tensor::ones(&[3])).is_err());
    /// ```
    pub fn try_backward_with(self, seed: &Tensor) -> Result<Gradients<'t>, BackwardError> {
        let shape = self.shape();
        if shape.as_slice() != seed.shape() {
            return Err(BackwardError::SeedShape { expected: shape, got: Shape::from_slice(seed.shape()) });
        }
        Ok(sweep(self, |g| g.copy_from_slice(seed.data())))
    }
}

/// The reverse sweep: seed the output's adjoint, then walk from the output
/// back to the first node; every node the output depends on passes its
/// adjoint to its inputs.
fn sweep<'t>(output: Var<'t>, seed: impl FnOnce(&mut [f64])) -> Gradients<'t> {
    sweep_observed(output, seed, &mut RunRule)
}

/// A watcher of the reverse sweep (the backward trace, checked mode). It
/// runs each node's backward rule itself, so it can look before and after
/// the rule writes into the inputs' adjoints, and it may stop the sweep.
pub(crate) trait SweepObserver {
    /// Node `i` is about to pass `upstream` (its adjoint) on: run `rule`,
    /// which adds its contributions into `below` (the adjoint slots of every
    /// node recorded before it; see [`Node::grad_range`]).
    fn visit(
        &mut self,
        i: u32,
        inner: &TapeInner,
        upstream: &[f64],
        below: &mut [f64],
        rule: impl FnOnce(&mut [f64]),
    ) -> ControlFlow<()>;

    /// False when the observer does not need to see the tape's inputs
    /// (leaves pass nothing on, so the plain sweep skips them).
    const SEES_INPUTS: bool = true;
}

/// The plain sweep's observer: just run the rule (inlined away).
struct RunRule;

impl SweepObserver for RunRule {
    const SEES_INPUTS: bool = false;

    #[inline(always)]
    fn visit(
        &mut self,
        _: u32,
        _: &TapeInner,
        _: &[f64],
        below: &mut [f64],
        rule: impl FnOnce(&mut [f64]),
    ) -> ControlFlow<()> {
        rule(below);
        ControlFlow::Continue(())
    }
}

/// The one reverse sweep, with an observer around each node's rule (the
/// observer keeps its own record of why it stopped, if it did).
pub(crate) fn sweep_observed<'t, O: SweepObserver>(
    output: Var<'t>,
    seed: impl FnOnce(&mut [f64]),
    observer: &mut O,
) -> Gradients<'t> {
    let tape = output.tape;
    let borrowed = tape.inner.borrow();
    let inner: &TapeInner = &borrowed;
    let out = inner.nodes[output.index()];
    let mut adj = zeroed_adjoints(tape, &out);
    let Some(out_range) = out.grad_range() else {
        return Gradients { tape, adj, covered: output.idx + 1, clean_below: 0 }; // a constant output
    };
    seed(&mut adj[out_range]);
    // Only nodes the output depends on pass gradients on. A node off that
    // path has a zero adjoint, but its rule could still turn 0 into NaN
    // (0 * inf from an earlier `sqrt` of 0) and spoil its inputs' gradients.
    let mut reached = tape.spare_reached.take();
    reached.clear();
    reached.resize(output.index() + 1, false);
    reached[output.index()] = true;
    let mut scratch = tape.spare_scratch.take();
    // The lowest adjoint this sweep writes: the seed's, or that of a node
    // it visits (the only ones the rules write to).
    let mut lowest_written = out.grad as usize;
    for i in (0..=output.idx).rev() {
        let node = &inner.nodes[i as usize];
        if !node.needs_grad() || !reached[i as usize] {
            continue; // nothing upstream of it needs a gradient, or the output does not depend on it
        }
        // Its users wrote its slot, and slots are reserved in recording
        // order, so the last node visited holds the lowest written slot.
        lowest_written = node.grad as usize;
        if node.nargs == 0 && !O::SEES_INPUTS {
            continue; // an input: no rule to run
        }
        let args = node.args_in(&inner.spill);
        if node.has_partials() && !O::SEES_INPUTS {
            // The plain sweep takes the 0-d lane with no closure, split or
            // observer around it, marking the inputs reached in the same pass.
            let (nodes, partials, u) = (&inner.nodes, &inner.partials, adj[node.grad as usize]);
            lane::backward(node, args, nodes, partials, u, &mut adj, Some(&mut reached));
            continue;
        }
        args.iter().for_each(|&a| reached[a as usize] = true);
        // Inputs were recorded earlier, so their slots all lie below this
        // node's: split there to read this node's adjoint while writing theirs.
        let (below, this_and_above) = adj.split_at_mut(node.grad as usize);
        let upstream = &this_and_above[..node.len as usize];
        let rule = |grads: &mut [f64]| run_rule(inner, node, args, upstream, grads, &mut scratch);
        if observer.visit(i, inner, upstream, below, rule).is_break() {
            lowest_written = 0; // the rule wrote into inputs the loop will not visit: all dirty
            break;
        }
    }
    drop(borrowed);
    *tape.spare_reached.borrow_mut() = reached;
    *tape.spare_scratch.borrow_mut() = scratch;
    Gradients { tape, adj, covered: output.idx + 1, clean_below: lowest_written }
}

/// Node `node`'s backward rule: its op's vector-Jacobian product, or the
/// 0-d lane's stored partials. Adds into `grads` (every slot below the node's).
#[inline(always)]
fn run_rule(inner: &TapeInner, node: &Node, args: &[u32], up: &[f64], grads: &mut [f64], scratch: &mut Vec<f64>) {
    if node.has_partials() {
        return lane::backward(node, args, &inner.nodes, &inner.partials, up[0], grads, None);
    }
    let fwd = ForwardCx::new(&inner.nodes, &inner.dims, &inner.values, args, node);
    let output = &inner.values[node.range()];
    node.op_in(&inner.owned).backward(&mut BackwardCx { fwd, output, upstream: up, grads, scratch });
}

/// The adjoint buffer for a sweep from `out`: one adjoint per value of a
/// node that needs a gradient, up to `out`'s, all zero. It is the buffer
/// the last dropped `Gradients` gave back, if any; only its part past
/// `clean_below` can hold old adjoints, and only that is zeroed.
#[inline]
fn zeroed_adjoints(tape: &Tape, out: &Node) -> Vec<f64> {
    let super::SpareAdjoints { buf: mut adj, clean_below } = tape.spare.take();
    let n = out.grad_range().map_or(0, |r| r.end);
    adj.truncate(n);
    let dirty_from = clean_below.min(adj.len());
    adj[dirty_from..].fill(0.0);
    adj.resize(n, 0.0);
    adj
}

/// The result of a backward sweep: the adjoint of every node recorded up to
/// the output, i.e. d(output)/d(node). Only nodes a leaf variable flows
/// into hold one; every other node's gradient is zero, and costs nothing.
///
/// Dropping it hands its buffer back to the tape, so the next sweep reuses
/// it instead of allocating.
///
/// ```
/// use tapegrad::{Tape, Tensor};
/// let tape = Tape::new();
/// let x = tape.var(Tensor::from_vec(vec![1.0, -2.0], &[2]));
/// let h = x * 3.0;              // an intermediate
/// let y = h.square().sum();
/// let g = y.backward();
/// assert_eq!(g.wrt(h).data(), &[6.0, -12.0]);  // 2h
/// assert_eq!(g.wrt(x).data(), &[18.0, -36.0]); // 2h * 3
/// ```
pub struct Gradients<'t> {
    pub(crate) tape: &'t Tape,
    /// The adjoint slots (see [`Node::grad_range`]), back to back.
    pub(crate) adj: Vec<f64>,
    /// Nodes `0..covered` have an adjoint.
    pub(crate) covered: u32,
    /// `adj[..clean_below]` is still all zeros (handed on with the buffer).
    pub(crate) clean_below: usize,
}

impl<'t> Gradients<'t> {
    /// The gradient with respect to `v`, shaped like `v`. Zero for nodes the
    /// output does not depend on, constants, and nodes recorded after it.
    ///
    /// # Panics
    /// If `v` belongs to another tape.
    ///
    /// ```
    /// let tape = tapegrad::Tape::new();
    /// let a = tape.scalar(1.0);
    /// let b = tape.scalar(5.0);
    /// let g = (a * 2.0).backward();
    /// assert_eq!((g.wrt(a).item(), g.wrt(b).item()), (2.0, 0.0));
    /// ```
    pub fn wrt(&self, v: Var<'t>) -> Tensor {
        let shape = v.shape();
        match self.slice(v) {
            Some(g) => Tensor::from_vec(g.to_vec(), &shape),
            None => Tensor::zeros(&shape),
        }
    }

    /// Calls `f` with the gradient with respect to `v` as a slice (no copy);
    /// `None` when `v` has no gradient slot: recorded after the output, or a
    /// constant (or built from constants only), whose gradient is zero.
    ///
    /// ```
    /// let tape = tapegrad::Tape::new();
    /// let a = tape.var(tapegrad::Tensor::ones(&[2]));
    /// let g = (a * 3.0).sum().backward();
    /// assert_eq!(g.with_grad(a, |d| d.unwrap().to_vec()), vec![3.0, 3.0]);
    /// ```
    pub fn with_grad<R>(&self, v: Var<'t>, f: impl FnOnce(Option<&[f64]>) -> R) -> R {
        f(self.slice(v))
    }

    /// Calls `f(k, grad)` for the `count` nodes from `first` on (`k`
    /// counts from 0), with each gradient as a slice, `None` where a node
    /// has no adjoint: [`Gradients::with_grad`] over a run of nodes, in one
    /// borrow of the tape. Stepping a model's parameters reads them so at
    /// every training step.
    pub(crate) fn for_each_in(&self, first: usize, count: usize, mut f: impl FnMut(usize, Option<&[f64]>)) {
        let inner = self.tape.inner.borrow();
        for k in 0..count {
            f(k, self.slot(&inner.nodes, first + k));
        }
    }

    fn slice(&self, v: Var<'t>) -> Option<&[f64]> {
        assert!(std::ptr::eq(self.tape, v.tape), "wrt: node {} belongs to another tape than these gradients", v.idx);
        self.slot(&self.tape.inner.borrow().nodes, v.index())
    }

    /// The adjoint of node `i` of `nodes` (the tape's), if the sweep gave it
    /// one: nodes recorded after the output have none.
    fn slot(&self, nodes: &[Node], i: usize) -> Option<&[f64]> {
        if i >= self.covered as usize {
            return None;
        }
        self.of_node(&nodes[i])
    }

    /// The adjoint of node `i` as a slice, if it has one.
    pub(crate) fn of_node(&self, node: &Node) -> Option<&[f64]> {
        self.adj.get(node.grad_range()?)
    }

    /// Number of `f64` adjoints held: one per value of every node that
    /// needs a gradient, up to the output. Constants cost none, however
    /// large.
    ///
    /// ```
    /// use tapegrad::{Tape, Tensor};
    /// let tape = Tape::new();
    /// let data = tape.constant(Tensor::ones(&[1000]));
    /// let w = tape.scalar(2.0);
    /// let g = (data.sum() * w).backward();
    /// assert_eq!(g.adjoint_len(), 2); // w and the product; none for the 1000 data values or their sum
    /// ```
    pub fn adjoint_len(&self) -> usize {
        self.adj.len()
    }

    /// The tape these gradients were computed on.
    pub fn tape(&self) -> &'t Tape {
        self.tape
    }

    /// Number of nodes that have an adjoint (the output and everything
    /// recorded before it).
    ///
    /// ```
    /// let tape = tapegrad::Tape::new();
    /// let a = tape.scalar(1.0);
    /// let g = a.sin().backward();
    /// let _later = a.cos();
    /// assert_eq!(g.len(), 2);
    /// ```
    pub fn len(&self) -> usize {
        self.covered as usize
    }

    /// True when no node has an adjoint (never, in practice).
    pub fn is_empty(&self) -> bool {
        self.covered == 0
    }
}

impl Drop for Gradients<'_> {
    fn drop(&mut self) {
        let mut spare = self.tape.spare.borrow_mut();
        if self.adj.capacity() > spare.buf.capacity() {
            spare.buf = std::mem::take(&mut self.adj);
            spare.clean_below = self.clean_below;
        }
    }
}

impl fmt::Debug for Gradients<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Gradients({} nodes, {} values)", self.covered, self.adj.len())
    }
}
