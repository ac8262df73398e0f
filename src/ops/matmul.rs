//! `matmul`: the product of 2-D Vars, `[m, k] x [k, n] -> [m, n]`.
//! (Batches of matrices, 3-D operands, go to `batched_matmul.rs`.)
//!
//! Backward of `C = A B`: `dA += dC B^T` and `dB += A^T dC`. The transposes
//! are read in place through strides (no copies), and the products
//! accumulate straight into the gradient slots (`beta = 1`).

use crate::tape::{
    BackwardCx, EmitCx, ForwardCx, NodeParams, Op, Operand, OutShape, StaticOp, TangentCx, TangentError, Var, VarCx,
    VarGrads,
};
use crate::tensor::{MatRef, ShapeError, gemm_is_small, gemm_of_checked_shapes, matmul_dims};
use smallvec::smallvec;
use std::borrow::Cow;

/// The op.
pub(crate) struct MatMul;

impl StaticOp for MatMul {
    const THIS: &'static Self = &MatMul;
}

impl Op for MatMul {
    fn name(&self) -> &'static str {
        "matmul"
    }

    fn forward(&self, cx: &ForwardCx<'_>, out: &mut [f64]) {
        let (m, k, n) = (cx.shape(0)[0], cx.shape(0)[1], cx.shape(1)[1]);
        let a = MatRef::row_major(cx.input(0), m, k);
        let b = MatRef::row_major(cx.input(1), k, n);
        gemm_of_checked_shapes(1.0, a, b, 0.0, out);
    }

    /// Product rule: `dC = dA B + A dB`, accumulated into the (zeroed)
    /// tangent by two products with `beta = 1`.
    fn jvp(&self, cx: &TangentCx<'_>, out: &mut [f64]) -> Result<(), TangentError> {
        let (m, k, n) = (cx.fwd().shape(0)[0], cx.fwd().shape(0)[1], cx.fwd().shape(1)[1]);
        let a = MatRef::row_major(cx.input(0), m, k);
        let b = MatRef::row_major(cx.input(1), k, n);
        if let Some(da) = cx.tangent(0) {
            gemm_of_checked_shapes(1.0, MatRef::row_major(da, m, k), b, 1.0, out);
        }
        if let Some(db) = cx.tangent(1) {
            gemm_of_checked_shapes(1.0, a, MatRef::row_major(db, k, n), 1.0, out);
        }
        Ok(())
    }

    fn backward(&self, cx: &mut BackwardCx<'_>) {
        let (m, k, n) = (cx.fwd().shape(0)[0], cx.fwd().shape(0)[1], cx.fwd().shape(1)[1]);
        let dc = MatRef::row_major(cx.upstream(), m, n);
        let a = MatRef::row_major(cx.input(0), m, k);
        let b = MatRef::row_major(cx.input(1), k, n);
        if let Some(ga) = cx.grad_mut(0) {
            gemm_of_checked_shapes(1.0, dc, b.t(), 1.0, ga);
        }
        if let Some(gb) = cx.grad_mut(1) {
            gemm_of_checked_shapes(1.0, a.t(), dc, 1.0, gb);
        }
    }

    /// `dA = dC B^T`, `dB = A^T dC`, recorded as `matmul` and `t` nodes.
    fn backward_var<'t>(&self, cx: &VarCx<'t>, upstream: Var<'t>) -> Option<VarGrads<'t>> {
        let (a, b) = (cx.input(0), cx.input(1));
        let ga = cx.needs_grad(0).then(|| upstream.matmul(b.t()));
        let gb = cx.needs_grad(1).then(|| a.t().matmul(upstream));
        Some(smallvec![ga, gb])
    }

    /// `C = A B`, as the GEMM computes it: a product small enough for its
    /// plain loop as that loop (each element summed in k order from 0.0),
    /// a larger one by calling the GEMM itself, whose blocked order is then
    /// the tape's by construction.
    fn emit_forward(&self, cx: &mut EmitCx<'_>) -> Option<()> {
        let (a, b, c) = (cx.inputs[0].clone(), cx.inputs[1].clone(), cx.out.clone());
        let (m, k, n) = (a.shape[0], a.shape[1], b.shape[1]);
        if gemm_is_small(m, k, n) {
            let prod = Product { a: (&a, k, 1), b: (&b, n, 1), m, n, k };
            emit_small(cx, &c, false, prod);
        } else {
            cx.line(format!("let mut {} = [0.0f64; {}];", c.name, m * n));
            cx.line(format!(
                "tapegrad::tensor::gemm(1.0, {}, {}, 0.0, {});",
                mat(&a, m, k),
                mat(&b, k, n),
                slice_mut(&c)
            ));
        }
        Some(())
    }

    /// `dA += dC B^T`, then `dB += A^T dC`, as `backward` (the same GEMM
    /// calls, or the same loops).
    fn emit_backward(&self, cx: &mut EmitCx<'_>) -> Option<()> {
        let (a, b, dc) = (cx.inputs[0].clone(), cx.inputs[1].clone(), cx.d_out?.clone());
        let (m, k, n) = (a.shape[0], a.shape[1], b.shape[1]);
        let small = gemm_is_small(m, k, n);
        if let Some(da) = cx.d_inputs[0].clone() {
            if small {
                emit_small(cx, &da, true, Product { a: (&dc, n, 1), b: (&b, 1, n), m, n: k, k: n });
            } else {
                let (l, r) = (mat(&dc, m, n), format!("{}.t()", mat(&b, k, n)));
                cx.line(format!("tapegrad::tensor::gemm(1.0, {l}, {r}, 1.0, {});", slice_mut(&da)));
            }
        }
        if let Some(db) = cx.d_inputs[1].clone() {
            if small {
                emit_small(cx, &db, true, Product { a: (&a, 1, k), b: (&dc, n, 1), m: k, n, k: m });
            } else {
                let (l, r) = (format!("{}.t()", mat(&a, m, k)), mat(&dc, m, n));
                cx.line(format!("tapegrad::tensor::gemm(1.0, {l}, {r}, 1.0, {});", slice_mut(&db)));
            }
        }
        Some(())
    }

    fn local_text(&self, _: &ForwardCx<'_>, k: usize) -> Option<Cow<'static, str>> {
        Some(["dA = dC B^T", "dB = A^T dC"][k].into())
    }
}

