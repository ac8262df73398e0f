//! Reading elements by constant indices along an axis, and its adjoint:
//! - `index_select(axis, ids)`: whole slices, the same ids for every lane
//!   (`table.index_select(0, &ids)` is an embedding lookup: the rows `ids`);
//! - `gather(axis, indices, index_shape)`: one index per output element,
//!   `y[.., j, ..] = x[.., idx[.., j, ..], ..]` (PyTorch's `torch.gather`,
//!   NumPy's `take_along_axis`). `pick`, cross-entropy's target pick, is
//!   this along the last axis with one index per row, squeezed (kept as its
//!   own op in `pick.rs`, whose node and table rows it keeps).
//!
//! Backward of both adds the upstream gradient back into the positions
//! read, so an index read twice collects both contributions (the
//! embedding row of a token that occurs twice). That adjoint is an op of
//! its own, `index_add` / `scatter_add` (PyTorch's names), recorded by the
//! differentiable backward; its own adjoint is the read again, so each
//! differentiates the other, as `broadcast_to` and `sum_to` do.
//!
//! The indices are recorded as a constant node (exact as `f64` below
//! 2^53), the op's second input, as `pick`'s: the node needs no storage
//! of its own and the tape's table shows them. A replay reads them as
//! positions, so [`Tape::set`](crate::Tape::set) checks new indices
//! (`Op::check_input`): each a whole number in range, or an error.

use super::lanes::lanes;
use crate::tape::{
    BackwardCx, EmitCx, ForwardCx, NodeParams, Op, OutShape, StaticOp, TangentCx, TangentError, Var, VarCx, VarGrads,
};
use crate::tensor::{Axis, ShapeError, resolve_axis, try_numel};
use smallvec::smallvec;
use std::borrow::Cow;

/// The read: `index_select` (`GATHER = false`) or `gather` (`true`).
/// Inputs: the Var read from and the constant indices.
pub(crate) struct Take<const GATHER: bool>;
/// The adjoint of the read, `index_add` / `scatter_add`: the values of
/// input 0 added into zeros shaped like the Var read from (the node's own
/// shape).
pub(crate) struct Put<const GATHER: bool>;

impl<const GATHER: bool> StaticOp for Take<GATHER> {
    const THIS: &'static Self = &Take;
}
impl<const GATHER: bool> StaticOp for Put<GATHER> {
    const THIS: &'static Self = &Put;
}

/// Calls `f(xpos, ypos)` for every element of the read `y` (shaped like
/// `x` but with extent `k` along the axis): `y[ypos]` reads `x[xpos]`.
/// With `gather` the indices are one per element of `y`, else one per
/// position `j < k` along the axis.
fn for_each_read(x_shape: &[usize], axis: usize, k: usize, idx: &[f64], gather: bool, mut f: impl FnMut(usize, usize)) {
    let (outer, n, inner) = lanes(x_shape, axis);
    for o in 0..outer {
        for j in 0..k {
            for i in 0..inner {
                let ypos = (o * k + j) * inner + i;
                let ix = if gather { idx[ypos] } else { idx[j] } as usize;
                f((o * n + ix) * inner + i, ypos);
            }
        }
    }
}

/// The read's layout as a `Take` node sees it: x is input 0, y the output.
fn take_reads(cx: &ForwardCx<'_>, gather: bool, f: impl FnMut(usize, usize)) {
    let axis = cx.params().axis as usize;
    for_each_read(cx.shape(0), axis, cx.out_shape()[axis], cx.input(1), gather, f);
}

/// The read's layout as a `Put` node sees it: y is input 0, x the output.
fn put_reads(cx: &ForwardCx<'_>, gather: bool, f: impl FnMut(usize, usize)) {
    let axis = cx.params().axis as usize;
    for_each_read(cx.out_shape(), axis, cx.shape(0)[axis], cx.input(1), gather, f);
}

/// [`for_each_read`] as generated code: the three loops, `yp` and `xp`
/// bound (the index read from the indices' node, a constant array in the
/// code or a parameter), then `stmt`, which reads `x[xp]` and `y[yp]`.
fn emit_each_read(cx: &mut EmitCx<'_>, x_shape: &[usize], k: usize, gather: bool, stmt: &str) {
    let (outer, n, inner) = lanes(x_shape, cx.params.axis as usize);
    let idx = cx.inputs[1].at(if gather { "yp" } else { "j" });
    cx.line(format!("for o in 0..{outer} {{"));
    cx.line(format!("    for j in 0..{k} {{"));
    cx.line(format!("        for i in 0..{inner} {{"));
    cx.line(format!("            let yp = (o * {k} + j) * {inner} + i;"));
    cx.line(format!("            let xp = (o * {n} + {idx} as usize) * {inner} + i;"));
    cx.line(format!("            {stmt}"));
    cx.line("        }");
    cx.line("    }");
    cx.line("}");
}

