//! The forward (tangent) sweep: forward-mode differentiation over the tape.
//!
//! Given tangents (directions) for some nodes, usually inputs, one sweep in
//! recording order gives every later node's directional derivative: each
//! node's op pushes its inputs' tangents through its Jacobian
//! ([`Op::jvp`](super::Op)), a Jacobian-vector product. Where `backward`
//! gives one output's gradient with respect to every input (a row of the
//! Jacobian per sweep), this gives every output's derivative along one
//! input direction (a column per sweep).
//!
//! Tangents are laid out like the values (a node's tangent sits at its
//! value's range), in a buffer the tape keeps from sweep to sweep. Only
//! nodes a seeded tangent flows into run their rule; every other tangent is
//! zero, and costs no rule (so a user op without a tangent rule off that
//! path is no error, and `0 * inf` off that path makes no NaN).

use super::op::{ForwardCx, TangentCx};
use super::tangent_error::TangentError;
use super::{Tape, Var};
use crate::tensor::{Shape, Tensor};
use std::fmt;

impl<'t> Var<'t> {
    /// Forward mode: the directional derivative of this node (any shape)
    /// when the given nodes move along the given tangents (every other
    /// input stays put), i.e. the Jacobian-vector product `J t`. The
    /// spirit of `torch.func.jvp`; one forward sweep, whatever the number
    /// of outputs.
    ///
    /// A tangent may be given for any node, not only an input: that node's
    /// tangent is then the one given (its own rule is not run), which is
    /// the derivative with that node moved on its own.
    ///
    /// ```
    /// use tapegrad::{Tape, Tensor};
    /// let tape = Tape::new();
    /// let x = tape.var(Tensor::from_vec(vec![1.0, 2.0], &[2]));
    /// let w = tape.var(Tensor::from_vec(vec![3.0, 4.0], &[2]));
    /// let y = x * w;
    /// // d(x w) = dx w + x dw
    /// let dx = Tensor::from_vec(vec![1.0, 0.0], &[2]);
    /// let dw = Tensor::from_vec(vec![0.0, 10.0], &[2]);
    /// assert_eq!(y.jvp(&[(x, &dx), (w, &dw)]).unwrap().data(), &[3.0, 20.0]);
    /// ```
    pub fn jvp(self, tangents: &[(Var<'t>, &Tensor)]) -> Result<Tensor, TangentError> {
        Ok(self.tangents(tangents)?.of(self))
    }

    /// Forward mode, keeping every node's tangent up to this one (read them
    /// with [`Tangents::of`]): the forward twin of [`Var::backward`].
    ///
    /// ```
    /// use tapegrad::{Tape, Tensor};
    /// let tape = Tape::new();
    /// let x = tape.scalar(2.0);
    /// let h = x * x;       // dh = 2x dx
    /// let y = h.sin();     // dy = cos(h) dh
    /// let t = y.tangents(&[(x, &Tensor::scalar(1.0))]).unwrap();
    /// assert_eq!(t.of(h).item(), 4.0);
    /// assert_eq!(t.of(y).item(), 4.0f64.cos() * 4.0);
    /// ```
    pub fn tangents(self, tangents: &[(Var<'t>, &Tensor)]) -> Result<Tangents<'t>, TangentError> {
        tangent_sweep(self, tangents)
    }
}

/// The forward sweep: seed the given nodes, then walk the tape in recording
/// order up to `output`; a node carries a tangent when one of its inputs
/// does (and its op passes derivatives: not `detach`).
fn tangent_sweep<'t>(output: Var<'t>, seeds: &[(Var<'t>, &Tensor)]) -> Result<Tangents<'t>, TangentError> {
    let tape = output.tape;
    let inner = tape.inner.borrow();
    let last = output.index();
    let mut buf = tape.spare_tangents.take();
    buf.clear();
    buf.resize(inner.nodes[last].range().end, 0.0);
    let mut live = tape.spare_live.take();
    live.clear();
    live.resize(last + 1, false);
    // Seeded nodes keep their tangent: remember which they are (the flag
    // in `live` alone cannot say, since computed nodes set it too).
    let mut seeded: smallvec::SmallVec<[usize; 8]> = smallvec::SmallVec::new();
    let give_back = |buf: Vec<f64>, live: Vec<bool>| {
        *tape.spare_tangents.borrow_mut() = buf;
        *tape.spare_live.borrow_mut() = live;
    };
    for (v, t) in seeds {
        let node = v.index();
        if !std::ptr::eq(v.tape, tape) {
            give_back(buf, live);
            return Err(TangentError::OtherTape { node });
        }
        let shape = inner.shape(v.idx);
        if shape != t.shape() {
            let err =
                TangentError::Shape { node, expected: Shape::from_slice(shape), got: Shape::from_slice(t.shape()) };
            give_back(buf, live);
            return Err(err);
        }
        if seeded.contains(&node) {
            give_back(buf, live);
            return Err(TangentError::Repeated { node });
        }
        seeded.push(node);
        if node <= last {
            // A node recorded after the output cannot move it.
            buf[inner.nodes[node].range()].copy_from_slice(t.data());
            live[node] = true;
        }
    }
    for i in 0..=last {
        let node = &inner.nodes[i];
        let args = node.args_in(&inner.spill);
        if live[i] || !args.iter().any(|&a| live[a as usize]) {
            continue; // seeded, or nothing seeded flows in: keep it (zero unless seeded)
        }
        let op = node.op_in(&inner.owned);
        if !op.passes_gradient() {
            continue; // detach: a constant, whatever its input does
        }
        let (below, this_and_above) = buf.split_at_mut(node.start as usize);
        let fwd = ForwardCx::new(&inner.nodes, &inner.dims, &inner.values, args, node);
        let cx = TangentCx { fwd, output: &inner.values[node.range()], tangents: below, live: &live };
        if let Err(e) = op.jvp(&cx, &mut this_and_above[..node.len as usize]) {
            give_back(buf, live);
            return Err(e);
        }
        live[i] = true;
    }
    *tape.spare_live.borrow_mut() = live;
    Ok(Tangents { tape, buf, covered: output.idx + 1 })
}

/// The result of a forward sweep: the tangent (directional derivative) of
/// every node up to the output. Dropping it hands its buffer back to the
/// tape, so the next sweep reuses it.
///
/// ```
/// use tapegrad::{Tape, Tensor};
/// let tape = Tape::new();
/// let x = tape.var(Tensor::from_vec(vec![0.0, 1.0], &[2]));
/// let y = x.exp().sum();
/// let t = y.tangents(&[(x, &Tensor::ones(&[2]))]).unwrap();
/// assert_eq!(t.of(y).item(), 1.0 + 1f64.exp()); // sum of e^x_i dx_i
/// ```
pub struct Tangents<'t> {
    tape: &'t Tape,
    /// Tangents laid out like the tape's values.
    buf: Vec<f64>,
    /// Nodes `0..covered` have a tangent.
    covered: u32,
}

impl<'t> Tangents<'t> {
    /// The tangent of `v`, shaped like `v`: zero for nodes no seeded
    /// tangent flows into, and for nodes recorded after the output.
    ///
    /// # Panics
    /// If `v` belongs to another tape.
    ///
    /// ```
    /// use tapegrad::{Tape, Tensor};
    /// let tape = Tape::new();
    /// let (a, b) = (tape.scalar(1.0), tape.scalar(2.0));
    /// let y = a * 3.0 + b;
    /// let t = y.tangents(&[(a, &Tensor::scalar(1.0))]).unwrap();
    /// assert_eq!((t.of(y).item(), t.of(b).item()), (3.0, 0.0));
    /// ```
    pub fn of(&self, v: Var<'t>) -> Tensor {
        assert!(std::ptr::eq(self.tape, v.tape), "tangent: node {} belongs to another tape than these tangents", v.idx);
        let inner = self.tape.inner.borrow();
        let shape = inner.shape(v.idx);
        if v.idx >= self.covered {
            return Tensor::zeros(shape);
        }
        Tensor::from_vec(self.buf[inner.nodes[v.index()].range()].to_vec(), shape)
    }

    /// Number of nodes that have a tangent (the output and everything
    /// recorded before it).
    ///
    /// ```
    /// let tape = tapegrad::Tape::new();
    /// let x = tape.scalar(1.0);
    /// let t = x.exp().tangents(&[(x, &tapegrad::Tensor::scalar(1.0))]).unwrap();
    /// assert_eq!(t.len(), 2);
    /// ```
    pub fn len(&self) -> usize {
        self.covered as usize
    }

    /// True when no node has a tangent (never, in practice).
    pub fn is_empty(&self) -> bool {
        self.covered == 0
    }
}

impl Drop for Tangents<'_> {
    fn drop(&mut self) {
        let mut spare = self.tape.spare_tangents.borrow_mut();
        if self.buf.capacity() > spare.capacity() {
            *spare = std::mem::take(&mut self.buf);
        }
    }
}

impl fmt::Debug for Tangents<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Tangents({} nodes, {} values)", self.covered, self.buf.len())
    }
}

/// Test hook: node `i`'s tangent rule run again on the tangents of `t`
/// (every earlier node read as carrying one), into `out` as given, not
/// zeroed: the op registry's test of the "adds" contract of `Op::jvp`.
#[cfg(test)]
pub(crate) fn rerun_jvp(t: &Tangents<'_>, i: usize, out: &mut [f64]) -> Result<(), TangentError> {
    let inner = t.tape.inner.borrow();
    let node = &inner.nodes[i];
    let live = vec![true; i];
    let (fwd, output, tangents) =
        (inner.forward_cx(i as u32), &inner.values[node.range()], &t.buf[..node.start as usize]);
    let cx = TangentCx { fwd, output, tangents, live: &live };
    node.op_in(&inner.owned).jvp(&cx, out)
}

#[cfg(test)]
mod tests {
    use super::TangentError;
    use crate::{Tape, Tensor};

    #[test]
    fn bad_tangents_are_errors_naming_the_node() {
        let tape = Tape::new();
        let other = Tape::new();
        let x = tape.var(Tensor::ones(&[2]));
        let y = x.exp().sum();
        let o = other.scalar(1.0);
        assert_eq!(y.jvp(&[(o, &Tensor::scalar(1.0))]).unwrap_err(), TangentError::OtherTape { node: 0 });
        let one = Tensor::ones(&[2]);
        assert_eq!(y.jvp(&[(x, &one), (x, &one)]).unwrap_err(), TangentError::Repeated { node: 0 });
        let err = y.jvp(&[(x, &Tensor::ones(&[2, 1]))]).unwrap_err();
        assert!(err.to_string().contains("node 0 has shape [2, 1] but the node has shape [2]"), "{err}");
        // After errors, the sweep still works and reuses its buffer.
        assert_eq!(y.jvp(&[(x, &one)]).unwrap().item(), 2.0 * 1f64.exp());
    }

    #[test]
    fn a_seeded_intermediate_keeps_its_tangent_and_unseeded_nodes_are_zero() {
        let tape = Tape::new();
        let x = tape.scalar(2.0);
        let c = tape.constant(Tensor::scalar(5.0));
        let h = x * x; // seeded directly: its rule (2x dx) is not run
        let y = h * c + x;
        let t = y.tangents(&[(h, &Tensor::scalar(1.0))]).unwrap();
        assert_eq!((t.of(y).item(), t.of(x).item(), t.of(c).item()), (5.0, 0.0, 0.0));
        // Matches reverse mode's d y / d h, which also holds x fixed.
        assert_eq!(y.backward().wrt(h).item(), 5.0);
        // A node recorded after the output has a zero tangent.
        let later = x.exp();
        assert_eq!(t.of(later).item(), 0.0);
    }

    #[test]
    fn no_nan_from_off_path_nodes() {
        // sqrt(c) at c = 0 has an infinite derivative; c is a constant, so its
        // tangent is skipped, not multiplied: d(x + sqrt(c)) = dx, not NaN.
        let tape = Tape::new();
        let x = tape.scalar(1.0);
        let c = tape.constant(Tensor::scalar(0.0));
        let y = x * c.sqrt() + x;
        assert_eq!(y.jvp(&[(x, &Tensor::scalar(1.0))]).unwrap().item(), 1.0);
    }
}