/// A product `C (m x n) = A (m x k) B (k x n)` for the emitter, each
/// operand with its (row, column) strides into its elements.
struct Product<'o> {
    a: (&'o Operand, usize, usize),
    b: (&'o Operand, usize, usize),
    m: usize,
    n: usize,
    k: usize,
}

/// `small_gemm`'s loop, written out: for each element of C, `acc` from 0.0
/// plus `A(i, p) B(p, j)` in p order; then `C = acc` (or, accumulating as
/// with `beta = 1`, `C = acc + C`). A loop of one is left out.
fn emit_small(cx: &mut EmitCx<'_>, c: &Operand, accumulate: bool, pr: Product<'_>) {
    let Product { a: (a, ars, acs), b: (b, brs, bcs), m, n, k } = pr;
    let var = |name: &'static str, extent: usize| if extent == 1 { "0" } else { name };
    let (i, j, p) = (var("i", m), var("j", n), var("p", k));
    if !accumulate && !c.scalar {
        cx.line(format!("let mut {} = [0.0f64; {}];", c.name, m * n));
    }
    let mut depth = 0;
    for (v, extent) in [(i, m), (j, n)] {
        if extent != 1 {
            cx.line(format!("{}for {v} in 0..{extent} {{", "    ".repeat(depth)));
            depth += 1;
        }
    }
    let pad = "    ".repeat(depth);
    let prod = format!("{} * {}", a.at(&index(&[(i, ars), (p, acs)])), b.at(&index(&[(p, brs), (j, bcs)])));
    cx.line(format!("{pad}let mut acc = 0.0f64;"));
    if k == 1 {
        cx.line(format!("{pad}acc += {prod};"));
    } else {
        cx.line(format!("{pad}for p in 0..{k} {{"));
        cx.line(format!("{pad}    acc += {prod};"));
        cx.line(format!("{pad}}}"));
    }
    let at = c.at(&index(&[(i, n), (j, 1)]));
    cx.line(match (accumulate, c.scalar) {
        (true, _) => format!("{pad}{at} = acc + {at};"),
        (false, true) => format!("{pad}let {} = acc;", c.name),
        (false, false) => format!("{pad}{at} = acc;"),
    });
    for d in (0..depth).rev() {
        cx.line(format!("{}}}", "    ".repeat(d)));
    }
}

/// `i * 3 + p` from `[("i", 3), ("p", 1)]`, leaving out the terms of a
/// loop of one (`"0"`).
fn index(terms: &[(&str, usize)]) -> String {
    let parts: Vec<String> = terms
        .iter()
        .filter(|(v, _)| *v != "0")
        .map(|&(v, s)| if s == 1 { v.to_string() } else { format!("{v} * {s}") })
        .collect();
    if parts.is_empty() { "0".into() } else { parts.join(" + ") }
}

/// An operand as a row-major `MatRef` in generated code.
fn mat(x: &Operand, rows: usize, cols: usize) -> String {
    let data = if x.scalar { format!("std::slice::from_ref(&{})", x.name) } else { format!("&{}[..]", x.name) };
    format!("tapegrad::tensor::MatRef::row_major({data}, {rows}, {cols})")
}

/// An operand as a `&mut [f64]` in generated code.
fn slice_mut(x: &Operand) -> String {
    if x.scalar { format!("std::slice::from_mut(&mut {})", x.name) } else { format!("&mut {}[..]", x.name) }
}

impl<'t> Var<'t> {
    /// Matrix product of 2-D Vars, `[m, k] x [k, n] -> [m, n]`; with a
    /// 3-D operand, a batch of products broadcast as PyTorch does:
    /// `[b, m, k] x [k, n]`, `[m, k] x [b, k, n]` and `[b, m, k] x [b, k, n]`
    /// give `[b, m, n]`, and a batch extent of 1 repeats (`[1, m, k] x
    /// [b, k, n]`). The gradient of a repeated operand is summed over the batch.
    ///
    /// # Panics
    /// If an operand is not 2-D or 3-D, the inner dimensions differ, the
    /// batch extents do not broadcast or `other` is from another tape; the
    /// message names `matmul` and both shapes.
    ///
    /// ```
    /// use tapegrad::{Tape, Tensor};
    /// let tape = Tape::new();
    /// let x = tape.var(Tensor::ones(&[5, 2, 3])); // 5 batches of [2, 3]
    /// let w = tape.var(Tensor::ones(&[3, 4]));    // one shared weight
    /// let y = x.matmul(w);
    /// assert_eq!(y.shape().as_slice(), &[5, 2, 4]);
    /// assert_eq!(y.sum().backward().wrt(w).data()[0], 10.0); // summed over 5 batches x 2 rows
    /// ```
    ///
    /// ```
    /// use tapegrad::{Tape, Tensor};
    /// let tape = Tape::new();
    /// let a = tape.var(Tensor::ones(&[2, 3]));
    /// let b = tape.var(Tensor::ones(&[3, 4]));
    /// assert_eq!(a.matmul(b).shape().as_slice(), &[2, 4]);
    /// ```
    pub fn matmul(self, other: Var<'t>) -> Var<'t> {
        self.try_matmul(other).unwrap_or_else(|e| panic!("{e}"))
    }

    /// Like [`Var::matmul`], but a shape mismatch (or an operand from
    /// another tape) is an error.
    ///
    /// ```
    /// use tapegrad::{Tape, Tensor};
    /// let tape = Tape::new();
    /// let a = tape.var(Tensor::ones(&[2, 3]));
    /// let e = a.try_matmul(a).unwrap_err();
    /// assert_eq!(e.to_string(), "matmul: shapes [2, 3] and [2, 3]: inner dimensions 3 and 2 differ");
    /// ```
    pub fn try_matmul(self, other: Var<'t>) -> Result<Var<'t>, ShapeError> {
        // Before the shapes: `other`'s index means nothing on this tape.
        self.tape.try_same_tape("matmul", &[self, other])?;
        // One look at both shapes: the ranks pick the op, then the extents.
        let dims = self
            .tape
            .with_shapes(self.idx, other.idx, |a, b| (a.len() == 2 && b.len() == 2).then(|| matmul_dims(a, b)));
        let Some(dims) = dims else {
            // Batches of matrices (or ranks no product takes): their own op.
            return super::batched_matmul::try_batched(self, other, 0);
        };
        let (m, _, n) = dims?;
        // `try_push` checks the tape again: cheap, and `with_shapes` above needed it first.
        self.tape.try_push::<MatMul>(NodeParams::default(), &[self, other], OutShape::Given(&[m, n]))
    }
}

use super::registry::OpCase;

/// This file's cases in the op registry (see [`super::registry`]).
pub(crate) const CASES: &[OpCase] = &[OpCase::binary("matmul", |v| v[0].matmul(v[1])).shapes(&[&[2, 3], &[3, 4]])];

#[cfg(test)]
mod tests {
    use crate::{Tape, Tensor};

    #[test]
    fn matmul_matches_its_closed_form() {
        // C = A B; d sum(W * C)/dA = W B^T, d/dB = A^T W, written out by hand.
        let tape = Tape::new();
        let a = tape.var(Tensor::from_vec(vec![1.0, 2.0, 3.0, 4.0], &[2, 2]));
        let b = tape.var(Tensor::from_vec(vec![5.0, 6.0, 7.0, 8.0], &[2, 2]));
        let w = tape.constant(Tensor::from_vec(vec![1.0, 0.0, 0.0, 2.0], &[2, 2]));
        let c = a.matmul(b);
        assert_eq!(c.value().data(), &[19.0, 22.0, 43.0, 50.0]);
        let g = (c * w).sum().backward();
        assert_eq!(g.wrt(a).data(), &[5.0, 7.0, 12.0, 16.0]);
        assert_eq!(g.wrt(b).data(), &[1.0, 6.0, 2.0, 8.0]);
        // Forward mode: dC = dA B + A dB, written out by hand.
        let da = Tensor::from_vec(vec![1.0, 0.0, 0.0, 0.0], &[2, 2]); // moves A[0][0]
        let db = Tensor::from_vec(vec![0.0, 0.0, 0.0, 1.0], &[2, 2]); // moves B[1][1]
        // dA B = [[5, 6], [0, 0]]; A dB = [[0, 2], [0, 4]].
        assert_eq!(c.jvp(&[(a, &da), (b, &db)]).unwrap().data(), &[5.0, 8.0, 0.0, 4.0]);
    }
}
