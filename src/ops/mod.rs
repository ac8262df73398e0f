//! Every op the tape can record, one file per op or small op family. Each
//! file holds the op whole: its `Var` method(s), its forward rule (how its
//! value is computed), its tangent rule (forward mode: how its inputs'
//! tangents become its output's, a Jacobian-vector product), its backward rule (its vector-Jacobian product: how
//! the gradient of its output becomes the gradients of its inputs), the
//! words the backward trace prints for its local derivative, and a test of
//! its values and gradients against a closed form.
//!
//! | file | ops |
//! |---|---|
//! | [`elementwise`] | the machinery every elementwise rule shares; [`Var::apply`](crate::Var::apply) for your own |
//! | `sigmoid.rs`, `tanh.rs`, `relu.rs`, `softplus.rs`, `abs.rs` | activations |
//! | `leaky_relu.rs`, `gelu.rs` | `leaky_relu(slope)`; `gelu` (tanh form, PyTorch's `approximate='tanh'`) |
//! | `clamp.rs` | `clamp(lo, hi)`, as `clamp_min` and `clamp_max` nodes (gradient 1 on the bounds) |
//! | `where_.rs` | `a.where_(mask, b)`: `a` where a constant 0/1 mask is 1, else `b` |
//! | `exp.rs`, `log1p.rs`, `power.rs`, `trig.rs` | `exp ln`, `log1p`, `sqrt square powi powf`, `sin cos` |
//! | `scalar.rs` | `x + c`, `c - x`, `c * x`, `x / c`, `c / x`, `-x` |
//! | `arith.rs`, `maximum.rs` | `+ - * /` and `maximum` between two Vars, with NumPy broadcasting |
//! | `reduce.rs` | `sum mean sum_axis mean_axis` |
//! | `matmul.rs`, `layout.rs` | `matmul`; `t reshape` |
//! | `permute.rs`, `squeeze.rs` | `permute transpose` on any rank; `unsqueeze squeeze` (recorded as `reshape`) |
//! | `batched_matmul.rs` | `matmul` with a 3-D operand: batches of products, broadcast as PyTorch |
//! | `softmax.rs` | `softmax(axis) log_softmax_axis(axis)`; `log_softmax()` on the last axis |
//! | `extremum.rs` | `max_axis min_axis` (first extremum or first NaN gets the gradient); `argmax argmin` |
//! | `concat.rs`, `narrow.rs` | `concat stack` (n-ary); `narrow`: a block along an axis |
//! | `gather.rs` | `index_select gather` by constant indices, and their adjoints `index_add scatter_add` |
//! | `pick.rs` | `pick`: one element per row by constant indices |
//! | `lanes.rs` | the lanes along an axis the axis ops loop over |
//! | `layer_norm.rs` | `layer_norm(eps)` over the last axis (composed of reduce and arithmetic ops) |
//! | `masked_fill.rs`, `dropout.rs` | `masked_fill(mask, value)` (on `where_`); `dropout(p, training, rng)` (`x * mask`) |
//! | `detach.rs` | `detach` |
//! | `broadcast.rs`, `mask.rs` | `broadcast_to sum_to`; `sign step ge_mask` (what the differentiable backward is written with) |
//! | [`custom`] | ops defined outside the crate, with their own backward rule |
//!
//! Adding an op is three steps, and then every check of the crate covers it:
//! 1. a new file here implementing the tape's op interface (`tape::op::Op`:
//!    name, forward, jvp, backward, backward_var; see docs/DESIGN.md) and a
//!    `Var` method that checks shapes and calls `Tape::push` (its `try_`
//!    form calls `Tape::try_push`);
//! 2. its `mod` line below;
//! 3. its cases for the [`registry`], at the end of the file, next to its
//!    tests: `pub(crate) const CASES: &[OpCase] = &[OpCase::unary("name",
//!    |v| v[0].name())]` (`OpCase::binary` for two inputs; `.shapes(..)`,
//!    `.domain(lo, hi)`, `.checks(..)` when the defaults do not fit, with a
//!    comment saying why), and the file's line in [`registry::cases`].
//!
//! `tests/ops_registry.rs` fails until step 3 is done. The backward and
//! tangent rules *add* into their buffers: that is how a Var used several
//! times collects the sum of its contributions.

