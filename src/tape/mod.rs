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
mod var;

pub use backward::{BackwardError, Gradients};
pub(crate) use backward::{SweepObserver, sweep_observed};
pub use var::Var;

use crate::ops::Op;
use crate::tensor::{Shape, ShapeError, Tensor, checked_numel, numel, strip_leading_ones};
use std::borrow::Borrow;
use std::cell::RefCell;

/// One recorded step: the op, the nodes it read, and where its value and
/// shape live in the tape's arenas. Six machine words.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Node {
    /// The op that produced this node (`Leaf` and `Constant` for inputs).
    pub op: Op,
    /// A scalar the op is parameterised by (the `c` of `x + c`, the `p` of `x^p`).
    pub param: f64,
    /// Indices of the input nodes; only the first `op.arity()` are used.
    pub args: [u32; 2],
    /// First element of the value in `TapeInner::values`.
    pub start: u32,
    /// Number of elements of the value.
    pub len: u32,
    /// First extent of the shape in `TapeInner::dims`.
    pub dims: u32,
    /// Number of dimensions.
    pub ndim: u8,
    /// True when some leaf variable flows into this node, so it has a
    /// gradient worth computing. Constants and anything built only from
    /// constants are skipped by the backward sweep.
    pub needs_grad: bool,
    /// How many of `args` gradients flow back to (0 for constants and
    /// `detach`), or [`Node::CUSTOM_ARGS`] for a custom op, whose inputs
    /// live in the tape's custom-op table. Lets the sweep mark the nodes
    /// the output depends on without a dispatch on the op.
    pub grad_args: u8,
}

impl Node {
    /// `grad_args` of a custom op: its inputs are in `TapeInner::customs`.
    pub const CUSTOM_ARGS: u8 = u8::MAX;

    /// `grad_args` for a node of `op` recorded with `n` arguments.
    pub fn grad_args(op: Op, n: usize) -> u8 {
        match op {
            Op::Detach => 0,
            Op::Custom(_) => Node::CUSTOM_ARGS,
            _ => n.min(2) as u8,
        }
    }

    pub fn range(&self) -> std::ops::Range<usize> {
        self.start as usize..(self.start + self.len) as usize
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
    /// User-defined ops recorded on this tape and the inputs of each.
    pub customs: Vec<crate::ops::custom::CustomEntry>,
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
    pub fn arena(&self) -> Arena<'_> {
        Arena { nodes: &self.nodes, dims: &self.dims, values: &self.values }
    }

    pub fn shape(&self, idx: u32) -> &[usize] {
        let n = &self.nodes[idx as usize];
        &self.dims[n.dims as usize..n.dims as usize + n.ndim as usize]
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
}

/// An adjoint buffer kept for the next sweep, and how much of it is known
/// to be zero already, so that sweep re-zeroes only the rest.
#[derive(Default)]
pub(crate) struct SpareAdjoints {
    pub buf: Vec<f64>,
    /// `buf[..clean_below]` is all zeros: a sweep writes only the adjoints
    /// of nodes that need a gradient and the output's seed, and the inputs
    /// recorded first (a batch of data, targets) are usually constants.
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
        self.leaf(Op::Leaf, t.shape(), t.data())
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
        self.leaf(Op::Constant, t.shape(), t.data())
    }

