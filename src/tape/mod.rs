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

mod backward;
pub(crate) mod emit_cx;
mod grad_graph;
pub(crate) mod op;
pub mod replay;
mod tangent;
mod tangent_error;
mod var;

pub use backward::{BackwardError, Gradients};
pub(crate) use backward::{SweepObserver, sweep_observed};
pub(crate) use emit_cx::{EmitCx, Operand};
pub use grad_graph::{GradGraph, HigherOrderError};
pub(crate) use op::{BackwardCx, ForwardCx, NodeParams, Op, OpRef, StaticOp, TangentCx, VarCx, VarGrads};
pub use replay::ReplayMismatch;
pub use tangent::Tangents;
pub use tangent_error::TangentError;
pub use var::Var;

use crate::tensor::{Shape, ShapeError, Tensor, broadcast_shape, checked_numel, numel, same_shape, strip_leading_ones};
use std::borrow::Borrow;
use std::cell::RefCell;

/// One recorded step: a handle to the op, its parameters, the nodes it
/// read, and where its value, gradient and shape live in the tape's
/// arenas. 48 bytes.
#[derive(Clone, Copy)]
pub(crate) struct Node {
    /// The op that produced this node ([`op::Leaf`] and [`op::Constant`]
    /// for inputs; [`op::Owned`] for an op the tape owns, see `owned`).
    pub op: OpRef,
    /// A scalar the op is parameterised by (the `c` of `x + c`, the `p` of `x^p`).
    pub param: f64,
    /// The input nodes, when there are at most two; else `args[0]` is where
    /// they start in `TapeInner::spill`.
    pub args: [u32; 2],
    /// First element of the value in `TapeInner::values`.
    pub start: u32,
    /// Number of elements of the value.
    pub len: u32,
    /// First element of the gradient in the adjoint buffer, or
    /// [`Node::NO_GRAD`]. Only nodes some leaf variable flows into get one,
    /// in recording order, so inputs' slots lie below their users'.
    pub grad: u32,
    /// First extent of the shape in `TapeInner::dims`.
    pub dims: u32,
    /// Where the node's extra data sits, by its flags: with [`Node::OWNED`]
    /// its op, in `TapeInner::owned`; with [`Node::PARTIALS`] its local
    /// partials, in `TapeInner::partials`; else 0, unused.
    pub aux: u32,
    /// Number of dimensions.
    pub ndim: u8,
    /// Number of inputs.
    pub nargs: u8,
    /// The axis an op works along (reductions).
    pub axis: u8,
    /// [`Node::KEEPDIM`], [`Node::PARTIALS`], [`Node::OWNED`], [`Node::GUARDED`].
    pub flags: u8,
}

impl Node {
    /// `grad` of a node that needs no gradient: constants and everything
    /// computed from constants only.
    pub const NO_GRAD: u32 = u32::MAX;

    /// Flag: the node's op is owned by the tape (a user op; `op` is
    /// [`op::Owned`] and `aux` indexes `TapeInner::owned`).
    pub const OWNED: u8 = 4;

    /// Flag: an input some op reads as positions (indices): [`Tape::set`]
    /// asks every op reading it to check a new value ([`Op::check_input`]).
    pub const GUARDED: u8 = 8;

    /// Flag: a reduced axis stays with extent 1 (reductions).
    pub const KEEPDIM: u8 = 1;

    /// Flag: the node came through the 0-d lane and its local partials sit
    /// in `TapeInner::partials` at `aux` (see [`Op::scalar`]).
    pub const PARTIALS: u8 = 2;

    /// True when the sweep reads this node's stored partials instead of
    /// calling its op's backward.
    #[inline]
    pub fn has_partials(&self) -> bool {
        self.flags & Node::PARTIALS != 0
    }

    pub fn range(&self) -> std::ops::Range<usize> {
        self.start as usize..(self.start + self.len) as usize
    }

    /// The node's slot in the adjoint buffer, if it needs a gradient.
    #[inline]
    pub fn grad_range(&self) -> Option<std::ops::Range<usize>> {
        (self.grad != Node::NO_GRAD).then(|| self.grad as usize..self.grad as usize + self.len as usize)
    }

    pub fn needs_grad(&self) -> bool {
        self.grad != Node::NO_GRAD
    }

