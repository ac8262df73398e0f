//! The op interface: the one trait the tape knows every op by.
//!
//! The tape stores, per node, a handle to its [`Op`] and the node's own
//! small parameters ([`NodeParams`]); everything an op means lives in its
//! `impl Op`: its name, how its value is computed from its inputs'
//! ([`Op::forward`], also what a replay of the tape calls), how the gradient
//! of its output becomes gradients of its inputs ([`Op::backward`], a
//! vector-Jacobian product), and the words the backward trace prints.
//!
//! Ops see the tape only through two narrow contexts: [`ForwardCx`] (input
//! values and shapes, the node's parameters) and [`BackwardCx`] (the same,
//! plus the output, the upstream gradient and `grad_mut(k)`, the gradient
//! slot of input `k` when it needs one). No op touches a node's fields.
//!
//! Forward mode rides on the same trait: [`Op::jvp`] pushes input tangents
//! to the output's through a [`TangentCx`] (the forward sweep is in
//! `tangent.rs`). The differentiable backward ([`Op::backward_var`]) is the
//! same VJP written with tape ops, so that the backward pass is itself
//! recorded and can be differentiated again (`Var::grad_graph`); it sees the
//! tape through [`VarCx`] (the inputs and output as `Var`s).

use super::emit_cx::EmitCx;
use super::tangent_error::TangentError;
use super::{Node, Var};
use crate::tensor::Tensor;
use smallvec::SmallVec;
use std::borrow::Cow;

/// The inputs' gradients a differentiable backward returns, one per input:
/// `None` for an input that gets nothing (it needs no gradient, or the op
/// passes none, as `detach`).
pub(crate) type VarGrads<'t> = SmallVec<[Option<Var<'t>>; 4]>;

