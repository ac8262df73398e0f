//! The differentiable backward (PyTorch's `create_graph=True`).
//!
//! The same reverse sweep as `backward`, but each node hands its adjoint on
//! through its op's [`Op::backward_var`](super::Op::backward_var): the VJP
//! written with tape ops. The gradients are then ordinary `Var`s on the same
//! tape, recorded after the output, and can be differentiated again:
//! gradients of gradients to any order, Hessian-vector products, gradient
//! penalties, mixed partials. The recorded backward shows in the tape's
//! table and in traces like any other nodes.
//!
//! The plain [`Var::backward`] is untouched by this: it never records.

use super::op::{Op, VarCx};
use super::{BackwardError, Node, Tape, Var};
use crate::tensor::{Shape, ShapeError, Tensor};
use smallvec::SmallVec;
use std::fmt;
use std::sync::Arc;

/// Why a differentiable backward could not run.
///
/// ```
/// use tapegrad::{Tape, Tensor, HigherOrderError, ops::custom::CustomOp};
/// struct Double; // with a plain backward only
/// impl CustomOp for Double {
///     fn name(&self) -> &'static str { "double" }
///     fn forward(&self, x: &[Tensor]) -> Tensor { x[0].scale(2.0) }
///     fn backward(&self, _: &[Tensor], _: &Tensor, g: &Tensor) -> Vec<Tensor> { vec![g.scale(2.0)] }
/// }
/// let tape = Tape::new();
/// let x = tape.scalar(3.0);
/// let err = tape.custom(Double, &[x]).grad_graph().unwrap_err();
/// assert!(err.to_string().starts_with("custom op double is not twice differentiable"));
/// assert!(matches!(err, HigherOrderError::NotTwiceDifferentiable { custom: true, .. }));
/// ```
#[derive(Clone, Debug, PartialEq)]
pub enum HigherOrderError {
    /// The output or seed does not fit (as for [`Var::try_backward`]).
    Backward(BackwardError),
    /// An op on the path has no differentiable backward.
    NotTwiceDifferentiable {
        /// The node whose op stopped the sweep.
        node: usize,
        /// The op's name.
        op: &'static str,
        /// True for a user's [`CustomOp`](crate::ops::custom::CustomOp).
        custom: bool,
    },
    /// The seed belongs to another tape.
    Operand(ShapeError),
    /// A direction (`hvp`'s `v`) or cotangent does not have its input's shape.
    Shape {
        /// Which input (or output, for a cotangent).
        input: usize,
        /// The shape it must have.
        expected: Shape,
        /// The shape it has.
        got: Shape,
    },
}

impl fmt::Display for HigherOrderError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HigherOrderError::Backward(e) => e.fmt(f),
            HigherOrderError::Operand(e) => e.fmt(f),
            HigherOrderError::NotTwiceDifferentiable { node, op, custom: true } => write!(
                f,
                "custom op {op} is not twice differentiable (node {node}): implement \
                 CustomOp::backward_var with tape ops to take gradients of its gradient"
            ),
            HigherOrderError::NotTwiceDifferentiable { node, op, custom: false } => write!(
                f,
                "op {op} is not twice differentiable (node {node}): its elementwise rule gives no \
                 derivative as tape ops (UnaryFn::df_var, or BinaryFn::da_var and db_var)"
            ),
            HigherOrderError::Shape { input, expected, got } => write!(
                f,
                "input {input} has shape {:?}, but the direction given for it has shape {:?}",
                expected.as_slice(),
                got.as_slice()
            ),
        }
    }
}

impl std::error::Error for HigherOrderError {}

impl From<BackwardError> for HigherOrderError {
    fn from(e: BackwardError) -> Self {
        HigherOrderError::Backward(e)
    }
}

/// Gradients as `Var`s on the tape (from [`Var::grad_graph`]): each can be
/// computed with, reduced and differentiated again.
///
/// ```
/// let tape = tapegrad::Tape::new();
/// let x = tape.scalar(2.0);
/// let y = x.powi(3);
/// let dy = y.grad_graph().unwrap().wrt(x); // 3x^2, a Var
/// assert_eq!(dy.item(), 12.0);
/// let d2y = dy.backward().wrt(x).item(); // 6x
/// assert_eq!(d2y, 12.0);
/// ```
pub struct GradGraph<'t> {
    tape: &'t Tape,
    /// The adjoint of every node up to the output, when it has one.
    adj: Vec<Option<Var<'t>>>,
}

impl<'t> GradGraph<'t> {
    /// d(output)/d(v) as a `Var` shaped like `v`. A node the output does
    /// not depend on (or a constant, or a node recorded after the output)
    /// gets a constant zero.
    ///
    /// # Panics
    /// If `v` belongs to another tape.
    ///
    /// ```
    /// let tape = tapegrad::Tape::new();
    /// let (a, b) = (tape.scalar(1.5), tape.scalar(4.0));
    /// let g = (a * a).grad_graph().unwrap();
    /// assert_eq!((g.wrt(a).item(), g.wrt(b).item()), (3.0, 0.0));
    /// ```
    pub fn wrt(&self, v: Var<'t>) -> Var<'t> {
        self.try_get(v).unwrap_or_else(|| self.tape.constant(Tensor::zeros(&v.shape())))
    }

    /// Like [`GradGraph::wrt`], but `None` where the gradient is zero
    /// because nothing flows to `v` (no constant is recorded).
    ///
    /// ```
    /// let tape = tapegrad::Tape::new();
    /// let (a, b) = (tape.scalar(1.5), tape.scalar(4.0));
    /// let g = a.exp().grad_graph().unwrap();
    /// assert!(g.try_get(a).is_some() && g.try_get(b).is_none());
    /// ```
    pub fn try_get(&self, v: Var<'t>) -> Option<Var<'t>> {
        assert!(std::ptr::eq(self.tape, v.tape), "wrt: node {} belongs to another tape than these gradients", v.idx);
        self.adj.get(v.index()).copied().flatten()
    }
}

impl fmt::Debug for GradGraph<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.adj.iter().filter(|a| a.is_some()).count();
        write!(f, "GradGraph({n} of {} nodes have a gradient)", self.adj.len())
    }
}

