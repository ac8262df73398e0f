//! `narrow`: the elements `start..start + len` along one axis, PyTorch's
//! `x.narrow(dim, start, length)` (NumPy's `x[:, start:start + len]` for
//! axis 1). The crate has one name for it; `narrow` is PyTorch's, with the
//! same arguments in the same order.
//!
//! Forward copies the block out. Backward adds the upstream gradient back
//! into that block; the rest of the input gets nothing (the differentiable
//! form pads the upstream with zero constants by `concat`).
//!
//! The node keeps `start` in its scalar parameter (an `f64` holds an
//! integer exactly below 2^53) and `len` in its shape.

use crate::tape::{
    BackwardCx, EmitCx, ForwardCx, NodeParams, Op, OutShape, StaticOp, TangentCx, TangentError, Var, VarCx, VarGrads,
};
use crate::tensor::{Axis, ShapeError, resolve_axis, split_axis};
use smallvec::{SmallVec, smallvec};
use std::borrow::Cow;

/// The op.
pub(crate) struct Narrow;

impl StaticOp for Narrow {
    const THIS: &'static Self = &Narrow;
}

/// Calls `f(src, dst)` for every contiguous run: `src` the range in the
/// input, `dst` in the output.
fn for_each_run(cx: &ForwardCx<'_>, mut f: impl FnMut(std::ops::Range<usize>, std::ops::Range<usize>)) {
    let axis = cx.params().axis as usize;
    let (outer, n, inner) = split_axis(cx.shape(0), axis);
    let (start, len) = (cx.params().p as usize, cx.out_shape()[axis]);
    for o in 0..outer {
        let src = (o * n + start) * inner;
        let dst = o * len * inner;
        f(src..src + len * inner, dst..dst + len * inner);
    }
}

/// [`for_each_run`] as generated code: loops over the runs and their
/// elements, then `stmt(xi, yi)` with the input's and the output's index.
fn emit_each_run(cx: &mut EmitCx<'_>, x_shape: &[usize], stmt: impl Fn(&str, &str) -> String) {
    let axis = cx.params.axis as usize;
    let (outer, n, inner) = split_axis(x_shape, axis);
    let (start, run) = (cx.params.p as usize, cx.out.shape[axis] * inner);
    let st = [vec![n * inner, 1], vec![run, 1]];
    let off = start * inner;
    cx.nest(&[outer, run], &st, |ix| {
        let xi = if off == 0 { ix[0].clone() } else { format!("{off} + {}", ix[0]) };
        stmt(&xi, &ix[1])
    });
}

