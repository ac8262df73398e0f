//! `Var`: a `Copy` handle to one node of a tape.

use super::Tape;
use crate::tensor::{Shape, Tensor};
use std::fmt;

/// A handle to a node on a [`Tape`]: the tape and the node's index.
///
/// `Var` is `Copy`, so math reads like math; arithmetic on Vars records new
/// nodes on their tape. Operators work Var-Var, Var-f64 and f64-Var.
///
/// ```
/// let tape = tapegrad::Tape::new();
/// let a = tape.scalar(2.0);
/// let f = a * a + 3.0 * a.sin() - a / 4.0;
/// let df = f.backward().wrt(a).item();
/// assert!((df - (2.0 * 2.0 + 3.0 * 2f64.cos() - 0.25)).abs() < 1e-12);
/// ```
#[derive(Clone, Copy)]
pub struct Var<'t> {
    pub(crate) tape: &'t Tape,
    pub(crate) idx: u32,
}

impl<'t> Var<'t> {
    /// The tape this Var lives on.
    pub fn tape(self) -> &'t Tape {
        self.tape
    }

    /// The node's position on the tape (its row in the tape's table).
    ///
    /// ```
    /// let tape = tapegrad::Tape::new();
    /// let a = tape.scalar(1.0);
    /// let b = a.exp();
    /// assert_eq!((a.index(), b.index()), (0, 1));
    /// ```
    pub fn index(self) -> usize {
        self.idx as usize
    }

    /// A copy of the node's value.
    ///
    /// ```
    /// let tape = tapegrad::Tape::new();
    /// let a = tape.var(tapegrad::Tensor::ones(&[2]));
    /// assert_eq!((a + 1.0).value().data(), &[2.0, 2.0]);
    /// ```
    pub fn value(self) -> Tensor {
        let inner = self.tape.inner.borrow();
        Tensor::from_vec(inner.value(self.idx).to_vec(), inner.shape(self.idx))
    }

    /// Calls `f` with the node's value as a slice, without copying it.
    ///
    /// # Panics
    /// If `f` records on the same tape (the values are borrowed meanwhile);
    /// copy the value out with [`Var::value`] for that.
    ///
    /// ```
    /// let tape = tapegrad::Tape::new();
    /// let a = tape.var(tapegrad::Tensor::ones(&[3]));
    /// assert_eq!(a.with_value(|v| v.iter().sum::<f64>()), 3.0);
    /// ```
    pub fn with_value<R>(self, f: impl FnOnce(&[f64]) -> R) -> R {
        f(self.tape.inner.borrow().value(self.idx))
    }

    /// The value of a one-element node.
    ///
    /// # Panics
    /// If the node does not hold exactly one element.
    ///
    /// ```
    /// let tape = tapegrad::Tape::new();
    /// assert_eq!(tape.scalar(2.0).exp().item(), 2f64.exp());
    /// ```
    pub fn item(self) -> f64 {
        let inner = self.tape.inner.borrow();
        let v = inner.value(self.idx);
        assert!(
            v.len() == 1,
            "item: node {} has shape {:?} ({} elements), not one element",
            self.idx,
            inner.shape(self.idx),
            v.len()
        );
        v[0]
    }

    /// The node's shape.
    ///
    /// ```
    /// let tape = tapegrad::Tape::new();
    /// assert_eq!(tape.var(tapegrad::Tensor::zeros(&[2, 5])).shape().as_slice(), &[2, 5]);
    /// ```
    pub fn shape(self) -> Shape {
        self.tape.shape_of(self.idx)
    }

    /// Number of elements.
    ///
    /// ```
    /// let tape = tapegrad::Tape::new();
    /// assert_eq!(tape.var(tapegrad::Tensor::zeros(&[2, 5])).len(), 10);
    /// ```
    pub fn len(self) -> usize {
        self.tape.inner.borrow().nodes[self.idx as usize].len as usize
    }

    /// True when the node has no elements.
    pub fn is_empty(self) -> bool {
        self.len() == 0
    }

    /// Labels the node, for printing the tape and reading gradients by name.
    /// Returns the same Var, so it chains: `tape.var(w).named("hidden.w")`.
    ///
    /// ```
    /// let tape = tapegrad::Tape::new();
    /// let w = tape.scalar(1.0).named("w");
    /// assert_eq!(w.name().as_deref(), Some("w"));
    /// ```
    pub fn named(self, name: &str) -> Var<'t> {
        let mut inner = self.tape.inner_mut("named");
        let start = inner.name_text.len();
        inner.name_text.push_str(name);
        let end = inner.name_text.len();
        inner.names.push((self.idx, start..end));
        self
    }

    /// The node's name, if it was given one.
    ///
    /// ```
    /// let tape = tapegrad::Tape::new();
    /// assert_eq!(tape.scalar(1.0).name(), None);
    /// ```
    pub fn name(self) -> Option<String> {
        self.tape.inner.borrow().name(self.idx).map(str::to_owned)
    }

    /// The name of the op that made this node (`"leaf"`, `"matmul"`, ...).
    ///
    /// ```
    /// let tape = tapegrad::Tape::new();
    /// assert_eq!(tape.scalar(1.0).sigmoid().op_name(), "sigmoid");
    /// ```
    pub fn op_name(self) -> &'static str {
        self.tape.inner.borrow().op(self.idx).name()
    }

    /// Indices of the nodes this node read, in argument order.
    ///
    /// ```
    /// let tape = tapegrad::Tape::new();
    /// let a = tape.scalar(1.0);
    /// let b = tape.scalar(2.0);
    /// assert_eq!((a * b).inputs(), vec![0, 1]);
    /// ```
    pub fn inputs(self) -> Vec<usize> {
        let inner = self.tape.inner.borrow();
        inner.args(self.idx).iter().map(|&i| i as usize).collect()
    }

    /// True when a leaf variable flows into this node, so it has a gradient.
    ///
    /// ```
    /// let tape = tapegrad::Tape::new();
    /// let x = tape.scalar(1.0);
    /// let c = tape.constant(tapegrad::Tensor::scalar(2.0));
    /// assert!((x * c).requires_grad() && !(c * c).requires_grad());
    /// ```
    pub fn requires_grad(self) -> bool {
        self.tape.inner.borrow().nodes[self.idx as usize].needs_grad()
    }
}

impl fmt::Debug for Var<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let label = self.tape.inner.borrow().label(self.idx);
        write!(f, "Var(node {}, {label}, shape {:?})", self.idx, self.shape().as_slice())
    }
}