/// Everything the tape knows an op by.
///
/// `Send + Sync + 'static`: stateless ops are shared `static`s, and a tape
/// holding user ops can move to another thread.
pub(crate) trait Op: Send + Sync + 'static {
    /// The op's name, as errors and tables print it (`"sigmoid"`).
    fn name(&self) -> &'static str;

    /// Computes the node's value from its inputs' into `out` (the node's
    /// slot, already sized by its shape). Recording calls it once; a replay
    /// of the tape would call it again with new input values.
    fn forward(&self, cx: &ForwardCx<'_>, out: &mut [f64]);

    /// The Jacobian-vector product (forward mode): *adds*
    /// `sum_k d(output)/d(input k) * tangent_k` into `out` (the node's
    /// tangent, zeroed before the call). Every op adds, never assigns, as
    /// `backward` adds into its inputs' slots: one contract for both, which
    /// `ops::registry`'s test checks on every op. Inputs with no tangent
    /// ([`TangentCx::tangent`] is `None`: nothing seeded flows into them)
    /// contribute nothing and are skipped, as `backward` skips constants.
    /// Only user ops without a tangent rule return an error.
    fn jvp(&self, cx: &TangentCx<'_>, out: &mut [f64]) -> Result<(), TangentError>;

    /// The 0-d lane: for a node whose inputs are all 0-d scalars (`x[k]` is
    /// input `k`'s value, unused entries 0), its value and its local
    /// partials `d y / d x[k]`, or `None` when the op has no such rule (the
    /// default). Elementwise ops have one: the tape then stores the partials
    /// at recording (as Adept and echidna do), and the reverse sweep adds
    /// `upstream * partial` into each input's slot without calling
    /// [`Op::backward`]. Must agree bit for bit with `forward` and
    /// `backward`: gradients do not depend on which path a node took.
    #[inline(always)]
    fn scalar(&self, _x: [f64; 2], _p: f64) -> Option<(f64, [f64; 2])> {
        None
    }

    /// The vector-Jacobian product: *adds* `upstream * d(output)/d(input k)`
    /// into each input's gradient slot ([`BackwardCx::grad_mut`]).
    fn backward(&self, cx: &mut BackwardCx<'_>);

    /// The same vector-Jacobian product written with tape ops (PyTorch's
    /// `create_graph=True`): returns each input's gradient as a `Var`
    /// shaped like that input, recorded on the tape, so it can be
    /// differentiated again. `None` means "this op cannot": the
    /// differentiable backward stops with an error naming the op. Inputs
    /// that need no gradient ([`VarCx::needs_grad`]) may get `None`.
    fn backward_var<'t>(&self, _cx: &VarCx<'t>, _upstream: Var<'t>) -> Option<VarGrads<'t>> {
        None
    }

    /// Writes the node's forward as Rust source (see `crate::emit`): the
    /// same float operations in the same order as [`Op::forward`], into
    /// `cx.out`. `None` (the default): the op has no emit rule, and
    /// emitting a program that holds it is an error naming the op.
    fn emit_forward(&self, _cx: &mut EmitCx<'_>) -> Option<()> {
        None
    }

    /// Writes the node's backward as Rust source: the same operations in
    /// the same order as [`Op::backward`], adding into each input's adjoint
    /// that is `Some` in `cx.d_inputs`. `None` (the default): no emit rule.
    fn emit_backward(&self, _cx: &mut EmitCx<'_>) -> Option<()> {
        None
    }

    /// Checks `value`, a new value for input `k` (an input of the tape, so
    /// one [`Tape::set`](crate::Tape::set) can write), before it is
    /// written: `Err(reason)` refuses it. For ops that read an input as
    /// positions (`pick`'s indices), so a replay never reads out of range;
    /// their recording marks that input with
    /// [`Tape::guard`](crate::Tape::guard), and only marked inputs are
    /// checked. `cx` shows the node as recorded. By default anything goes.
    fn check_input(&self, _cx: &ForwardCx<'_>, _k: usize, _value: &[f64]) -> Result<(), String> {
        Ok(())
    }

    /// False for ops no gradient flows through (`detach`): their nodes need
    /// no gradient even when their inputs do.
    fn passes_gradient(&self) -> bool {
        true
    }

    // What the table and the backward trace print: each has a default, so
    // an op writes its name, forward, jvp, backward (and backward_var) and
    // describes itself only where it has more to say.

    /// The name with the node's parameters, as the tape's table prints it:
    /// `powi(3)`, `sum_axis(axis=0, keepdim=true)`. Default: the name.
    fn label(&self, _params: NodeParams) -> String {
        self.name().to_string()
    }

    /// The local derivative with respect to input `k`, in words, for the
    /// backward trace (`"s(1-s)"`, `"dA = dC B^T"`); `None` (the default)
    /// prints nothing.
    fn local_text(&self, _cx: &ForwardCx<'_>, _input: usize) -> Option<Cow<'static, str>> {
        None
    }

    /// The same derivative in numbers, shaped like the output, for ops where
    /// that is one number per output element (the elementwise ones).
    fn local_value(&self, _cx: &ForwardCx<'_>, _output: &[f64], _input: usize) -> Option<Tensor> {
        None
    }
}

/// An op with one shared `'static` instance, which nodes point to. Every
/// built-in op is one; so is every elementwise rule, through its generic
/// `Unary<R>` / `Binary<R>` op.
pub(crate) trait StaticOp: Op + Sized {
    /// The instance.
    const THIS: &'static Self;
    /// The handle nodes store: one thin pointer.
    const REF: OpRef = OpRef(&(Self::THIS as &'static dyn Op));
}

/// A node's handle to its op: a thin pointer to a `'static` op, so that a
/// node stays 48 bytes. Ops owned by the tape (user ops) point to
/// [`Owned`] and keep their index in the node. (Handles are never compared:
/// a constant's address can differ from one use of it to the next.)
#[derive(Clone, Copy)]
pub(crate) struct OpRef(pub &'static &'static dyn Op);

/// The per-node data an op is parameterised by: a scalar (the `c` of
/// `x + c`, the `n` of `x^n`), an axis and a flag (reductions).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub(crate) struct NodeParams {
    /// The scalar parameter.
    pub p: f64,
    /// The axis an op works along.
    pub axis: u8,
    /// Whether a reduced axis stays with extent 1.
    pub keepdim: bool,
}

impl NodeParams {
    /// Parameters holding just a scalar.
    pub fn scalar(p: f64) -> NodeParams {
        NodeParams { p, ..NodeParams::default() }
    }
}

/// What an op's forward (and its trace words) may read: the inputs'
/// values and shapes, the node's parameters and output shape.
///
/// The slices it hands out live as long as the tape's borrow (`'a`), not as
/// long as the context, so a backward rule can hold an input's value while
/// it writes a gradient.
#[derive(Clone, Copy)]
pub(crate) struct ForwardCx<'a> {
    pub(super) nodes: &'a [Node],
    pub(super) dims: &'a [usize],
    /// Values of (at least) every node recorded before this one.
    pub(super) values: &'a [f64],
    pub(super) args: &'a [u32],
    /// The node itself (its parameters and shape are read on demand, so a
    /// context costs nothing to build).
    pub(super) me: &'a Node,
}

impl<'a> ForwardCx<'a> {
    /// What the op of `me` sees: the tape's arenas (`values` holds at least
    /// every value recorded before `me`) and `me`'s inputs (`args`, from
    /// `Node::args_in`, which the caller has often read already). The one
    /// place a context is built.
    #[inline(always)]
    pub(super) fn new(
        nodes: &'a [Node],
        dims: &'a [usize],
        values: &'a [f64],
        args: &'a [u32],
        me: &'a Node,
    ) -> ForwardCx<'a> {
        ForwardCx { nodes, dims, values, args, me }
    }

    /// Number of inputs.
    pub fn arity(&self) -> usize {
        self.args.len()
    }

    /// The value of input `k`.
    #[inline(always)]
    pub fn input(&self, k: usize) -> &'a [f64] {
        &self.values[self.nodes[self.args[k] as usize].range()]
    }

    /// The shape of input `k`.
    #[inline]
    pub fn shape(&self, k: usize) -> &'a [usize] {
        self.nodes[self.args[k] as usize].shape_in(self.dims)
    }

    /// The node's parameters.
    #[inline(always)]
    pub fn params(&self) -> NodeParams {
        self.me.params()
    }

    /// The shape of the node's output.
    #[inline(always)]
    pub fn out_shape(&self) -> &'a [usize] {
        self.me.shape_in(self.dims)
    }
}

