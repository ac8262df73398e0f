//! Reductions: `sum` and `mean` over everything or over one axis.
//!
//! Forward adds elements together; backward hands the output's gradient
//! back to every element that was added (divided by the count, for mean).

use crate::tape::{
    BackwardCx, EmitCx, ForwardCx, NodeParams, Op, OutShape, StaticOp, TangentCx, TangentError, Var, VarCx, VarGrads,
};
use crate::tensor::{Axis, ShapeError, reduced_shape, resolve_axis, split_axis, sum_axis_into};
use smallvec::smallvec;
use std::borrow::Cow;

/// `sum`: all elements to one.
pub(crate) struct Sum;
/// `mean`: all elements to their average.
pub(crate) struct Mean;
/// `sum_axis` (`MEAN = false`) and `mean_axis` (`MEAN = true`): the sum or
/// the average along one axis. One op, since they differ only by a scale.
pub(crate) struct AxisReduce<const MEAN: bool>;
/// `sum_axis`: the sum along one axis.
pub(crate) type SumAxis = AxisReduce<false>;
/// `mean_axis`: the average along one axis.
pub(crate) type MeanAxis = AxisReduce<true>;

impl StaticOp for Sum {
    const THIS: &'static Self = &Sum;
}
impl StaticOp for Mean {
    const THIS: &'static Self = &Mean;
}
impl<const MEAN: bool> StaticOp for AxisReduce<MEAN> {
    const THIS: &'static Self = &AxisReduce;
}

impl Op for Sum {
    fn name(&self) -> &'static str {
        "sum"
    }
    fn forward(&self, cx: &ForwardCx<'_>, out: &mut [f64]) {
        out[0] = cx.input(0).iter().sum();
    }
    /// Linear: the tangent is the sum of the input's tangent.
    fn jvp(&self, cx: &TangentCx<'_>, out: &mut [f64]) -> Result<(), TangentError> {
        out[0] += cx.tangent(0).map_or(0.0, |t| t.iter().sum());
        Ok(())
    }
    /// Every input element receives the output's gradient.
    fn backward(&self, cx: &mut BackwardCx<'_>) {
        let g = cx.upstream()[0];
        if let Some(gx) = cx.grad_mut(0) {
            gx.iter_mut().for_each(|v| *v += g);
        }
    }
    fn backward_var<'t>(&self, cx: &VarCx<'t>, upstream: Var<'t>) -> Option<VarGrads<'t>> {
        Some(smallvec![Some(upstream.broadcast_to(&cx.input(0).shape()))])
    }

    /// `iter().sum()` folds from `-0.0`, in order: so does the code.
    fn emit_forward(&self, cx: &mut EmitCx<'_>) -> Option<()> {
        emit_sum(cx);
        Some(())
    }
    /// `d_x[i] += d_y`.
    fn emit_backward(&self, cx: &mut EmitCx<'_>) -> Option<()> {
        let (Some(dx), Some(dy)) = (cx.d_inputs[0].clone(), cx.d_out.cloned()) else { return Some(()) };
        cx.each(dx.len(), |i| format!("{} += {};", dx.at(i), dy.name));
        Some(())
    }
    fn local_text(&self, _: &ForwardCx<'_>, _: usize) -> Option<Cow<'static, str>> {
        Some("1 to every element".into())
    }
}

