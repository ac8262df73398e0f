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
use crate::tensor::{ShapeError, binary_into, broadcast_shape, for_each_broadcast};

/// A broadcasting elementwise op: forward and both partials, side by side.
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
pub static ADD: BinaryRule =
    BinaryRule { name: "add", forward: |a, b| a + b, d_a: |_, _, _| 1.0, d_b: |_, _, _| 1.0, local_text: ["1", "1"] };
/// `a - b`; `dy/da = 1`, `dy/db = -1`.
pub static SUB: BinaryRule =
    BinaryRule { name: "sub", forward: |a, b| a - b, d_a: |_, _, _| 1.0, d_b: |_, _, _| -1.0, local_text: ["1", "-1"] };
/// `a * b`; `dy/da = b`, `dy/db = a`.
pub static MUL: BinaryRule =
    BinaryRule { name: "mul", forward: |a, b| a * b, d_a: |_, b, _| b, d_b: |a, _, _| a, local_text: ["b", "a"] };
/// `a / b`; `dy/da = 1/b`, `dy/db = -a/b^2`.
pub static DIV: BinaryRule = BinaryRule {
    name: "div",
    forward: |a, b| a / b,
    d_a: |_, b, _| 1.0 / b,
    d_b: |a, b, _| -a / (b * b),
    local_text: ["1/b", "-a/b^2"],
};
/// `max(a, b)`; the gradient goes to the larger input (to `a` on a tie).
pub static MAXIMUM: BinaryRule = BinaryRule {
    name: "maximum",
    forward: f64::max,
    d_a: |a, b, _| if a >= b { 1.0 } else { 0.0 },
    d_b: |a, b, _| if a >= b { 0.0 } else { 1.0 },
    local_text: ["[a>=b]", "[a<b]"],
};

/// Forward: checks that the shapes broadcast, then `y[i] = f(a[ia], b[ib])`.
fn forward<'t>(rule: &'static BinaryRule, a: Var<'t>, b: Var<'t>) -> Result<Var<'t>, ShapeError> {
    let (sa, sb) = (a.shape(), b.shape());
    let shape = broadcast_shape(rule.name, &sa, &sb)?;
    Ok(a.tape.record(Op::Binary(rule), 0.0, &[a, b], &shape, |arena, out| {
        binary_into(out, &shape, arena.value(a.idx), &sa, arena.value(b.idx), &sb, rule.forward);
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
    let [a, b] = node.args;
    let (av, bv, yv) = (arena.value(a), arena.value(b), arena.value(me));
    let (out, sa, sb) = (arena.shape(me), arena.shape(a), arena.shape(b));
    // Two passes, so that `x * x` (both inputs the same node) adds both
    // contributions into the one gradient without aliasing.
    if let Some(ga) = super::input_grad(arena, below, a) {
        for_each_broadcast(out, sa, sb, |i, ia, ib| ga[ia] += upstream[i] * (rule.d_a)(av[ia], bv[ib], yv[i]));
    }
    if let Some(gb) = super::input_grad(arena, below, b) {
        for_each_broadcast(out, sa, sb, |i, ia, ib| gb[ib] += upstream[i] * (rule.d_b)(av[ia], bv[ib], yv[i]));
    }
}

/// For each rule: a `try_` method returning `Result`, and the operator,
/// which panics with the op and both shapes when they do not broadcast.
macro_rules! binary_ops {
    ($($rule:ident, $name:literal, $try_name:ident, $trait:ident, $method:ident;)*) => {
        impl<'t> Var<'t> {
            $(
                #[doc = concat!("`", $name, "` with NumPy broadcasting; a shape mismatch is an error (the operator panics instead).")]
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
    /// larger input.
    ///
    /// # Panics
    /// If the shapes do not broadcast.
    ///
    /// ```
    /// let tape = tapegrad::Tape::new();
    /// let (a, b) = (tape.scalar(1.0), tape.scalar(3.0));
    /// let g = a.maximum(b).backward();
    /// assert_eq!((g.wrt(a).item(), g.wrt(b).item()), (0.0, 1.0));
    /// ```
    pub fn maximum(self, other: Var<'t>) -> Var<'t> {
        forward(&MAXIMUM, self, other).unwrap_or_else(|e| panic!("{e}"))
    }
}
