//! The 0-d lane: nodes whose inputs are all 0-d scalars, of ops with a
//! scalar rule ([`Op::scalar`]: every elementwise op), keep their local
//! partials `d y / d x[k]`, computed at recording (as Adept and echidna
//! do). Their backward is then one multiply-add per input, with no call
//! into the op. Recording, the reverse sweep and replay all go through the
//! three functions here, so the lane is written once.
//!
//! Measured (valgrind, BENCHMARKS.md, issue 19's section): the pendulum
//! chain costs 228 instructions per op to record and sweep with the lane,
//! 415 without it (every scalar node through `Unary`/`Binary`'s general
//! path, which already special-cases one element); that is why it is kept
//! apart from them.

use super::node::Node;
use super::op::Op;

/// The inputs' values, when every input is a 0-d scalar (at most two; the
/// unused entry is 0), read for a new node of the lane, and whether any of
/// them needs a gradient (read in the same pass); `None` sends the node
/// down the general path.
#[inline(always)]
pub(super) fn inputs(nodes: &[Node], values: &[f64], args: impl IntoIterator<Item = u32>) -> Option<([f64; 2], bool)> {
    let (mut xs, mut needs_grad) = ([0.0; 2], false);
    for (x, a) in xs.iter_mut().zip(args) {
        let n = &nodes[a as usize];
        if n.ndim != 0 {
            return None;
        }
        *x = values[n.start as usize];
        needs_grad |= n.needs_grad();
    }
    Some((xs, needs_grad))
}

/// The lane's backward: adds `upstream * partial` into each input's
/// adjoint slot in `grads` (inputs that need none are skipped), and marks
/// each input `reached` when the caller has not yet (the plain sweep does
/// it here, in the same pass).
#[inline(always)]
pub(super) fn backward(
    node: &Node,
    args: &[u32],
    nodes: &[Node],
    partials: &[[f64; 2]],
    upstream: f64,
    grads: &mut [f64],
    mut reached: Option<&mut [bool]>,
) {
    for (&a, d) in args.iter().zip(partials[node.aux as usize]) {
        if let Some(reached) = reached.as_deref_mut() {
            reached[a as usize] = true;
        }
        let g = nodes[a as usize].grad;
        if g != Node::NO_GRAD {
            grads[g as usize] += upstream * d;
        }
    }
}

/// The lane's replay: the node's value and partials again, from its
/// inputs' current values (known 0-d: the node took the lane).
#[inline(always)]
pub(super) fn replay(op: &dyn Op, node: &Node, nodes: &[Node], values: &mut [f64], partials: &mut [[f64; 2]]) {
    let mut xs = [0.0; 2];
    for (x, &a) in xs.iter_mut().zip(&node.args[..node.nargs as usize]) {
        *x = values[nodes[a as usize].start as usize];
    }
    let (y, d) = op.scalar(xs, node.param).expect("a node of the 0-d lane has a scalar rule");
    values[node.start as usize] = y;
    partials[node.aux as usize] = d;
}