impl Op for Mean {
    fn name(&self) -> &'static str {
        "mean"
    }
    fn forward(&self, cx: &ForwardCx<'_>, out: &mut [f64]) {
        let v = cx.input(0);
        out[0] = v.iter().sum::<f64>() / v.len() as f64;
    }
    /// Linear: the tangent is the mean of the input's tangent.
    fn jvp(&self, cx: &TangentCx<'_>, out: &mut [f64]) -> Result<(), TangentError> {
        out[0] += cx.tangent(0).map_or(0.0, |t| t.iter().sum::<f64>() / t.len() as f64);
        Ok(())
    }
    /// Every input element receives the output's gradient over n.
    fn backward(&self, cx: &mut BackwardCx<'_>) {
        let g = cx.upstream()[0] * (1.0 / cx.input(0).len() as f64);
        if let Some(gx) = cx.grad_mut(0) {
            gx.iter_mut().for_each(|v| *v += g);
        }
    }
    fn backward_var<'t>(&self, cx: &VarCx<'t>, upstream: Var<'t>) -> Option<VarGrads<'t>> {
        let x = cx.input(0);
        Some(smallvec![Some((upstream * (1.0 / x.len() as f64)).broadcast_to(&x.shape()))])
    }

    /// The sum as `Sum`'s, then `/ n`.
    fn emit_forward(&self, cx: &mut EmitCx<'_>) -> Option<()> {
        let y = emit_sum(cx);
        cx.line(format!(
            "let {} = {y} / {};",
            cx.out.name,
            crate::tape::emit_cx::f64_literal(cx.inputs[0].len() as f64)
        ));
        Some(())
    }
    /// `g = d_y * (1 / n)` once, then `d_x[i] += g`.
    fn emit_backward(&self, cx: &mut EmitCx<'_>) -> Option<()> {
        let (Some(dx), Some(dy)) = (cx.d_inputs[0].clone(), cx.d_out.cloned()) else { return Some(()) };
        let n = crate::tape::emit_cx::f64_literal(dx.len() as f64);
        cx.line("{");
        cx.line(format!("    let g = {} * (1.0 / {n});", dy.name));
        cx.each(dx.len(), |i| format!("    {} += g;", dx.at(i)));
        cx.line("}");
        Some(())
    }
    fn local_text(&self, cx: &ForwardCx<'_>, _: usize) -> Option<Cow<'static, str>> {
        let n = cx.input(0).len();
        Some(format!("1/n = 1/{n} = {} to every element", crate::tensor::fmt_num(1.0 / n as f64)).into())
    }
}

/// Writes the sum of the input as `iter().sum()` computes it (from
/// `-0.0`, in order) into the output's name, and returns the name (`mean`
/// then divides it, shadowing the name).
fn emit_sum(cx: &mut EmitCx<'_>) -> String {
    let (x, y) = (cx.inputs[0].clone(), cx.out.name.clone());
    cx.line(format!("let mut {y} = -0.0f64;"));
    cx.each(x.len(), |i| format!("{y} += {};", x.at(i)));
    y
}

/// `sum_axis` and `mean_axis` differ only by the scale.
fn axis_forward(cx: &ForwardCx<'_>, out: &mut [f64], mean: bool) {
    let (shape, axis) = (cx.shape(0), cx.params().axis as usize);
    sum_axis_into(cx.input(0), shape, axis, out);
    if mean {
        let scale = 1.0 / shape[axis] as f64;
        out.iter_mut().for_each(|v| *v *= scale);
    }
}

/// Linear: the tangent is reduced exactly as the value was.
fn axis_jvp(cx: &TangentCx<'_>, out: &mut [f64], mean: bool) -> Result<(), TangentError> {
    let (shape, axis) = (cx.fwd().shape(0), cx.fwd().params().axis as usize);
    if let Some(t) = cx.tangent(0) {
        // Summed on its own first (as `forward` sums), then added in.
        let (outer, n, inner) = split_axis(shape, axis);
        let scale = 1.0 / shape[axis] as f64;
        for o in 0..outer {
            for i in 0..inner {
                let s = (0..n).fold(0.0, |acc, k| acc + t[(o * n + k) * inner + i]);
                out[o * inner + i] += if mean { s * scale } else { s };
            }
        }
    }
    Ok(())
}

/// `grad_x[o, k, i] += grad_y[o, i]` (divided by the axis length, for mean).
fn axis_backward(cx: &mut BackwardCx<'_>, mean: bool) {
    let (outer, n, inner) = split_axis(cx.fwd().shape(0), cx.fwd().params().axis as usize);
    let scale = if mean { 1.0 / n as f64 } else { 1.0 };
    let upstream = cx.upstream();
    if let Some(gx) = cx.grad_mut(0) {
        for o in 0..outer {
            let g = &upstream[o * inner..][..inner];
            for k in 0..n {
                let dst = &mut gx[(o * n + k) * inner..][..inner];
                dst.iter_mut().zip(g).for_each(|(d, g)| *d += g * scale);
            }
        }
    }
}