    pub fn shape_in<'d>(&self, dims: &'d [usize]) -> &'d [usize] {
        &dims[self.dims as usize..self.dims as usize + self.ndim as usize]
    }

    pub fn params(&self) -> NodeParams {
        NodeParams { p: self.param, axis: self.axis, keepdim: self.flags & Node::KEEPDIM != 0 }
    }
}

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
        args_of(&self.nodes[idx as usize], &self.spill)
    }

    /// The op of node `idx`.
    #[inline]
    pub fn op(&self, idx: u32) -> &dyn Op {
        op_of(&self.nodes[idx as usize], &self.owned)
    }

    /// The op's label with the node's parameters (`powi(3)`).
    pub fn label(&self, idx: u32) -> String {
        self.op(idx).label(self.nodes[idx as usize].params())
    }

    /// What node `idx`'s op saw when it computed its value (read again
    /// after the fact: the trace, replay).
    pub fn forward_cx(&self, idx: u32) -> ForwardCx<'_> {
        let node = &self.nodes[idx as usize];
        ForwardCx { nodes: &self.nodes, dims: &self.dims, values: &self.values, args: self.args(idx), me: node }
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

#[inline]
fn args_of<'a>(node: &'a Node, spill: &'a [u32]) -> &'a [u32] {
    let n = node.nargs as usize;
    if n <= 2 { &node.args[..n] } else { &spill[node.args[0] as usize..][..n] }
}

