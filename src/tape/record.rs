//! Recording: every node enters the tape through [`Tape::append`], which
//! resolves its shape, checks that it fits the tape, reserves its value and
//! adjoint slots, builds the [`Node`], computes its value, and runs checked
//! mode's test. The entries above it only say where a node comes from: an
//! op's forward ([`Tape::push`], [`Tape::try_push`]), copied data (inputs,
//! `inputs.rs`; user ops, [`Tape::push_owned`]), or the 0-d lane (`lane.rs`),
//! which [`Tape::try_push`] takes when every input is a 0-d scalar.

use super::node::Node;
use super::op::{ForwardCx, NodeParams, Op, OpRef, StaticOp};
use super::{Tape, TapeInner, Var, lane};
use crate::tensor::{Shape, ShapeError, Tensor, broadcast_shape, numel, same_shape, strip_leading_ones};

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

/// Where a new node's value comes from.
pub(super) enum Value<'d, F> {
    /// Computed into its zeroed slot by `F` (an op's forward, or a fill).
    Computed(F),
    /// Copied in (inputs, user ops run before recording).
    Copy(&'d [f64]),
    /// The 0-d lane: the value and its local partials.
    Scalar(f64, [f64; 2]),
}

/// Who a new node is, as its entry knows it: its op, its parameters, and
/// whether it needs a gradient whatever its inputs do (a leaf variable).
pub(super) struct Kind {
    pub op: OpRef,
    /// The op's name, for errors.
    pub name: &'static str,
    pub params: NodeParams,
    /// A user op's index in `TapeInner::owned`.
    pub owned: Option<u32>,
    /// True when the node needs a gradient whatever its inputs do (leaf
    /// variables), or is known to already (the 0-d lane reads it).
    pub needs_grad: bool,
    /// False for ops no gradient flows through (`detach`, constants).
    pub passes_gradient: bool,
}

impl Kind {
    /// A node of the static op `O`.
    #[inline(always)]
    pub fn of<O: StaticOp>(params: NodeParams) -> Kind {
        Kind {
            op: O::REF,
            name: O::THIS.name(),
            params,
            owned: None,
            needs_grad: false,
            passes_gradient: O::THIS.passes_gradient(),
        }
    }
}

