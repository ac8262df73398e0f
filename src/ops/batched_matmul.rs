//! `matmul` on batches of matrices, as PyTorch broadcasts them:
//! `[b, m, k] x [k, n]`, `[m, k] x [b, k, n]` and `[b, m, k] x [b, k, n]`,
//! where a batch extent of 1 repeats (`[1, m, k] x [b, k, n]`) and a 2-D
//! operand is the same matrix for every batch. Output `[b, m, n]`.
//!
//! A file apart from `matmul.rs` because it is a different op: the 2-D
//! product stays one GEMM with no batch bookkeeping (the sine network's
//! hot path), and this one loops over the batch, calling the crate's GEMM
//! (which packs into its reused workspace) once per matrix.
//!
//! The node's `axis` holds two flags: bit 0 reads the left operand's last
//! two dimensions transposed, bit 1 the right's. The public `matmul` never
//! sets them; the differentiable backward does, so `dA = dC B^T` is one
//! node with no transpose op for 3-D Vars.
//!
//! Backward: per batch, `dA_i += dC_i B_i^T` and `dB_i += A_i^T dC_i`, each
//! GEMM accumulating (`beta = 1`) into the slot of the matrix that batch
//! read, so an operand repeated over the batch (2-D, or batch extent 1)
//! receives the sum over the batch, the reduce-to-shape of broadcasting.

use crate::tape::{
    BackwardCx, EmitCx, ForwardCx, NodeParams, Op, Operand, OutShape, StaticOp, TangentCx, TangentError, Var, VarCx,
    VarGrads,
};
use crate::tensor::{MatRef, ShapeError, gemm_of_checked_shapes, try_numel};
use smallvec::smallvec;
use std::borrow::Cow;

/// The op.
pub(crate) struct BatchedMatMul;

impl StaticOp for BatchedMatMul {
    const THIS: &'static Self = &BatchedMatMul;
}

/// Left operand transposed (its last two dimensions).
const TA: u8 = 1;
/// Right operand transposed.
const TB: u8 = 2;

/// One operand as a batch of stored matrices: `(batch, rows, cols)`, batch
/// 1 for a 2-D operand.
fn batch_dims(shape: &[usize]) -> (usize, usize, usize) {
    match *shape {
        [r, c] => (1, r, c),
        [b, r, c] => (b, r, c),
        _ => unreachable!("checked at recording: 2-D or 3-D"),
    }
}

/// Matrix `i` of the output's batch as operand `data` stores it (a view of
/// `rows x cols`, transposed when `t`): the same matrix for every `i` when
/// the operand's batch is 1.
fn view(data: &[f64], (batch, rows, cols): (usize, usize, usize), i: usize, t: bool) -> MatRef<'_> {
    let j = if batch == 1 { 0 } else { i };
    let m = MatRef::row_major(&data[j * rows * cols..(j + 1) * rows * cols], rows, cols);
    if t { m.t() } else { m }
}

/// The range of operand matrix `i` reads, for writing its gradient.
fn range((batch, rows, cols): (usize, usize, usize), i: usize) -> std::ops::Range<usize> {
    let j = if batch == 1 { 0 } else { i };
    j * rows * cols..(j + 1) * rows * cols
}

/// The output's shape, or an error naming both shapes: both 2-D or 3-D,
/// inner dimensions equal (after the flags' transposes), batch extents
/// equal or 1.
fn out_shape(a: &[usize], b: &[usize], flags: u8) -> Result<Vec<usize>, ShapeError> {
    let err = |reason: String| ShapeError::new("matmul", &[a, b], reason);
    if !(2..=3).contains(&a.len()) || !(2..=3).contains(&b.len()) {
        return Err(err("operands must be 2-D (a matrix) or 3-D (a batch of matrices)".into()));
    }
    let ((ba, ra, ca), (bb, rb, cb)) = (batch_dims(a), batch_dims(b));
    let (m, k) = if flags & TA != 0 { (ca, ra) } else { (ra, ca) };
    let (k2, n) = if flags & TB != 0 { (cb, rb) } else { (rb, cb) };
    if k != k2 {
        return Err(err(format!("inner dimensions {k} and {k2} differ")));
    }
    let batch = match (ba, bb) {
        (x, y) if x == y => x,
        (1, y) => y,
        (x, 1) => x,
        (x, y) => return Err(err(format!("batch dimensions {x} and {y} do not broadcast"))),
    };
    let shape = if a.len() == 2 && b.len() == 2 { vec![m, n] } else { vec![batch, m, n] };
    if try_numel(&shape).is_none() {
        return Err(err(format!("the result {shape:?} has more elements than a usize can count")));
    }
    Ok(shape)
}