#[inline]
fn op_of<'a>(node: &Node, owned: &'a [std::sync::Arc<dyn Op>]) -> &'a dyn Op {
    if node.flags & Node::OWNED == 0 { *node.op.0 } else { &*owned[node.aux as usize] }
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
    ///
    /// ```
    /// assert!(tapegrad::Tape::new().is_empty());
    /// ```
    pub fn new() -> Tape {
        Tape::default()
    }

    /// Records a leaf variable: an input that gets a gradient.
    /// Takes a `Tensor` or a `&Tensor` (copied into the tape's arena).
    ///
    /// ```
    /// use tapegrad::{Tape, Tensor};
    /// let tape = Tape::new();
    /// let w = tape.var(Tensor::ones(&[2, 2]));
    /// assert_eq!(w.shape().as_slice(), &[2, 2]);
    /// ```
    pub fn var(&self, value: impl Borrow<Tensor>) -> Var<'_> {
        let t = value.borrow();
        self.input::<op::Leaf>(t.shape(), t.data(), true)
    }

    /// Records a constant: an input with no gradient (data, targets).
    ///
    /// ```
    /// use tapegrad::{Tape, Tensor};
    /// let tape = Tape::new();
    /// let x = tape.var(Tensor::scalar(3.0));
    /// let c = tape.constant(Tensor::scalar(2.0));
    /// let g = (x * c).backward();
    /// assert_eq!((g.wrt(x).item(), g.wrt(c).item()), (2.0, 0.0));
    /// ```
    pub fn constant(&self, value: impl Borrow<Tensor>) -> Var<'_> {
        let t = value.borrow();
        self.input::<op::Constant>(t.shape(), t.data(), false)
    }

    /// Records a scalar leaf variable, micrograd style.
    ///
    /// ```
    /// let tape = tapegrad::Tape::new();
    /// let a = tape.scalar(3.0);
    /// assert_eq!((a * a).backward().wrt(a).item(), 6.0);
    /// ```
    pub fn scalar(&self, value: f64) -> Var<'_> {
        self.input::<op::Leaf>(&[], &[value], true)
    }

    /// Records a leaf variable from a slice and a shape, without building a
    /// `Tensor` first.
    ///
    /// # Panics
    /// If `data.len()` does not fit `shape` (see [`Tape::try_var_from_slice`]).
    ///
    /// ```
    /// let tape = tapegrad::Tape::new();
    /// let x = tape.var_from_slice(&[1.0, 2.0], &[2, 1]);
    /// assert_eq!(x.value().shape(), &[2, 1]);
    /// ```
    pub fn var_from_slice(&self, data: &[f64], shape: &[usize]) -> Var<'_> {
        self.try_var_from_slice(data, shape).unwrap_or_else(|e| panic!("{e}"))
    }

    /// Like [`Tape::var_from_slice`], but a length that does not fit the
    /// shape (or a shape whose element count overflows) is an error.
    ///
    /// ```
    /// let tape = tapegrad::Tape::new();
    /// let e = tape.try_var_from_slice(&[1.0], &[2]).unwrap_err();
    /// assert_eq!(e.to_string(), "var_from_slice: shape [2]: 1 values cannot fill 2 elements");
    /// ```
    pub fn try_var_from_slice(&self, data: &[f64], shape: &[usize]) -> Result<Var<'_>, ShapeError> {
        check_fill("var_from_slice", data, shape)?;
        Ok(self.input::<op::Leaf>(shape, data, true))
    }

    /// Records a constant from a slice and a shape.
    ///
    /// # Panics
    /// If `data.len()` does not fit `shape` (see [`Tape::try_constant_from_slice`]).
    ///
    /// ```
    /// let tape = tapegrad::Tape::new();
    /// let t = tape.constant_from_slice(&[0.5], &[1, 1]);
    /// assert_eq!(t.item(), 0.5);
    /// ```
    pub fn constant_from_slice(&self, data: &[f64], shape: &[usize]) -> Var<'_> {
        self.try_constant_from_slice(data, shape).unwrap_or_else(|e| panic!("{e}"))
    }

    /// Like [`Tape::constant_from_slice`], but a length that does not fit the
    /// shape (or a shape whose element count overflows) is an error.
    ///
    /// ```
    /// let tape = tapegrad::Tape::new();
    /// assert!(tape.try_constant_from_slice(&[], &[1 << 32, 1 << 32]).is_err());
    /// ```
    pub fn try_constant_from_slice(&self, data: &[f64], shape: &[usize]) -> Result<Var<'_>, ShapeError> {
        check_fill("constant_from_slice", data, shape)?;
        Ok(self.input::<op::Constant>(shape, data, false))
    }

    /// Records an input: its value copied in, a gradient slot if it is a
    /// leaf variable.
    ///
    /// Its own short path rather than [`Tape::record`]'s: an input has no
    /// operands to check or read, and every caller has already made sure
    /// `data` fills `shape` (a `Tensor` does by construction, the
    /// `_from_slice` forms check it), so the element count is `data.len()`.
    /// Training loops record every parameter and sample this way each step.
    #[inline]
    fn input<O: StaticOp>(&self, shape: &[usize], data: &[f64], leaf: bool) -> Var<'_> {
        debug_assert_eq!(Some(data.len()), crate::tensor::try_numel(shape));
        let name = O::THIS.name();
        assert!(
            shape.len() <= u8::MAX as usize,
            "{name}: shape of {} dimensions: more than 255 dimensions",
            shape.len()
        );
        let mut inner = self.inner_mut(name);
        let (len, start, idx, dims) = (data.len(), inner.values.len(), inner.nodes.len(), inner.dims.len());
        let grad = reserve_slot(&mut inner, name, start, len, dims, leaf && O::THIS.passes_gradient());
        inner.nodes.push(Node {
            op: O::REF,
            param: 0.0,
            args: [0; 2],
            start: start as u32,
            len: len as u32,
            grad,
            dims: dims as u32,
            aux: 0,
            ndim: shape.len() as u8,
            nargs: 0,
            axis: 0,
            flags: 0,
        });
        inner.dims.extend_from_slice(shape);
        if let [x] = data {
            inner.values.push(*x); // one value: skip `memcpy`'s call
        } else {
            inner.values.extend_from_slice(data);
        }
        // Checked mode costs this one bool test when it is off.
        if inner.checked && inner.first_anomaly.is_none() && data.iter().any(|v| !v.is_finite()) {
            inner.first_anomaly = Some(idx as u32);
        }
        Var { tape: self, idx: idx as u32 }
    }

    /// Records a constant of `shape` written straight into the arena by
    /// `fill` (which gets a zeroed slot), with no tensor built first.
    pub(crate) fn constant_with(&self, shape: &[usize], mut fill: impl FnMut(&mut [f64])) -> Var<'_> {
        let source = Source::Fill(&mut fill);
        self.record::<op::Constant>(None, NodeParams::default(), &[], OutShape::Given(shape), source, false)
            .unwrap_or_else(|e| unreachable!("{e}"))
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
    ///
    /// ```
    /// assert!(tapegrad::Tape::new().is_empty());
    /// ```
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

    /// Appends a node of op `O`: checks its inputs, reserves its value
    /// (shaped by `shape`) in the arena, lets `O`'s forward compute it, and
    /// returns its handle. The one entry every built-in op records through.
    #[inline]
    pub(crate) fn push<'t, O: StaticOp>(
        &'t self,
        params: NodeParams,
        args: &[Var<'t>],
        shape: OutShape<'_>,
    ) -> Var<'t> {
        // The only error left here is an operand from another tape: the
        // op's `try_` form has checked the shapes.
        self.try_same_tape(O::THIS.name(), args).unwrap_or_else(|e| panic!("{e}"));
        self.push_same_tape::<O>(params, args, shape)
    }

    /// [`Tape::push`] for an op whose `try_` form has already checked that
    /// every operand is on this tape (it had to, to read their shapes), so
    /// the check is not paid twice.
    #[inline]
    pub(crate) fn push_same_tape<'t, O: StaticOp>(
        &'t self,
        params: NodeParams,
        args: &[Var<'t>],
        shape: OutShape<'_>,
    ) -> Var<'t> {
        debug_assert!(self.try_same_tape(O::THIS.name(), args).is_ok());
        let mut inner = self.inner_mut(O::THIS.name());
        if let (OutShape::Like(0), [x]) = (shape, args)
            && let Some(v) = self.push_scalar::<O, 1>(&mut inner, params.p, [*x])
        {
            return v;
        }
        self.record_in::<O>(&mut inner, None, params, args, shape, Source::Forward, false)
            .unwrap_or_else(|e| panic!("{e}"))
    }

    /// [`Tape::push`] for an elementwise op of two inputs with NumPy
    /// broadcasting: the shape check and the output's shape happen under
    /// the same borrow as the recording.
    #[inline]
    pub(crate) fn push_broadcast<'t, O: StaticOp>(
        &'t self,
        params: NodeParams,
        a: Var<'t>,
        b: Var<'t>,
    ) -> Result<Var<'t>, ShapeError> {
        self.try_same_tape(O::THIS.name(), &[a, b])?;
        let mut inner = self.inner_mut(O::THIS.name());
        if let Some(v) = self.push_scalar::<O, 2>(&mut inner, params.p, [a, b]) {
            return Ok(v);
        }
        self.record_in::<O>(&mut inner, None, params, &[a, b], OutShape::Broadcast, Source::Forward, false)
    }

    /// The 0-d lane of [`Tape::push`]: when every input is a 0-d scalar and
    /// the op has a scalar rule ([`Op::scalar`], every elementwise op), the
    /// node is appended with its value and its local partials, with no
    /// shape work and no context. `None` sends the caller down the general
    /// path (other shapes, ops without a scalar rule).
    #[inline(always)]
    fn push_scalar<'t, O: StaticOp, const N: usize>(
        &'t self,
        inner: &mut TapeInner,
        p: f64,
        args: [Var<'t>; N],
    ) -> Option<Var<'t>> {
        let mut xs = [0.0; 2];
        let mut needs_grad = false;
        for (x, a) in xs.iter_mut().zip(&args) {
            let n = &inner.nodes[a.idx as usize];
            if n.ndim != 0 {
                return None;
            }
            *x = inner.values[n.start as usize];
            needs_grad |= n.needs_grad();
        }
        let (y, partials) = O::THIS.scalar(xs, p)?;
        let (start, idx) = (inner.values.len(), inner.nodes.len());
        let grad = if needs_grad && O::THIS.passes_gradient() { inner.grad_len } else { Node::NO_GRAD as usize };
        assert!(
            start < u32::MAX as usize && idx < u32::MAX as usize && inner.grad_len < u32::MAX as usize - 1,
            "{}: the tape is full (more than 2^32 values or nodes)",
            O::THIS.name()
        );
        if grad != Node::NO_GRAD as usize {
            inner.grad_len += 1;
        }
        let mut arg_words = [0u32; 2];
        for (slot, a) in arg_words.iter_mut().zip(&args) {
            *slot = a.idx;
        }
        inner.nodes.push(Node {
            op: O::REF,
            param: p,
            args: arg_words,
            start: start as u32,
            len: 1,
            grad: grad as u32,
            dims: inner.dims.len() as u32, // 0-d: no extents to store
            aux: inner.partials.len() as u32,
            ndim: 0,
            nargs: N as u8,
            axis: 0,
            flags: Node::PARTIALS,
        });
        inner.values.push(y);
        inner.partials.push(partials);
        // Checked mode costs this one bool test when it is off.
        if inner.checked && inner.first_anomaly.is_none() && !y.is_finite() {
            inner.first_anomaly = Some(idx as u32);
        }
        Some(Var { tape: self, idx: idx as u32 })
    }

    /// Appends a node of an op the tape owns (a user op) whose value the
    /// caller already computed (its shape is only known by running it).
    pub(crate) fn push_owned<'t>(&'t self, op: Box<dyn Op>, args: &[Var<'t>], value: &Tensor) -> Var<'t> {
        let index = {
            let mut inner = self.inner_mut(op.name());
            inner.owned.push(op.into());
            inner.owned.len() as u32 - 1
        };
        let shape = OutShape::Given(value.shape());
        self.record::<op::Owned>(Some(index), NodeParams::default(), args, shape, Source::Copy(value.data()), false)
            .unwrap_or_else(|e| panic!("{e}"))
    }

    /// Appends one node (see [`Tape::push`]); every node is appended here,
    /// which is what makes "the tape is the list of steps" true.
    ///
    /// This is the hottest code of the crate: a scalar op spends most of its
    /// recording time here, so it borrows the tape once, touches each arena
    /// once and calls nothing it does not need. `O` is known statically, so
    /// its forward inlines here.
    #[inline]
    fn record<'t, O: StaticOp>(
        &'t self,
        owned: Option<u32>,
        params: NodeParams,
        args: &[Var<'t>],
        shape: OutShape<'_>,
        source: Source<'_>,
        leaf: bool,
    ) -> Result<Var<'t>, ShapeError> {
        // Checked before borrowing: the error reads each operand's shape on
        // its own tape.
        self.try_same_tape(O::THIS.name(), args)?;
        self.record_in::<O>(&mut self.inner_mut(O::THIS.name()), owned, params, args, shape, source, leaf)
    }

    /// [`Tape::record`] under a borrow the caller holds.
    #[allow(clippy::too_many_arguments)]
    #[inline]
    fn record_in<'t, O: StaticOp>(
        &'t self,
        inner: &mut TapeInner,
        owned: Option<u32>,
        params: NodeParams,
        args: &[Var<'t>],
        shape: OutShape<'_>,
        source: Source<'_>,
        leaf: bool,
    ) -> Result<Var<'t>, ShapeError> {
        let dims = inner.dims.len();
        let (len, ndim) = match shape {
            OutShape::Given(s) => push_dims(inner, s, O::THIS.name()),
            OutShape::Like(k) => copy_dims(inner, args[k].idx),
            OutShape::Broadcast => {
                let (a, b) = (args[0].idx, args[1].idx);
                let (sa, sb) = (inner.shape(a), inner.shape(b));
                if same_shape(sa, sb) {
                    copy_dims(inner, a)
                } else if strip_leading_ones(sa) == strip_leading_ones(sb) {
                    copy_dims(inner, if sa.len() >= sb.len() { a } else { b })
                } else {
                    let s: Shape = broadcast_shape(O::THIS.name(), sa, sb)?;
                    push_dims(inner, &s, O::THIS.name())
                }
            }
        };
        let start = inner.values.len();
        let idx = inner.nodes.len();
        let mut needs_grad = leaf;
        for a in args {
            needs_grad |= inner.nodes[a.idx as usize].needs_grad();
        }
        let name = match owned {
            Some(i) => inner.owned[i as usize].name(),
            None => O::THIS.name(),
        };
        needs_grad &= match owned {
            Some(i) => inner.owned[i as usize].passes_gradient(),
            None => O::THIS.passes_gradient(),
        };
        let grad = reserve_slot(inner, O::THIS.name(), start, len, dims, needs_grad);
        let mut arg_words = [0u32; 2];
        if args.len() <= 2 {
            for (slot, a) in arg_words.iter_mut().zip(args) {
                *slot = a.idx;
            }
        } else {
            arg_words[0] = inner.spill.len() as u32;
            inner.spill.extend(args.iter().map(|a| a.idx));
        }
        inner.nodes.push(Node {
            op: O::REF,
            param: params.p,
            args: arg_words,
            start: start as u32,
            len: len as u32,
            grad,
            dims: dims as u32,
            aux: owned.unwrap_or(0),
            ndim: ndim as u8,
            nargs: args.len() as u8,
            axis: params.axis,
            flags: if params.keepdim { Node::KEEPDIM } else { 0 } | if owned.is_some() { Node::OWNED } else { 0 },
        });
        // Compute into a fresh slot at the end of the arena. The op reads
        // only earlier values, which sit below `start`, so the arena splits
        // into a read-only past and the new node's slot. Growing the arena
        // allocates only while it is still growing to its working size.
        match source {
            Source::Copy(data) => {
                assert_eq!(data.len(), len, "{name}: {} values for {len} elements", data.len());
                inner.values.extend_from_slice(data); // no zeroing first: inputs can be large
            }
            Source::Fill(fill) => {
                inner.values.resize(start + len, 0.0);
                fill(&mut inner.values[start..]);
            }
            Source::Forward => {
                if len == 1 {
                    inner.values.push(0.0); // scalars: skip `resize`'s general loop
                } else {
                    inner.values.resize(start + len, 0.0);
                }
                let (before, out) = inner.values.split_at_mut(start);
                let node = &inner.nodes[idx];
                let cx = ForwardCx {
                    nodes: &inner.nodes,
                    dims: &inner.dims,
                    values: before,
                    args: args_of(node, &inner.spill),
                    me: node,
                };
                O::THIS.forward(&cx, out);
            }
        }
        // Checked mode costs this one bool test when it is off.
        if inner.checked && inner.first_anomaly.is_none() && inner.values[start..].iter().any(|v| !v.is_finite()) {
            inner.first_anomaly = Some(idx as u32);
        }
        Ok(Var { tape: self, idx: idx as u32 })
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

