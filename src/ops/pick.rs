//! `pick`: one element per row, chosen by constant indices (a gather along
//! the last axis). Cross-entropy uses it to read the target's
//! log-probability without multiplying by a one-hot, which would turn a
//! non-target log-probability of -inf into `0 * -inf = NaN`.
//!
//! Forward: `y[r] = x[r, idx[r]]`. Backward: the upstream goes back to
//! exactly those positions, `grad_x[r, idx[r]] += grad_y[r]`; every other
//! element gets nothing.
//!
//! The indices are recorded as a constant node (one `f64` per row, exact
//! below 2^53) and passed as the op's second argument, so the node needs no
//! storage of its own and the tape's table shows them.

use super::Op;
use crate::tape::{Arena, Node, Var};
use crate::tensor::{ShapeError, checked_numel};

impl<'t> Var<'t> {
    /// Picks element `indices[r]` of each row `r` over the last axis: a
    /// `[n, c]` Var gives `[n]`, a `[c]` Var gives a scalar.
    ///
    /// # Panics
    /// As [`Var::try_pick`] errs.
    ///
    /// ```
    /// use tapegrad::{Tape, Tensor};
    /// let tape = Tape::new();
    /// let x = tape.var(Tensor::from_vec(vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0], &[2, 3]));
    /// let y = x.pick(&[2, 0]);
    /// assert_eq!(y.value().data(), &[3.0, 4.0]);
    /// // the gradient lands only on the picked elements
    /// assert_eq!(y.sum().backward().wrt(x).data(), &[0.0, 0.0, 1.0, 1.0, 0.0, 0.0]);
    /// ```
    pub fn pick(self, indices: &[usize]) -> Var<'t> {
        self.try_pick(indices).unwrap_or_else(|e| panic!("{e}"))
    }

    /// Like [`Var::pick`], but bad input is an error: a 0-d Var (no axis to
    /// pick along), a number of indices other than the number of rows, or
    /// an index past the last axis.
    ///
    /// ```
    /// use tapegrad::{Tape, Tensor};
    /// let tape = Tape::new();
    /// let x = tape.var(Tensor::zeros(&[2, 3]));
    /// let e = x.try_pick(&[0, 3]).unwrap_err();
    /// assert_eq!(e.to_string(), "pick: shapes [2, 3] and [2]: index 3 is out of range for an axis of 3");
    /// assert!(x.try_pick(&[0]).is_err());
    /// ```
    pub fn try_pick(self, indices: &[usize]) -> Result<Var<'t>, ShapeError> {
        let shape = self.shape();
        let err = |reason: String| ShapeError::new("pick", &[&shape, &[indices.len()]], reason);
        let Some((&c, rows_shape)) = shape.split_last() else {
            return Err(err("a 0-d value has no axis to pick along".into()));
        };
        // Counted with checks: an empty last axis leaves the rows uncountable
        // in `[1 << 40, 1 << 40, 0]`.
        let rows =
            checked_numel("pick", rows_shape).map_err(|_| err(format!("{rows_shape:?} rows are too many to count")))?;
        if indices.len() != rows {
            return Err(err(format!("{} indices for {rows} rows", indices.len())));
        }
        if let Some(&bad) = indices.iter().find(|&&i| i >= c) {
            return Err(err(format!("index {bad} is out of range for an axis of {c}")));
        }
        let tape = self.tape;
        let idx = tape.record(Op::Constant, 0.0, &[], &[rows], |_, out| {
            out.iter_mut().zip(indices).for_each(|(o, &i)| *o = i as f64);
        });
        Ok(tape.record(Op::Pick, 0.0, &[self, idx], rows_shape, |arena, out| {
            let x = arena.value(self.idx);
            for (r, (o, &i)) in out.iter_mut().zip(arena.value(idx.idx)).enumerate() {
                *o = x[r * c + i as usize];
            }
        }))
    }
}

/// Backward: `grad_x[r, idx[r]] += grad_y[r]`.
pub(crate) fn pick_backward(node: &Node, arena: &Arena<'_>, upstream: &[f64], below: &mut [f64]) {
    let [x, idx] = node.args;
    let c = arena.shape(x).last().copied().unwrap_or(1);
    let indices = arena.value(idx);
    if let Some(gx) = super::input_grad(arena, below, x) {
        for (r, (&u, &i)) in upstream.iter().zip(indices).enumerate() {
            gx[r * c + i as usize] += u;
        }
    }
}