/// Records `op(a) op(b)` (transposed as `flags` say) after checking shapes.
pub(crate) fn try_batched<'t>(a: Var<'t>, b: Var<'t>, flags: u8) -> Result<Var<'t>, ShapeError> {
    a.tape.try_same_tape("matmul", &[a, b])?;
    let shape = a.tape.with_shapes(a.idx, b.idx, |sa, sb| out_shape(sa, sb, flags))?;
    let params = NodeParams { axis: flags, ..NodeParams::default() };
    a.tape.try_push::<BatchedMatMul>(params, &[a, b], OutShape::Given(&shape))
}

/// [`try_batched`] for shapes the rules below know to fit.
fn batched<'t>(a: Var<'t>, b: Var<'t>, flags: u8) -> Var<'t> {
    try_batched(a, b, flags).unwrap_or_else(|e| panic!("{e}"))
}

/// What every rule needs: the operands' batch dims, the flags, the
/// output's batch count and matrix size.
struct Dims {
    a: (usize, usize, usize),
    b: (usize, usize, usize),
    ta: bool,
    tb: bool,
    batch: usize,
    mn: usize,
}

fn dims(cx: &ForwardCx<'_>) -> Dims {
    dims_of(cx.shape(0), cx.shape(1), cx.out_shape(), cx.params().axis)
}

/// [`Dims`] of a product of `a` by `b` into `out`, with the transpose
/// `flags`: what the rules and their emitted code both read.
fn dims_of(a: &[usize], b: &[usize], out: &[usize], flags: u8) -> Dims {
    let mn = out[out.len() - 2] * out[out.len() - 1];
    let batch = if out.len() == 3 { out[0] } else { 1 };
    Dims { a: batch_dims(a), b: batch_dims(b), ta: flags & TA != 0, tb: flags & TB != 0, batch, mn }
}

/// [`view`] as generated code: batch `i` of `x` (matrix 0 when its batch
/// extent is 1) as a `MatRef`, transposed when `t`.
fn emit_view(x: &Operand, (batch, rows, cols): (usize, usize, usize), t: bool) -> String {
    let data = if x.scalar {
        format!("std::slice::from_ref(&{})", x.name)
    } else if batch == 1 {
        format!("&{}[..]", x.name)
    } else {
        let rc = rows * cols;
        format!("&{}[i * {rc}..(i + 1) * {rc}]", x.name)
    };
    format!("tapegrad::tensor::MatRef::row_major({data}, {rows}, {cols}){}", if t { ".t()" } else { "" })
}

/// [`range`] as generated code: the slot of batch `i`'s matrix in a
/// gradient buffer, as `&mut [f64]`.
fn emit_slot(g: &Operand, (batch, rows, cols): (usize, usize, usize)) -> String {
    let rc = rows * cols;
    if g.scalar {
        format!("std::slice::from_mut(&mut {})", g.name)
    } else if batch == 1 {
        format!("&mut {}[..]", g.name)
    } else {
        format!("&mut {}[i * {rc}..(i + 1) * {rc}]", g.name)
    }
}

/// [`Dims`] from the emit rule's shapes.
fn emit_dims(cx: &EmitCx<'_>) -> Dims {
    dims_of(&cx.inputs[0].shape, &cx.inputs[1].shape, &cx.out.shape, cx.params.axis)
}

/// One line per batch matrix: `for i in 0..batch { line }`.
fn emit_per_batch(cx: &mut EmitCx<'_>, batch: usize, line: String) {
    cx.line(format!("for i in 0..{batch} {{"));
    cx.line(format!("    {line}"));
    cx.line("}");
}