/// Reserves a new node's adjoint slot (the next `len` adjoints, or none if
/// it needs no gradient) and returns its offset, after checking that the
/// node fits the tape's 32-bit offsets: its values from `start`, its
/// extents from `dims`, its index, its adjoints. A tape that full panics,
/// naming the op (`name`).
fn reserve_slot(inner: &mut TapeInner, name: &str, start: usize, len: usize, dims: usize, needs_grad: bool) -> u32 {
    let grad = if needs_grad { inner.grad_len } else { 0 };
    assert!(
        start.checked_add(len).is_some_and(|end| end <= u32::MAX as usize)
            && inner.nodes.len() < u32::MAX as usize
            && dims < u32::MAX as usize
            && grad.checked_add(len).is_some_and(|end| end < u32::MAX as usize),
        "{name}: the tape is full (more than 2^32 values or nodes)"
    );
    if !needs_grad {
        return Node::NO_GRAD;
    }
    inner.grad_len += len;
    grad as u32
}

/// Appends the extents `s` to the shape arena: (element count, rank).
fn push_dims(inner: &mut TapeInner, s: &[usize], name: &str) -> (usize, usize) {
    assert!(s.len() <= u8::MAX as usize, "{name}: shape of {} dimensions: more than 255 dimensions", s.len());
    inner.dims.extend(s.iter().copied());
    (numel(s), s.len())
}

