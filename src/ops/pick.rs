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
//! below 2^53) and passed as the op's second input, so the node needs no
//! storage of its own and the tape's table shows them. A replay reads them
//! as positions, so [`Tape::set`](crate::Tape::set) checks new indices.

use super::gather::{Put, check_indices};
use crate::tape::{
    BackwardCx, EmitCx, ForwardCx, NodeParams, Op, OutShape, StaticOp, TangentCx, TangentError, Var, VarCx, VarGrads,
};
use crate::tensor::{ShapeError, checked_numel};
use smallvec::smallvec;
use std::borrow::Cow;

/// The op: input 0 is the Var picked from, input 1 the constant indices.
pub(crate) struct Pick;

impl StaticOp for Pick {
    const THIS: &'static Self = &Pick;
}

impl Op for Pick {
    fn name(&self) -> &'static str {
        "pick"
    }

    /// `y[r] = x[r, idx[r]]`.
    fn forward(&self, cx: &ForwardCx<'_>, out: &mut [f64]) {
        let c = row_len(cx);
        let x = cx.input(0);
        for (r, (o, &i)) in out.iter_mut().zip(cx.input(1)).enumerate() {
            *o = x[r * c + i as usize];
        }
    }

    /// Linear in `x`: `dy[r] = dx[r, idx[r]]`. The indices are a constant
    /// (no tangent ever reaches them).
    fn jvp(&self, cx: &TangentCx<'_>, out: &mut [f64]) -> Result<(), TangentError> {
        let c = row_len(cx.fwd());
        if let Some(dx) = cx.tangent(0) {
            for (r, (o, &i)) in out.iter_mut().zip(cx.input(1)).enumerate() {
                *o += dx[r * c + i as usize];
            }
        }
        Ok(())
    }

    /// `grad_x[r, idx[r]] += grad_y[r]`; the indices get no gradient.
    fn backward(&self, cx: &mut BackwardCx<'_>) {
        let c = row_len(cx.fwd());
        let (indices, upstream) = (cx.input(1), cx.upstream());
        if let Some(gx) = cx.grad_mut(0) {
            for (r, (&u, &i)) in upstream.iter().zip(indices).enumerate() {
                gx[r * c + i as usize] += u;
            }
        }
    }

    /// A new value of the indices (a [`Tape::set`](crate::Tape::set)):
    /// positions in a row.
    fn check_input(&self, cx: &ForwardCx<'_>, k: usize, value: &[f64]) -> Result<(), String> {
        if k == 1 { check_indices(value, row_len(cx)) } else { Ok(()) }
    }

    /// `scatter_add` of `dY` along the last axis at the index node (input
    /// 1, read on the tape: a replay after [`Tape::set`](crate::Tape::set)
    /// of new indices moves the gradient with them).
    fn backward_var<'t>(&self, cx: &VarCx<'t>, upstream: Var<'t>) -> Option<VarGrads<'t>> {
        let x = cx.input(0);
        let shape = x.shape();
        let mut rows = upstream.shape();
        rows.push(1); // one index per row, as gather's index shape
        let params = NodeParams { axis: (shape.len() - 1) as u8, ..NodeParams::default() };
        let g = x.tape().push::<Put<true>>(
            params,
            &[upstream.reshape(&rows), cx.input(1).reshape(&rows)],
            OutShape::Given(&shape),
        );
        Some(smallvec![Some(g), None])
    }

    /// `y[r] = x[r * c + idx[r]]`, reading the indices from their node
    /// (a constant array in the code, or a parameter) as `forward` does.
    fn emit_forward(&self, cx: &mut EmitCx<'_>) -> Option<()> {
        let (x, idx, c) = (cx.inputs[0].clone(), cx.inputs[1].clone(), emit_row_len(cx));
        cx.declare_out();
        let y = cx.out.clone();
        cx.each(y.len(), |r| format!("{} = {};", y.at(r), x.at(&format!("{r} * {c} + {} as usize", idx.at(r)))));
        Some(())
    }

    /// `d_x[r * c + idx[r]] += d_y[r]`, as `backward`.
    fn emit_backward(&self, cx: &mut EmitCx<'_>) -> Option<()> {
        let Some(dx) = cx.d_inputs[0].clone() else { return Some(()) };
        let (idx, dy, c) = (cx.inputs[1].clone(), cx.d_out?.clone(), emit_row_len(cx));
        cx.each(dy.len(), |r| format!("{} += {};", dx.at(&format!("{r} * {c} + {} as usize", idx.at(r))), dy.at(r)));
        Some(())
    }

    fn local_text(&self, _: &ForwardCx<'_>, input: usize) -> Option<Cow<'static, str>> {
        (input == 0).then_some("dY[r] to the picked X[r, idx[r]], 0 elsewhere".into())
    }
}

