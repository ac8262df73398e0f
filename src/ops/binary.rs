//! Elementwise functions of two inputs with NumPy broadcasting:
//! `y = f(a, b)`.
//!
//! Each op is one [`BinaryRule`]: the forward function and the two partial
//! derivatives, side by side. The backward rule is shared: every output
//! element `i` read input elements `ia` and `ib`, so it sends
//! `grad_y[i] * dy/da` to `grad_a[ia]` and `grad_y[i] * dy/db` to
//! `grad_b[ib]`. When an input was broadcast, many `i` share one `ia`, and
//! the additions sum the gradient back to that input's shape.

use super::Op;
use crate::tape::{Arena, Node, Var};
use crate::tensor::{ShapeError, binary_into, broadcast_shape, for_each_broadcast, repeats_over_rows};

/// A broadcasting elementwise op: forward and both partials, side by side.
///
/// ```
/// use tapegrad::ops::binary::{BinaryRule, MUL};
/// // hypot(a, b) = sqrt(a^2 + b^2), with partials a/y and b/y
/// static HYPOT: BinaryRule = BinaryRule {
///     name: "hypot", forward: f64::hypot, d_a: |a, _, y| a / y, d_b: |_, b, y| b / y, local_text: ["a/y", "b/y"],
/// };
/// assert_eq!(((HYPOT.forward)(3.0, 4.0), (HYPOT.d_a)(3.0, 4.0, 5.0), (HYPOT.d_b)(3.0, 4.0, 5.0)), (5.0, 0.6, 0.8));
/// assert_eq!((MUL.name, MUL.local_text), ("mul", ["b", "a"]));
/// ```
#[derive(Debug)]
pub struct BinaryRule {
    /// Name shown in errors and in the tape's table.
    pub name: &'static str,
    /// `y = forward(a, b)`.
    pub forward: fn(a: f64, b: f64) -> f64,
    /// `dy/da = d_a(a, b, y)`.
    pub d_a: fn(a: f64, b: f64, y: f64) -> f64,
    /// `dy/db = d_b(a, b, y)`.
    pub d_b: fn(a: f64, b: f64, y: f64) -> f64,
    /// The two partials in words, for the backward trace.
    pub local_text: [&'static str; 2],
}

/// `a + b`; `dy/da = 1`, `dy/db = 1`.
///
/// ```
/// use tapegrad::ops::binary::ADD;
/// assert_eq!((ADD.forward)(2.0, 3.0), 5.0);
/// assert_eq!(((ADD.d_a)(2.0, 3.0, 5.0), (ADD.d_b)(2.0, 3.0, 5.0)), (1.0, 1.0));
/// ```
pub static ADD: BinaryRule =
    BinaryRule { name: "add", forward: |a, b| a + b, d_a: |_, _, _| 1.0, d_b: |_, _, _| 1.0, local_text: ["1", "1"] };
/// `a - b`; `dy/da = 1`, `dy/db = -1`.
///
/// ```
/// use tapegrad::ops::binary::SUB;
/// assert_eq!((SUB.forward)(2.0, 3.0), -1.0);
/// assert_eq!(((SUB.d_a)(2.0, 3.0, -1.0), (SUB.d_b)(2.0, 3.0, -1.0)), (1.0, -1.0));
/// ```
pub static SUB: BinaryRule =
    BinaryRule { name: "sub", forward: |a, b| a - b, d_a: |_, _, _| 1.0, d_b: |_, _, _| -1.0, local_text: ["1", "-1"] };
/// `a * b`; `dy/da = b`, `dy/db = a`.
///
/// ```
/// use tapegrad::ops::binary::MUL;
/// assert_eq!((MUL.forward)(2.0, 3.0), 6.0);
/// assert_eq!(((MUL.d_a)(2.0, 3.0, 6.0), (MUL.d_b)(2.0, 3.0, 6.0)), (3.0, 2.0)); // (b, a)
/// ```
pub static MUL: BinaryRule =
    BinaryRule { name: "mul", forward: |a, b| a * b, d_a: |_, b, _| b, d_b: |a, _, _| a, local_text: ["b", "a"] };
/// `a / b`; `dy/da = 1/b`, `dy/db = -a/b^2`.
///
/// ```
/// use tapegrad::ops::binary::DIV;
/// assert_eq!((DIV.forward)(3.0, 2.0), 1.5);
/// assert_eq!(((DIV.d_a)(3.0, 2.0, 1.5), (DIV.d_b)(3.0, 2.0, 1.5)), (0.5, -0.75)); // (1/b, -a/b^2)
/// ```
pub static DIV: BinaryRule = BinaryRule {
    name: "div",
    forward: |a, b| a / b,
    d_a: |_, b, _| 1.0 / b,
    d_b: |a, b, _| -a / (b * b),
    local_text: ["1/b", "-a/b^2"],
};
/// `max(a, b)`; the gradient goes to the larger input (to `a` on a tie).
/// A NaN in either input gives NaN, as PyTorch's `maximum` (`f64::max`
/// would return the other input and hide the NaN).
///
/// ```
/// use tapegrad::ops::binary::MAXIMUM;
/// assert!((MAXIMUM.forward)(f64::NAN, 1.0).is_nan() && (MAXIMUM.forward)(1.0, f64::NAN).is_nan());
/// ```
///
/// ```
/// use tapegrad::ops::binary::MAXIMUM;
/// assert_eq!((MAXIMUM.forward)(1.0, 3.0), 3.0);
/// assert_eq!(((MAXIMUM.d_a)(1.0, 3.0, 3.0), (MAXIMUM.d_b)(1.0, 3.0, 3.0)), (0.0, 1.0));
/// assert_eq!(((MAXIMUM.d_a)(2.0, 2.0, 2.0), (MAXIMUM.d_b)(2.0, 2.0, 2.0)), (1.0, 0.0)); // a tie goes to a
/// ```
pub static MAXIMUM: BinaryRule = BinaryRule {
    name: "maximum",
    forward: |a, b| if a.is_nan() || b.is_nan() { a + b } else { a.max(b) },
    d_a: |a, b, _| if a >= b { 1.0 } else { 0.0 },
    d_b: |a, b, _| if a >= b { 0.0 } else { 1.0 },
    local_text: ["[a>=b]", "[a<b]"],
};

/// Runs `$body` with `$r` naming the rule statically when `$rule` is one of
/// the hottest rules (add, sub, mul), else `$fallback`. Compiled once per
/// hot rule, the body's loop inlines that rule's functions instead of
/// calling them through a pointer per element. The one list of hot rules.
macro_rules! with_hot_rule {
    ($rule:expr, |$r:ident| $body:expr, else $fallback:expr) => {
        with_hot_rule!(@each $rule, $r, $body, $fallback, ADD, SUB, MUL)
    };
    (@each $rule:expr, $r:ident, $body:expr, $fallback:expr, $($hot:ident),*) => {
        'hot: {
            $(if std::ptr::eq($rule, &$hot) {
                let $r = &$hot;
                break 'hot $body;
            })*
            $fallback
        }
    };
}