impl Op for Narrow {
    fn name(&self) -> &'static str {
        "narrow"
    }

    fn label(&self, p: NodeParams) -> String {
        format!("narrow(axis={}, start={})", p.axis, p.p)
    }

    fn forward(&self, cx: &ForwardCx<'_>, out: &mut [f64]) {
        let x = cx.input(0);
        for_each_run(cx, |src, dst| out[dst].copy_from_slice(&x[src]));
    }

    /// Linear: the same block of the tangent.
    fn jvp(&self, cx: &TangentCx<'_>, out: &mut [f64]) -> Result<(), TangentError> {
        if let Some(t) = cx.tangent(0) {
            for_each_run(cx.fwd(), |src, dst| out[dst].iter_mut().zip(&t[src]).for_each(|(o, t)| *o += t));
        }
        Ok(())
    }

    /// `grad_x[.., start + k, ..] += grad_y[.., k, ..]`.
    fn backward(&self, cx: &mut BackwardCx<'_>) {
        let (fwd, g) = (*cx.fwd(), cx.upstream());
        if let Some(gx) = cx.grad_mut(0) {
            for_each_run(&fwd, |src, dst| gx[src].iter_mut().zip(&g[dst]).for_each(|(a, b)| *a += b));
        }
    }

    /// `concat([zeros before, dY, zeros after], axis)`, the zeros constants.
    fn backward_var<'t>(&self, cx: &VarCx<'t>, upstream: Var<'t>) -> Option<VarGrads<'t>> {
        let (x, axis, start) = (cx.input(0), cx.params().axis as usize, cx.params().p as usize);
        let shape = x.shape();
        let len = upstream.shape()[axis];
        let mut parts: SmallVec<[Var<'t>; 3]> = SmallVec::new();
        for (extent, is_upstream) in [(start, false), (len, true), (shape[axis] - start - len, false)] {
            if is_upstream {
                parts.push(upstream);
            } else if extent > 0 {
                let mut s = shape.clone();
                s[axis] = extent;
                parts.push(x.tape().constant_with(&s, |_| {}));
            }
        }
        Some(smallvec![Some(Var::concat(&parts, axis))])
    }

    /// The block copied out, element by element.
    fn emit_forward(&self, cx: &mut EmitCx<'_>) -> Option<()> {
        let (x, y) = (cx.inputs[0].clone(), cx.out.clone());
        cx.declare_out();
        emit_each_run(cx, &x.shape, |xi, yi| format!("{} = {};", y.at(yi), x.at(xi)));
        Some(())
    }

    /// `d_x[block] += d_y`, as `backward`.
    fn emit_backward(&self, cx: &mut EmitCx<'_>) -> Option<()> {
        let Some(dx) = cx.d_inputs[0].clone() else { return Some(()) };
        let dy = cx.d_out?.clone();
        emit_each_run(cx, &dx.shape, |xi, yi| format!("{} += {};", dx.at(xi), dy.at(yi)));
        Some(())
    }

    fn local_text(&self, cx: &ForwardCx<'_>, _: usize) -> Option<Cow<'static, str>> {
        let p = cx.params();
        Some(format!("dY into X's block at {} along axis {}, 0 elsewhere", p.p, p.axis).into())
    }
}

impl<'t> Var<'t> {
    /// The `len` elements from `start` along `axis` (PyTorch's
    /// `narrow(dim, start, length)`; NumPy's `x[:, start:start + len]` for
    /// axis 1). The gradient goes back to those elements; the others get 0.
    ///
    /// # Panics
    /// As [`Var::try_narrow`] errs.
    ///
    /// ```
    /// use tapegrad::{Tape, Tensor};
    /// let tape = Tape::new();
    /// let x = tape.var(Tensor::arange(0.0, 6.0, 1.0).reshape(&[2, 3]));
    /// let y = x.narrow(1, 1, 2); // columns 1 and 2
    /// assert_eq!(y.value().data(), &[1.0, 2.0, 4.0, 5.0]);
    /// assert_eq!(y.sum().backward().wrt(x).data(), &[0.0, 1.0, 1.0, 0.0, 1.0, 1.0]);
    /// ```
    pub fn narrow(self, axis: impl Axis, start: usize, len: usize) -> Var<'t> {
        self.try_narrow(axis, start, len).unwrap_or_else(|e| panic!("{e}"))
    }

    /// Like [`Var::narrow`], but an axis out of range, or a block that does
    /// not fit inside the axis, is an error naming the shape, the axis,
    /// `start` and `len`.
    ///
    /// ```
    /// let tape = tapegrad::Tape::new();
    /// let x = tape.var(tapegrad::Tensor::zeros(&[2, 3]));
    /// let e = x.try_narrow(1, 2, 2).unwrap_err();
    /// assert_eq!(e.to_string(), "narrow: shape [2, 3]: start 2 + len 2 is past the end of axis 1 (extent 3)");
    /// ```
    pub fn try_narrow(self, axis: impl Axis, start: usize, len: usize) -> Result<Var<'t>, ShapeError> {
        let shape = self.shape();
        let axis = resolve_axis("narrow", &shape, axis)?;
        if start.checked_add(len).is_none_or(|end| end > shape[axis]) {
            let reason = format!("start {start} + len {len} is past the end of axis {axis} (extent {})", shape[axis]);
            return Err(ShapeError::new("narrow", &[&shape], reason));
        }
        let mut out = shape.clone();
        out[axis] = len;
        // `start` <= an extent of an existing value, far below 2^53: exact as an f64.
        let params = NodeParams { p: start as f64, axis: axis as u8, ..NodeParams::default() };
        self.tape.try_push::<Narrow>(params, &[self], OutShape::Given(&out))
    }
}

use super::registry::{Checks, OpCase};

/// This file's cases in the op registry (see [`super::registry`]).
pub(crate) const CASES: &[OpCase] = &[
    // Reads columns 1 and 2 only: a NaN in column 0 rightly goes nowhere.
    OpCase::unary("narrow", |v| v[0].narrow(1, 1, 2)).checks(Checks::NO_NAN),
];

#[cfg(test)]
mod tests {
    use crate::{Tape, Tensor};

    #[test]
    fn narrow_along_the_first_and_middle_axes_in_closed_form() {
        let tape = Tape::new();
        // [2, 3, 2] = 0..12; along axis 1, rows 1..3 of each matrix
        let x = tape.var(Tensor::arange(0.0, 12.0, 1.0).reshape(&[2, 3, 2]));
        let y = x.narrow(1, 1, 2);
        assert_eq!(y.value().data(), &[2.0, 3.0, 4.0, 5.0, 8.0, 9.0, 10.0, 11.0]);
        let w = tape.constant(Tensor::arange(1.0, 9.0, 1.0).reshape(&[2, 2, 2]));
        let g = (y * w).sum().backward().wrt(x);
        assert_eq!(g.data(), &[0.0, 0.0, 1.0, 2.0, 3.0, 4.0, 0.0, 0.0, 5.0, 6.0, 7.0, 8.0]);
        let z = x.narrow(0, 1, 1);
        assert_eq!(z.value().data(), &[6.0, 7.0, 8.0, 9.0, 10.0, 11.0]);
        let dx = Tensor::arange(0.0, 1.2, 0.1).reshape(&[2, 3, 2]);
        assert_eq!(
            y.jvp(&[(x, &dx)]).unwrap().data(),
            &[
                dx.data()[2],
                dx.data()[3],
                dx.data()[4],
                dx.data()[5],
                dx.data()[8],
                dx.data()[9],
                dx.data()[10],
                dx.data()[11]
            ]
        );
        assert!(format!("{y:?}").contains("narrow(axis=1, start=1)"));
        // an empty block is fine
        assert_eq!(x.narrow(2, 2, 0).shape().as_slice(), &[2, 3, 0]);
    }
}