/// The rules of an op no gradient flows through (`detach`, `argmax`, the
/// masks): a zero tangent (the buffer starts zeroed), no backward in
/// either sweep, and nothing for the emitter to write backward. Written
/// inside the op's `impl Op`, after its name and forward.
macro_rules! no_gradient_rules {
    () => {
        /// No gradient flows through: a zero tangent (the buffer starts zeroed).
        fn jvp(&self, _: &TangentCx<'_>, _: &mut [f64]) -> Result<(), TangentError> {
            Ok(())
        }
        fn backward(&self, _: &mut BackwardCx<'_>) {}
        fn backward_var<'t>(&self, cx: &VarCx<'t>, _: Var<'t>) -> Option<VarGrads<'t>> {
            Some(smallvec::smallvec![None; cx.arity()])
        }
        fn passes_gradient(&self) -> bool {
            false
        }
        /// No gradient passes: nothing to write.
        fn emit_backward(&self, _: &mut EmitCx<'_>) -> Option<()> {
            Some(())
        }
    };
}

/// A unary rule's `f` and `df` and the emitter's text of each (`F_SRC`,
/// `DF_SRC`), stringified from the very same tokens, so the compiled code
/// cannot drift from the rule (as `arith.rs`'s and `scalar.rs`'s `rule!`
/// do it). Written inside the rule's `impl UnaryFn`: `f(x, p) = EXPR;`
/// then `df(x, y, p) = EXPR;`, each after its doc comments. A body binds no
/// names of its own: in the generated code they could shadow a node's.
macro_rules! unary_fns {
    ($(#[$fa:meta])* f($x:pat_param, $p:pat_param) = $f:expr;
     $(#[$da:meta])* df($dx:pat_param, $dy:pat_param, $dp:pat_param) = $df:expr;) => {
        const F_SRC: Option<&'static str> =
            Some(concat!("|", stringify!($x), ", ", stringify!($p), "| ", stringify!($f)));
        const DF_SRC: Option<&'static str> = Some(concat!(
            "|", stringify!($dx), ", ", stringify!($dy), ", ", stringify!($dp), "| ", stringify!($df)
        ));
        $(#[$fa])*
        fn f($x: f64, $p: f64) -> f64 {
            $f
        }
        $(#[$da])*
        fn df($dx: f64, $dy: f64, $dp: f64) -> f64 {
            $df
        }
    };
}

pub mod custom;
pub mod elementwise;
pub mod registry;

pub use layer_norm::LAYER_NORM_EPS;

mod abs;
mod arith;
mod batched_matmul;
mod broadcast;
mod clamp;
mod concat;
mod detach;
mod dropout;
mod exp;
mod extremum;
mod gather;
mod gelu;
mod lanes;
mod layer_norm;
mod layout;
mod leaky_relu;
mod log1p;
mod mask;
mod masked_fill;
mod matmul;
mod maximum;
mod narrow;
mod permute;
mod pick;
mod power;
mod reduce;
mod relu;
mod scalar;
mod sigmoid;
mod softmax;
mod softplus;
mod squeeze;
mod tanh;
mod trig;
mod where_;

#[cfg(test)]
pub(crate) mod testing {
    //! Closed-form checks shared by the ops' own tests.
    use crate::{Tape, Tensor, Var};

    /// Checks `op` on each `x` against the closed forms `f` and `df`
    /// (value and derivative), on a 0-d scalar and on a 1-D tensor of all
    /// the points, within `tol` (relative).
    pub fn unary(
        op: impl Fn(Var<'_>) -> Var<'_>,
        xs: &[f64],
        f: impl Fn(f64) -> f64,
        df: impl Fn(f64) -> f64,
        tol: f64,
    ) {
        let close = |got: f64, want: f64| {
            got == want || (got - want).abs() <= tol * want.abs().max(1.0) || (got.is_nan() && want.is_nan())
        };
        for &x in xs {
            let tape = Tape::new();
            let v = tape.scalar(x);
            let y = op(v);
            assert!(close(y.item(), f(x)), "value at {x}: {} vs {}", y.item(), f(x));
            let g = y.backward().wrt(v).item();
            assert!(close(g, df(x)), "derivative at {x}: {g} vs {}", df(x));
            // Forward mode, through the op's tangent rule: dy = f'(x) * 1.
            let t = y.jvp(&[(v, &Tensor::scalar(1.0))]).unwrap().item();
            assert!(close(t, df(x)), "tangent at {x}: {t} vs {}", df(x));
        }
        let tape = Tape::new();
        let v = tape.var(Tensor::from_vec(xs.to_vec(), &[xs.len()]));
        let y = op(v);
        let g = y.sum().backward().wrt(v);
        for ((&x, &yv), &gv) in xs.iter().zip(y.value().data()).zip(g.data()) {
            assert!(close(yv, f(x)) && close(gv, df(x)), "tensor lane at {x}: ({yv}, {gv})");
        }
        let t = y.jvp(&[(v, &Tensor::ones(&[xs.len()]))]).unwrap();
        for (&x, &tv) in xs.iter().zip(t.data()) {
            assert!(close(tv, df(x)), "tensor lane tangent at {x}: {tv}");
        }
    }
}