    /// Records a scalar leaf variable, micrograd style.
    ///
    /// ```
    /// let tape = tapegrad::Tape::new();
    /// let a = tape.scalar(3.0);
    /// assert_eq!((a * a).backward().wrt(a).item(), 6.0);
    /// ```
    pub fn scalar(&self, value: f64) -> Var<'_> {
        self.leaf(Op::Leaf, &[], &[value])
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
        Ok(self.leaf(Op::Leaf, shape, data))
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
        Ok(self.leaf(Op::Constant, shape, data))
    }

    fn leaf(&self, op: Op, shape: &[usize], data: &[f64]) -> Var<'_> {
        self.record_shaped(op, 0.0, &[], OutShape::Given(shape), Fill::<fn(&Arena<'_>, &mut [f64])>::Copy(data))
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
        inner.customs.clear();
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

    /// Appends a node: reserves its value in the arena, lets `fill` compute
    /// it from the values recorded before it, and returns its handle.
    ///
    /// Every op records through here or through one of its two shortcuts,
    /// [`Tape::record_like`] (output shaped like an input) and
    /// `record_scalar` (0-d elementwise ops); all of them append exactly one
    /// node, which is what makes "the tape is the list of steps" true.
    pub(crate) fn record(
        &self,
        op: Op,
        param: f64,
        args: &[Var<'_>],
        shape: &[usize],
        fill: impl FnOnce(&Arena<'_>, &mut [f64]),
    ) -> Var<'_> {
        self.record_shaped(op, param, args, OutShape::Given(shape), Fill::Compute(fill))
    }

    /// [`Tape::record`] for a node shaped like node `like` (elementwise ops):
    /// the shape is copied inside the arena, never out of it and back.
    pub(crate) fn record_like(
        &self,
        op: Op,
        param: f64,
        args: &[Var<'_>],
        like: u32,
        fill: impl FnOnce(&Arena<'_>, &mut [f64]),
    ) -> Var<'_> {
        self.record_shaped(op, param, args, OutShape::Like(like), Fill::Compute(fill))
    }

    /// The scalar lane of [`Tape::record`]: an elementwise op whose inputs
    /// are all 0-d scalars (micrograd-style code) gets a 0-d output, computed
    /// as `f(input values)` with one borrow and no shape or slice handling.
    /// `None` (nothing recorded) when some input is not a 0-d scalar.
    #[inline]
    pub(crate) fn record_scalar<const N: usize>(
        &self,
        op: Op,
        param: f64,
        args: [Var<'_>; N],
        f: impl FnOnce([f64; N]) -> f64,
    ) -> Option<Var<'_>> {
        let mut guard = self.inner_mut(op.name());
        let inner = &mut *guard;
        let mut xs = [0.0; N];
        let mut needs_grad = false;
        for (x, a) in xs.iter_mut().zip(&args) {
            self.check_same_tape(op, *a);
            let n = &inner.nodes[a.idx as usize];
            if n.ndim != 0 {
                return None;
            }
            *x = inner.values[n.start as usize];
            needs_grad |= n.needs_grad;
        }
        // The same bookkeeping as `record_shaped`, written again on purpose:
        // sharing one `push_node` measured 10-15% slower on the scalar chain
        // (`cargo bench --bench scalar`), this lane's reason to exist.
        let (start, idx) = (inner.values.len(), inner.nodes.len());
        assert!(
            start < u32::MAX as usize && idx < u32::MAX as usize,
            "{}: the tape is full (more than 2^32 values or nodes)",
            op.name()
        );
        let mut arg_idx = [0u32; 2];
        for (slot, a) in arg_idx.iter_mut().zip(&args) {
            *slot = a.idx;
        }
        let y = f(xs);
        inner.values.push(y);
        // Checked mode costs this one bool test when it is off.
        if inner.checked && inner.first_anomaly.is_none() && !y.is_finite() {
            inner.first_anomaly = Some(idx as u32);
        }
        let dims = inner.dims.len() as u32; // 0-d: no extents to store
        let grad_args = N as u8; // the scalar lane records elementwise ops of 1 or 2 inputs
        inner.nodes.push(Node {
            op,
            param,
            args: arg_idx,
            start: start as u32,
            len: 1,
            dims,
            ndim: 0,
            needs_grad,
            grad_args,
        });
        Some(Var { tape: self, idx: idx as u32 })
    }

    /// Appends a node of any shape (see [`Tape::record`]); `record_scalar`
    /// is the other place nodes are appended, for 0-d elementwise ops.
    ///
    /// This is the hottest code of the crate: a scalar op spends most of its
    /// recording time here, so it touches each arena once and calls nothing
    /// it does not need.
    #[inline]
    fn record_shaped(
        &self,
        op: Op,
        param: f64,
        args: &[Var<'_>],
        shape: OutShape<'_>,
        fill: Fill<'_, impl FnOnce(&Arena<'_>, &mut [f64])>,
    ) -> Var<'_> {
        for a in args {
            self.check_same_tape(op, *a);
        }
        let mut guard = self.inner_mut(op.name());
        let inner = &mut *guard;
        let dims = inner.dims.len();
        let (len, ndim) = match shape {
            OutShape::Given(s) => {
                assert!(
                    s.len() <= u8::MAX as usize,
                    "{}: shape of {} dimensions: more than 255 dimensions",
                    op.name(),
                    s.len()
                );
                inner.dims.extend(s.iter().copied());
                (numel(s), s.len())
            }
            OutShape::Like(i) => {
                let n = inner.nodes[i as usize];
                // One extent at a time: shapes are short (none, for
                // scalars), too short to pay for a `memcpy` call.
                for d in n.dims..n.dims + n.ndim as u32 {
                    let extent = inner.dims[d as usize];
                    inner.dims.push(extent);
                }
                (n.len as usize, n.ndim as usize)
            }
        };
        let start = inner.values.len();
        let idx = inner.nodes.len();
        assert!(
            start.checked_add(len).is_some_and(|end| end <= u32::MAX as usize)
                && idx < u32::MAX as usize
                && dims < u32::MAX as usize,
            "{}: the tape is full (more than 2^32 values or nodes)",
            op.name()
        );
        let mut needs_grad = matches!(op, Op::Leaf);
        let mut arg_idx = [0u32; 2];
        for (slot, a) in arg_idx.iter_mut().zip(args) {
            *slot = a.idx;
        }
        // `detach` blocks gradients, so it needs none whatever it reads.
        if !matches!(op, Op::Detach) {
            for a in args {
                needs_grad |= inner.nodes[a.idx as usize].needs_grad;
            }
        }
        // Compute into a fresh slot at the end of the arena. The op reads
        // only earlier values, which sit below `start`, so the arena splits
        // into a read-only past and the new node's slot. Growing the arena
        // allocates only while it is still growing to its working size.
        match fill {
            Fill::Copy(data) => {
                assert_eq!(data.len(), len, "{}: {} values for {len} elements", op.name(), data.len());
                inner.values.extend_from_slice(data); // no zeroing first: inputs can be large
            }
            Fill::Compute(fill) => {
                if len == 1 {
                    inner.values.push(0.0); // scalars: skip `resize`'s general loop
                } else {
                    inner.values.resize(start + len, 0.0);
                }
                let (before, out) = inner.values.split_at_mut(start);
                fill(&Arena { nodes: &inner.nodes, dims: &inner.dims, values: before }, out);
            }
        }
        // Checked mode costs this one bool test when it is off.
        if inner.checked && inner.first_anomaly.is_none() && inner.values[start..].iter().any(|v| !v.is_finite()) {
            inner.first_anomaly = Some(idx as u32);
        }
        inner.nodes.push(Node {
            op,
            param,
            args: arg_idx,
            start: start as u32,
            len: len as u32,
            dims: dims as u32,
            ndim: ndim as u8,
            needs_grad,
            grad_args: Node::grad_args(op, args.len()),
        });
        Var { tape: self, idx: idx as u32 }
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
    pub(crate) fn try_same_tape(&self, op: &'static str, operands: &[Var<'_>]) -> Result<(), ShapeError> {
        let Some(foreign) = operands.iter().find(|v| !std::ptr::eq(self, v.tape)) else {
            return Ok(());
        };
        let shapes: Vec<Shape> = operands.iter().map(|v| v.shape()).collect();
        let refs: Vec<&[usize]> = shapes.iter().map(|s| s.as_slice()).collect();
        let reason = format!(
            "an operand belongs to another tape (node {} of a different Tape); \
             Vars can only be combined with Vars recorded on the same tape",
            foreign.idx
        );
        Err(ShapeError::new(op, &refs, reason))
    }

    pub(crate) fn check_same_tape(&self, op: Op, v: Var<'_>) {
        assert!(
            std::ptr::eq(self, v.tape),
            "{}: an operand belongs to another tape (node {} of a different Tape); \
             Vars can only be combined with Vars recorded on the same tape",
            op.name(),
            v.idx
        );
    }

    /// Calls `f` with the shapes of nodes `a` and `b`, read in place.
    pub(crate) fn with_shapes<R>(&self, a: u32, b: u32, f: impl FnOnce(&[usize], &[usize]) -> R) -> R {
        let inner = self.inner.borrow();
        f(inner.shape(a), inner.shape(b))
    }

    /// For an elementwise op of nodes `a` and `b`: when neither needs
    /// broadcasting beyond leading 1s (`[3]` with `[1, 3]`, or equal shapes),
    /// the node whose shape the result has; `None` when real broadcasting is
    /// needed. Reads the shapes in place, without copying them out.
    pub(crate) fn elementwise_like(&self, a: u32, b: u32) -> Option<u32> {
        let inner = self.inner.borrow();
        let (sa, sb) = (inner.shape(a), inner.shape(b));
        // Compared by hand: shapes are a few extents (none, for scalars), too
        // short for the `memcmp` call that `==` on slices makes.
        if sa.len() == sb.len() && sa.iter().zip(sb).all(|(x, y)| x == y) {
            return Some(a);
        }
        if strip_leading_ones(sa) == strip_leading_ones(sb) {
            Some(if sa.len() >= sb.len() { a } else { b })
        } else {
            None
        }
    }

    /// Calls `f` with the shape of node `idx`, read in place (no copy).
    pub(crate) fn with_shape<R>(&self, idx: usize, f: impl FnOnce(&[usize]) -> R) -> R {
        f(self.inner.borrow().shape(idx as u32))
    }

    /// Shape of node `idx`, copied out (inline, no allocation up to 4-D).
    pub(crate) fn shape_of(&self, idx: u32) -> Shape {
        Shape::from_slice(self.inner.borrow().shape(idx))
    }
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

/// How a new node's value is made: copied in (inputs) or computed by the op
/// from the values recorded before it.
pub(crate) enum Fill<'d, F> {
    Copy(&'d [f64]),
    Compute(F),
}

/// Where a new node's shape comes from.
#[derive(Clone, Copy)]
pub(crate) enum OutShape<'s> {
    /// These extents.
    Given(&'s [usize]),
    /// The shape of an earlier node.
    Like(u32),
}

/// A read-only view of the recorded nodes, for ops computing a value or a
/// gradient: the shape and value of any node recorded so far.
pub(crate) struct Arena<'a> {
    pub nodes: &'a [Node],
    pub dims: &'a [usize],
    pub values: &'a [f64],
}

impl Arena<'_> {
    pub fn shape(&self, idx: u32) -> &[usize] {
        let n = &self.nodes[idx as usize];
        &self.dims[n.dims as usize..n.dims as usize + n.ndim as usize]
    }

    pub fn value(&self, idx: u32) -> &[f64] {
        &self.values[self.nodes[idx as usize].range()]
    }
}