/// What an op's backward may read and write: everything [`ForwardCx`]
/// shows, the node's output and upstream gradient, and the gradient slots
/// of the inputs that need one.
pub(crate) struct BackwardCx<'a> {
    pub(super) fwd: ForwardCx<'a>,
    pub(super) output: &'a [f64],
    pub(super) upstream: &'a [f64],
    /// Every gradient slot below this node's.
    pub(super) grads: &'a mut [f64],
    /// A reusable buffer, for rules that need room (broadcasting).
    pub(super) scratch: &'a mut Vec<f64>,
}

/// A backward rule reads the inputs, shapes and parameters as the forward
/// saw them straight through its context (`cx.input(0)`, `cx.params()`).
impl<'a> std::ops::Deref for BackwardCx<'a> {
    type Target = ForwardCx<'a>;
    #[inline(always)]
    fn deref(&self) -> &ForwardCx<'a> {
        &self.fwd
    }
}

impl<'a> BackwardCx<'a> {
    /// The inputs, shapes and parameters, as the forward saw them (also
    /// reached through `Deref`: `cx.input(0)`).
    #[inline]
    pub fn fwd(&self) -> &ForwardCx<'a> {
        &self.fwd
    }

    /// The node's value.
    #[inline]
    pub fn output(&self) -> &'a [f64] {
        self.output
    }

    /// d(loss)/d(this node), shaped like the output.
    #[inline]
    pub fn upstream(&self) -> &'a [f64] {
        self.upstream
    }

    /// The gradient slot of input `k`, to add into; `None` when that input
    /// needs no gradient (a constant), so the rule can skip its work. When
    /// two inputs are the same node (`x * x`), both return the same slot:
    /// take them one after the other.
    #[inline]
    pub fn grad_mut(&mut self, k: usize) -> Option<&mut [f64]> {
        let n = &self.fwd.nodes[self.fwd.args[k] as usize];
        n.grad_range().map(|r| &mut self.grads[r])
    }

    /// [`BackwardCx::grad_mut`] together with a scratch buffer of `len`
    /// elements (contents unspecified), reused from sweep to sweep.
    pub fn grad_and_scratch(&mut self, k: usize, len: usize) -> Option<(&mut [f64], &mut [f64])> {
        let n = &self.fwd.nodes[self.fwd.args[k] as usize];
        let r = n.grad_range()?;
        if self.scratch.len() < len {
            self.scratch.resize(len, 0.0);
        }
        Some((&mut self.grads[r], &mut self.scratch[..len]))
    }
}

