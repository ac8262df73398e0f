//! `permute(&dims)`: the axes of a Var of any rank in a new order (PyTorch's
//! `x.permute(dims)`, NumPy's `transpose(x, axes)`): output axis `k` is
//! input axis `dims[k]`. `transpose(a, b)` is the permutation that swaps
//! two axes (`x.transpose(-2, -1)` is a batch of matrices transposed:
//! attention's `K^T`). The 2-D `t()` stays its own op in `layout.rs`.
//!
//! It moves elements and does no arithmetic, so each rule is the same
//! walk: forward and the tangent copy input element `i` to output element
//! `j`; backward adds upstream `j` back into `i`; the differentiable
//! backward is the inverse permutation, recorded.
//!
//! The permutation is recorded as a constant node, the op's second input
//! (as `gather`'s indices are), so the node needs no storage of its own and
//! the tape's table shows it.

use crate::tape::{
    BackwardCx, EmitCx, ForwardCx, NodeParams, Op, OutShape, StaticOp, TangentCx, TangentError, Var, VarCx, VarGrads,
};
use crate::tensor::{Axis, Shape, ShapeError, resolve_axis, row_major_strides};
use smallvec::{SmallVec, smallvec};
use std::borrow::Cow;

/// The op; inputs `[x, dims]`, `dims` a constant of `rank` axis numbers.
pub(crate) struct Permute;

impl StaticOp for Permute {
    const THIS: &'static Self = &Permute;
}

/// Calls `f(i, j)` for every element: output element `j` (row-major in the
/// permuted shape) is input element `i`. The last output axis is the inner
/// loop, walked with its input stride; an odometer carries the others.
fn for_each_move(in_shape: &[usize], dims: &[f64], mut f: impl FnMut(usize, usize)) {
    let rank = in_shape.len();
    if rank == 0 {
        return f(0, 0);
    }
    let in_strides = row_major_strides(in_shape);
    let out_shape: SmallVec<[usize; 4]> = dims.iter().map(|&d| in_shape[d as usize]).collect();
    let strides: SmallVec<[usize; 4]> = dims.iter().map(|&d| in_strides[d as usize]).collect();
    if out_shape.contains(&0) {
        return;
    }
    let (n_last, s_last) = (out_shape[rank - 1], strides[rank - 1]);
    let mut idx: SmallVec<[usize; 4]> = smallvec![0; rank];
    let (mut j, mut base) = (0, 0);
    loop {
        for k in 0..n_last {
            f(base + k * s_last, j + k);
        }
        j += n_last;
        // Advance the odometer over the outer axes.
        let mut d = rank - 1;
        loop {
            if d == 0 {
                return;
            }
            d -= 1;
            idx[d] += 1;
            base += strides[d];
            if idx[d] < out_shape[d] {
                break;
            }
            base -= idx[d] * strides[d];
            idx[d] = 0;
        }
    }
}

/// [`for_each_move`] as generated code: loops over the output, then
/// `stmt(i, j)` with the input's and the output's index. `None` when the
/// axes are not a constant of the code (a parameter): the loops need them.
fn emit_each_move(cx: &mut EmitCx<'_>, stmt: impl Fn(&str, &str) -> String) -> Option<()> {
    let dims = cx.inputs[1].constant.clone()?;
    let in_shape = cx.inputs[0].shape.clone();
    let own = row_major_strides(&in_shape);
    let out_shape: Vec<usize> = dims.iter().map(|&d| in_shape[d as usize]).collect();
    let st = [dims.iter().map(|&d| own[d as usize]).collect(), row_major_strides(&out_shape)];
    cx.nest(&out_shape, &st, |ix| stmt(&ix[0], &ix[1]));
    Some(())
}