impl<'t> Var<'t> {
    /// The differentiable backward of this one-element output: its
    /// gradients as `Var`s recorded on the tape (PyTorch's
    /// `backward(create_graph=True)`), which can be differentiated again.
    /// Gradients of the same values as [`Var::backward`], computed with the
    /// same arithmetic where the ops allow (elementwise rules, reductions).
    ///
    /// Every built-in op supports it; a user's elementwise rule needs
    /// `df_var` (or `da_var`, `db_var`), a user's `CustomOp` needs
    /// `backward_var`, else this is an error naming the op.
    ///
    /// ```
    /// // sin'' = -sin
    /// let tape = tapegrad::Tape::new();
    /// let x = tape.scalar(0.5);
    /// let dx = x.sin().grad_graph().unwrap().wrt(x);
    /// assert_eq!(dx.backward().wrt(x).item(), -(0.5f64.sin()));
    /// ```
    pub fn grad_graph(self) -> Result<GradGraph<'t>, HigherOrderError> {
        if self.len() != 1 {
            return Err(BackwardError::NotScalar { node: self.index(), shape: self.shape() }.into());
        }
        let seed = self.tape.constant(Tensor::ones(&self.shape()));
        sweep_var(self, seed)
    }

    /// The differentiable vector-Jacobian product: gradients of
    /// `sum(seed * self)` as `Var`s. The seed is a `Var`; when it needs a
    /// gradient itself, the result can be differentiated with respect to it
    /// too.
    ///
    /// ```
    /// use tapegrad::{Tape, Tensor};
    /// let tape = Tape::new();
    /// let x = tape.var(Tensor::from_vec(vec![1.0, 2.0], &[2]));
    /// let seed = tape.constant(Tensor::from_vec(vec![1.0, 10.0], &[2]));
    /// let g = (x * x).grad_graph_with(seed).unwrap().wrt(x);
    /// assert_eq!(g.value().data(), &[2.0, 40.0]);
    /// ```
    pub fn grad_graph_with(self, seed: Var<'t>) -> Result<GradGraph<'t>, HigherOrderError> {
        self.tape.try_same_tape("grad_graph_with", &[self, seed]).map_err(HigherOrderError::Operand)?;
        let (shape, got) = (self.shape(), seed.shape());
        if shape != got {
            return Err(BackwardError::SeedShape { expected: shape, got }.into());
        }
        sweep_var(self, seed)
    }
}

/// An op as the sweep holds it while the tape is not borrowed.
enum Held {
    Static(&'static dyn Op),
    Owned(Arc<dyn Op>),
}

/// The reverse sweep over the nodes up to `output`, each node's VJP
/// recorded as tape ops. The nodes it records lie after `output`, so they
/// are not visited.
fn sweep_var<'t>(output: Var<'t>, seed: Var<'t>) -> Result<GradGraph<'t>, HigherOrderError> {
    let tape = output.tape;
    let mut adj: Vec<Option<Var<'t>>> = vec![None; output.index() + 1];
    if output.requires_grad() {
        adj[output.index()] = Some(seed);
    }
    for i in (0..=output.idx).rev() {
        let Some(upstream) = adj[i as usize] else { continue };
        // Read what the rule needs under a short borrow: the rule records.
        let (op, cx, custom) = {
            let inner = tape.inner.borrow();
            let node: &Node = &inner.nodes[i as usize];
            if !node.needs_grad() {
                continue;
            }
            let args = node.args_in(&inner.spill);
            let inputs: SmallVec<[Var<'t>; 4]> = args.iter().map(|&a| Var { tape, idx: a }).collect();
            let needs = args.iter().map(|&a| inner.nodes[a as usize].needs_grad()).collect();
            let custom = node.is_owned();
            let op = if custom {
                Held::Owned(Arc::clone(&inner.owned[node.aux as usize]))
            } else {
                Held::Static(*node.op.0)
            };
            (op, VarCx { inputs, needs, output: Var { tape, idx: i }, params: node.params() }, custom)
        };
        let op: &dyn Op = match &op {
            Held::Static(op) => *op,
            Held::Owned(op) => &**op,
        };
        let grads = op.backward_var(&cx, upstream).ok_or(HigherOrderError::NotTwiceDifferentiable {
            node: i as usize,
            op: op.name(),
            custom,
        })?;
        for (k, g) in grads.into_iter().enumerate() {
            let (Some(g), true) = (g, cx.needs_grad(k)) else { continue };
            let x = cx.input(k);
            // A rule returning the wrong shape is a bug in that rule: say which.
            let (gs, xs) = (g.shape(), x.shape());
            assert!(gs == xs, "{}: backward_var gave input {k} a gradient of shape {gs:?}, not {xs:?}", op.name());
            let slot = &mut adj[x.index()];
            // Added in the order the plain sweep adds, so the sums match it.
            *slot = Some(match *slot {
                None => g,
                Some(acc) => acc + g,
            });
        }
    }
    Ok(GradGraph { tape, adj })
}
