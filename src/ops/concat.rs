//! `concat` (join Vars end to end along an existing axis, `torch.cat`) and
//! `stack` (along a new axis, `torch.stack`).
//!
//! Forward: for every index before the axis, the inputs' blocks one after
//! the other. Backward: each input gets back its own block of the
//! upstream gradient (the differentiable form: a `narrow` of it).
//!
//! Concat is n-ary: its inputs beyond two sit in the tape's spill list, as
//! any node's. A node counts its inputs in a byte, so a concat of more
//! than 255 Vars is recorded as a concat of concats (the same value and
//! gradient: concatenation is associative). `stack` is `reshape` (a new
//! axis of extent 1 in each input) then `concat`, so it needs no rule of its own.

use crate::tape::{
    BackwardCx, EmitCx, ForwardCx, NodeParams, Op, OutShape, StaticOp, TangentCx, TangentError, Var, VarCx, VarGrads,
};
use crate::tensor::{Axis, Shape, ShapeError, numel, resolve_axis, resolve_new_axis, try_numel};
use smallvec::SmallVec;
use std::borrow::Cow;

/// The op.
pub(crate) struct Concat;

impl StaticOp for Concat {
    const THIS: &'static Self = &Concat;
}

/// The most inputs one node can hold (its count is a byte).
const MAX_PARTS: usize = u8::MAX as usize;

/// Calls `f(k, src, dst)` for every block: `src` the range of input `k`'s
/// block, `dst` where it sits in the output.
fn for_each_block(cx: &ForwardCx<'_>, mut f: impl FnMut(usize, std::ops::Range<usize>, std::ops::Range<usize>)) {
    let axis = cx.params().axis as usize;
    let out = cx.out_shape();
    let (outer, total, inner) = (numel(&out[..axis]), out[axis], numel(&out[axis + 1..]));
    for o in 0..outer {
        let mut at = o * total * inner;
        for k in 0..cx.arity() {
            let len = cx.shape(k)[axis] * inner;
            f(k, o * len..(o + 1) * len, at..at + len);
            at += len;
        }
    }
}

/// [`for_each_block`] as generated code, for input `k`'s blocks: loops
/// over them and their elements, then `stmt(xi, yi)` with the input's and
/// the output's index. (Each element is copied or added once, so taking
/// input by input rather than block by block changes no bit.)
fn emit_blocks_of(cx: &mut EmitCx<'_>, k: usize, stmt: impl Fn(&str, &str) -> String) {
    let (axis, out) = (cx.params.axis as usize, cx.out.shape.clone());
    let (outer, total, inner) = (numel(&out[..axis]), out[axis], numel(&out[axis + 1..]));
    let before: usize = cx.inputs[..k].iter().map(|x| x.shape[axis]).sum();
    let (len, off) = (cx.inputs[k].shape[axis] * inner, before * inner);
    let st = [vec![len, 1], vec![total * inner, 1]];
    cx.nest(&[outer, len], &st, |ix| {
        let yi = if off == 0 { ix[1].clone() } else { format!("{off} + {}", ix[1]) };
        stmt(&ix[0], &yi)
    });
}