impl Op for Permute {
    fn name(&self) -> &'static str {
        "permute"
    }

    fn forward(&self, cx: &ForwardCx<'_>, out: &mut [f64]) {
        let x = cx.input(0);
        for_each_move(cx.shape(0), cx.input(1), |i, j| out[j] = x[i]);
    }

    /// Linear: the tangent moves as the value did.
    fn jvp(&self, cx: &TangentCx<'_>, out: &mut [f64]) -> Result<(), TangentError> {
        if let Some(t) = cx.tangent(0) {
            for_each_move(cx.fwd().shape(0), cx.input(1), |i, j| out[j] += t[i]);
        }
        Ok(())
    }

    /// The axes are read as positions and fix the output's shape, so a
    /// replay may not change them ([`Tape::set`](crate::Tape::set) of the
    /// axes node is refused unless it writes the same permutation).
    fn check_input(&self, cx: &ForwardCx<'_>, k: usize, value: &[f64]) -> Result<(), String> {
        if k == 1 && value != cx.input(1) {
            return Err(format!("the axes of a permute are fixed when it is recorded ({:?})", cx.input(1)));
        }
        Ok(())
    }

    /// `dX[i] += dY[j]` for every element `j` that read `i`.
    fn backward(&self, cx: &mut BackwardCx<'_>) {
        let (shape, dims, up) = (cx.fwd().shape(0), cx.input(1), cx.upstream());
        if let Some(gx) = cx.grad_mut(0) {
            for_each_move(shape, dims, |i, j| gx[i] += up[j]);
        }
    }

    /// `dX = dY.permute(inverse of dims)`, recorded.
    fn backward_var<'t>(&self, cx: &VarCx<'t>, upstream: Var<'t>) -> Option<VarGrads<'t>> {
        let dims = cx.input(1).value();
        let mut inverse: SmallVec<[usize; 4]> = smallvec![0; dims.len()];
        for (k, &d) in dims.data().iter().enumerate() {
            inverse[d as usize] = k;
        }
        Some(smallvec![Some(upstream.permute(&inverse)), None])
    }

    /// `y[j] = x[i]` over the output in order, as `forward`.
    fn emit_forward(&self, cx: &mut EmitCx<'_>) -> Option<()> {
        let (x, y) = (cx.inputs[0].clone(), cx.out.clone());
        cx.inputs[1].constant.as_ref()?;
        cx.declare_out();
        emit_each_move(cx, |i, j| format!("{} = {};", y.at(j), x.at(i)))
    }

    /// `d_x[i] += d_y[j]`, as `backward`.
    fn emit_backward(&self, cx: &mut EmitCx<'_>) -> Option<()> {
        let Some(dx) = cx.d_inputs[0].clone() else { return Some(()) };
        let dy = cx.d_out?.clone();
        emit_each_move(cx, |i, j| format!("{} += {};", dx.at(i), dy.at(j)))
    }

    fn local_text(&self, _: &ForwardCx<'_>, k: usize) -> Option<Cow<'static, str>> {
        Some(["dX = dY permuted back", "0 (constant axes)"][k].into())
    }
}

impl<'t> Var<'t> {
    /// The axes in a new order: output axis `k` is input axis `dims[k]`
    /// (PyTorch's `x.permute(dims)`); a negative axis counts from the end.
    ///
    /// # Panics
    /// As [`Var::try_permute`] errs.
    ///
    /// ```
    /// use tapegrad::{Tape, Tensor};
    /// let tape = Tape::new();
    /// let x = tape.var(Tensor::arange(0.0, 6.0, 1.0).reshape(&[1, 2, 3]));
    /// let y = x.permute(&[2, 0, 1]); // [3, 1, 2]
    /// assert_eq!(y.shape().as_slice(), &[3, 1, 2]);
    /// assert_eq!(y.value().data(), &[0.0, 3.0, 1.0, 4.0, 2.0, 5.0]);
    /// ```
    pub fn permute<A: Axis>(self, dims: &[A]) -> Var<'t> {
        self.try_permute(dims).unwrap_or_else(|e| panic!("{e}"))
    }

    /// Like [`Var::permute`], but `dims` that are not a permutation of the
    /// axes (the wrong count, one out of range, one twice) are an error.
    ///
    /// ```
    /// let tape = tapegrad::Tape::new();
    /// let x = tape.var(tapegrad::Tensor::zeros(&[2, 3, 4]));
    /// let e = x.try_permute(&[0, -1, 2]).unwrap_err();
    /// assert_eq!(e.to_string(), "permute: shape [2, 3, 4]: axis 2 appears twice in [0, -1, 2]");
    /// assert!(x.try_permute(&[0, 1]).is_err());
    /// ```
    pub fn try_permute<A: Axis>(self, dims: &[A]) -> Result<Var<'t>, ShapeError> {
        let shape = self.shape();
        let signed: Vec<i64> = dims.iter().map(|d| d.signed()).collect();
        let err = |reason: String| ShapeError::new("permute", &[&shape], reason);
        if dims.len() != shape.len() {
            return Err(err(format!("{signed:?} names {} axes for {} dimensions", dims.len(), shape.len())));
        }
        let mut resolved: SmallVec<[usize; 4]> = SmallVec::with_capacity(dims.len());
        for &d in dims {
            let d = resolve_axis("permute", &shape, d)?;
            if resolved.contains(&d) {
                return Err(err(format!("axis {d} appears twice in {signed:?}")));
            }
            resolved.push(d);
        }
        let out: Shape = resolved.iter().map(|&d| shape[d]).collect();
        let dims = self.tape.try_constant_with(&[resolved.len()], |v| {
            v.iter_mut().zip(&resolved).for_each(|(v, &d)| *v = d as f64);
        })?;
        self.tape.guard(dims);
        self.tape.try_push::<Permute>(NodeParams::default(), &[self, dims], OutShape::Given(&out))
    }

    /// Swaps axes `a` and `b` (PyTorch's `x.transpose(a, b)`), any rank;
    /// `x.transpose(-2, -1)` transposes each matrix of a batch. Recorded as
    /// a [`Var::permute`].
    ///
    /// # Panics
    /// As [`Var::try_transpose`] errs.
    ///
    /// ```
    /// use tapegrad::{Tape, Tensor};
    /// let tape = Tape::new();
    /// let k = tape.var(Tensor::arange(0.0, 12.0, 1.0).reshape(&[2, 3, 2]));
    /// let kt = k.transpose(-2, -1);
    /// assert_eq!(kt.shape().as_slice(), &[2, 2, 3]);
    /// assert_eq!(&kt.value().data()[..6], &[0.0, 2.0, 4.0, 1.0, 3.0, 5.0]);
    /// ```
    pub fn transpose(self, a: impl Axis, b: impl Axis) -> Var<'t> {
        self.try_transpose(a, b).unwrap_or_else(|e| panic!("{e}"))
    }

    /// Like [`Var::transpose`], but an axis out of range is an error.
    ///
    /// ```
    /// let tape = tapegrad::Tape::new();
    /// let e = tape.var(tapegrad::Tensor::zeros(&[2, 3])).try_transpose(0, -3).unwrap_err();
    /// assert_eq!(e.to_string(), "transpose: shape [2, 3]: axis -3 is out of range for 2 dimensions");
    /// ```
    pub fn try_transpose(self, a: impl Axis, b: impl Axis) -> Result<Var<'t>, ShapeError> {
        let shape = self.shape();
        let (a, b) = (resolve_axis("transpose", &shape, a)?, resolve_axis("transpose", &shape, b)?);
        let mut dims: SmallVec<[usize; 4]> = (0..shape.len()).collect();
        dims.swap(a, b);
        self.try_permute(&dims)
    }
}

