//! `a.where_(mask, b)`: element `i` is `a[i]` where the constant `mask` is
//! 1, else `b[i]` (PyTorch's `a.where(mask, b)`, `torch.where(mask, a, b)`;
//! the trailing underscore only dodges Rust's `where` keyword, it does not
//! mean in place). The gradient goes to `a` where the mask is 1 and to `b`
//! elsewhere; the other gets exactly 0, written as nothing added rather
//! than `upstream * 0`, so a NaN or infinity in the branch *not* chosen
//! never reaches a gradient through this op.
//!
//! (As in PyTorch, that cannot undo what an earlier op does with its own
//! zero upstream: `sqrt(x)` at `x = -1` has a NaN derivative, and the
//! chain rule multiplies 0 by it. Clamp the unchosen input into the
//! domain first, the "double where" trick.)
//!
//! The mask is a tensor of 0s and 1s of the same shape as `a` and `b`
//! (broadcast one first with `broadcast_to`), recorded as a constant.

use crate::tape::{
    BackwardCx, EmitCx, ForwardCx, NodeParams, Op, OutShape, StaticOp, TangentCx, TangentError, Var, VarCx, VarGrads,
};
use crate::tensor::{ShapeError, Tensor};
use smallvec::smallvec;
use std::borrow::Cow;

/// The op; inputs `[mask, a, b]`.
pub(crate) struct Where;

impl StaticOp for Where {
    const THIS: &'static Self = &Where;
}

/// Records `mask ? a : b` with shapes already checked.
fn where_of_checked<'t>(mask: Var<'t>, a: Var<'t>, b: Var<'t>) -> Var<'t> {
    a.tape.push::<Where>(NodeParams::default(), &[mask, a, b], OutShape::Like(1))
}

impl Op for Where {
    fn name(&self) -> &'static str {
        "where"
    }

    fn forward(&self, cx: &ForwardCx<'_>, out: &mut [f64]) {
        let (m, a, b) = (cx.input(0), cx.input(1), cx.input(2));
        for (i, o) in out.iter_mut().enumerate() {
            *o = if m[i] != 0.0 { a[i] } else { b[i] };
        }
    }

    /// `dy[i] = m ? da[i] : db[i]` (the mask is constant).
    fn jvp(&self, cx: &TangentCx<'_>, out: &mut [f64]) -> Result<(), TangentError> {
        let m = cx.input(0);
        for (k, chosen) in [(1, true), (2, false)] {
            if let Some(d) = cx.tangent(k) {
                for (i, o) in out.iter_mut().enumerate() {
                    if (m[i] != 0.0) == chosen {
                        *o += d[i];
                    }
                }
            }
        }
        Ok(())
    }

    /// `grad_a[i] += up[i]` where the mask is 1, `grad_b[i] += up[i]`
    /// elsewhere; nothing is added to the other (not even `up * 0`).
    fn backward(&self, cx: &mut BackwardCx<'_>) {
        let (m, up) = (cx.input(0), cx.upstream());
        for (k, chosen) in [(1, true), (2, false)] {
            if let Some(g) = cx.grad_mut(k) {
                for (i, g) in g.iter_mut().enumerate() {
                    if (m[i] != 0.0) == chosen {
                        *g += up[i];
                    }
                }
            }
        }
    }

    /// `grad_a = where(mask, up, 0)`, `grad_b = where(mask, 0, up)`, recorded.
    fn backward_var<'t>(&self, cx: &VarCx<'t>, upstream: Var<'t>) -> Option<VarGrads<'t>> {
        let mask = cx.input(0);
        let zeros = || upstream.tape().constant(Tensor::zeros(&upstream.shape()));
        let ga = cx.needs_grad(1).then(|| where_of_checked(mask, upstream, zeros()));
        let gb = cx.needs_grad(2).then(|| where_of_checked(mask, zeros(), upstream));
        Some(smallvec![None, ga, gb])
    }

    /// `y[i] = if m[i] != 0.0 { a[i] } else { b[i] }`.
    fn emit_forward(&self, cx: &mut EmitCx<'_>) -> Option<()> {
        let [m, a, b] = [0, 1, 2].map(|k| cx.inputs[k].clone());
        let n = cx.out.len();
        if m.len() != n || a.len() != n || b.len() != n {
            return None;
        }
        cx.assign_each(|i| format!("if {} != 0.0 {{ {} }} else {{ {} }}", m.at(i), a.at(i), b.at(i)));
        Some(())
    }
    /// `d_a[i] += d_y[i]` where the mask is set, then `d_b[i] += d_y[i]`
    /// where it is not, as `backward`.
    fn emit_backward(&self, cx: &mut EmitCx<'_>) -> Option<()> {
        let (m, dy) = (cx.inputs[0].clone(), cx.d_out?.clone());
        for (k, chosen) in [(1, true), (2, false)] {
            if let Some(g) = cx.d_inputs[k].clone() {
                let test = if chosen { "!=" } else { "==" };
                cx.each(g.len(), |i| format!("if {} {test} 0.0 {{ {} += {}; }}", m.at(i), g.at(i), dy.at(i)));
            }
        }
        Some(())
    }

    fn local_text(&self, _: &ForwardCx<'_>, k: usize) -> Option<Cow<'static, str>> {
        Some(["0 (constant mask)", "mask", "1 - mask"][k].into())
    }
}