/// Appends the shape of node `i` again, copied inside the arena, never out
/// of it and back: (element count, rank).
#[inline]
fn copy_dims(inner: &mut TapeInner, i: u32) -> (usize, usize) {
    let n = inner.nodes[i as usize];
    // One extent at a time: shapes are short (none, for scalars), too
    // short to pay for a `memcpy` call.
    for d in n.dims..n.dims + n.ndim as u32 {
        let extent = inner.dims[d as usize];
        inner.dims.push(extent);
    }
    (n.len as usize, n.ndim as usize)
}

/// Checks that `data` fills `shape` exactly, with the count checked.
fn check_fill(op: &'static str, data: &[f64], shape: &[usize]) -> Result<(), ShapeError> {
    let n = checked_numel(op, shape)?;
    if data.len() == n {
        Ok(())
    } else {
        Err(ShapeError::new(op, &[shape], format!("{} values cannot fill {n} elements", data.len())))
    }
}

/// Where a new node's value comes from.
enum Source<'d> {
    /// Its op's forward, from its inputs' values.
    Forward,
    /// Copied in (inputs, user ops run before recording).
    Copy(&'d [f64]),
    /// Written in place by the caller (constants built in the arena).
    Fill(&'d mut dyn FnMut(&mut [f64])),
}

/// Where a new node's shape comes from.
#[derive(Clone, Copy)]
pub(crate) enum OutShape<'s> {
    /// These extents.
    Given(&'s [usize]),
    /// The shape of input `k` (elementwise ops).
    Like(usize),
    /// The two inputs' shapes broadcast together (NumPy rules).
    Broadcast,
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

    #[test]
    fn a_node_is_48_bytes() {
        assert_eq!(std::mem::size_of::<Node>(), 48);
    }
}
