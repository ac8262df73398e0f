//! The machinery every elementwise op shares.
//!
//! An elementwise op is a *rule*: its function and its local derivative,
//! written side by side as a [`UnaryFn`] (`y = f(x; p)`) or a [`BinaryFn`]
//! (`y = f(a, b)`, with NumPy broadcasting). One generic op, `Unary<R>` or
//! `Binary<R>`, turns any rule into an op the tape knows: its loops are
//! compiled once per rule, so every rule (built-in or yours) gets the
//! rule's functions inlined into the loop, and a 0-d scalar takes a short
//! lane without slice handling.
//!
//! Backward is the chain rule, element by element:
//! `grad_x[i] += grad_y[i] * dy/dx`. When a binary op broadcast an input,
//! the per-element products are summed back to the input's shape by the
//! one reduce-to-shape step of the crate ([`crate::tensor`]'s
//! `unbroadcast_add`).
//!
//! **Higher order.** The differentiable backward (`Var::grad_graph`) needs
//! the derivative as tape ops, so it can be differentiated again: a rule
//! provides [`UnaryFn::df_var`] (or [`BinaryFn::da_var`] and
//! [`BinaryFn::db_var`]), the same formula as `df` written with `Var`s.
//! Without it the rule works for everything first-order, and
//! `grad_graph` stops with "op NAME is not twice differentiable" when
//! it meets it. Write `df_var` with the same arithmetic as `df`, in the
//! same order, and the two backwards give the same bits.

use crate::tape::emit_cx::apply;
use crate::tape::{
    BackwardCx, EmitCx, ForwardCx, NodeParams, Op, OutShape, StaticOp, TangentCx, TangentError, Var, VarCx, VarGrads,
};
use crate::tensor::{
    ShapeError, Tensor, binary_into, broadcast_strides, for_each_broadcast, repeats_over_rows, row_major_strides,
    unbroadcast_add,
};
use smallvec::smallvec;
use std::borrow::Cow;
use std::marker::PhantomData;

