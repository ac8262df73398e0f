//! `broadcast_to` and `sum_to`: NumPy broadcasting as ops of their own.
//!
//! Each is the other's backward: broadcasting repeats elements, so its
//! VJP sums the repeats back (`unbroadcast_add`, the crate's one
//! reduce-to-shape step); summing to a shape hands each sum back to every
//! element that went into it. The differentiable backward of every
//! broadcasting op is written with them.

use crate::tape::{
    BackwardCx, EmitCx, ForwardCx, NodeParams, Op, OutShape, StaticOp, TangentCx, TangentError, Var, VarCx, VarGrads,
};
use crate::tensor::{
    ShapeError, broadcast_shape, broadcast_strides, for_each_broadcast, row_major_strides, unbroadcast_add,
};
use smallvec::smallvec;
use std::borrow::Cow;

/// `broadcast_to`: the input repeated to a larger shape.
pub(crate) struct BroadcastTo;
/// `sum_to`: a broadcast output summed back to a smaller shape.
pub(crate) struct SumTo;

impl StaticOp for BroadcastTo {
    const THIS: &'static Self = &BroadcastTo;
}
impl StaticOp for SumTo {
    const THIS: &'static Self = &SumTo;
}

impl Op for BroadcastTo {
    fn name(&self) -> &'static str {
        "broadcast_to"
    }
    fn forward(&self, cx: &ForwardCx<'_>, out: &mut [f64]) {
        let x = cx.input(0);
        let shape = cx.out_shape();
        for_each_broadcast(shape, cx.shape(0), shape, |i, ix, _| out[i] = x[ix]);
    }
    /// The input's tangent, repeated like its value.
    fn jvp(&self, cx: &TangentCx<'_>, out: &mut [f64]) -> Result<(), TangentError> {
        if let Some(t) = cx.tangent(0) {
            let shape = cx.fwd().out_shape();
            for_each_broadcast(shape, cx.fwd().shape(0), shape, |i, ix, _| out[i] += t[ix]);
        }
        Ok(())
    }
    /// `grad_x += sum of upstream over the repeated extents`.
    fn backward(&self, cx: &mut BackwardCx<'_>) {
        let (up, out, sx) = (cx.upstream(), cx.fwd().out_shape(), cx.fwd().shape(0));
        if let Some(gx) = cx.grad_mut(0) {
            unbroadcast_add(up, out, gx, sx);
        }
    }
    fn backward_var<'t>(&self, cx: &VarCx<'t>, upstream: Var<'t>) -> Option<VarGrads<'t>> {
        Some(smallvec![Some(upstream.sum_to(&cx.input(0).shape()))])
    }
    /// `y[i] = x[ix]`, over the output in order.
    fn emit_forward(&self, cx: &mut EmitCx<'_>) -> Option<()> {
        let (x, y) = (cx.inputs[0].clone(), cx.out.clone());
        cx.declare_out();
        let st = [row_major_strides(&y.shape), broadcast_strides(&x.shape, &y.shape)];
        cx.nest(&y.shape, &st, |ix| format!("{} = {};", y.at(&ix[0]), x.at(&ix[1])));
        Some(())
    }
    /// `d_x[ix] += d_y[i]` over the output in order: every path of
    /// `unbroadcast_add` adds in that order.
    fn emit_backward(&self, cx: &mut EmitCx<'_>) -> Option<()> {
        let Some(dx) = cx.d_inputs[0].clone() else { return Some(()) };
        let dy = cx.d_out?.clone();
        let st = [row_major_strides(&dy.shape), broadcast_strides(&dx.shape, &dy.shape)];
        cx.nest(&dy.shape, &st, |ix| format!("{} += {};", dx.at(&ix[1]), dy.at(&ix[0])));
        Some(())
    }
    fn local_text(&self, _: &ForwardCx<'_>, _: usize) -> Option<Cow<'static, str>> {
        Some("dX = dY summed over the repeats".into())
    }
}