impl Op for BatchedMatMul {
    fn name(&self) -> &'static str {
        "matmul"
    }

    fn label(&self, params: NodeParams) -> String {
        match params.axis {
            0 => "matmul".into(),
            TA => "matmul(a^T b)".into(),
            TB => "matmul(a b^T)".into(),
            _ => "matmul(a^T b^T)".into(),
        }
    }

    /// `C_i = op(A_i) op(B_i)`, one GEMM per matrix of the batch.
    fn forward(&self, cx: &ForwardCx<'_>, out: &mut [f64]) {
        let d = dims(cx);
        let (a, b) = (cx.input(0), cx.input(1));
        for (i, c) in out.chunks_exact_mut(d.mn.max(1)).enumerate().take(d.batch) {
            gemm_of_checked_shapes(1.0, view(a, d.a, i, d.ta), view(b, d.b, i, d.tb), 0.0, c);
        }
    }

    /// Product rule per matrix: `dC_i = op(dA_i) op(B_i) + op(A_i) op(dB_i)`.
    fn jvp(&self, cx: &TangentCx<'_>, out: &mut [f64]) -> Result<(), TangentError> {
        let d = dims(cx.fwd());
        let (a, b) = (cx.input(0), cx.input(1));
        for (i, c) in out.chunks_exact_mut(d.mn.max(1)).enumerate().take(d.batch) {
            if let Some(da) = cx.tangent(0) {
                gemm_of_checked_shapes(1.0, view(da, d.a, i, d.ta), view(b, d.b, i, d.tb), 1.0, c);
            }
            if let Some(db) = cx.tangent(1) {
                gemm_of_checked_shapes(1.0, view(a, d.a, i, d.ta), view(db, d.b, i, d.tb), 1.0, c);
            }
        }
        Ok(())
    }

    /// Per matrix, with `opA`, `opB` the (maybe transposed) operands:
    /// `d opA = dC opB^T`, `d opB = opA^T dC`, transposed back when the
    /// operand was read transposed; accumulated into the matrix it read.
    fn backward(&self, cx: &mut BackwardCx<'_>) {
        let d = dims(cx.fwd());
        let (a, b, up) = (cx.input(0), cx.input(1), cx.upstream());
        let (m, n) = {
            let s = cx.fwd().out_shape();
            (s[s.len() - 2], s[s.len() - 1])
        };
        let dc = |i: usize| MatRef::row_major(&up[i * m * n..(i + 1) * m * n], m, n);
        if let Some(ga) = cx.grad_mut(0) {
            for i in 0..d.batch {
                let (g, opb) = (&mut ga[range(d.a, i)], view(b, d.b, i, d.tb));
                if d.ta {
                    gemm_of_checked_shapes(1.0, opb, dc(i).t(), 1.0, g); // (dC opB^T)^T
                } else {
                    gemm_of_checked_shapes(1.0, dc(i), opb.t(), 1.0, g);
                }
            }
        }
        if let Some(gb) = cx.grad_mut(1) {
            for i in 0..d.batch {
                let (g, opa) = (&mut gb[range(d.b, i)], view(a, d.a, i, d.ta));
                if d.tb {
                    gemm_of_checked_shapes(1.0, dc(i).t(), opa, 1.0, g); // (opA^T dC)^T
                } else {
                    gemm_of_checked_shapes(1.0, opa.t(), dc(i), 1.0, g);
                }
            }
        }
    }

    /// The same products as batched matmul nodes with transpose flags,
    /// then summed over the batch where the operand was repeated.
    fn backward_var<'t>(&self, cx: &VarCx<'t>, upstream: Var<'t>) -> Option<VarGrads<'t>> {
        let (a, b, flags) = (cx.input(0), cx.input(1), cx.params().axis);
        let (ta, tb) = (flags & TA != 0, flags & TB != 0);
        let t = |x: bool, bit: u8| if x { bit } else { 0 };
        let ga = cx.needs_grad(0).then(|| {
            let g = if ta { batched(b, upstream, t(tb, TA) | TB) } else { batched(upstream, b, t(!tb, TB)) };
            fit(g, &a.shape())
        });
        let gb = cx.needs_grad(1).then(|| {
            let g = if tb { batched(upstream, a, TA | t(ta, TB)) } else { batched(a, upstream, t(!ta, TA)) };
            fit(g, &b.shape())
        });
        Some(smallvec![ga, gb])
    }

    /// `C_i = opA_i opB_i`, one call of the crate's GEMM per batch matrix
    /// (the tape's own call, so its summation order by construction).
    fn emit_forward(&self, cx: &mut EmitCx<'_>) -> Option<()> {
        let (d, a, b, c) = (emit_dims(cx), cx.inputs[0].clone(), cx.inputs[1].clone(), cx.out.clone());
        cx.declare_out();
        if d.mn == 0 {
            return Some(());
        }
        let (va, vb) = (emit_view(&a, d.a, d.ta), emit_view(&b, d.b, d.tb));
        let slot = if c.scalar {
            format!("std::slice::from_mut(&mut {})", c.name)
        } else {
            format!("&mut {}[i * {mn}..(i + 1) * {mn}]", c.name, mn = d.mn)
        };
        emit_per_batch(cx, d.batch, format!("tapegrad::tensor::gemm(1.0, {va}, {vb}, 0.0, {slot});"));
        Some(())
    }

    /// Per batch, `dA_i += dC_i opB_i^T` (or its transpose), then
    /// `dB_i += opA_i^T dC_i`, the same GEMM calls as `backward`.
    fn emit_backward(&self, cx: &mut EmitCx<'_>) -> Option<()> {
        let (d, a, b, dy) = (emit_dims(cx), cx.inputs[0].clone(), cx.inputs[1].clone(), cx.d_out?.clone());
        let s = &cx.out.shape;
        let (m, n) = (s[s.len() - 2], s[s.len() - 1]);
        let dc = emit_view(&dy, (d.batch, m, n), false);
        let dct = format!("{dc}.t()");
        if let Some(ga) = cx.d_inputs[0].clone() {
            let opb = emit_view(&b, d.b, d.tb);
            let (l, r) = if d.ta { (opb, dct.clone()) } else { (dc.clone(), format!("{opb}.t()")) };
            emit_per_batch(
                cx,
                d.batch,
                format!("tapegrad::tensor::gemm(1.0, {l}, {r}, 1.0, {});", emit_slot(&ga, d.a)),
            );
        }
        if let Some(gb) = cx.d_inputs[1].clone() {
            let opa = emit_view(&a, d.a, d.ta);
            let (l, r) = if d.tb { (dct, opa) } else { (format!("{opa}.t()"), dc) };
            emit_per_batch(
                cx,
                d.batch,
                format!("tapegrad::tensor::gemm(1.0, {l}, {r}, 1.0, {});", emit_slot(&gb, d.b)),
            );
        }
        Some(())
    }

    fn local_text(&self, _: &ForwardCx<'_>, k: usize) -> Option<Cow<'static, str>> {
        Some(["dA_i = dC_i B_i^T", "dB_i = A_i^T dC_i"][k].into())
    }
}