impl Op for Concat {
    fn name(&self) -> &'static str {
        "concat"
    }

    fn label(&self, p: NodeParams) -> String {
        format!("concat(axis={})", p.axis)
    }

    fn forward(&self, cx: &ForwardCx<'_>, out: &mut [f64]) {
        for_each_block(cx, |k, src, dst| out[dst].copy_from_slice(&cx.input(k)[src]));
    }

    /// Linear: the tangents joined as the values were (zero blocks for
    /// inputs no tangent reaches).
    fn jvp(&self, cx: &TangentCx<'_>, out: &mut [f64]) -> Result<(), TangentError> {
        for_each_block(cx.fwd(), |k, src, dst| {
            if let Some(t) = cx.tangent(k) {
                out[dst].iter_mut().zip(&t[src]).for_each(|(o, t)| *o += t);
            }
        });
        Ok(())
    }

    /// Input `k` gets its block of the upstream gradient. Input by input,
    /// so a Var joined twice (`concat(&[a, a])`) receives both blocks.
    fn backward(&self, cx: &mut BackwardCx<'_>) {
        let (fwd, g) = (*cx.fwd(), cx.upstream());
        for k in 0..fwd.arity() {
            if let Some(gk) = cx.grad_mut(k) {
                for_each_block(&fwd, |j, src, dst| {
                    if j == k {
                        gk[src].iter_mut().zip(&g[dst]).for_each(|(a, b)| *a += b);
                    }
                });
            }
        }
    }

    /// Input `k`'s gradient is `dY.narrow(axis, offset_k, extent_k)`.
    fn backward_var<'t>(&self, cx: &VarCx<'t>, upstream: Var<'t>) -> Option<VarGrads<'t>> {
        let axis = cx.params().axis as usize;
        let mut offset = 0;
        let grads = (0..cx.arity())
            .map(|k| {
                let n = cx.input(k).shape()[axis];
                let g = cx.needs_grad(k).then(|| upstream.narrow(axis, offset, n));
                offset += n;
                g
            })
            .collect();
        Some(grads)
    }

    /// Each input's blocks copied into place.
    fn emit_forward(&self, cx: &mut EmitCx<'_>) -> Option<()> {
        let y = cx.out.clone();
        cx.declare_out();
        for k in 0..cx.inputs.len() {
            let x = cx.inputs[k].clone();
            emit_blocks_of(cx, k, |xi, yi| format!("{} = {};", y.at(yi), x.at(xi)));
        }
        Some(())
    }

    /// `d_x_k += d_y's blocks of x_k`, input by input, as `backward`.
    fn emit_backward(&self, cx: &mut EmitCx<'_>) -> Option<()> {
        let dy = cx.d_out?.clone();
        for k in 0..cx.inputs.len() {
            if let Some(dx) = cx.d_inputs[k].clone() {
                emit_blocks_of(cx, k, |xi, yi| format!("{} += {};", dx.at(xi), dy.at(yi)));
            }
        }
        Some(())
    }

    fn local_text(&self, _: &ForwardCx<'_>, _: usize) -> Option<Cow<'static, str>> {
        Some("dX_k = dY's block of X_k".into())
    }
}

/// Checks `parts` for `op` (not empty, one tape, the same rank and the same
/// extents except along `axis`), and returns the output's shape.
fn joined_shape(op: &'static str, parts: &[Var<'_>], axis: usize) -> Result<Shape, ShapeError> {
    let Some(first) = parts.first() else {
        return Err(ShapeError::new(op, &[], "no Vars to join: the list is empty"));
    };
    first.tape.try_same_tape(op, parts)?;
    let s0 = first.shape();
    if axis >= s0.len() {
        return Err(ShapeError::new(op, &[&s0], format!("axis {axis} is out of range for {} dimensions", s0.len())));
    }
    let mut out = s0.clone();
    out[axis] = 0;
    for (k, p) in parts.iter().enumerate() {
        let s = p.shape();
        let fits = s.len() == s0.len() && s.iter().zip(&s0).enumerate().all(|(d, (a, b))| d == axis || a == b);
        if !fits {
            let reason = format!("Var {k} does not match Var 0 outside axis {axis}");
            return Err(ShapeError::new(op, &[&s0, &s], reason));
        }
        out[axis] = out[axis]
            .checked_add(s[axis])
            .ok_or_else(|| ShapeError::new(op, &[&s0, &s], format!("the extents along axis {axis} overflow")))?;
    }
    if try_numel(&out).is_none() {
        let reason = format!("the result {:?} has too many elements to count", out.as_slice());
        return Err(ShapeError::new(op, &[&s0], reason));
    }
    Ok(out)
}

/// Records the concat of checked `parts`, as a tree of nodes of at most
/// [`MAX_PARTS`] inputs each.
/// A full tape is the one error left (the caller checked the shapes).
fn record<'t>(parts: &[Var<'t>], axis: usize) -> Result<Var<'t>, ShapeError> {
    let tape = parts[0].tape;
    if parts.len() > MAX_PARTS {
        let joined: Vec<Var<'t>> = parts.chunks(MAX_PARTS).map(|c| record(c, axis)).collect::<Result<_, _>>()?;
        return record(&joined, axis);
    }
    let shape = joined_shape("concat", parts, axis)?;
    let params = NodeParams { axis: axis as u8, ..NodeParams::default() };
    tape.try_push::<Concat>(params, parts, OutShape::Given(&shape))
}