/// What an op's tangent rule may read: everything [`ForwardCx`] shows, the
/// node's output, and the tangents of its inputs.
pub(crate) struct TangentCx<'a> {
    pub(super) fwd: ForwardCx<'a>,
    pub(super) output: &'a [f64],
    /// Tangents of every node recorded before this one, laid out like the
    /// values (a node's tangent sits at its value's range).
    pub(super) tangents: &'a [f64],
    /// Which of those nodes carry a tangent (seeded, or fed by a seed).
    pub(super) live: &'a [bool],
}

/// A tangent rule reads the inputs, shapes and parameters as the forward
/// saw them straight through its context (`cx.input(0)`, `cx.params()`).
impl<'a> std::ops::Deref for TangentCx<'a> {
    type Target = ForwardCx<'a>;
    #[inline(always)]
    fn deref(&self) -> &ForwardCx<'a> {
        &self.fwd
    }
}

impl<'a> TangentCx<'a> {
    /// The inputs, shapes and parameters, as the forward saw them (also
    /// reached through `Deref`: `cx.input(0)`).
    #[inline]
    pub fn fwd(&self) -> &ForwardCx<'a> {
        &self.fwd
    }

    /// The node's value.
    #[inline]
    pub fn output(&self) -> &'a [f64] {
        self.output
    }

    /// The tangent of input `k`, shaped like it; `None` when no seeded
    /// tangent flows into it (its tangent is zero and the rule skips it).
    #[inline]
    pub fn tangent(&self, k: usize) -> Option<&'a [f64]> {
        let i = self.fwd.args[k] as usize;
        self.live[i].then(|| &self.tangents[self.fwd.nodes[i].range()])
    }
}

/// What an op's differentiable backward may use: its inputs and output as
/// `Var`s (to record new ops on), its parameters, and which inputs need a
/// gradient. Built while the tape is not borrowed, so a rule records freely.
pub(crate) struct VarCx<'t> {
    pub(super) inputs: SmallVec<[Var<'t>; 4]>,
    pub(super) needs: SmallVec<[bool; 4]>,
    pub(super) output: Var<'t>,
    pub(super) params: NodeParams,
}

impl<'t> VarCx<'t> {
    /// Input `k`.
    pub fn input(&self, k: usize) -> Var<'t> {
        self.inputs[k]
    }

    /// Number of inputs.
    pub fn arity(&self) -> usize {
        self.inputs.len()
    }

    /// The node itself.
    pub fn output(&self) -> Var<'t> {
        self.output
    }

    /// The node's parameters.
    pub fn params(&self) -> NodeParams {
        self.params
    }

    /// True when input `k` needs a gradient.
    pub fn needs_grad(&self, k: usize) -> bool {
        self.needs[k]
    }
}

/// The tape's own ops: its inputs. Their values are copied in, not
/// computed, and they have no inputs, so forward and backward do nothing.
pub(crate) struct Leaf;
/// An input with no gradient.
pub(crate) struct Constant;
/// Stands for an op owned by the tape (a user op); see [`OpRef`].
pub(crate) struct Owned;

macro_rules! input_op {
    ($ty:ident, $name:literal, $passes:literal) => {
        impl Op for $ty {
            fn name(&self) -> &'static str {
                $name
            }
            fn forward(&self, _: &ForwardCx<'_>, _: &mut [f64]) {}
            /// Inputs have no inputs: their tangent is the seed, if any.
            fn jvp(&self, _: &TangentCx<'_>, _: &mut [f64]) -> Result<(), TangentError> {
                Ok(())
            }
            fn backward(&self, _: &mut BackwardCx<'_>) {}
            fn backward_var<'t>(&self, _: &VarCx<'t>, _: Var<'t>) -> Option<VarGrads<'t>> {
                Some(VarGrads::new()) // no inputs
            }
            fn passes_gradient(&self) -> bool {
                $passes
            }
        }
        impl StaticOp for $ty {
            const THIS: &'static Self = &$ty;
        }
    };
}
// Whether an input gets a gradient slot is whether its op passes one.
input_op!(Leaf, "leaf", true);
input_op!(Constant, "constant", false);
input_op!(Owned, "owned", true);