impl<const GATHER: bool> Op for Take<GATHER> {
    fn name(&self) -> &'static str {
        if GATHER { "gather" } else { "index_select" }
    }

    fn label(&self, p: NodeParams) -> String {
        format!("{}(axis={})", self.name(), p.axis)
    }

    fn forward(&self, cx: &ForwardCx<'_>, out: &mut [f64]) {
        let x = cx.input(0);
        take_reads(cx, GATHER, |xp, yp| out[yp] = x[xp]);
    }

    /// Linear in `x`: the tangent read the same way (the indices are a
    /// constant: no tangent reaches them).
    fn jvp(&self, cx: &TangentCx<'_>, out: &mut [f64]) -> Result<(), TangentError> {
        if let Some(dx) = cx.tangent(0) {
            take_reads(cx.fwd(), GATHER, |xp, yp| out[yp] += dx[xp]);
        }
        Ok(())
    }

    /// `grad_x[read position] += grad_y`, so repeated indices accumulate.
    fn backward(&self, cx: &mut BackwardCx<'_>) {
        let (fwd, g) = (*cx.fwd(), cx.upstream());
        if let Some(gx) = cx.grad_mut(0) {
            take_reads(&fwd, GATHER, |xp, yp| gx[xp] += g[yp]);
        }
    }

    /// A new value of the indices (a [`Tape::set`](crate::Tape::set)):
    /// positions along the axis read.
    fn check_input(&self, cx: &ForwardCx<'_>, k: usize, value: &[f64]) -> Result<(), String> {
        if k == 1 { check_indices(value, cx.shape(0)[cx.params().axis as usize]) } else { Ok(()) }
    }

    /// `index_add` / `scatter_add` of the upstream, recorded.
    fn backward_var<'t>(&self, cx: &VarCx<'t>, upstream: Var<'t>) -> Option<VarGrads<'t>> {
        let x = cx.input(0);
        let g = x.tape().push::<Put<GATHER>>(cx.params(), &[upstream, cx.input(1)], OutShape::Given(&x.shape()));
        Some(smallvec![Some(g), None])
    }

    /// `y[yp] = x[xp]` for every read, as `forward`.
    fn emit_forward(&self, cx: &mut EmitCx<'_>) -> Option<()> {
        let (x, y, axis) = (cx.inputs[0].clone(), cx.out.clone(), cx.params.axis as usize);
        cx.declare_out();
        let stmt = format!("{} = {};", y.at("yp"), x.at("xp"));
        emit_each_read(cx, &x.shape, y.shape[axis], GATHER, &stmt);
        Some(())
    }

    /// `d_x[xp] += d_y[yp]` for every read, in the same order.
    fn emit_backward(&self, cx: &mut EmitCx<'_>) -> Option<()> {
        let Some(dx) = cx.d_inputs[0].clone() else { return Some(()) };
        let (dy, axis) = (cx.d_out?.clone(), cx.params.axis as usize);
        let stmt = format!("{} += {};", dx.at("xp"), dy.at("yp"));
        emit_each_read(cx, &dx.shape, dy.shape[axis], GATHER, &stmt);
        Some(())
    }

    fn local_text(&self, _: &ForwardCx<'_>, input: usize) -> Option<Cow<'static, str>> {
        (input == 0).then_some("dY added back where each element was read, 0 elsewhere".into())
    }
}