/// The length of the last axis of the input (the row picked from).
fn row_len(cx: &ForwardCx<'_>) -> usize {
    cx.shape(0).last().copied().unwrap_or(1)
}

/// [`row_len`] for the emit rules.
fn emit_row_len(cx: &EmitCx<'_>) -> usize {
    cx.inputs[0].shape.last().copied().unwrap_or(1)
}

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
        let idx = tape.try_constant_with(&[rows], |out| {
            out.iter_mut().zip(indices).for_each(|(o, &i)| *o = i as f64);
        })?;
        tape.guard(idx);
        tape.try_push::<Pick>(NodeParams::default(), &[self, idx], OutShape::Given(rows_shape))
    }
}

use super::registry::{Checks, OpCase};

/// This file's cases in the op registry (see [`super::registry`]).
pub(crate) const CASES: &[OpCase] = &[
    // One element per row: a NaN elsewhere rightly goes nowhere.
    OpCase::unary("pick", |v| v[0].pick(&[2, 0])).checks(Checks::NO_NAN),
];

#[cfg(test)]
mod tests {
    use crate::{Tape, Tensor};

    #[test]
    fn pick_matches_its_closed_form() {
        // y = x[r, idx[r]]; d sum(w * y)/dx[r, j] = w[r] when j = idx[r], else 0.
        let tape = Tape::new();
        let x = tape.var(Tensor::from_vec(vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0], &[2, 3]));
        let w = tape.constant(Tensor::from_vec(vec![10.0, -1.0], &[2]));
        let y = x.pick(&[1, 2]);
        assert_eq!(y.value().data(), &[2.0, 6.0]);
        let g = (y * w).sum().backward();
        assert_eq!(g.wrt(x).data(), &[0.0, 10.0, 0.0, 0.0, 0.0, -1.0]);
        // Forward mode picks the tangent's elements the same way.
        let dx = Tensor::from_vec(vec![0.1, 0.2, 0.3, 0.4, 0.5, 0.6], &[2, 3]);
        assert_eq!(y.jvp(&[(x, &dx)]).unwrap().data(), &[0.2, 0.6]);
    }

    #[test]
    fn a_picked_index_twice_over_rows_and_a_1d_pick() {
        let tape = Tape::new();
        let x = tape.var(Tensor::from_vec(vec![7.0, 8.0, 9.0], &[3]));
        let y = x.pick(&[2]);
        assert_eq!((y.shape().as_slice(), y.item()), (&[][..], 9.0));
        // picked twice through two nodes: the contributions add up
        let g = (y + x.pick(&[2])).backward();
        assert_eq!(g.wrt(x).data(), &[0.0, 0.0, 2.0]);
    }

    /// The differentiable backward reads the index node on the tape, so a
    /// `set` of new indices and a `replay` move its gradient, as a fresh
    /// recording does: `L = sum(pick(x)^2)` has `dL/dx = 2 x` at the picks.
    #[test]
    fn second_order_follows_set_indices_under_replay() {
        let tape = Tape::new();
        let x = tape.var(Tensor::from_vec(vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0], &[2, 3]));
        let y = x.pick(&[0, 2]);
        let g = y.square().sum().grad_graph().unwrap().wrt(x);
        assert_eq!(g.value().data(), &[2.0, 0.0, 0.0, 0.0, 0.0, 12.0]);
        tape.set(tape.node(y.index() - 1), &[1.0, 0.0]);
        tape.replay();
        assert_eq!(g.value().data(), &[0.0, 4.0, 0.0, 8.0, 0.0, 0.0]);
        assert_eq!(g.sum().backward().wrt(x).data(), &[0.0, 2.0, 0.0, 2.0, 0.0, 0.0]);
    }
}