impl Op for SumTo {
    fn name(&self) -> &'static str {
        "sum_to"
    }
    fn forward(&self, cx: &ForwardCx<'_>, out: &mut [f64]) {
        out.fill(0.0);
        unbroadcast_add(cx.input(0), cx.shape(0), out, cx.out_shape());
    }
    /// The input's tangent, summed like its value (into the zeroed `out`).
    fn jvp(&self, cx: &TangentCx<'_>, out: &mut [f64]) -> Result<(), TangentError> {
        if let Some(t) = cx.tangent(0) {
            unbroadcast_add(t, cx.fwd().shape(0), out, cx.fwd().out_shape());
        }
        Ok(())
    }
    /// Every element receives the gradient of the sum it went into.
    fn backward(&self, cx: &mut BackwardCx<'_>) {
        let (up, out, sx) = (cx.upstream(), cx.fwd().out_shape(), cx.fwd().shape(0));
        if let Some(gx) = cx.grad_mut(0) {
            for_each_broadcast(sx, out, sx, |i, io, _| gx[i] += up[io]);
        }
    }
    fn backward_var<'t>(&self, cx: &VarCx<'t>, upstream: Var<'t>) -> Option<VarGrads<'t>> {
        Some(smallvec![Some(upstream.broadcast_to(&cx.input(0).shape()))])
    }
    /// Zeros, then `y[io] += x[i]` over the input in order, as
    /// `unbroadcast_add` adds.
    fn emit_forward(&self, cx: &mut EmitCx<'_>) -> Option<()> {
        let (x, y) = (cx.inputs[0].clone(), cx.out.clone());
        cx.declare_out();
        let st = [row_major_strides(&x.shape), broadcast_strides(&y.shape, &x.shape)];
        cx.nest(&x.shape, &st, |ix| format!("{} += {};", y.at(&ix[1]), x.at(&ix[0])));
        Some(())
    }
    /// `d_x[i] += d_y[io]` over the input in order.
    fn emit_backward(&self, cx: &mut EmitCx<'_>) -> Option<()> {
        let Some(dx) = cx.d_inputs[0].clone() else { return Some(()) };
        let dy = cx.d_out?.clone();
        let st = [row_major_strides(&dx.shape), broadcast_strides(&dy.shape, &dx.shape)];
        cx.nest(&dx.shape, &st, |ix| format!("{} += {};", dx.at(&ix[0]), dy.at(&ix[1])));
        Some(())
    }
    fn local_text(&self, _: &ForwardCx<'_>, _: usize) -> Option<Cow<'static, str>> {
        Some("dX = dY repeated to X's shape".into())
    }
}

/// Checks that `small` broadcasts to `big` (NumPy rules, `big` unchanged).
fn check(op: &'static str, small: &[usize], big: &[usize]) -> Result<(), ShapeError> {
    match broadcast_shape(op, small, big) {
        Ok(s) if s.as_slice() == big => Ok(()),
        _ => Err(ShapeError::new(op, &[small, big], format!("{small:?} does not broadcast to {big:?}"))),
    }
}

impl<'t> Var<'t> {
    /// The Var repeated to `shape` by NumPy broadcasting (what `a + b` does
    /// to the smaller operand). Records a node even when the shape is the
    /// same, so the tape shows what was asked.
    ///
    /// # Panics
    /// If the Var does not broadcast to `shape`.
    ///
    /// ```
    /// use tapegrad::{Tape, Tensor};
    /// let tape = Tape::new();
    /// let b = tape.var(Tensor::from_vec(vec![1.0, 2.0], &[2]));
    /// let y = b.broadcast_to(&[3, 2]);
    /// assert_eq!(y.value().data(), &[1.0, 2.0, 1.0, 2.0, 1.0, 2.0]);
    /// assert_eq!(y.sum().backward().wrt(b).data(), &[3.0, 3.0]);
    /// ```
    pub fn broadcast_to(self, shape: &[usize]) -> Var<'t> {
        self.try_broadcast_to(shape).unwrap_or_else(|e| panic!("{e}"))
    }

    /// Like [`Var::broadcast_to`], but a shape that does not fit is an error.
    ///
    /// ```
    /// let tape = tapegrad::Tape::new();
    /// let b = tape.var(tapegrad::Tensor::ones(&[2]));
    /// let e = b.try_broadcast_to(&[3]).unwrap_err();
    /// assert!(e.to_string().starts_with("broadcast_to: shapes [2] and [3]"));
    /// ```
    pub fn try_broadcast_to(self, shape: &[usize]) -> Result<Var<'t>, ShapeError> {
        check("broadcast_to", &self.shape(), shape)?;
        self.tape.try_push::<BroadcastTo>(NodeParams::default(), &[self], OutShape::Given(shape))
    }

    /// The Var summed down to `shape`, the reverse of broadcasting: every
    /// extent broadcasting would have repeated is summed over.
    ///
    /// # Panics
    /// If `shape` does not broadcast to the Var's shape.
    ///
    /// ```
    /// use tapegrad::{Tape, Tensor};
    /// let tape = Tape::new();
    /// let x = tape.var(Tensor::arange(0.0, 6.0, 1.0).reshape(&[3, 2]));
    /// assert_eq!(x.sum_to(&[2]).value().data(), &[6.0, 9.0]);
    /// assert_eq!(x.sum_to(&[3, 1]).value().data(), &[1.0, 5.0, 9.0]);
    /// ```
    pub fn sum_to(self, shape: &[usize]) -> Var<'t> {
        self.try_sum_to(shape).unwrap_or_else(|e| panic!("{e}"))
    }

    /// Like [`Var::sum_to`], but a shape that does not fit is an error.
    ///
    /// ```
    /// let tape = tapegrad::Tape::new();
    /// let x = tape.var(tapegrad::Tensor::ones(&[3, 2]));
    /// assert!(x.try_sum_to(&[3]).is_err());
    /// ```
    pub fn try_sum_to(self, shape: &[usize]) -> Result<Var<'t>, ShapeError> {
        check("sum_to", shape, &self.shape())?;
        self.tape.try_push::<SumTo>(NodeParams::default(), &[self], OutShape::Given(shape))
    }
}