impl Tape {
    /// Appends a node of op `O`, its value computed by `O`'s forward from
    /// its inputs (or by its scalar rule, in the 0-d lane); the entry every
    /// built-in op records through. Panics as [`Tape::try_push`] errs: use
    /// it where the op's `try_` form has checked the shapes.
    #[inline]
    pub(crate) fn push<'t, O: StaticOp>(
        &'t self,
        params: NodeParams,
        args: &[Var<'t>],
        shape: OutShape<'_>,
    ) -> Var<'t> {
        self.try_push::<O>(params, args, shape).unwrap_or_else(|e| panic!("{e}"))
    }

    /// [`Tape::push`], with an error (naming the op and the shapes) for an
    /// operand from another tape, shapes that do not broadcast
    /// ([`OutShape::Broadcast`]), or a tape too full for the node: what an
    /// op's `try_` form returns.
    #[inline]
    pub(crate) fn try_push<'t, O: StaticOp>(
        &'t self,
        params: NodeParams,
        args: &[Var<'t>],
        shape: OutShape<'_>,
    ) -> Result<Var<'t>, ShapeError> {
        // Checked before borrowing: the error reads each operand's shape on
        // its own tape.
        self.try_same_tape(O::THIS.name(), args)?;
        let mut inner = self.inner_mut(O::THIS.name());
        // The 0-d lane, for elementwise ops (of inputs known by count, so
        // the look at them unrolls).
        let (nodes, values) = (&inner.nodes, &inner.values);
        let lane = match (shape, args) {
            (OutShape::Like(_) | OutShape::Broadcast, [a]) => lane::inputs(nodes, values, [a.idx]),
            (OutShape::Like(_) | OutShape::Broadcast, [a, b]) => lane::inputs(nodes, values, [a.idx, b.idx]),
            _ => None,
        };
        if let Some((xs, needs_grad)) = lane
            && let Some((y, partials)) = O::THIS.scalar(xs, params.p)
        {
            let value = Value::<fn(&ForwardCx<'_>, &mut [f64])>::Scalar(y, partials);
            let kind = Kind { needs_grad, ..Kind::of::<O>(params) };
            let v = self.append(&mut inner, kind, args, (1, 0), value); // 0-d: no extents to store
            return v.ok_or_else(|| tape_full(&mut inner, O::THIS.name(), 0, 1));
        }
        let (len, ndim) = resolve_shape(&mut inner, O::THIS.name(), args, shape)?;
        let forward = |cx: &ForwardCx<'_>, out: &mut [f64]| O::THIS.forward(cx, out);
        let v = self.append(&mut inner, Kind::of::<O>(params), args, (len, ndim), Value::Computed(forward));
        v.ok_or_else(|| tape_full(&mut inner, O::THIS.name(), ndim, len))
    }

    /// [`Tape::try_push`] for an elementwise op of two inputs with NumPy
    /// broadcasting.
    #[inline]
    pub(crate) fn push_broadcast<'t, O: StaticOp>(
        &'t self,
        params: NodeParams,
        a: Var<'t>,
        b: Var<'t>,
    ) -> Result<Var<'t>, ShapeError> {
        self.try_push::<O>(params, &[a, b], OutShape::Broadcast)
    }

    /// Appends a node of an op the tape owns (a user op) whose value the
    /// caller already computed (its shape is only known by running it).
    pub(crate) fn push_owned<'t>(
        &'t self,
        op: Box<dyn Op>,
        args: &[Var<'t>],
        value: &Tensor,
    ) -> Result<Var<'t>, ShapeError> {
        let name = op.name();
        self.try_same_tape(name, args)?;
        let mut inner = self.inner_mut(name);
        let passes_gradient = op.passes_gradient();
        inner.owned.push(op.into());
        let owned = Some(inner.owned.len() as u32 - 1);
        let kind = Kind {
            op: <super::op::Owned as StaticOp>::REF,
            name,
            params: NodeParams::default(),
            owned,
            needs_grad: false,
            passes_gradient,
        };
        let copy = Value::<fn(&ForwardCx<'_>, &mut [f64])>::Copy(value.data());
        let (len, ndim) = push_dims(&mut inner, value.shape(), name);
        let v = self.append(&mut inner, kind, args, (len, ndim), copy);
        v.ok_or_else(|| {
            inner.owned.pop();
            tape_full(&mut inner, name, ndim, len)
        })
    }

    /// The one way into the tape. Given the node's shape (`len` values,
    /// `ndim` extents, already at the end of the shape arena), checks the
    /// node fits the tape's 32-bit offsets (else `None`, nothing recorded:
    /// the caller names the error, [`tape_full`]), reserves its adjoint slot
    /// (when a leaf variable flows in and the op passes gradients), builds
    /// the node, writes its value into a fresh slot at the end of the
    /// arena, and notes it if checked mode is on and it is not finite.
    ///
    /// This is the hottest code of the crate: a scalar op spends most of its
    /// recording time here, so it touches each arena once and calls nothing
    /// it does not need. Inlined into each entry, the branches an entry
    /// cannot take fold away, and an op's forward inlines here.
    #[inline(always)]
    pub(super) fn append<'t, F: FnOnce(&ForwardCx<'_>, &mut [f64])>(
        &'t self,
        inner: &mut TapeInner,
        kind: Kind,
        args: &[Var<'t>],
        (len, ndim): (usize, usize),
        value: Value<'_, F>,
    ) -> Option<Var<'t>> {
        let (start, idx, dims) = (inner.values.len(), inner.nodes.len(), inner.dims.len() - ndim);
        let needs_grad = kind.needs_grad || args.iter().any(|a| inner.nodes[a.idx as usize].needs_grad());
        // Offsets are `u32` (and `u32::MAX` is `NO_GRAD`): the values, the
        // adjoints, the nodes and the extents must all stay below it. The
        // adjoints need no test of their own: each node reserves at most as
        // many adjoint slots as values, so `grad_len <= start` always; nor do
        // the extents of a 0-d node, which has none to find.
        const MAX: usize = u32::MAX as usize;
        debug_assert!(inner.grad_len <= start, "more adjoint slots than values");
        if start.saturating_add(len).max(idx) >= MAX || (ndim != 0 && dims >= MAX) {
            return None;
        }
        let grad = if needs_grad && kind.passes_gradient {
            let grad = inner.grad_len;
            inner.grad_len += len;
            grad as u32
        } else {
            Node::NO_GRAD
        };
        let mut arg_words = [0u32; 2];
        if args.len() <= 2 {
            for (slot, a) in arg_words.iter_mut().zip(args) {
                *slot = a.idx;
            }
        } else {
            arg_words[0] = inner.spill.len() as u32;
            inner.spill.extend(args.iter().map(|a| a.idx));
        }
        let (mut flags, mut aux) = (if kind.params.keepdim { Node::KEEPDIM } else { 0 }, 0);
        if let Some(i) = kind.owned {
            (flags, aux) = (flags | Node::OWNED, i);
        }
        if let Value::Scalar(_, partials) = value {
            (flags, aux) = (flags | Node::PARTIALS, inner.partials.len() as u32);
            inner.partials.push(partials);
        }
        inner.nodes.push(Node {
            op: kind.op,
            param: kind.params.p,
            args: arg_words,
            start: start as u32,
            len: len as u32,
            grad,
            dims: dims as u32,
            aux,
            ndim: ndim as u8,
            nargs: args.len() as u8,
            axis: kind.params.axis,
            flags,
        });
        // The value goes into a fresh slot at the end of the arena. An op
        // reads only earlier values, which sit below `start`, so the arena
        // splits into a read-only past and the new node's slot. Growing the
        // arena allocates only while it is still growing to its working size.
        match value {
            Value::Scalar(y, _) => inner.values.push(y),
            Value::Copy([x]) => inner.values.push(*x), // one value: skip `memcpy`'s call
            Value::Copy(data) => {
                assert_eq!(data.len(), len, "{}: {} values for {len} elements", kind.name, data.len());
                inner.values.extend_from_slice(data); // no zeroing first: inputs can be large
            }
            Value::Computed(compute) => {
                if len == 1 {
                    inner.values.push(0.0); // scalars: skip `resize`'s general loop
                } else {
                    inner.values.resize(start + len, 0.0);
                }
                let (before, out) = inner.values.split_at_mut(start);
                let node = &inner.nodes[idx];
                compute(&ForwardCx::new(&inner.nodes, &inner.dims, before, node.args_in(&inner.spill), node), out);
            }
        }
        // Checked mode costs this one bool test when it is off.
        if inner.checked && inner.first_anomaly.is_none() && inner.values[start..].iter().any(|v| !v.is_finite()) {
            inner.first_anomaly = Some(idx as u32);
        }
        Some(Var { tape: self, idx: idx as u32 })
    }
}

