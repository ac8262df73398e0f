//! Reductions: `sum` and `mean` over everything or over one axis.
//!
//! Forward adds elements together; backward hands the output's gradient
//! back to every element that was added (divided by the count, for mean).

use crate::tape::{BackwardCx, ForwardCx, NodeParams, Op, OutShape, StaticOp, Var};
use crate::tensor::{ShapeError, check_axis, reduced_shape, split_axis, sum_axis_into};
use std::borrow::Cow;

/// `sum`: all elements to one.
pub(crate) struct Sum;
/// `mean`: all elements to their average.
pub(crate) struct Mean;
/// `sum_axis`: the sum along one axis.
pub(crate) struct SumAxis;
/// `mean_axis`: the average along one axis.
pub(crate) struct MeanAxis;

impl StaticOp for Sum {
    const THIS: &'static Self = &Sum;
}
impl StaticOp for Mean {
    const THIS: &'static Self = &Mean;
}
impl StaticOp for SumAxis {
    const THIS: &'static Self = &SumAxis;
}
impl StaticOp for MeanAxis {
    const THIS: &'static Self = &MeanAxis;
}

impl Op for Sum {
    fn name(&self) -> &'static str {
        "sum"
    }
    fn forward(&self, cx: &ForwardCx<'_>, out: &mut [f64]) {
        out[0] = cx.input(0).iter().sum();
    }
    /// Every input element receives the output's gradient.
    fn backward(&self, cx: &mut BackwardCx<'_>) {
        let g = cx.upstream()[0];
        if let Some(gx) = cx.grad_mut(0) {
            gx.iter_mut().for_each(|v| *v += g);
        }
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
    /// Every input element receives the output's gradient over n.
    fn backward(&self, cx: &mut BackwardCx<'_>) {
        let g = cx.upstream()[0] * (1.0 / cx.input(0).len() as f64);
        if let Some(gx) = cx.grad_mut(0) {
            gx.iter_mut().for_each(|v| *v += g);
        }
    }
    fn local_text(&self, cx: &ForwardCx<'_>, _: usize) -> Option<Cow<'static, str>> {
        let n = cx.input(0).len();
        Some(format!("1/n = 1/{n} = {} to every element", crate::inspect::fmt_num(1.0 / n as f64)).into())
    }
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

fn axis_label(name: &str, p: NodeParams) -> String {
    format!("{name}(axis={}, keepdim={})", p.axis, p.keepdim)
}

impl Op for SumAxis {
    fn name(&self) -> &'static str {
        "sum_axis"
    }
    fn label(&self, p: NodeParams) -> String {
        axis_label(self.name(), p)
    }
    fn forward(&self, cx: &ForwardCx<'_>, out: &mut [f64]) {
        axis_forward(cx, out, false)
    }
    fn backward(&self, cx: &mut BackwardCx<'_>) {
        axis_backward(cx, false)
    }
    fn local_text(&self, cx: &ForwardCx<'_>, _: usize) -> Option<Cow<'static, str>> {
        Some(format!("1, spread back along axis {}", cx.params().axis).into())
    }
}

impl Op for MeanAxis {
    fn name(&self) -> &'static str {
        "mean_axis"
    }
    fn label(&self, p: NodeParams) -> String {
        axis_label(self.name(), p)
    }
    fn forward(&self, cx: &ForwardCx<'_>, out: &mut [f64]) {
        axis_forward(cx, out, true)
    }
    fn backward(&self, cx: &mut BackwardCx<'_>) {
        axis_backward(cx, true)
    }
    fn local_text(&self, cx: &ForwardCx<'_>, _: usize) -> Option<Cow<'static, str>> {
        let axis = cx.params().axis;
        let n = cx.shape(0)[axis as usize];
        Some(format!("1/{n}, spread back along axis {axis}").into())
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
    pub fn sum_axis(self, axis: usize, keepdim: bool) -> Var<'t> {
        self.try_sum_axis(axis, keepdim).unwrap_or_else(|e| panic!("{e}"))
    }

    /// Like [`Var::sum_axis`], but a bad axis is an error.
    ///
    /// ```
    /// let tape = tapegrad::Tape::new();
    /// assert!(tape.var(tapegrad::Tensor::ones(&[2])).try_sum_axis(1, false).is_err());
    /// ```
    pub fn try_sum_axis(self, axis: usize, keepdim: bool) -> Result<Var<'t>, ShapeError> {
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
    pub fn mean_axis(self, axis: usize, keepdim: bool) -> Var<'t> {
        self.try_mean_axis(axis, keepdim).unwrap_or_else(|e| panic!("{e}"))
    }

    /// Like [`Var::mean_axis`], but a bad axis is an error.
    ///
    /// ```
    /// let tape = tapegrad::Tape::new();
    /// assert!(tape.scalar(1.0).try_mean_axis(0, false).is_err());
    /// ```
    pub fn try_mean_axis(self, axis: usize, keepdim: bool) -> Result<Var<'t>, ShapeError> {
        axis_reduce(self, axis, keepdim, true)
    }
}

fn axis_reduce(x: Var<'_>, axis: usize, keepdim: bool, mean: bool) -> Result<Var<'_>, ShapeError> {
    let in_shape = x.shape();
    let name = if mean { "mean_axis" } else { "sum_axis" };
    check_axis(name, &in_shape, axis)?;
    let shape = reduced_shape(name, &in_shape, axis, keepdim)?;
    let params = NodeParams { axis: axis as u8, keepdim, ..NodeParams::default() };
    let out = OutShape::Given(&shape);
    Ok(if mean { x.tape.push::<MeanAxis>(params, &[x], out) } else { x.tape.push::<SumAxis>(params, &[x], out) })
}

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
    fn labels_name_the_axis() {
        let tape = Tape::new();
        let x = tape.var(Tensor::ones(&[2, 3]));
        assert!(format!("{:?}", x.sum_axis(0, true)).contains("sum_axis(axis=0, keepdim=true)"));
    }
}