/// An elementwise function of one input and its derivative, side by side:
/// the way to define an elementwise op of your own (record it with
/// [`Var::apply`]).
///
/// ```
/// use tapegrad::{Tape, ops::elementwise::UnaryFn};
/// /// x^3, whose derivative is 3x^2.
/// struct Cube;
/// impl UnaryFn for Cube {
///     const NAME: &'static str = "cube";
///     const TEXT: &'static str = "3x^2";
///     fn f(x: f64, _p: f64) -> f64 { x * x * x }
///     fn df(x: f64, _y: f64, _p: f64) -> f64 { 3.0 * x * x }
/// }
/// let tape = Tape::new();
/// let x = tape.scalar(2.0);
/// let y = x.apply(Cube, 0.0);
/// assert_eq!((y.item(), y.backward().wrt(x).item()), (8.0, 12.0));
/// assert_eq!(y.op_name(), "cube");
/// ```
pub trait UnaryFn: Send + Sync + 'static {
    /// Name shown in errors and in the tape's table.
    const NAME: &'static str;
    /// The derivative in words, for the backward trace (`"s(1-s)"`).
    const TEXT: &'static str;
    /// `y = f(x; p)`.
    fn f(x: f64, p: f64) -> f64;
    /// `dy/dx` at `x`; gets `y` too, since many derivatives are cheapest in
    /// terms of the output (sigmoid: `y (1 - y)`).
    fn df(x: f64, y: f64, p: f64) -> f64;
    /// `f` as Rust source, for the emitter (`crate::emit`): a closure over
    /// the same parameters, `(x, p)`, doing the same float operations as
    /// [`UnaryFn::f`] (`"|x, p| x * p"`). `None` (the default): the rule
    /// has no emit rule, and emitting a program with it is an error.
    const F_SRC: Option<&'static str> = None;
    /// `df` as Rust source: a closure over `(x, y, p)`, the same
    /// operations as [`UnaryFn::df`] (`"|_, s, _| s * (1.0 - s)"`).
    const DF_SRC: Option<&'static str> = None;
    /// The source of the helper fns the two templates call (e.g.
    /// [`crate::tensor::STABLE_SIGMOID_SRC`]).
    const HELPERS: &'static [&'static str] = &[];
    /// `dy/dx` as tape ops, for the differentiable backward
    /// ([`Var::grad_graph`]): the same formula as [`UnaryFn::df`] with
    /// `Var`s, so it can be differentiated again. `None` (the default):
    /// the rule is not twice differentiable, and `grad_graph` says so.
    ///
    /// ```
    /// use tapegrad::{Tape, Var, ops::elementwise::UnaryFn};
    /// struct Cube;
    /// impl UnaryFn for Cube {
    ///     const NAME: &'static str = "cube";
    ///     const TEXT: &'static str = "3x^2";
    ///     fn f(x: f64, _: f64) -> f64 { x * x * x }
    ///     fn df(x: f64, _: f64, _: f64) -> f64 { 3.0 * x * x }
    ///     fn df_var<'t>(x: Var<'t>, _: Var<'t>, _: f64) -> Option<Var<'t>> { Some(3.0 * x * x) }
    /// }
    /// let tape = Tape::new();
    /// let x = tape.scalar(2.0);
    /// let dx = x.apply(Cube, 0.0).grad_graph().unwrap().wrt(x);
    /// assert_eq!(dx.backward().wrt(x).item(), 12.0); // 6x
    /// ```
    fn df_var<'t>(x: Var<'t>, y: Var<'t>, p: f64) -> Option<Var<'t>> {
        let _ = (x, y, p);
        None
    }
    /// The whole product `upstream * dy/dx` as tape ops. The default
    /// multiplies by [`UnaryFn::df_var`]; rules with a constant derivative
    /// override it to skip the multiply (`x + c` passes `upstream` on).
    ///
    /// ```
    /// use tapegrad::{Tape, Var, ops::elementwise::UnaryFn};
    /// struct Shift;
    /// impl UnaryFn for Shift {
    ///     const NAME: &'static str = "shift";
    ///     const TEXT: &'static str = "1";
    ///     fn f(x: f64, p: f64) -> f64 { x + p }
    ///     fn df(_: f64, _: f64, _: f64) -> f64 { 1.0 }
    ///     fn vjp_var<'t>(_: Var<'t>, _: Var<'t>, _: f64, up: Var<'t>) -> Option<Var<'t>> { Some(up) }
    /// }
    /// let tape = Tape::new();
    /// let x = tape.scalar(2.0);
    /// assert_eq!(x.apply(Shift, 1.0).grad_graph().unwrap().wrt(x).item(), 1.0);
    /// ```
    fn vjp_var<'t>(x: Var<'t>, y: Var<'t>, p: f64, upstream: Var<'t>) -> Option<Var<'t>> {
        Self::df_var(x, y, p).map(|d| upstream * d)
    }
    /// True when the parameter `p` matters (`x + c`, `x^n`), so tables
    /// print it. By default: when the output moves with `p`.
    ///
    /// ```
    /// use tapegrad::ops::elementwise::UnaryFn;
    /// struct Shift;
    /// impl UnaryFn for Shift {
    ///     const NAME: &'static str = "shift";
    ///     const TEXT: &'static str = "1";
    ///     fn f(x: f64, p: f64) -> f64 { x + p }
    ///     fn df(_: f64, _: f64, _: f64) -> f64 { 1.0 }
    /// }
    /// assert!(Shift::takes_param());
    /// ```
    fn takes_param() -> bool {
        Self::f(0.5, 2.0) != Self::f(0.5, 3.0)
    }
}