/// The axis's (outer, n, inner) and the mean's scale, as the op computes them.
fn emit_axis(cx: &EmitCx<'_>, mean: bool) -> ((usize, usize, usize), String) {
    let (outer, n, inner) = split_axis(&cx.inputs[0].shape, cx.params.axis as usize);
    ((outer, n, inner), crate::tape::emit_cx::f64_literal(if mean { 1.0 / n as f64 } else { 1.0 }))
}

/// [`axis_forward`] as code.
fn emit_axis_forward(cx: &mut EmitCx<'_>, mean: bool) {
    let ((outer, n, inner), scale) = emit_axis(cx, mean);
    let (x, y) = (cx.inputs[0].clone(), cx.out.clone());
    cx.declare_out();
    cx.line(format!("for o in 0..{outer} {{"));
    cx.line(format!("    for k in 0..{n} {{"));
    cx.line(format!("        for i in 0..{inner} {{"));
    let (yi, xi) = (y.at(&format!("o * {inner} + i")), x.at(&format!("(o * {n} + k) * {inner} + i")));
    cx.line(format!("            {yi} += {xi};"));
    cx.line("        }");
    cx.line("    }");
    cx.line("}");
    if mean {
        cx.each(y.len(), |i| format!("{} *= {scale};", y.at(i)));
    }
}

/// [`axis_backward`] as code.
fn emit_axis_backward(cx: &mut EmitCx<'_>, mean: bool) {
    let ((outer, n, inner), scale) = emit_axis(cx, mean);
    let (Some(dx), Some(dy)) = (cx.d_inputs[0].clone(), cx.d_out.cloned()) else { return };
    cx.line(format!("for o in 0..{outer} {{"));
    cx.line(format!("    for k in 0..{n} {{"));
    cx.line(format!("        for i in 0..{inner} {{"));
    let (di, ui) = (dx.at(&format!("(o * {n} + k) * {inner} + i")), dy.at(&format!("o * {inner} + i")));
    cx.line(format!("            {di} += {ui} * {scale};"));
    cx.line("        }");
    cx.line("    }");
    cx.line("}");
}

/// The differentiable form of [`axis_backward`]: the upstream gradient
/// with the reduced axis put back (extent 1), scaled, then broadcast along it.
fn axis_backward_var<'t>(cx: &VarCx<'t>, upstream: Var<'t>, mean: bool) -> Option<VarGrads<'t>> {
    let (x, axis) = (cx.input(0), cx.params().axis as usize);
    let shape = x.shape();
    let kept = reduced_shape("sum_axis", &shape, axis, true).unwrap_or_else(|e| unreachable!("{e}")); // x exists: it fits
    let mut g = if cx.params().keepdim { upstream } else { upstream.reshape(&kept) };
    if mean {
        g = g * (1.0 / shape[axis] as f64);
    }
    Some(smallvec![Some(g.broadcast_to(&shape))])
}

fn axis_label(name: &str, p: NodeParams) -> String {
    format!("{name}(axis={}, keepdim={})", p.axis, p.keepdim)
}