impl<'t> Var<'t> {
    /// `self` where `mask` is 1, `other` where it is 0, element by element
    /// (PyTorch's `self.where(mask, other)`). Gradients go only to the
    /// chosen element, so a NaN in the other branch stays out of them.
    ///
    /// # Panics
    /// If the shapes differ or the mask holds anything but 0 and 1 (see
    /// [`Var::try_where_`]).
    ///
    /// ```
    /// use tapegrad::{Tape, Tensor};
    /// let tape = Tape::new();
    /// let a = tape.var(Tensor::from_vec(vec![1.0, 2.0, 3.0], &[3]));
    /// let b = tape.var(Tensor::from_vec(vec![-1.0, f64::NAN, -3.0], &[3]));
    /// let mask = Tensor::from_vec(vec![1.0, 1.0, 0.0], &[3]);
    /// let y = a.where_(&mask, b);
    /// assert_eq!(y.value().data(), &[1.0, 2.0, -3.0]);
    /// let g = y.sum().backward();
    /// assert_eq!((g.wrt(a).data(), g.wrt(b).data()), (&[1.0, 1.0, 0.0][..], &[0.0, 0.0, 1.0][..]));
    /// ```
    pub fn where_(self, mask: &Tensor, other: Var<'t>) -> Var<'t> {
        self.try_where_(mask, other).unwrap_or_else(|e| panic!("{e}"))
    }

    /// Like [`Var::where_`], but shapes that differ, a mask value other
    /// than 0 or 1, or a Var of another tape is an error naming the shapes.
    ///
    /// ```
    /// use tapegrad::{Tape, Tensor};
    /// let tape = Tape::new();
    /// let a = tape.var(Tensor::zeros(&[2, 3]));
    /// let e = a.try_where_(&Tensor::ones(&[3]), a).unwrap_err();
    /// assert_eq!(e.to_string(), "where: shapes [3] and [2, 3] and [2, 3]: the mask, self and other must have one shape (use broadcast_to)");
    /// ```
    pub fn try_where_(self, mask: &Tensor, other: Var<'t>) -> Result<Var<'t>, ShapeError> {
        self.tape.try_same_tape("where", &[self, other])?;
        let (a, b) = (self.shape(), other.shape());
        let shapes: [&[usize]; 3] = [mask.shape(), &a, &b];
        if mask.shape() != a.as_slice() || a != b {
            let reason = "the mask, self and other must have one shape (use broadcast_to)";
            return Err(ShapeError::new("where", &shapes, reason));
        }
        if let Some(bad) = mask.data().iter().find(|&&m| m != 0.0 && m != 1.0) {
            return Err(ShapeError::new("where", &shapes, format!("the mask holds {bad}; it must hold only 0 and 1")));
        }
        Ok(where_of_checked(self.tape.constant(mask), self, other))
    }
}

use super::registry::{Checks, OpCase};

/// This file's cases in the op registry (see [`super::registry`]).
pub(crate) const CASES: &[OpCase] = &[
    // `v[0]` where the mask is 1, `v[1]` elsewhere: a NaN in the branch not
    // chosen rightly goes nowhere.
    OpCase::binary("where", |v| v[0].where_(&Tensor::from_vec(vec![1.0, 0.0, 1.0, 0.0, 0.0, 1.0], &[2, 3]), v[1]))
        .checks(Checks::NO_NAN),
];

#[cfg(test)]
mod tests {
    use crate::{Tape, Tensor};

    #[test]
    fn where_matches_its_closed_form() {
        // y = m a + (1 - m) b: dy/da = m, dy/db = 1 - m, written out.
        let tape = Tape::new();
        let a = tape.var(Tensor::from_vec(vec![1.0, 2.0, 3.0, 4.0], &[2, 2]));
        let b = tape.var(Tensor::from_vec(vec![5.0, 6.0, 7.0, 8.0], &[2, 2]));
        let m = Tensor::from_vec(vec![0.0, 1.0, 1.0, 0.0], &[2, 2]);
        let w = tape.constant(Tensor::from_vec(vec![1.0, 2.0, 3.0, 4.0], &[2, 2]));
        let y = a.where_(&m, b);
        assert_eq!(y.value().data(), &[5.0, 2.0, 3.0, 8.0]);
        let g = (y * w).sum().backward();
        assert_eq!(g.wrt(a).data(), &[0.0, 2.0, 3.0, 0.0]);
        assert_eq!(g.wrt(b).data(), &[1.0, 0.0, 0.0, 4.0]);
        let da = Tensor::from_vec(vec![1.0, 1.0, 1.0, 1.0], &[2, 2]);
        let db = Tensor::from_vec(vec![10.0, 10.0, 10.0, 10.0], &[2, 2]);
        assert_eq!(y.jvp(&[(a, &da), (b, &db)]).unwrap().data(), &[10.0, 1.0, 1.0, 10.0]);
    }

    #[test]
    fn a_nan_in_the_branch_not_chosen_stays_out_of_the_gradient() {
        let tape = Tape::new();
        let a = tape.var(Tensor::from_vec(vec![f64::NAN, 2.0, f64::INFINITY], &[3]));
        let b = tape.var(Tensor::from_vec(vec![1.0, f64::NAN, f64::NEG_INFINITY], &[3]));
        let m = Tensor::from_vec(vec![0.0, 1.0, 0.0], &[3]);
        let y = a.where_(&m, b);
        let g = (y * 3.0).sum().backward(); // upstream 3 everywhere
        assert_eq!(g.wrt(a).data(), &[0.0, 3.0, 0.0]);
        assert_eq!(g.wrt(b).data(), &[3.0, 0.0, 3.0]);
        // a NaN in the chosen branch is not hidden
        assert!(y.value().data()[0] == 1.0 && y.value().data()[1] == 2.0);
        assert!(a.where_(&Tensor::ones(&[3]), b).value().data()[0].is_nan());
    }

    #[test]
    fn where_refuses_a_mask_that_is_not_0_or_1() {
        let tape = Tape::new();
        let a = tape.var(Tensor::zeros(&[2]));
        let e = a.try_where_(&Tensor::from_vec(vec![1.0, 0.5], &[2]), a).unwrap_err();
        assert!(e.to_string().contains("the mask holds 0.5"), "{e}");
        let e = a.try_where_(&Tensor::from_vec(vec![1.0, f64::NAN], &[2]), a).unwrap_err();
        assert!(e.to_string().contains("the mask holds NaN"), "{e}");
    }
}