use super::registry::OpCase;

/// This file's cases in the op registry (see [`super::registry`]).
pub(crate) const CASES: &[OpCase] = &[
    OpCase::unary("broadcast_to", |v| v[0].broadcast_to(&[2, 2, 3])).shapes(&[&[2, 1, 3]]),
    OpCase::unary("sum_to", |v| v[0].sum_to(&[1, 3])),
];

#[cfg(test)]
mod tests {
    use crate::{Tape, Tensor};

    #[test]
    fn broadcast_and_sum_to_match_closed_forms_to_second_order() {
        // y = sum(w * broadcast(b)^2) over [3, 2]: dy/db_j = 2 b_j sum_i w_ij,
        // d2y/db_j^2 = 2 sum_i w_ij, written out by hand.
        let tape = Tape::new();
        let b = tape.var(Tensor::from_vec(vec![1.5, -2.0], &[2]));
        let w = tape.constant(Tensor::from_vec(vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0], &[3, 2]));
        let y = (w * b.broadcast_to(&[3, 2]).square()).sum();
        let db = y.grad_graph().unwrap().wrt(b);
        assert_eq!(db.value().data(), &[2.0 * 1.5 * 9.0, 2.0 * -2.0 * 12.0]);
        assert_eq!(db.sum().backward().wrt(b).data(), &[18.0, 24.0]);
        // sum_to's backward repeats: d sum(v * sum_to(x, [2]))/dx = v in every row.
        let x = tape.var(Tensor::ones(&[3, 2]));
        let v = tape.constant(Tensor::from_vec(vec![7.0, -1.0], &[2]));
        assert_eq!((x.sum_to(&[2]) * v).sum().backward().wrt(x).data(), &[7.0, -1.0, 7.0, -1.0, 7.0, -1.0]);
    }

    #[test]
    fn tangents_repeat_and_sum_like_the_values() {
        // broadcast_to [2] -> [3, 2] repeats the tangent per row; sum_to
        // [3, 2] -> [2] sums it over the rows; sign/step masks have none.
        let tape = Tape::new();
        let b = tape.var(Tensor::from_vec(vec![1.5, -2.0], &[2]));
        let tb = Tensor::from_vec(vec![0.25, 4.0], &[2]);
        let y = b.broadcast_to(&[3, 2]);
        assert_eq!(y.jvp(&[(b, &tb)]).unwrap().data(), &[0.25, 4.0, 0.25, 4.0, 0.25, 4.0]);
        let x = tape.var(Tensor::ones(&[3, 2]));
        let tx = Tensor::from_vec(vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0], &[3, 2]);
        assert_eq!(x.sum_to(&[2]).jvp(&[(x, &tx)]).unwrap().data(), &[9.0, 12.0]);
        assert_eq!(b.sign().jvp(&[(b, &tb)]).unwrap().data(), &[0.0, 0.0]);
    }
}