use super::registry::OpCase;

/// This file's cases in the op registry (see [`super::registry`]):
/// `transpose` is a `permute` node too.
pub(crate) const CASES: &[OpCase] = &[
    OpCase::unary("permute", |v| v[0].permute(&[2, 0, 1])).shapes(&[&[2, 3, 2]]),
    OpCase::unary("permute", |v| v[0].transpose(0, -1)).shapes(&[&[3, 1, 2]]),
];

#[cfg(test)]
mod tests {
    use crate::{Tape, Tensor};

    /// `y[i, j, k] = x[k, i, j]` for `dims = [2, 0, 1]`, written as loops.
    #[test]
    fn permute_matches_its_index_formula() {
        let (a, b, c) = (2, 3, 4);
        let xs: Vec<f64> = (0..a * b * c).map(|i| i as f64 * 0.5 - 3.0).collect();
        let tape = Tape::new();
        let x = tape.var(Tensor::from_vec(xs.clone(), &[a, b, c]));
        let y = x.permute(&[2, 0, 1]);
        assert_eq!(y.shape().as_slice(), &[c, a, b]);
        let ws: Vec<f64> = (0..a * b * c).map(|i| (i * 7 % 11) as f64).collect();
        let w = tape.constant(Tensor::from_vec(ws.clone(), &[c, a, b]));
        let g = (y * w).sum().backward().wrt(x);
        let dx: Vec<f64> = (0..a * b * c).map(|i| i as f64 * 10.0).collect();
        let t = y.jvp(&[(x, &Tensor::from_vec(dx.clone(), &[a, b, c]))]).unwrap();
        let yv = y.value();
        for i in 0..a {
            for j in 0..b {
                for k in 0..c {
                    let (xi, yi) = ((i * b + j) * c + k, (k * a + i) * b + j);
                    assert_eq!(yv.data()[yi], xs[xi]);
                    assert_eq!(t.data()[yi], dx[xi]); // the tangent moves as the value
                    assert_eq!(g.data()[xi], ws[yi]); // d sum(w * y)/dx[i,j,k] = w[k,i,j]
                }
            }
        }
    }

    #[test]
    fn transpose_of_the_last_two_axes_transposes_each_matrix() {
        let tape = Tape::new();
        let x = tape.var(Tensor::arange(0.0, 12.0, 1.0).reshape(&[2, 2, 3]));
        let y = x.transpose(-1, 1);
        for bt in 0..2 {
            for r in 0..2 {
                for c in 0..3 {
                    assert_eq!(y.value().get(&[bt, c, r]), x.value().get(&[bt, r, c]));
                }
            }
        }
        // On a 2-D Var, transpose(0, 1) is t().
        let m = tape.var(Tensor::arange(0.0, 6.0, 1.0).reshape(&[2, 3]));
        assert_eq!(m.transpose(0, 1).value(), m.t().value());
        assert_eq!(m.transpose(1, 1).value(), m.value()); // the identity
        // The axes node is guarded: a replay cannot swap in other axes.
        let y = x.permute(&[2, 0, 1]);
        let axes = tape.node(y.inputs()[1]);
        let e = tape.try_set(axes, &[0.0, 2.0, 1.0]).unwrap_err();
        assert!(e.to_string().contains("the axes of a permute are fixed"), "{e}");
        assert!(tape.try_set(axes, &[2.0, 0.0, 1.0]).is_ok());
        // A 0-d Var has the empty permutation.
        assert_eq!(tape.scalar(2.0).permute::<usize>(&[]).item(), 2.0);
    }
}
