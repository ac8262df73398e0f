//! A node: one recorded step, 48 bytes, and the flags that say which
//! path it came by.

use super::op::{NodeParams, Op, OpRef};
use std::sync::Arc;

/// One recorded step: a handle to the op, its parameters, the nodes it
/// read, and where its value, gradient and shape live in the tape's
/// arenas. 48 bytes.
#[derive(Clone, Copy)]
pub(crate) struct Node {
    /// The op that produced this node ([`op::Leaf`](super::op::Leaf) and
    /// [`op::Constant`](super::op::Constant) for inputs;
    /// [`op::Owned`](super::op::Owned) for an op the tape owns, see [`Node::OWNED`]).
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

    /// Flag: a reduced axis stays with extent 1 (reductions).
    pub const KEEPDIM: u8 = 1;

    /// Flag: the node came through the 0-d lane and its local partials sit
    /// in `TapeInner::partials` at `aux` (see `lane.rs`).
    pub const PARTIALS: u8 = 2;

    /// Flag: the node's op is owned by the tape (a user op; `op` is
    /// [`op::Owned`](super::op::Owned) and `aux` indexes `TapeInner::owned`).
    pub const OWNED: u8 = 4;

    /// Flag: an input some op reads as positions (indices): [`Tape::set`](super::Tape::set)
    /// asks every op reading it to check a new value (`Op::check_input`).
    pub const GUARDED: u8 = 8;

    /// True when some op reads this input as positions (see [`Node::GUARDED`]).
    #[inline]
    pub fn is_guarded(&self) -> bool {
        self.flags & Node::GUARDED != 0
    }

    /// True when the sweep reads this node's stored partials instead of
    /// calling its op's backward.
    #[inline]
    pub fn has_partials(&self) -> bool {
        self.flags & Node::PARTIALS != 0
    }

    /// True when the node's op is a user op the tape owns.
    #[inline]
    pub fn is_owned(&self) -> bool {
        self.flags & Node::OWNED != 0
    }

    /// True for the tape's inputs (leaf variables and constants): the nodes
    /// a replay leaves alone. Every other node has inputs, or is a user op
    /// (which may have none and still computes its value).
    #[inline]
    pub fn is_input(&self) -> bool {
        self.nargs == 0 && !self.is_owned()
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

    /// The nodes this node read, in argument order (`spill` is the tape's).
    #[inline]
    pub fn args_in<'a>(&'a self, spill: &'a [u32]) -> &'a [u32] {
        let n = self.nargs as usize;
        if n <= 2 { &self.args[..n] } else { &spill[self.args[0] as usize..][..n] }
    }

    /// The node's op (`owned` is the tape's).
    #[inline]
    pub fn op_in<'a>(&self, owned: &'a [Arc<dyn Op>]) -> &'a dyn Op {
        if self.is_owned() { &*owned[self.aux as usize] } else { *self.op.0 }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_node_is_48_bytes() {
        assert_eq!(std::mem::size_of::<super::Node>(), 48);
    }
}