/// Forward: checks that the shapes broadcast, then `y[i] = f(a[ia], b[ib])`.
fn forward<'t>(rule: &'static BinaryRule, a: Var<'t>, b: Var<'t>) -> Result<Var<'t>, ShapeError> {
    let tape = a.tape;
    tape.try_same_tape(rule.name, &[a, b])?; // an error, not a panic, for the try_ forms
    if let Some(y) = tape.record_scalar(Op::Binary(rule), 0.0, [a, b], |[x, y]| (rule.forward)(x, y)) {
        return Ok(y);
    }
    with_hot_rule!(rule, |r| forward_with(rule, |x, y| (r.forward)(x, y), a, b), else forward_with(rule, rule.forward, a, b))
}

/// [`forward`] for tensors, with the rule's function `f` passed in.
fn forward_with<'t>(
    rule: &'static BinaryRule,
    f: impl Fn(f64, f64) -> f64 + Copy,
    a: Var<'t>,
    b: Var<'t>,
) -> Result<Var<'t>, ShapeError> {
    let tape = a.tape;
    if let Some(like) = tape.elementwise_like(a.idx, b.idx) {
        // The common case: element i of each input makes element i, so no
        // shape leaves the arena and no index is mapped.
        return Ok(tape.record_like(Op::Binary(rule), 0.0, &[a, b], like, |arena, out| {
            let (av, bv) = (arena.value(a.idx), arena.value(b.idx));
            out.iter_mut().zip(av).zip(bv).for_each(|((o, &x), &y)| *o = f(x, y));
        }));
    }
    let (sa, sb) = (a.shape(), b.shape());
    let shape = broadcast_shape(rule.name, &sa, &sb)?;
    Ok(tape.record(Op::Binary(rule), 0.0, &[a, b], &shape, |arena, out| {
        binary_into(out, &shape, arena.value(a.idx), &sa, arena.value(b.idx), &sb, f);
    }))
}

/// Backward: `grad_a[ia] += grad_y[i] * dy/da`, `grad_b[ib] += grad_y[i] * dy/db`.
pub(crate) fn backward(
    rule: &BinaryRule,
    me: u32,
    node: &Node,
    arena: &Arena<'_>,
    upstream: &[f64],
    below: &mut [f64],
) {
    with_hot_rule!(
        rule,
        |r| backward_with(|a, b, y| (r.d_a)(a, b, y), |a, b, y| (r.d_b)(a, b, y), me, node, arena, upstream, below),
        else backward_with(rule.d_a, rule.d_b, me, node, arena, upstream, below)
    )
}