impl<const GATHER: bool> Op for Put<GATHER> {
    fn name(&self) -> &'static str {
        if GATHER { "scatter_add" } else { "index_add" }
    }

    fn label(&self, p: NodeParams) -> String {
        format!("{}(axis={})", self.name(), p.axis)
    }

    fn forward(&self, cx: &ForwardCx<'_>, out: &mut [f64]) {
        let g = cx.input(0);
        out.fill(0.0);
        put_reads(cx, GATHER, |xp, yp| out[xp] += g[yp]);
    }

    /// Linear: the tangent added in the same way.
    fn jvp(&self, cx: &TangentCx<'_>, out: &mut [f64]) -> Result<(), TangentError> {
        if let Some(dg) = cx.tangent(0) {
            put_reads(cx.fwd(), GATHER, |xp, yp| out[xp] += dg[yp]);
        }
        Ok(())
    }

    /// The read: `grad_g[ypos] += grad_out[xpos]`.
    fn backward(&self, cx: &mut BackwardCx<'_>) {
        let (fwd, up) = (*cx.fwd(), cx.upstream());
        if let Some(gg) = cx.grad_mut(0) {
            put_reads(&fwd, GATHER, |xp, yp| gg[yp] += up[xp]);
        }
    }

    /// As the read's: positions along the axis written.
    fn check_input(&self, cx: &ForwardCx<'_>, k: usize, value: &[f64]) -> Result<(), String> {
        if k == 1 { check_indices(value, cx.out_shape()[cx.params().axis as usize]) } else { Ok(()) }
    }

    /// `index_select` / `gather` of the upstream, recorded.
    fn backward_var<'t>(&self, cx: &VarCx<'t>, upstream: Var<'t>) -> Option<VarGrads<'t>> {
        let g = cx.input(0);
        let read = g.tape().push::<Take<GATHER>>(cx.params(), &[upstream, cx.input(1)], OutShape::Given(&g.shape()));
        Some(smallvec![Some(read), None])
    }

    /// Zeros, then `y[xp] += g[yp]` for every read, as `forward`.
    fn emit_forward(&self, cx: &mut EmitCx<'_>) -> Option<()> {
        let (g, y, axis) = (cx.inputs[0].clone(), cx.out.clone(), cx.params.axis as usize);
        cx.declare_out();
        let stmt = format!("{} += {};", y.at("xp"), g.at("yp"));
        emit_each_read(cx, &y.shape, g.shape[axis], GATHER, &stmt);
        Some(())
    }

    /// `d_g[yp] += d_y[xp]` for every read, in the same order.
    fn emit_backward(&self, cx: &mut EmitCx<'_>) -> Option<()> {
        let Some(dg) = cx.d_inputs[0].clone() else { return Some(()) };
        let (dy, axis) = (cx.d_out?.clone(), cx.params.axis as usize);
        let stmt = format!("{} += {};", dg.at("yp"), dy.at("xp"));
        emit_each_read(cx, &dy.shape, dg.shape[axis], GATHER, &stmt);
        Some(())
    }

    fn local_text(&self, _: &ForwardCx<'_>, input: usize) -> Option<Cow<'static, str>> {
        (input == 0).then_some("dX = dY read back at the indices".into())
    }
}

/// The check every op reading positions makes of new indices: each a whole
/// number in `0..extent` (so `as usize` reads it exactly). The reason names
/// the first that is not.
pub(crate) fn check_indices(value: &[f64], extent: usize) -> Result<(), String> {
    match value.iter().position(|&i| !(i >= 0.0 && i < extent as f64 && i.fract() == 0.0)) {
        None => Ok(()),
        Some(e) => Err(format!("element {e} is {:?}, not an index in 0..{extent}", value[e])),
    }
}

/// The first index of `indices` past `n`, as the error's reason.
fn out_of_range(indices: &[usize], axis: usize, n: usize) -> Option<String> {
    let bad = indices.iter().find(|&&i| i >= n)?;
    Some(format!("index {bad} is out of range for axis {axis} (extent {n})"))
}