/// An elementwise function of two inputs and its two partial derivatives,
/// side by side; recorded with [`Var::try_apply2`], broadcasting as NumPy.
///
/// ```
/// use tapegrad::{Tape, ops::elementwise::BinaryFn};
/// /// hypot(a, b) = sqrt(a^2 + b^2), with partials a/y and b/y.
/// struct Hypot;
/// impl BinaryFn for Hypot {
///     const NAME: &'static str = "hypot";
///     const TEXT: [&'static str; 2] = ["a/y", "b/y"];
///     fn f(a: f64, b: f64) -> f64 { a.hypot(b) }
///     fn da(a: f64, _b: f64, y: f64) -> f64 { a / y }
///     fn db(_a: f64, b: f64, y: f64) -> f64 { b / y }
/// }
/// let tape = Tape::new();
/// let (a, b) = (tape.scalar(3.0), tape.scalar(4.0));
/// let y = a.try_apply2(Hypot, b).unwrap();
/// let g = y.backward();
/// assert_eq!((y.item(), g.wrt(a).item(), g.wrt(b).item()), (5.0, 0.6, 0.8));
/// ```
pub trait BinaryFn: Send + Sync + 'static {
    /// Name shown in errors and in the tape's table.
    const NAME: &'static str;
    /// The two partials in words, for the backward trace.
    const TEXT: [&'static str; 2];
    /// `y = f(a, b)`.
    fn f(a: f64, b: f64) -> f64;
    /// `dy/da` at `(a, b)`, with the output `y`.
    fn da(a: f64, b: f64, y: f64) -> f64;
    /// `dy/db` at `(a, b)`, with the output `y`.
    fn db(a: f64, b: f64, y: f64) -> f64;
    /// `f` as Rust source for the emitter: a closure over `(a, b)` (see
    /// [`UnaryFn::F_SRC`]). `None`: no emit rule.
    const F_SRC: Option<&'static str> = None;
    /// `da` as Rust source: a closure over `(a, b, y)`.
    const DA_SRC: Option<&'static str> = None;
    /// `db` as Rust source: a closure over `(a, b, y)`.
    const DB_SRC: Option<&'static str> = None;
    /// The source of the helper fns the templates call.
    const HELPERS: &'static [&'static str] = &[];
    /// `dy/da` as tape ops (see [`UnaryFn::df_var`]); `None` (the default):
    /// not twice differentiable.
    ///
    /// ```
    /// use tapegrad::{Tape, Var, ops::elementwise::BinaryFn};
    /// struct Prod; // a * b, written as a rule
    /// impl BinaryFn for Prod {
    ///     const NAME: &'static str = "prod";
    ///     const TEXT: [&'static str; 2] = ["b", "a"];
    ///     fn f(a: f64, b: f64) -> f64 { a * b }
    ///     fn da(_: f64, b: f64, _: f64) -> f64 { b }
    ///     fn db(a: f64, _: f64, _: f64) -> f64 { a }
    ///     fn da_var<'t>(_: Var<'t>, b: Var<'t>, _: Var<'t>) -> Option<Var<'t>> { Some(b) }
    ///     fn db_var<'t>(a: Var<'t>, _: Var<'t>, _: Var<'t>) -> Option<Var<'t>> { Some(a) }
    /// }
    /// let tape = Tape::new();
    /// let (a, b) = (tape.scalar(2.0), tape.scalar(5.0));
    /// let da = a.try_apply2(Prod, b).unwrap().grad_graph().unwrap().wrt(a); // b
    /// assert_eq!(da.backward().wrt(b).item(), 1.0); // d2/dadb
    /// ```
    fn da_var<'t>(a: Var<'t>, b: Var<'t>, y: Var<'t>) -> Option<Var<'t>> {
        let _ = (a, b, y);
        None
    }
    /// `dy/db` as tape ops; see [`BinaryFn::da_var`].
    ///
    /// ```
    /// use tapegrad::{Var, ops::elementwise::BinaryFn};
    /// struct First;
    /// impl BinaryFn for First {
    ///     const NAME: &'static str = "first";
    ///     const TEXT: [&'static str; 2] = ["1", "0"];
    ///     fn f(a: f64, _: f64) -> f64 { a }
    ///     fn da(_: f64, _: f64, _: f64) -> f64 { 1.0 }
    ///     fn db(_: f64, _: f64, _: f64) -> f64 { 0.0 }
    /// }
    /// let tape = tapegrad::Tape::new();
    /// let (a, b) = (tape.scalar(1.0), tape.scalar(2.0));
    /// assert!(First::db_var(a, b, a).is_none()); // not given: not twice differentiable
    /// ```
    fn db_var<'t>(a: Var<'t>, b: Var<'t>, y: Var<'t>) -> Option<Var<'t>> {
        let _ = (a, b, y);
        None
    }
    /// `upstream * dy/d(input k)` as tape ops, in the output's shape (the
    /// generic op sums it back to the input's shape). The default
    /// multiplies by `da_var` / `db_var`; `+` and `-` override it to pass
    /// `upstream` on.
    ///
    /// ```
    /// use tapegrad::{Var, ops::elementwise::BinaryFn};
    /// struct Plus;
    /// impl BinaryFn for Plus {
    ///     const NAME: &'static str = "plus";
    ///     const TEXT: [&'static str; 2] = ["1", "1"];
    ///     fn f(a: f64, b: f64) -> f64 { a + b }
    ///     fn da(_: f64, _: f64, _: f64) -> f64 { 1.0 }
    ///     fn db(_: f64, _: f64, _: f64) -> f64 { 1.0 }
    ///     fn vjp_var<'t>(_: usize, _: Var<'t>, _: Var<'t>, _: Var<'t>, up: Var<'t>) -> Option<Var<'t>> { Some(up) }
    /// }
    /// let tape = tapegrad::Tape::new();
    /// let (a, b) = (tape.scalar(1.0), tape.scalar(2.0));
    /// assert_eq!(a.try_apply2(Plus, b).unwrap().grad_graph().unwrap().wrt(b).item(), 1.0);
    /// ```
    fn vjp_var<'t>(k: usize, a: Var<'t>, b: Var<'t>, y: Var<'t>, upstream: Var<'t>) -> Option<Var<'t>> {
        let d = if k == 0 { Self::da_var(a, b, y) } else { Self::db_var(a, b, y) };
        d.map(|d| upstream * d)
    }
}