/// A gradient summed over the batch down to its operand's shape when the
/// operand was repeated over it.
fn fit<'t>(g: Var<'t>, shape: &[usize]) -> Var<'t> {
    if g.shape().as_slice() == shape { g } else { g.sum_to(shape) }
}

use super::registry::OpCase;

/// This file's cases in the op registry (see [`super::registry`]).
pub(crate) const CASES: &[OpCase] = &[OpCase::binary("matmul", |v| v[0].matmul(v[1])).shapes(&[&[2, 2, 3], &[3, 2]])];

#[cfg(test)]
mod tests {
    use crate::{Tape, Tensor};

    #[test]
    fn batched_matmul_matches_its_closed_form() {
        // Two batches of [[1, 2]] times the shared [[1], [3]]: C = [[7]], [[t]] per batch.
        let tape = Tape::new();
        let a = tape.var(Tensor::from_vec(vec![1.0, 2.0, 3.0, 4.0], &[2, 1, 2]));
        let b = tape.var(Tensor::from_vec(vec![1.0, 3.0], &[2, 1]));
        let c = a.matmul(b);
        assert_eq!(c.shape().as_slice(), &[2, 1, 1]);
        assert_eq!(c.value().data(), &[7.0, 15.0]);
        // d sum(w C) / dA_i = w_i B^T; d/dB = sum_i A_i^T w_i (summed over the batch).
        let w = tape.constant(Tensor::from_vec(vec![1.0, 10.0], &[2, 1, 1]));
        let g = (c * w).sum().backward();
        assert_eq!(g.wrt(a).data(), &[1.0, 3.0, 10.0, 30.0]);
        assert_eq!(g.wrt(b).data(), &[1.0 + 30.0, 2.0 + 40.0]);
        // Forward mode: moving B[1] by 1 moves C_i by A_i[1].
        let db = Tensor::from_vec(vec![0.0, 1.0], &[2, 1]);
        assert_eq!(c.jvp(&[(b, &db)]).unwrap().data(), &[2.0, 4.0]);
    }

    #[test]
    fn transposed_flags_read_the_operands_transposed() {
        let tape = Tape::new();
        let a = tape.var(Tensor::from_vec(vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0], &[1, 3, 2]));
        let b = tape.var(Tensor::from_vec(vec![1.0, 0.0, 2.0, 1.0, 1.0, 1.0], &[3, 2]));
        // a^T b: [2, 3] x [3, 2] = [[1+6+5, 0+3+5], [2+8+6, 0+4+6]]
        let c = super::try_batched(a, b, super::TA).unwrap();
        assert_eq!(c.value().data(), &[12.0, 8.0, 16.0, 10.0]);
        // a b^T with b [2, 2] would not fit; a b^T with b [4, 2] gives [1, 3, 4]
        let b4 = tape.var(Tensor::ones(&[4, 2]));
        assert_eq!(super::try_batched(a, b4, super::TB).unwrap().shape().as_slice(), &[1, 3, 4]);
    }
}
