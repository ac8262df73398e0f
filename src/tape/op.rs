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
//! Room for what comes next, on the same trait (not implemented yet; see
//! docs/DESIGN.md): a forward-mode rule
//! `fn jvp(&self, cx: &TangentCx<'_>, out_tangent: &mut [f64])`, and a
//! differentiable backward written with tape ops,
//! `fn backward_var<'t>(&self, cx: &VarCx<'t>, upstream: Var<'t>) -> SmallVec<[Option<Var<'t>>; 4]>`,
//! each with a default that says "this op has none yet".

use super::Node;
use crate::tensor::Tensor;
use std::borrow::Cow;

/// Everything the tape knows an op by.
///
/// `Send + Sync + 'static`: stateless ops are shared `static`s, and a tape
/// holding user ops can move to another thread.
pub(crate) trait Op: Send + Sync + 'static {
    /// The op's name, as errors and tables print it (`"sigmoid"`).
    fn name(&self) -> &'static str;

    /// The name with the node's parameters, as the tape's table prints it:
    /// `powi(3)`, `sum_axis(axis=0, keepdim=true)`.
    fn label(&self, _params: NodeParams) -> String {
        self.name().to_string()
    }

    /// Computes the node's value from its inputs' into `out` (the node's
    /// slot, already sized by its shape). Recording calls it once; a replay
    /// of the tape would call it again with new input values.
    fn forward(&self, cx: &ForwardCx<'_>, out: &mut [f64]);

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

    /// False for ops no gradient flows through (`detach`): their nodes need
    /// no gradient even when their inputs do.
    fn passes_gradient(&self) -> bool {
        true
    }

    /// The local derivative with respect to input `k`, in words, for the
    /// backward trace (`"s(1-s)"`, `"dA = dC B^T"`); `None` prints nothing.
    fn local_text(&self, cx: &ForwardCx<'_>, input: usize) -> Option<Cow<'static, str>>;

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

impl<'a> BackwardCx<'a> {
    /// The inputs, shapes and parameters, as the forward saw them.
    #[inline]
    pub fn fwd(&self) -> &ForwardCx<'a> {
        &self.fwd
    }

    /// The value of input `k`.
    #[inline]
    pub fn input(&self, k: usize) -> &'a [f64] {
        self.fwd.input(k)
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

/// The tape's own ops: its inputs. Their values are copied in, not
/// computed, and they have no inputs, so forward and backward do nothing.
pub(crate) struct Leaf;
/// An input with no gradient.
pub(crate) struct Constant;
/// Stands for an op owned by the tape (a user op); see [`OpRef`].
pub(crate) struct Owned;

macro_rules! input_op {
    ($ty:ident, $name:literal) => {
        impl Op for $ty {
            fn name(&self) -> &'static str {
                $name
            }
            fn forward(&self, _: &ForwardCx<'_>, _: &mut [f64]) {}
            fn backward(&self, _: &mut BackwardCx<'_>) {}
            fn local_text(&self, _: &ForwardCx<'_>, _: usize) -> Option<Cow<'static, str>> {
                None
            }
        }
        impl StaticOp for $ty {
            const THIS: &'static Self = &$ty;
        }
    };
}
input_op!(Leaf, "leaf");
input_op!(Constant, "constant");
input_op!(Owned, "owned");