/// Appends the new node's extents to the shape arena: (element count, rank).
#[inline(always)]
pub(super) fn resolve_shape(
    inner: &mut TapeInner,
    name: &'static str,
    args: &[Var<'_>],
    shape: OutShape<'_>,
) -> Result<(usize, usize), ShapeError> {
    Ok(match shape {
        OutShape::Given(s) => push_dims(inner, s, name),
        OutShape::Like(k) => copy_dims(inner, args[k].idx),
        OutShape::Broadcast => {
            let (a, b) = (args[0].idx, args[1].idx);
            let (sa, sb) = (inner.shape(a), inner.shape(b));
            if same_shape(sa, sb) {
                copy_dims(inner, a)
            } else if strip_leading_ones(sa) == strip_leading_ones(sb) {
                copy_dims(inner, if sa.len() >= sb.len() { a } else { b })
            } else {
                let s: Shape = broadcast_shape(name, sa, sb)?;
                push_dims(inner, &s, name)
            }
        }
    })
}

/// The error for a node of `len` values that does not fit the tape, its
/// `ndim` extents last in the shape arena, where they are dropped (kept out
/// of line: recording is hot, this is not).
#[cold]
pub(super) fn tape_full(inner: &mut TapeInner, name: &'static str, ndim: usize, len: usize) -> ShapeError {
    let from = inner.dims.len() - ndim;
    let reason = format!("the tape is full: a node of {len} values does not fit (at most 2^32 values or nodes)");
    let err = ShapeError::new(name, &[&inner.dims[from..]], reason);
    inner.dims.truncate(from);
    err
}

/// Appends the extents `s` to the shape arena: (element count, rank).
#[inline]
pub(super) fn push_dims(inner: &mut TapeInner, s: &[usize], name: &str) -> (usize, usize) {
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