impl<const MEAN: bool> Op for AxisReduce<MEAN> {
    fn name(&self) -> &'static str {
        if MEAN { "mean_axis" } else { "sum_axis" }
    }
    fn label(&self, p: NodeParams) -> String {
        axis_label(self.name(), p)
    }
    fn forward(&self, cx: &ForwardCx<'_>, out: &mut [f64]) {
        axis_forward(cx, out, MEAN)
    }
    fn jvp(&self, cx: &TangentCx<'_>, out: &mut [f64]) -> Result<(), TangentError> {
        axis_jvp(cx, out, MEAN)
    }
    fn backward(&self, cx: &mut BackwardCx<'_>) {
        axis_backward(cx, MEAN)
    }
    fn backward_var<'t>(&self, cx: &VarCx<'t>, upstream: Var<'t>) -> Option<VarGrads<'t>> {
        axis_backward_var(cx, upstream, MEAN)
    }

    /// `sum_axis_into`'s loops (from 0.0, `k` order), then `*= 1/n` for mean.
    fn emit_forward(&self, cx: &mut EmitCx<'_>) -> Option<()> {
        emit_axis_forward(cx, MEAN);
        Some(())
    }
    /// `d_x[o, k, i] += d_y[o, i] * scale`, as `axis_backward`.
    fn emit_backward(&self, cx: &mut EmitCx<'_>) -> Option<()> {
        emit_axis_backward(cx, MEAN);
        Some(())
    }
    fn local_text(&self, cx: &ForwardCx<'_>, _: usize) -> Option<Cow<'static, str>> {
        let axis = cx.params().axis;
        let scale = if MEAN { format!("1/{}", cx.shape(0)[axis as usize]) } else { "1".to_string() };
        Some(format!("{scale}, spread back along axis {axis}").into())
    }
}

impl<'t> Var<'t> {
    /// Sum of all elements, as a scalar (shape `[]`).
    ///
    /// ```
    /// let tape = tapegrad::Tape::new();
    /// let x = tape.var(tapegrad::Tensor::ones(&[2, 3]));
    /// assert_eq!(x.sum().item(), 6.0);
    /// ```
    pub fn sum(self) -> Var<'t> {
        self.tape.push::<Sum>(NodeParams::default(), &[self], OutShape::Given(&[]))
    }

    /// Mean of all elements, as a scalar.
    ///
    /// ```
    /// let tape = tapegrad::Tape::new();
    /// let x = tape.var(tapegrad::Tensor::arange(0.0, 4.0, 1.0));
    /// assert_eq!(x.mean().item(), 1.5);
    /// assert_eq!(x.mean().backward().wrt(x).data(), &[0.25; 4]);
    /// ```
    pub fn mean(self) -> Var<'t> {
        self.tape.push::<Mean>(NodeParams::default(), &[self], OutShape::Given(&[]))
    }

    /// Sum over `axis`; with `keepdim` the axis stays with extent 1.
    ///
    /// # Panics
    /// If `axis` is out of range; the message names the op and the shape.
    ///
    /// ```
    /// let tape = tapegrad::Tape::new();
    /// let x = tape.var(tapegrad::Tensor::ones(&[2, 3]));
    /// assert_eq!(x.sum_axis(0, false).value().data(), &[2.0, 2.0, 2.0]);
    /// ```
    pub fn sum_axis(self, axis: impl Axis, keepdim: bool) -> Var<'t> {
        self.try_sum_axis(axis, keepdim).unwrap_or_else(|e| panic!("{e}"))
    }

    /// Like [`Var::sum_axis`], but a bad axis is an error.
    ///
    /// ```
    /// let tape = tapegrad::Tape::new();
    /// assert!(tape.var(tapegrad::Tensor::ones(&[2])).try_sum_axis(1, false).is_err());
    /// ```
    pub fn try_sum_axis(self, axis: impl Axis, keepdim: bool) -> Result<Var<'t>, ShapeError> {
        axis_reduce(self, axis, keepdim, false)
    }

    /// Mean over `axis`; with `keepdim` the axis stays with extent 1.
    ///
    /// # Panics
    /// If `axis` is out of range.
    ///
    /// ```
    /// let tape = tapegrad::Tape::new();
    /// let x = tape.var(tapegrad::Tensor::arange(0.0, 4.0, 1.0).reshape(&[2, 2]));
    /// assert_eq!(x.mean_axis(1, true).value().data(), &[0.5, 2.5]);
    /// ```
    pub fn mean_axis(self, axis: impl Axis, keepdim: bool) -> Var<'t> {
        self.try_mean_axis(axis, keepdim).unwrap_or_else(|e| panic!("{e}"))
    }

    /// Like [`Var::mean_axis`], but a bad axis is an error.
    ///
    /// ```
    /// let tape = tapegrad::Tape::new();
    /// assert!(tape.scalar(1.0).try_mean_axis(0, false).is_err());
    /// ```
    pub fn try_mean_axis(self, axis: impl Axis, keepdim: bool) -> Result<Var<'t>, ShapeError> {
        axis_reduce(self, axis, keepdim, true)
    }
}