/// The op of a [`UnaryFn`] rule.
pub(crate) struct Unary<R>(PhantomData<fn() -> R>);

impl<R: UnaryFn> StaticOp for Unary<R> {
    const THIS: &'static Self = &Unary(PhantomData);
}

/// Records `R` applied to `x` with parameter `p`: the one recording path of
/// every unary rule.
#[inline]
pub(crate) fn unary<R: UnaryFn>(x: Var<'_>, p: f64) -> Var<'_> {
    x.tape.push::<Unary<R>>(NodeParams::scalar(p), &[x], OutShape::Like(0))
}

impl<R: UnaryFn> Op for Unary<R> {
    fn name(&self) -> &'static str {
        R::NAME
    }

    fn label(&self, params: NodeParams) -> String {
        if R::takes_param() { format!("{}({})", R::NAME, params.p) } else { R::NAME.to_string() }
    }

    /// `y[i] = f(x[i]; p)`.
    #[inline(always)]
    fn forward(&self, cx: &ForwardCx<'_>, out: &mut [f64]) {
        let (x, p) = (cx.input(0), cx.params().p);
        if let ([o], [x]) = (&mut *out, x) {
            *o = R::f(*x, p); // 0-d scalars: no loop
            return;
        }
        out.iter_mut().zip(x).for_each(|(o, &v)| *o = R::f(v, p));
    }

    /// `dy[i] = f'(x[i]) dx[i]`: the same local derivative as backward,
    /// so every rule (a user's too) has forward mode for free.
    fn jvp(&self, cx: &TangentCx<'_>, out: &mut [f64]) -> Result<(), TangentError> {
        let (x, y, p) = (cx.input(0), cx.output(), cx.fwd().params().p);
        if let Some(dx) = cx.tangent(0) {
            for (((o, &d), &x), &y) in out.iter_mut().zip(dx).zip(x).zip(y) {
                *o += R::df(x, y, p) * d;
            }
        }
        Ok(())
    }
    /// `y = f(x; p)` and `f'(x)`, for the 0-d lane.
    #[inline(always)]
    fn scalar(&self, x: [f64; 2], p: f64) -> Option<(f64, [f64; 2])> {
        let y = R::f(x[0], p);
        Some((y, [R::df(x[0], y, p), 0.0]))
    }

    /// `grad_x[i] += grad_y[i] * f'(x[i])`.
    #[inline]
    fn backward(&self, cx: &mut BackwardCx<'_>) {
        let (x, y, up, p) = (cx.input(0), cx.output(), cx.upstream(), cx.fwd().params().p);
        let Some(g) = cx.grad_mut(0) else { return };
        if let ([g], [x], [y], [u]) = (&mut *g, x, y, up) {
            *g += u * R::df(*x, *y, p); // 0-d scalars: one multiply-add
            return;
        }
        for (((g, &u), &x), &y) in g.iter_mut().zip(up).zip(x).zip(y) {
            *g += u * R::df(x, y, p);
        }
    }

    /// `grad_x = upstream * df_var(x, y)`, recorded.
    fn backward_var<'t>(&self, cx: &VarCx<'t>, upstream: Var<'t>) -> Option<VarGrads<'t>> {
        Some(smallvec![Some(R::vjp_var(cx.input(0), cx.output(), cx.params().p, upstream)?)])
    }

    /// `y[i] = F_SRC(x[i])`, element by element.
    fn emit_forward(&self, cx: &mut EmitCx<'_>) -> Option<()> {
        let f = R::F_SRC?;
        R::HELPERS.iter().for_each(|h| cx.helper(h));
        let (x, p) = (cx.inputs[0].clone(), cx.p());
        cx.assign_each(|i| apply(f, &[&x.at(i), &p]));
        Some(())
    }

    /// `d_x[i] += d_y[i] * (DF_SRC)`, as `backward` (and the 0-d lane's
    /// stored partial: the same product).
    fn emit_backward(&self, cx: &mut EmitCx<'_>) -> Option<()> {
        let df = R::DF_SRC?;
        R::HELPERS.iter().for_each(|h| cx.helper(h));
        let Some(dx) = cx.d_inputs[0].clone() else { return Some(()) };
        let (x, y, dy, p) = (cx.inputs[0].clone(), cx.out.clone(), cx.d_out?.clone(), cx.p());
        cx.each(y.len(), |i| {
            let d = apply(df, &[&x.at(i), &y.at(i), &p]);
            format!("{} += {} * ({d});", dx.at(i), dy.at(i))
        });
        Some(())
    }

    fn local_text(&self, _: &ForwardCx<'_>, _: usize) -> Option<Cow<'static, str>> {
        Some(Cow::Borrowed(R::TEXT))
    }

    fn local_value(&self, cx: &ForwardCx<'_>, y: &[f64], _: usize) -> Option<Tensor> {
        let (x, p) = (cx.input(0), cx.params().p);
        numeric(R::TEXT, || x.iter().zip(y).map(|(&x, &y)| R::df(x, y, p)).collect(), cx.out_shape())
    }
}

/// The op of a [`BinaryFn`] rule.
pub(crate) struct Binary<R>(PhantomData<fn() -> R>);

impl<R: BinaryFn> StaticOp for Binary<R> {
    const THIS: &'static Self = &Binary(PhantomData);
}

/// Records `R` applied to `a` and `b`, broadcasting; an error names the op
/// and both shapes when they do not broadcast.
#[inline]
pub(crate) fn binary<'t, R: BinaryFn>(a: Var<'t>, b: Var<'t>) -> Result<Var<'t>, ShapeError> {
    a.tape.push_broadcast::<Binary<R>>(NodeParams::default(), a, b)
}

impl<R: BinaryFn> Op for Binary<R> {
    fn name(&self) -> &'static str {
        R::NAME
    }

    /// `y[i] = f(a[ia], b[ib])`, where `ia`, `ib` are the elements of the
    /// inputs that output element `i` reads after broadcasting.
    #[inline(always)]
    fn forward(&self, cx: &ForwardCx<'_>, out: &mut [f64]) {
        let (a, b) = (cx.input(0), cx.input(1));
        let n = out.len();
        if let ([o], [a], [b]) = (&mut *out, a, b) {
            *o = R::f(*a, *b); // 0-d scalars: no loop
        } else if a.len() == n && b.len() == n {
            // No broadcasting: element i of each input makes element i.
            out.iter_mut().zip(a).zip(b).for_each(|((o, &x), &y)| *o = R::f(x, y));
        } else {
            binary_into(out, cx.out_shape(), a, cx.shape(0), b, cx.shape(1), R::f);
        }
    }

    /// `dy[i] = dy/da da[ia] + dy/db db[ib]`, reading each input's tangent
    /// where broadcasting read its value (no reduce-to-shape: forward mode
    /// broadcasts the tangent as the forward broadcast the value).
    fn jvp(&self, cx: &TangentCx<'_>, out: &mut [f64]) -> Result<(), TangentError> {
        let (a, b, y) = (cx.input(0), cx.input(1), cx.output());
        let (shape, sa, sb) = (cx.fwd().out_shape(), cx.fwd().shape(0), cx.fwd().shape(1));
        if let Some(da) = cx.tangent(0) {
            for_each_broadcast(shape, sa, sb, |i, ia, ib| out[i] += R::da(a[ia], b[ib], y[i]) * da[ia]);
        }
        if let Some(db) = cx.tangent(1) {
            for_each_broadcast(shape, sa, sb, |i, ia, ib| out[i] += R::db(a[ia], b[ib], y[i]) * db[ib]);
        }
        Ok(())
    }
    /// `y = f(a, b)` and its two partials, for the 0-d lane.
    #[inline(always)]
    fn scalar(&self, x: [f64; 2], _: f64) -> Option<(f64, [f64; 2])> {
        let [a, b] = x;
        let y = R::f(a, b);
        Some((y, [R::da(a, b, y), R::db(a, b, y)]))
    }

    /// `grad_a[ia] += grad_y[i] * dy/da`, `grad_b[ib] += grad_y[i] * dy/db`.
    /// Input by input, so that `x * x` (one node twice) adds both
    /// contributions into its one slot.
    #[inline]
    fn backward(&self, cx: &mut BackwardCx<'_>) {
        let (a, b, y, up) = (cx.input(0), cx.input(1), cx.output(), cx.upstream());
        let n = y.len();
        if let ([a], [b], [y], [u]) = (a, b, y, up) {
            // 0-d scalars: one multiply-add per input.
            if let Some([g]) = cx.grad_mut(0) {
                *g += u * R::da(*a, *b, *y);
            }
            if let Some([g]) = cx.grad_mut(1) {
                *g += u * R::db(*a, *b, *y);
            }
            return;
        }
        if a.len() == n && b.len() == n {
            // No broadcasting: plain zipped loops.
            if let Some(g) = cx.grad_mut(0) {
                for ((((g, &u), &a), &b), &y) in g.iter_mut().zip(up).zip(a).zip(b).zip(y) {
                    *g += u * R::da(a, b, y);
                }
            }
            if let Some(g) = cx.grad_mut(1) {
                for ((((g, &u), &a), &b), &y) in g.iter_mut().zip(up).zip(a).zip(b).zip(y) {
                    *g += u * R::db(a, b, y);
                }
            }
            return;
        }
        let (out, sa, sb) = (cx.fwd().out_shape(), cx.fwd().shape(0), cx.fwd().shape(1));
        // A bias over a batch, or a scalar with a tensor: row by row,
        // adding straight into both slots (the small input's in row order,
        // as `unbroadcast_add` would).
        if n > 0 && a.len() == n && repeats_over_rows(sb, out) {
            return rows_backward(cx, 0, [a, b, y, up], R::da, R::db);
        }
        if n > 0 && b.len() == n && repeats_over_rows(sa, out) {
            return rows_backward(cx, 1, [b, a, y, up], |f, s, y| R::db(s, f, y), |f, s, y| R::da(s, f, y));
        }
        // Any other broadcasting: the products in the output's shape, then
        // summed back to each input's shape.
        if let Some((g, tmp)) = cx.grad_and_scratch(0, n) {
            for_each_broadcast(out, sa, sb, |i, ia, ib| tmp[i] = up[i] * R::da(a[ia], b[ib], y[i]));
            unbroadcast_add(tmp, out, g, sa);
        }
        if let Some((g, tmp)) = cx.grad_and_scratch(1, n) {
            for_each_broadcast(out, sa, sb, |i, ia, ib| tmp[i] = up[i] * R::db(a[ia], b[ib], y[i]));
            unbroadcast_add(tmp, out, g, sb);
        }
    }

    /// `grad_a = sum_to(upstream * da_var, shape a)`, the same for `b`,
    /// recorded; the sum only where broadcasting repeated the input.
    fn backward_var<'t>(&self, cx: &VarCx<'t>, upstream: Var<'t>) -> Option<VarGrads<'t>> {
        let (a, b, y) = (cx.input(0), cx.input(1), cx.output());
        let mut grads = VarGrads::new();
        for k in 0..2 {
            if !cx.needs_grad(k) {
                grads.push(None);
                continue;
            }
            let g = R::vjp_var(k, a, b, y, upstream)?;
            let shape = cx.input(k).shape();
            grads.push(Some(if g.shape() == shape { g } else { g.sum_to(&shape) }));
        }
        Some(grads)
    }

    /// `y[i] = F_SRC(a[ia], b[ib])`: no broadcasting, one input repeating
    /// over the other's rows (a bias, a scalar), or loops over the axes.
    fn emit_forward(&self, cx: &mut EmitCx<'_>) -> Option<()> {
        let f = R::F_SRC?;
        R::HELPERS.iter().for_each(|h| cx.helper(h));
        let (a, b, y) = (cx.inputs[0].clone(), cx.inputs[1].clone(), cx.out.clone());
        let el = |ia: &str, ib: &str| apply(f, &[&a.at(ia), &b.at(ib)]);
        match emit_layout(cx)? {
            Layout::Same => cx.assign_each(|i| el(i, i)),
            Layout::Rows { full, k } => {
                let (rows, n) = (y.len() / k, y.len());
                cx.line(format!("let mut {} = [0.0f64; {n}];", y.name));
                cx.line(format!("for r in 0..{rows} {{"));
                cx.line(format!("    for j in 0..{k} {{"));
                let (ia, ib) = if full == 0 {
                    (format!("r * {k} + j"), "j".to_string())
                } else {
                    ("j".to_string(), format!("r * {k} + j"))
                };
                cx.line(format!("        {}[r * {k} + j] = {};", y.name, el(&ia, &ib)));
                cx.line("    }");
                cx.line("}");
            }
            Layout::General => {
                cx.declare_out();
                emit_broadcast(cx, |ix| format!("{} = {};", y.at(&ix[0]), el(&ix[1], &ix[2])));
            }
        }
        Some(())
    }

    /// `d_a[ia] += d_y[i] * (DA_SRC)`, then the same for `b`, in the order
    /// of `backward`'s path for these shapes (a repeated input sums its
    /// rows in row order, as `rows_backward`).
    fn emit_backward(&self, cx: &mut EmitCx<'_>) -> Option<()> {
        let srcs = [R::DA_SRC?, R::DB_SRC?];
        R::HELPERS.iter().for_each(|h| cx.helper(h));
        let (a, b, y, dy) = (cx.inputs[0].clone(), cx.inputs[1].clone(), cx.out.clone(), cx.d_out?.clone());
        let d = |k: usize, ia: &str, ib: &str, i: &str| {
            let part = apply(srcs[k], &[&a.at(ia), &b.at(ib), &y.at(i)]);
            format!("{} * ({part})", dy.at(i))
        };
        match emit_layout(cx)? {
            Layout::Same => {
                for k in 0..2 {
                    if let Some(g) = cx.d_inputs[k].clone() {
                        cx.each(y.len(), |i| format!("{} += {};", g.at(i), d(k, i, i, i)));
                    }
                }
            }
            Layout::Rows { full, k: cols } => {
                let rows = y.len() / cols;
                for k in [full, 1 - full] {
                    let Some(g) = cx.d_inputs[k].clone() else { continue };
                    let (ifull, ismall) = (format!("r * {cols} + j"), "j".to_string());
                    let (ia, ib) = if full == 0 { (&ifull, &ismall) } else { (&ismall, &ifull) };
                    let gi = if k == full { &ifull } else { &ismall };
                    cx.line(format!("for r in 0..{rows} {{"));
                    cx.line(format!("    for j in 0..{cols} {{"));
                    cx.line(format!("        {} += {};", g.at(gi), d(k, ia, ib, &ifull)));
                    cx.line("    }");
                    cx.line("}");
                }
            }
            // The products in the output's order, each added into its
            // input's element as `unbroadcast_add` adds them (in that order).
            Layout::General => {
                for k in 0..2 {
                    if let Some(g) = cx.d_inputs[k].clone() {
                        emit_broadcast(cx, |ix| format!("{} += {};", g.at(&ix[k + 1]), d(k, &ix[1], &ix[2], &ix[0])));
                    }
                }
            }
        }
        Some(())
    }

    fn local_text(&self, _: &ForwardCx<'_>, k: usize) -> Option<Cow<'static, str>> {
        Some(Cow::Owned(format!("d/d{} = {}", ["a", "b"][k], R::TEXT[k])))
    }

    fn local_value(&self, cx: &ForwardCx<'_>, y: &[f64], k: usize) -> Option<Tensor> {
        let (a, b) = (cx.input(0), cx.input(1));
        let (out, sa, sb) = (cx.out_shape(), cx.shape(0), cx.shape(1));
        numeric(
            R::TEXT[k],
            || {
                let mut d = vec![0.0; y.len()];
                for_each_broadcast(out, sa, sb, |i, ia, ib| {
                    d[i] = if k == 0 { R::da(a[ia], b[ib], y[i]) } else { R::db(a[ia], b[ib], y[i]) };
                });
                d
            },
            out,
        )
    }
}

/// How a binary op's inputs map onto its output, for the emitter.
enum Layout {
    /// Both inputs have the output's length: element i of each.
    Same,
    /// Input `full` has the output's shape; the other, of `k` elements,
    /// repeats over the output's rows (`i % k`).
    Rows { full: usize, k: usize },
    /// Any other broadcasting: loops over the output's axes.
    General,
}

/// The layout of a binary node, by the tests `backward` takes its path by.
fn emit_layout(cx: &EmitCx<'_>) -> Option<Layout> {
    let (a, b, n) = (&cx.inputs[0], &cx.inputs[1], cx.out.len());
    if a.len() == n && b.len() == n {
        return Some(Layout::Same);
    }
    if n > 0 && a.len() == n && repeats_over_rows(&b.shape, &cx.out.shape) {
        return Some(Layout::Rows { full: 0, k: b.len() });
    }
    if n > 0 && b.len() == n && repeats_over_rows(&a.shape, &cx.out.shape) {
        return Some(Layout::Rows { full: 1, k: a.len() });
    }
    Some(Layout::General)
}

/// Loops over a binary node's output in order (row-major), then
/// `stmt([i, ia, ib])` with the output's index and the two inputs' under
/// broadcasting (`for_each_broadcast`'s order).
pub(super) fn emit_broadcast(cx: &mut EmitCx<'_>, stmt: impl Fn(&[String]) -> String) {
    let (a, b, y) = (&cx.inputs[0].shape, &cx.inputs[1].shape, &cx.out.shape);
    let st = [row_major_strides(y), broadcast_strides(a, y), broadcast_strides(b, y)];
    let y = y.clone();
    cx.nest(&y, &st, stmt);
}

/// A local derivative's values, left out when the formula is already a
/// number (`1`, `-1`): printing `1 = [[1 1 1]]` says nothing.
fn numeric(formula: &str, values: impl FnOnce() -> Vec<f64>, shape: &[usize]) -> Option<Tensor> {
    if formula.parse::<f64>().is_ok() { None } else { Some(Tensor::from_vec(values(), shape)) }
}

/// The backward of a binary op whose input `full` (0 or 1) is shaped like
/// the output and whose other input repeats over the output's rows:
/// `[full, small, y, upstream]`, with the partials taking
/// (full element, small element, output).
#[inline]
fn rows_backward(
    cx: &mut BackwardCx<'_>,
    full: usize,
    [f, s, y, up]: [&[f64]; 4],
    d_full: impl Fn(f64, f64, f64) -> f64,
    d_small: impl Fn(f64, f64, f64) -> f64,
) {
    let k = s.len();
    let rows = || up.chunks_exact(k).zip(y.chunks_exact(k)).zip(f.chunks_exact(k));
    if let Some(g) = cx.grad_mut(full) {
        for (g, ((up, y), f)) in g.chunks_exact_mut(k).zip(rows()) {
            for j in 0..k {
                g[j] += up[j] * d_full(f[j], s[j], y[j]);
            }
        }
    }
    if let Some(g) = cx.grad_mut(1 - full) {
        for ((up, y), f) in rows() {
            for j in 0..k {
                g[j] += up[j] * d_small(f[j], s[j], y[j]);
            }
        }
    }
}

impl<'t> Var<'t> {
    /// Records any elementwise [`UnaryFn`] rule with parameter `p`: the way
    /// to add an elementwise op of your own. It runs as fast as a built-in
    /// one (the same generic code).
    ///
    /// ```
    /// use tapegrad::ops::elementwise::UnaryFn;
    /// struct Twice;
    /// impl UnaryFn for Twice {
    ///     const NAME: &'static str = "twice";
    ///     const TEXT: &'static str = "2";
    ///     fn f(x: f64, _: f64) -> f64 { 2.0 * x }
    ///     fn df(_: f64, _: f64, _: f64) -> f64 { 2.0 }
    /// }
    /// let tape = tapegrad::Tape::new();
    /// let x = tape.scalar(2.0);
    /// assert_eq!(x.apply(Twice, 0.0).item(), 4.0);
    /// ```
    pub fn apply<R: UnaryFn>(self, _rule: R, p: f64) -> Var<'t> {
        unary::<R>(self, p)
    }

    /// Records any elementwise [`BinaryFn`] rule on `self` and `other`, with
    /// NumPy broadcasting; shapes that do not broadcast are an error naming
    /// the rule and both shapes.
    ///
    /// ```
    /// use tapegrad::{Tape, Tensor, ops::elementwise::BinaryFn};
    /// struct Avg;
    /// impl BinaryFn for Avg {
    ///     const NAME: &'static str = "avg";
    ///     const TEXT: [&'static str; 2] = ["1/2", "1/2"];
    ///     fn f(a: f64, b: f64) -> f64 { (a + b) / 2.0 }
    ///     fn da(_: f64, _: f64, _: f64) -> f64 { 0.5 }
    ///     fn db(_: f64, _: f64, _: f64) -> f64 { 0.5 }
    /// }
    /// let tape = Tape::new();
    /// let (a, b) = (tape.var(Tensor::ones(&[2, 3])), tape.var(Tensor::ones(&[4])));
    /// assert!(a.try_apply2(Avg, b).unwrap_err().to_string().starts_with("avg: shapes [2, 3] and [4]"));
    /// ```
    pub fn try_apply2<R: BinaryFn>(self, _rule: R, other: Var<'t>) -> Result<Var<'t>, ShapeError> {
        binary::<R>(self, other)
    }
}
