//! Every op the tape can record, one file per family. In each file an op's
//! forward rule (how its value is computed) and its backward rule (its
//! vector-Jacobian product: how the gradient of its output becomes the
//! gradients of its inputs) sit next to each other.
//!
//! | file | ops |
//! |---|---|
//! | [`unary`] | `exp ln sqrt abs sin cos tanh sigmoid relu square powi powf`, `x + c`, `c * x`, ... |
//! | [`binary`] | `+ - * /` between two Vars, with NumPy broadcasting |
//! | [`reduce`] | `sum mean sum_axis mean_axis` |
//! | [`linalg`] | `matmul t reshape` |
//! | [`softmax`] | `log_softmax` |
//! | [`pick`] | `pick`: one element per row by constant indices |
//! | [`custom`] | ops defined outside the crate, with their own backward rule |
//!
//! The backward rules *add* into their inputs' gradients: that is how a Var
//! used several times collects the sum of its contributions.

pub mod binary;
pub mod custom;
pub mod linalg;
pub mod pick;
pub mod reduce;
pub mod softmax;
pub mod unary;

use crate::tape::{Arena, Node, TapeInner};
use binary::BinaryRule;
use unary::UnaryRule;

/// Which op made a node. The op's parameters live in the node (`param`,
/// `args`), so this stays two words.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Op {
    /// An input that gets a gradient (`tape.var`, `tape.scalar`).
    Leaf,
    /// An input with no gradient (`tape.constant`).
    Constant,
    /// A copy of another node that blocks gradients (`x.detach()`).
    Detach,
    /// An elementwise function of one input.
    Unary(&'static UnaryRule),
    /// An elementwise function of two broadcast inputs.
    Binary(&'static BinaryRule),
    MatMul,
    Transpose,
    Reshape,
    Sum,
    Mean,
    SumAxis {
        axis: u8,
        keepdim: bool,
    },
    MeanAxis {
        axis: u8,
        keepdim: bool,
    },
    LogSoftmax,
    /// One element per row; `args[1]` is the constant node of indices.
    Pick,
    /// A user-defined op: index into the tape's custom-op table.
    Custom(u32),
}

impl Op {
    /// The op's name as printed in errors and tables.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Op::Leaf => "leaf",
            Op::Constant => "constant",
            Op::Detach => "detach",
            Op::Unary(r) => r.name,
            Op::Binary(r) => r.name,
            Op::MatMul => "matmul",
            Op::Transpose => "t",
            Op::Reshape => "reshape",
            Op::Sum => "sum",
            Op::Mean => "mean",
            Op::SumAxis { .. } => "sum_axis",
            Op::MeanAxis { .. } => "mean_axis",
            Op::LogSoftmax => "log_softmax",
            Op::Pick => "pick",
            Op::Custom(_) => "custom",
        }
    }

    /// The name with the op's parameters, as the tape's table prints it:
    /// `sum_axis(axis=0, keepdim=true)`, `mul_scalar(0.5)`, `powi(3)`.
    pub(crate) fn label(self, param: f64) -> String {
        match self {
            Op::SumAxis { axis, keepdim } | Op::MeanAxis { axis, keepdim } => {
                format!("{}(axis={axis}, keepdim={keepdim})", self.name())
            }
            Op::Unary(r) if r.takes_param() => format!("{}({param})", r.name),
            op => op.name().to_string(),
        }
    }

    /// Number of inputs stored in `Node::args`.
    pub(crate) fn arity(self) -> usize {
        match self {
            Op::Leaf | Op::Constant | Op::Custom(_) => 0,
            Op::Binary(_) | Op::MatMul | Op::Pick => 2,
            _ => 1,
        }
    }
}

/// The indices of the nodes that node `idx` read.
pub(crate) fn input_indices(inner: &TapeInner, idx: u32) -> Vec<u32> {
    let node = &inner.nodes[idx as usize];
    match node.op {
        Op::Custom(c) => inner.customs[c as usize].args.to_vec(),
        op => node.args[..op.arity()].to_vec(),
    }
}

/// Calls `f` with each input a gradient flows to from `node` (none through
/// `detach`), for the sweep's bookkeeping of which nodes the output reaches.
#[inline]
pub(crate) fn for_each_input(node: &Node, customs: &[custom::CustomEntry], mut f: impl FnMut(u32)) {
    match node.op {
        Op::Detach => {}
        Op::Custom(c) => customs[c as usize].args.iter().for_each(|&a| f(a)),
        op => node.args[..op.arity()].iter().for_each(|&a| f(a)),
    }
}

/// The adjoint slice of input node `idx` inside `below` (the adjoints of
/// every node recorded before the one being swept), or `None` when that
/// input needs no gradient, so its backward work can be skipped.
#[inline]
pub(crate) fn input_grad<'a>(arena: &Arena<'_>, below: &'a mut [f64], idx: u32) -> Option<&'a mut [f64]> {
    let node = &arena.nodes[idx as usize];
    if node.needs_grad { Some(&mut below[node.range()]) } else { None }
}

/// Sends the adjoint `upstream` of node `me` to its inputs' adjoints in
/// `below`: the one dispatch of the backward sweep.
///
/// 0-d nodes (micrograd-style scalar code) have 0-d inputs: one
/// multiply-add per input, without the slice handling of the general rules.
/// That lane is kept small enough to inline into the sweep's loop.
#[inline]
pub(crate) fn backward(
    me: u32,
    node: &Node,
    arena: &Arena<'_>,
    customs: &[custom::CustomEntry],
    upstream: &[f64],
    below: &mut [f64],
) {
    match node.op {
        Op::Unary(rule) if node.ndim == 0 => unary::scalar_backward(rule, node, arena, upstream[0], below),
        Op::Binary(rule) if node.ndim == 0 => binary::scalar_backward(rule, node, arena, upstream[0], below),
        _ => tensor_backward(me, node, arena, customs, upstream, below),
    }
}

/// [`backward`] for every other node.
#[inline(never)]
fn tensor_backward(
    me: u32,
    node: &Node,
    arena: &Arena<'_>,
    customs: &[custom::CustomEntry],
    upstream: &[f64],
    below: &mut [f64],
) {
    match node.op {
        Op::Leaf | Op::Constant | Op::Detach => {}
        Op::Unary(rule) => unary::backward(rule, me, node, arena, upstream, below),
        Op::Binary(rule) => binary::backward(rule, me, node, arena, upstream, below),
        Op::MatMul => linalg::matmul_backward(node, arena, upstream, below),
        Op::Transpose => linalg::transpose_backward(node, arena, upstream, below),
        Op::Reshape => linalg::reshape_backward(node, arena, upstream, below),
        Op::Sum => reduce::sum_backward(node, arena, upstream, below, 1.0),
        Op::Mean => reduce::sum_backward(node, arena, upstream, below, 1.0 / node_len_of_input(node, arena)),
        Op::SumAxis { axis, .. } => reduce::sum_axis_backward(node, arena, axis as usize, upstream, below, false),
        Op::MeanAxis { axis, .. } => reduce::sum_axis_backward(node, arena, axis as usize, upstream, below, true),
        Op::LogSoftmax => softmax::log_softmax_backward(me, node, arena, upstream, below),
        Op::Pick => pick::pick_backward(node, arena, upstream, below),
        Op::Custom(c) => custom::backward(&customs[c as usize], me, arena, upstream, below),
    }
}

fn node_len_of_input(node: &Node, arena: &Arena<'_>) -> f64 {
    arena.nodes[node.args[0] as usize].len as f64
}