impl<'t> Var<'t> {
    /// The slices `ids[0], ids[1], ...` along `axis`, in that order
    /// (PyTorch's `index_select(dim, index)`): the result has `ids.len()`
    /// along `axis`. An id may repeat; its slice's gradient is then the sum
    /// of the copies'. With `axis = 0` on a `[vocab, dim]` table this is an
    /// embedding lookup, one row per token.
    ///
    /// # Panics
    /// As [`Var::try_index_select`] errs.
    ///
    /// ```
    /// use tapegrad::{Tape, Tensor};
    /// let tape = Tape::new();
    /// let table = tape.var(Tensor::arange(0.0, 6.0, 1.0).reshape(&[3, 2])); // 3 tokens, dim 2
    /// let e = table.index_select(0, &[2, 0, 2]);
    /// assert_eq!(e.value().data(), &[4.0, 5.0, 0.0, 1.0, 4.0, 5.0]);
    /// // token 2 appears twice: its row collects both gradients
    /// assert_eq!(e.sum().backward().wrt(table).data(), &[1.0, 1.0, 0.0, 0.0, 2.0, 2.0]);
    /// ```
    pub fn index_select(self, axis: impl Axis, ids: &[usize]) -> Var<'t> {
        self.try_index_select(axis, ids).unwrap_or_else(|e| panic!("{e}"))
    }

    /// Like [`Var::index_select`], but an axis out of range or an id past
    /// its extent is an error naming the shapes and the axis.
    ///
    /// ```
    /// let tape = tapegrad::Tape::new();
    /// let t = tape.var(tapegrad::Tensor::zeros(&[3, 2]));
    /// let e = t.try_index_select(0, &[1, 3]).unwrap_err();
    /// assert_eq!(e.to_string(), "index_select: shapes [3, 2] and [2]: index 3 is out of range for axis 0 (extent 3)");
    /// ```
    pub fn try_index_select(self, axis: impl Axis, ids: &[usize]) -> Result<Var<'t>, ShapeError> {
        let shape = self.shape();
        let err = |reason: String| ShapeError::new("index_select", &[&shape, &[ids.len()]], reason);
        let axis = resolve_axis("index_select", &shape, axis)?;
        if let Some(reason) = out_of_range(ids, axis, shape[axis]) {
            return Err(err(reason));
        }
        let mut out = shape.clone();
        out[axis] = ids.len();
        if try_numel(&out).is_none() {
            return Err(err(format!("the result {:?} has too many elements to count", out.as_slice())));
        }
        let idx =
            self.tape.try_constant_with(&[ids.len()], |v| v.iter_mut().zip(ids).for_each(|(v, &i)| *v = i as f64))?;
        self.tape.guard(idx);
        let params = NodeParams { axis: axis as u8, ..NodeParams::default() };
        self.tape.try_push::<Take<false>>(params, &[self, idx], OutShape::Given(&out))
    }

    /// One element per index (PyTorch's `torch.gather(x, dim, index)`,
    /// NumPy's `take_along_axis`): `indices`, row-major in `index_shape`,
    /// which is `x`'s shape except along `axis`, and the result is shaped
    /// like it, `y[.., j, ..] = x[.., indices[.., j, ..], ..]`. Indices may
    /// repeat; the gradients of the copies add up. (PyTorch also accepts
    /// an index shape smaller than `x` on the other axes: `narrow` `x` first.)
    ///
    /// # Panics
    /// As [`Var::try_gather`] errs.
    ///
    /// ```
    /// use tapegrad::{Tape, Tensor};
    /// let tape = Tape::new();
    /// let x = tape.var(Tensor::arange(0.0, 6.0, 1.0).reshape(&[2, 3]));
    /// // two picks per row: row 0 takes columns 2 and 0, row 1 takes column 1 twice
    /// let y = x.gather(1, &[2, 0, 1, 1], &[2, 2]);
    /// assert_eq!(y.value().data(), &[2.0, 0.0, 4.0, 4.0]);
    /// assert_eq!(y.sum().backward().wrt(x).data(), &[1.0, 0.0, 1.0, 0.0, 2.0, 0.0]);
    /// ```
    pub fn gather(self, axis: impl Axis, indices: &[usize], index_shape: &[usize]) -> Var<'t> {
        self.try_gather(axis, indices, index_shape).unwrap_or_else(|e| panic!("{e}"))
    }

    /// Like [`Var::gather`], but bad input is an error naming the shapes
    /// and the axis: an axis out of range, an index shape that differs from
    /// `x`'s off the axis or does not hold `indices.len()` elements, an
    /// index past the axis.
    ///
    /// ```
    /// let tape = tapegrad::Tape::new();
    /// let x = tape.var(tapegrad::Tensor::zeros(&[2, 3]));
    /// let e = x.try_gather(1, &[0, 1], &[1, 2]).unwrap_err();
    /// assert_eq!(e.to_string(), "gather: shapes [2, 3] and [1, 2]: the index shape must equal the input's except along axis 1");
    /// ```
    pub fn try_gather(self, axis: impl Axis, indices: &[usize], index_shape: &[usize]) -> Result<Var<'t>, ShapeError> {
        let shape = self.shape();
        let err = |reason: String| ShapeError::new("gather", &[&shape, index_shape], reason);
        let axis = resolve_axis("gather", &shape, axis)?;
        let fits = index_shape.len() == shape.len()
            && shape.iter().zip(index_shape).enumerate().all(|(d, (a, b))| d == axis || a == b);
        if !fits {
            return Err(err(format!("the index shape must equal the input's except along axis {axis}")));
        }
        match try_numel(index_shape) {
            Some(n) if n == indices.len() => {}
            Some(n) => return Err(err(format!("{} indices cannot fill {n} elements", indices.len()))),
            None => return Err(err("the index shape has too many elements to count".into())),
        }
        if let Some(reason) = out_of_range(indices, axis, shape[axis]) {
            return Err(err(reason));
        }
        let idx = self
            .tape
            .try_constant_with(index_shape, |v| v.iter_mut().zip(indices).for_each(|(v, &i)| *v = i as f64))?;
        self.tape.guard(idx);
        let params = NodeParams { axis: axis as u8, ..NodeParams::default() };
        self.tape.try_push::<Take<true>>(params, &[self, idx], OutShape::Given(index_shape))
    }
}