fn axis_reduce(x: Var<'_>, axis: impl Axis, keepdim: bool, mean: bool) -> Result<Var<'_>, ShapeError> {
    let in_shape = x.shape();
    let name = if mean { "mean_axis" } else { "sum_axis" };
    let axis = resolve_axis(name, &in_shape, axis)?;
    let shape = reduced_shape(name, &in_shape, axis, keepdim)?;
    let params = NodeParams { axis: axis as u8, keepdim, ..NodeParams::default() };
    let out = OutShape::Given(&shape);
    if mean { x.tape.try_push::<MeanAxis>(params, &[x], out) } else { x.tape.try_push::<SumAxis>(params, &[x], out) }
}

use super::registry::OpCase;

/// This file's cases in the op registry (see [`super::registry`]).
pub(crate) const CASES: &[OpCase] = &[
    OpCase::unary("sum", |v| v[0].sum()),
    OpCase::unary("mean", |v| v[0].mean()),
    OpCase::unary("sum_axis", |v| v[0].sum_axis(0, false)),
    OpCase::unary("mean_axis", |v| v[0].mean_axis(1, true)),
];

#[cfg(test)]
mod tests {
    use crate::{Tape, Tensor};

    #[test]
    fn reductions_match_closed_forms() {
        let tape = Tape::new();
        let x = tape.var(Tensor::arange(0.0, 6.0, 1.0).reshape(&[2, 3]));
        assert_eq!(x.sum().item(), 15.0);
        assert_eq!(x.mean().item(), 2.5);
        assert_eq!(x.sum_axis(0, false).value().data(), &[3.0, 5.0, 7.0]);
        assert_eq!(x.mean_axis(1, true).value().data(), &[1.0, 4.0]);
        assert_eq!(x.mean().backward().wrt(x).data(), &[1.0 / 6.0; 6]);
        // d/dx of sum_j w_j * (sum over axis 0 of x)_j is w_j in every row.
        let w = tape.constant(Tensor::from_vec(vec![1.0, 2.0, 3.0], &[3]));
        let g = (x.sum_axis(0, false) * w).sum().backward();
        assert_eq!(g.wrt(x).data(), &[1.0, 2.0, 3.0, 1.0, 2.0, 3.0]);
        let g = (x.mean_axis(1, false) * tape.constant(Tensor::from_vec(vec![3.0, 6.0], &[2]))).sum().backward();
        assert_eq!(g.wrt(x).data(), &[1.0, 1.0, 1.0, 2.0, 2.0, 2.0]);
    }

    #[test]
    fn reduction_tangents_are_the_reduced_tangents() {
        // Reductions are linear, so the tangent of each is the same reduction of dx.
        let tape = Tape::new();
        let x = tape.var(Tensor::arange(0.0, 6.0, 1.0).reshape(&[2, 3]));
        let dx = Tensor::from_vec(vec![1.0, 2.0, 3.0, 10.0, 20.0, 30.0], &[2, 3]);
        let t = |y: crate::Var<'_>| y.jvp(&[(x, &dx)]).unwrap().data().to_vec();
        assert_eq!(t(x.sum()), [66.0]);
        assert_eq!(t(x.mean()), [11.0]);
        assert_eq!(t(x.sum_axis(0, false)), [11.0, 22.0, 33.0]);
        assert_eq!(t(x.sum_axis(1, true)), [6.0, 60.0]);
        assert_eq!(t(x.mean_axis(1, false)), [2.0, 20.0]);
        assert_eq!(t(x.mean_axis(0, true)), [5.5, 11.0, 16.5]);
    }

    #[test]
    fn labels_name_the_axis() {
        let tape = Tape::new();
        let x = tape.var(Tensor::ones(&[2, 3]));
        assert!(format!("{:?}", x.sum_axis(0, true)).contains("sum_axis(axis=0, keepdim=true)"));
    }
}
