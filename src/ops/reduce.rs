//! Reductions: `sum` and `mean` over everything or over one axis.
//!
//! Forward adds elements together; backward hands the output's gradient
//! back to every element that was added (divided by the count, for mean).

use super::Op;
use crate::tape::{Arena, Node, Var};
use crate::tensor::{ShapeError, check_axis, reduced_shape, split_axis, sum_axis_into};

impl<'t> Var<'t> {
    /// Sum of all elements, as a scalar (shape `[]`).
    ///
    /// ```
    /// let tape = tapegrad::Tape::new();
    /// let x = tape.var(tapegrad::Tensor::ones(&[2, 3]));
    /// assert_eq!(x.sum().item(), 6.0);
    /// ```
    pub fn sum(self) -> Var<'t> {
        self.tape.record(Op::Sum, 0.0, &[self], &[], |arena, out| out[0] = arena.value(self.idx).iter().sum())
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
        self.tape.record(Op::Mean, 0.0, &[self], &[], |arena, out| {
            let v = arena.value(self.idx);
            out[0] = v.iter().sum::<f64>() / v.len() as f64;
        })
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
    let a = axis as u8;
    let op = if mean { Op::MeanAxis { axis: a, keepdim } } else { Op::SumAxis { axis: a, keepdim } };
    let scale = if mean { 1.0 / in_shape[axis] as f64 } else { 1.0 };
    Ok(x.tape.record(op, 0.0, &[x], &shape, |arena, out| {
        sum_axis_into(arena.value(x.idx), &in_shape, axis, out);
        if mean {
            out.iter_mut().for_each(|v| *v *= scale);
        }
    }))
}

/// Backward of `sum` (scale 1) and `mean` (scale 1/n): every input element
/// receives the output's gradient times the scale.
pub(crate) fn sum_backward(node: &Node, arena: &Arena<'_>, upstream: &[f64], below: &mut [f64], scale: f64) {
    if let Some(gx) = super::input_grad(arena, below, node.args[0]) {
        let g = upstream[0] * scale;
        gx.iter_mut().for_each(|v| *v += g);
    }
}

/// Backward of an axis reduction: `grad_x[o, k, i] += grad_y[o, i]`
/// (divided by the axis length, for mean).
pub(crate) fn sum_axis_backward(
    node: &Node,
    arena: &Arena<'_>,
    axis: usize,
    upstream: &[f64],
    below: &mut [f64],
    mean: bool,
) {
    let x = node.args[0];
    let (outer, n, inner) = split_axis(arena.shape(x), axis);
    let scale = if mean { 1.0 / n as f64 } else { 1.0 };
    if let Some(gx) = super::input_grad(arena, below, x) {
        for o in 0..outer {
            let g = &upstream[o * inner..][..inner];
            for k in 0..n {
                let dst = &mut gx[(o * n + k) * inner..][..inner];
                dst.iter_mut().zip(g).for_each(|(d, g)| *d += g * scale);
            }
        }
    }
}