use super::registry::{Checks, OpCase};

/// This file's cases in the op registry (see [`super::registry`]).
pub(crate) const CASES: &[OpCase] = &[
    OpCase::unary("index_select", |v| v[0].index_select(1, &[2, 0, 1, 2])),
    OpCase::unary("gather", |v| v[0].gather(1, &[2, 0, 1, 1, 0, 2, 2, 1], &[2, 4])),
    // The adjoints, recorded by the differentiable backward: `index_add`
    // (and `scatter_add`) of `v[1]`.
    OpCase::binary("index_add", |v| {
        let y = (v[0].index_select(1, &[2, 0, 0]) * v[1]).sum();
        y.grad_graph().expect("every built-in op is twice differentiable").wrt(v[0])
    })
    .checks(Checks::NO_NAN),
    OpCase::binary("scatter_add", |v| {
        let y = (v[0].gather(1, &[1, 1, 0, 2, 0, 0], &[2, 3]) * v[1]).sum();
        y.grad_graph().expect("every built-in op is twice differentiable").wrt(v[0])
    })
    .checks(Checks::NO_NAN),
];

// `index_add` and `scatter_add` read input 0 for its shape only: a NaN
// in it rightly goes nowhere, hence `Checks::NO_NAN` above.

#[cfg(test)]
mod tests {
    use crate::{Tape, Tensor};

    #[test]
    fn index_select_along_the_last_axis_in_closed_form() {
        let tape = Tape::new();
        let x = tape.var(Tensor::arange(0.0, 6.0, 1.0).reshape(&[2, 3]));
        let y = x.index_select(1, &[2, 2, 0, 1]);
        assert_eq!(y.value().data(), &[2.0, 2.0, 0.0, 1.0, 5.0, 5.0, 3.0, 4.0]);
        let w = tape.constant(Tensor::arange(1.0, 9.0, 1.0).reshape(&[2, 4]));
        // column 2 read twice: w[.., 0] + w[.., 1]
        assert_eq!((y * w).sum().backward().wrt(x).data(), &[3.0, 4.0, 1.0 + 2.0, 7.0, 8.0, 5.0 + 6.0]);
        let dx = Tensor::arange(0.0, 0.6, 0.1).reshape(&[2, 3]);
        let t = y.jvp(&[(x, &dx)]).unwrap();
        let d = dx.data();
        assert_eq!(t.data(), &[d[2], d[2], d[0], d[1], d[5], d[5], d[3], d[4]]);
        assert!(format!("{y:?}").contains("index_select(axis=1)"));
        // no ids: an empty result
        assert_eq!(x.index_select(0, &[]).shape().as_slice(), &[0, 3]);
    }

    #[test]
    fn gather_down_columns_in_closed_form() {
        let tape = Tape::new();
        let x = tape.var(Tensor::arange(0.0, 6.0, 1.0).reshape(&[3, 2]));
        // y[j, c] = x[idx[j, c], c]
        let y = x.gather(0, &[2, 0, 2, 2], &[2, 2]);
        assert_eq!(y.value().data(), &[4.0, 1.0, 4.0, 5.0]);
        let w = tape.constant(Tensor::from_vec(vec![1.0, 2.0, 3.0, 4.0], &[2, 2]));
        assert_eq!((y * w).sum().backward().wrt(x).data(), &[0.0, 2.0, 0.0, 0.0, 4.0, 4.0]);
        // the differentiable backward (scatter_add) gives the same numbers
        let gg = (y * w).sum().grad_graph().unwrap().wrt(x);
        assert_eq!(gg.value().data(), &[0.0, 2.0, 0.0, 0.0, 4.0, 4.0]);
        assert_eq!(gg.op_name(), "scatter_add");
    }
}