/// [`backward`] with the rule's partials `d_a` and `d_b` passed in.
fn backward_with(
    d_a: impl Fn(f64, f64, f64) -> f64 + Copy,
    d_b: impl Fn(f64, f64, f64) -> f64 + Copy,
    me: u32,
    node: &Node,
    arena: &Arena<'_>,
    upstream: &[f64],
    below: &mut [f64],
) {
    let [a, b] = node.args;
    let (av, bv, yv) = (arena.value(a), arena.value(b), arena.value(me));
    let n = yv.len();
    if n == 0 {
        return; // nothing flowed through (an input with a 0 extent)
    }
    if av.len() == n && bv.len() == n {
        // No broadcasting: element i of each input made element i.
        same_shape_backward(d_a, d_b, node.args, yv, arena, upstream, below);
        return;
    }
    let (out, sa, sb) = (arena.shape(me), arena.shape(a), arena.shape(b));
    // A bias over a batch or a scalar with a tensor: walk the output row by
    // row instead of mapping every index.
    if av.len() == n && repeats_over_rows(sb, out) {
        let rows = Rows { up: upstream, y: yv, full: av, small: bv };
        rows.backward(arena, below, a, b, d_a, d_b);
        return;
    }
    if bv.len() == n && repeats_over_rows(sa, out) {
        let rows = Rows { up: upstream, y: yv, full: bv, small: av };
        rows.backward(arena, below, b, a, |f, s, y| d_b(s, f, y), |f, s, y| d_a(s, f, y));
        return;
    }
    // Two passes, so that `x * x` (both inputs the same node) adds both
    // contributions into the one gradient without aliasing.
    if let Some(ga) = super::input_grad(arena, below, a) {
        for_each_broadcast(out, sa, sb, |i, ia, ib| ga[ia] += upstream[i] * d_a(av[ia], bv[ib], yv[i]));
    }
    if let Some(gb) = super::input_grad(arena, below, b) {
        for_each_broadcast(out, sa, sb, |i, ia, ib| gb[ib] += upstream[i] * d_b(av[ia], bv[ib], yv[i]));
    }
}

/// [`backward`] for a 0-d node (whose inputs are 0-d too): one
/// multiply-add per input that needs a gradient. Both are computed before
/// either is added, so `x * x` (one node twice) gets both contributions.
pub(crate) fn scalar_backward(rule: &BinaryRule, node: &Node, arena: &Arena<'_>, up: f64, below: &mut [f64]) {
    with_hot_rule!(
        rule,
        |r| scalar_backward_with(|a, b, y| (r.d_a)(a, b, y), |a, b, y| (r.d_b)(a, b, y), node, arena, up, below),
        else scalar_backward_with(rule.d_a, rule.d_b, node, arena, up, below)
    )
}

/// [`scalar_backward`] with the rule's partials passed in.
fn scalar_backward_with(
    d_a: impl Fn(f64, f64, f64) -> f64,
    d_b: impl Fn(f64, f64, f64) -> f64,
    node: &Node,
    arena: &Arena<'_>,
    up: f64,
    below: &mut [f64],
) {
    let [a, b] = node.args.map(|i| &arena.nodes[i as usize]);
    let (x, y, z) = (arena.values[a.start as usize], arena.values[b.start as usize], arena.values[node.start as usize]);
    if a.needs_grad {
        below[a.start as usize] += up * d_a(x, y, z);
    }
    if b.needs_grad {
        below[b.start as usize] += up * d_b(x, y, z);
    }
}

/// One full-size input and one small input repeated over the output's rows.
struct Rows<'a> {
    up: &'a [f64],
    y: &'a [f64],
    full: &'a [f64],
    small: &'a [f64],
}

impl Rows<'_> {
    /// `grad_full[i] += up[i] * d_full`, `grad_small[i % k] += up[i] * d_small`,
    /// with both partials taking (full element, small element, output).
    fn backward(
        &self,
        arena: &Arena<'_>,
        below: &mut [f64],
        full: u32,
        small: u32,
        d_full: impl Fn(f64, f64, f64) -> f64,
        d_small: impl Fn(f64, f64, f64) -> f64,
    ) {
        let k = self.small.len();
        let rows = || self.up.chunks_exact(k).zip(self.y.chunks_exact(k)).zip(self.full.chunks_exact(k));
        if let Some(g) = super::input_grad(arena, below, full) {
            for (g, ((up, y), f)) in g.chunks_exact_mut(k).zip(rows()) {
                for j in 0..k {
                    g[j] += up[j] * d_full(f[j], self.small[j], y[j]);
                }
            }
        }
        if let Some(g) = super::input_grad(arena, below, small) {
            for ((up, y), f) in rows() {
                for j in 0..k {
                    g[j] += up[j] * d_small(f[j], self.small[j], y[j]);
                }
            }
        }
    }
}