impl<'t> Var<'t> {
    /// Joins `parts` end to end along an existing `axis` (PyTorch's
    /// `torch.cat(parts, dim)`): they must have the same rank and the same
    /// extents on every other axis. Each part's gradient is its block of
    /// the result's.
    ///
    /// # Panics
    /// As [`Var::try_concat`] errs.
    ///
    /// ```
    /// use tapegrad::{Tape, Tensor, Var};
    /// let tape = Tape::new();
    /// let a = tape.var(Tensor::from_vec(vec![1.0, 2.0], &[1, 2]));
    /// let b = tape.var(Tensor::from_vec(vec![3.0, 4.0, 5.0, 6.0], &[2, 2]));
    /// let c = Var::concat(&[a, b], 0);
    /// assert_eq!((c.shape().as_slice(), c.value().data()), (&[3, 2][..], &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0][..]));
    /// let w = tape.constant(Tensor::from_vec(vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0], &[3, 2]));
    /// let g = (c * w).sum().backward();
    /// assert_eq!(g.wrt(b).data(), &[3.0, 4.0, 5.0, 6.0]);
    /// ```
    pub fn concat(parts: &[Var<'t>], axis: impl Axis) -> Var<'t> {
        Var::try_concat(parts, axis).unwrap_or_else(|e| panic!("{e}"))
    }

    /// Like [`Var::concat`], but bad input is an error: no parts, parts
    /// from different tapes, an axis out of range, parts whose other
    /// extents differ.
    ///
    /// ```
    /// use tapegrad::{Tape, Tensor, Var};
    /// let tape = Tape::new();
    /// let a = tape.var(Tensor::zeros(&[2, 3]));
    /// let b = tape.var(Tensor::zeros(&[3, 2]));
    /// let e = Var::try_concat(&[a, b], 0).unwrap_err();
    /// assert_eq!(e.to_string(), "concat: shapes [2, 3] and [3, 2]: Var 1 does not match Var 0 outside axis 0");
    /// assert!(Var::try_concat(&[], 0).is_err());
    /// ```
    pub fn try_concat(parts: &[Var<'t>], axis: impl Axis) -> Result<Var<'t>, ShapeError> {
        let axis = parts.first().map_or(Ok(0), |p| resolve_axis("concat", &p.shape(), axis))?;
        joined_shape("concat", parts, axis)?;
        record(parts, axis)
    }

    /// Stacks `parts`, all of one shape, along a new `axis` (PyTorch's
    /// `torch.stack(parts, dim)`; `axis` may be the rank, for a new last
    /// axis). Recorded as a `reshape` of each part (a new axis of extent 1)
    /// and a `concat`.
    ///
    /// # Panics
    /// As [`Var::try_stack`] errs.
    ///
    /// ```
    /// use tapegrad::{Tape, Tensor, Var};
    /// let tape = Tape::new();
    /// let a = tape.var(Tensor::from_vec(vec![1.0, 2.0], &[2]));
    /// let b = tape.var(Tensor::from_vec(vec![3.0, 4.0], &[2]));
    /// let rows = Var::stack(&[a, b], 0);
    /// let cols = Var::stack(&[a, b], 1);
    /// assert_eq!((rows.shape().as_slice(), rows.value().data()), (&[2, 2][..], &[1.0, 2.0, 3.0, 4.0][..]));
    /// assert_eq!(cols.value().data(), &[1.0, 3.0, 2.0, 4.0]);
    /// ```
    pub fn stack(parts: &[Var<'t>], axis: impl Axis) -> Var<'t> {
        Var::try_stack(parts, axis).unwrap_or_else(|e| panic!("{e}"))
    }

    /// Like [`Var::stack`], but bad input is an error: no parts, parts
    /// from different tapes, parts of different shapes, an axis past the rank.
    ///
    /// ```
    /// use tapegrad::{Tape, Tensor, Var};
    /// let tape = Tape::new();
    /// let a = tape.var(Tensor::zeros(&[2]));
    /// let e = Var::try_stack(&[a, a], 2).unwrap_err();
    /// assert_eq!(e.to_string(), "stack: shape [2]: axis 2 is out of range for a new axis of 1 dimensions");
    /// ```
    pub fn try_stack(parts: &[Var<'t>], axis: impl Axis) -> Result<Var<'t>, ShapeError> {
        let Some(first) = parts.first() else {
            return Err(ShapeError::new("stack", &[], "no Vars to stack: the list is empty"));
        };
        first.tape.try_same_tape("stack", parts)?;
        let s0 = first.shape();
        let axis = resolve_new_axis("stack", &s0, axis)?;
        for (k, p) in parts.iter().enumerate() {
            let s = p.shape();
            if s != s0 {
                return Err(ShapeError::new("stack", &[&s0, &s], format!("Var {k} differs from Var 0")));
            }
        }
        let mut unsqueezed = s0.clone();
        unsqueezed.insert(axis, 1);
        let parts: SmallVec<[Var<'t>; 8]> = parts.iter().map(|p| p.reshape(&unsqueezed)).collect();
        Var::try_concat(&parts, axis)
    }
}

use super::registry::OpCase;

/// This file's cases in the op registry (see [`super::registry`]).
pub(crate) const CASES: &[OpCase] = &[
    OpCase::binary("concat", |v| Var::concat(&[v[0], v[1]], 0)).shapes(&[&[2, 3], &[1, 3]]),
    OpCase::binary("concat", |v| Var::stack(&[v[0], v[1]], 2)),
];

#[cfg(test)]
mod tests {
    use crate::{Tape, Tensor, Var};

    #[test]
    fn concat_along_the_last_axis_in_closed_form() {
        // [[1, 2], [3, 4]] ++ [[5], [6]] along axis 1 = [[1, 2, 5], [3, 4, 6]]
        let tape = Tape::new();
        let a = tape.var(Tensor::from_vec(vec![1.0, 2.0, 3.0, 4.0], &[2, 2]));
        let b = tape.var(Tensor::from_vec(vec![5.0, 6.0], &[2, 1]));
        let c = Var::concat(&[a, b, a], 1);
        assert_eq!(c.value().data(), &[1.0, 2.0, 5.0, 1.0, 2.0, 3.0, 4.0, 6.0, 3.0, 4.0]);
        // d sum(w * c): each part gets its block of w; `a` twice gets both blocks.
        let w = tape.constant(Tensor::from_vec((1..=10).map(f64::from).collect(), &[2, 5]));
        let g = (c * w).sum().backward();
        assert_eq!(g.wrt(a).data(), &[1.0 + 4.0, 2.0 + 5.0, 6.0 + 9.0, 7.0 + 10.0]);
        assert_eq!(g.wrt(b).data(), &[3.0, 8.0]);
        // Forward mode: the tangents joined, zero where none flows.
        let da = Tensor::from_vec(vec![0.1, 0.2, 0.3, 0.4], &[2, 2]);
        assert_eq!(c.jvp(&[(a, &da)]).unwrap().data(), &[0.1, 0.2, 0.0, 0.1, 0.2, 0.3, 0.4, 0.0, 0.3, 0.4]);
        assert!(format!("{c:?}").contains("concat(axis=1)"));
    }

    /// More parts than a node holds: a concat of concats, same values and gradients.
    #[test]
    fn six_hundred_parts() {
        let tape = Tape::new();
        let xs: Vec<_> = (0..600).map(|i| tape.var(Tensor::from_vec(vec![i as f64], &[1]))).collect();
        let c = Var::concat(&xs, 0);
        assert_eq!(c.value().data(), &(0..600).map(|i| i as f64).collect::<Vec<_>>()[..]);
        let g = (c * c).sum().backward();
        assert!(xs.iter().enumerate().all(|(i, x)| g.wrt(*x).item() == 2.0 * i as f64));
    }
}