/// [`backward`] when neither input was broadcast: plain zipped loops.
fn same_shape_backward(
    d_a: impl Fn(f64, f64, f64) -> f64,
    d_b: impl Fn(f64, f64, f64) -> f64,
    args: [u32; 2],
    yv: &[f64],
    arena: &Arena<'_>,
    up: &[f64],
    below: &mut [f64],
) {
    let [a, b] = args;
    let (av, bv) = (arena.value(a), arena.value(b));
    if let Some(ga) = super::input_grad(arena, below, a) {
        for ((((g, &u), &x), &y), &z) in ga.iter_mut().zip(up).zip(av).zip(bv).zip(yv) {
            *g += u * d_a(x, y, z);
        }
    }
    if let Some(gb) = super::input_grad(arena, below, b) {
        for ((((g, &u), &x), &y), &z) in gb.iter_mut().zip(up).zip(av).zip(bv).zip(yv) {
            *g += u * d_b(x, y, z);
        }
    }
}

/// For each rule: a `try_` method returning `Result`, and the operator,
/// which panics with the op and both shapes when they do not broadcast.
macro_rules! binary_ops {
    ($($rule:ident, $name:literal, $try_name:ident, $trait:ident, $method:ident;)*) => {
        impl<'t> Var<'t> {
            $(
                #[doc = concat!("`", $name, "` with NumPy broadcasting; a shape mismatch, or an operand from another tape, is an error (the operator panics instead).")]
                ///
                /// ```
                /// use tapegrad::{Tape, Tensor};
                /// let tape = Tape::new();
                /// let a = tape.var(Tensor::full(&[2, 3], 2.0));
                /// let b = tape.var(Tensor::full(&[3], 4.0)); // broadcasts over the rows
                #[doc = concat!("assert_eq!(a.", stringify!($try_name), "(b).unwrap().shape().as_slice(), &[2, 3]);")]
                /// let c = tape.var(Tensor::zeros(&[4]));
                #[doc = concat!("let e = a.", stringify!($try_name), "(c).unwrap_err();")]
                #[doc = concat!("assert!(e.to_string().starts_with(\"", $name, ": shapes [2, 3] and [4]\"));")]
                /// ```
                pub fn $try_name(self, other: Var<'t>) -> Result<Var<'t>, ShapeError> {
                    forward(&$rule, self, other)
                }
            )*
        }
        $(
            impl<'t> std::ops::$trait<Var<'t>> for Var<'t> {
                type Output = Var<'t>;
                fn $method(self, other: Var<'t>) -> Var<'t> {
                    self.$try_name(other).unwrap_or_else(|e| panic!("{e}"))
                }
            }
        )*
    };
}

binary_ops! {
    ADD, "add", try_add, Add, add;
    SUB, "sub", try_sub, Sub, sub;
    MUL, "mul", try_mul, Mul, mul;
    DIV, "div", try_div, Div, div;
}

impl<'t> Var<'t> {
    /// Elementwise maximum with broadcasting; the gradient goes to the
    /// larger input (to `self` on a tie). A NaN in either input gives NaN.
    ///
    /// # Panics
    /// If the shapes do not broadcast or `other` is from another tape (see
    /// [`Var::try_maximum`]).
    ///
    /// ```
    /// let tape = tapegrad::Tape::new();
    /// let (a, b) = (tape.scalar(1.0), tape.scalar(3.0));
    /// let g = a.maximum(b).backward();
    /// assert_eq!((g.wrt(a).item(), g.wrt(b).item()), (0.0, 1.0));
    /// ```
    pub fn maximum(self, other: Var<'t>) -> Var<'t> {
        self.try_maximum(other).unwrap_or_else(|e| panic!("{e}"))
    }

    /// Like [`Var::maximum`], but shapes that do not broadcast, or an
    /// operand from another tape, are an error.
    ///
    /// ```
    /// use tapegrad::{Tape, Tensor};
    /// let tape = Tape::new();
    /// let a = tape.var(Tensor::zeros(&[2]));
    /// let e = a.try_maximum(tape.var(Tensor::zeros(&[3]))).unwrap_err();
    /// assert!(e.to_string().starts_with("maximum: shapes [2] and [3]"));
    /// ```
    pub fn try_maximum(self, other: Var<'t>) -> Result<Var<'t>, ShapeError> {
        forward(&MAXIMUM, self, other)
    }
}
