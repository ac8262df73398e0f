//! Elementwise functions of one input, `y = f(x; p)`.
//!
//! Each op is one [`UnaryRule`]: its forward function and its local
//! derivative `dy/dx`, written next to each other. The backward rule is the
//! same for all of them: `grad_x += grad_y * dy/dx`, element by element.
//! `p` is a scalar parameter (the `c` in `x + c`, the exponent in `x^p`).

use super::Op;
use crate::tape::{Arena, Node, Var};

/// An elementwise op: the forward function and its derivative, side by side.
///
/// A rule is plain data, so a user can define a new elementwise op as a
/// `static` and record it with [`Var::apply`].
///
/// ```
/// use tapegrad::{Tape, ops::unary::UnaryRule};
/// // softplus(x) = ln(1 + e^x), whose derivative is sigmoid(x)
/// static SOFTPLUS: UnaryRule = UnaryRule {
///     name: "softplus",
///     forward: |x, _| x.max(0.0) + (-x.abs()).exp().ln_1p(),
///     local: |x, _, _| 1.0 / (1.0 + (-x).exp()),
///     local_text: "sigmoid(x)",
/// };
/// let tape = Tape::new();
/// let x = tape.scalar(0.0);
/// let y = x.apply(&SOFTPLUS, 0.0);
/// assert!((y.item() - 2f64.ln()).abs() < 1e-15);
/// assert_eq!(y.backward().wrt(x).item(), 0.5);
/// ```
#[derive(Debug)]
pub struct UnaryRule {
    /// Name shown in errors and in the tape's table.
    pub name: &'static str,
    /// `y = forward(x, p)`.
    pub forward: fn(x: f64, p: f64) -> f64,
    /// `dy/dx = local(x, y, p)`; gets `y` too, since many derivatives are
    /// cheapest in terms of the output (sigmoid: `y (1 - y)`).
    pub local: fn(x: f64, y: f64, p: f64) -> f64,
    /// The derivative in words, for the backward trace (`"s(1-s)"`).
    pub local_text: &'static str,
}

impl UnaryRule {
    /// True for the rules whose parameter `p` matters (`x + c`, `x^n`, ...),
    /// so tables print it.
    ///
    /// ```
    /// use tapegrad::ops::unary::{POWI, SIN};
    /// assert!(POWI.takes_param() && !SIN.takes_param());
    /// ```
    pub fn takes_param(&self) -> bool {
        // A rule whose output moves with p at some x depends on it.
        (self.forward)(0.5, 2.0) != (self.forward)(0.5, 3.0)
    }
}

/// Numerically stable logistic function: never evaluates `exp` of a large
/// positive number, so it is finite at +-1000.
///
/// ```
/// assert_eq!(tapegrad::ops::unary::stable_sigmoid(-1000.0), 0.0);
/// assert_eq!(tapegrad::ops::unary::stable_sigmoid(0.0), 0.5);
/// ```
pub fn stable_sigmoid(x: f64) -> f64 {
    if x >= 0.0 {
        1.0 / (1.0 + (-x).exp())
    } else {
        let e = x.exp();
        e / (1.0 + e)
    }
}

/// `max(x, 0)` that keeps a NaN (`f64::max` returns the other operand).
///
/// ```
/// use tapegrad::ops::unary::relu;
/// assert_eq!((relu(-1.0), relu(2.0)), (0.0, 2.0));
/// assert!(relu(f64::NAN).is_nan());
/// ```
pub fn relu(x: f64) -> f64 {
    if x > 0.0 || x.is_nan() { x } else { 0.0 }
}

/// `e^x`; `d/dx = e^x = y`.
///
/// ```
/// use tapegrad::ops::unary::EXP;
/// assert_eq!((EXP.forward)(0.0, 0.0), 1.0);
/// assert_eq!((EXP.local)(0.0, 1.0, 0.0), 1.0); // e^0
/// ```
pub static EXP: UnaryRule =
    UnaryRule { name: "exp", forward: |x, _| x.exp(), local: |_, y, _| y, local_text: "exp(x)" };
/// `ln x`; `d/dx = 1/x`.
///
/// ```
/// use tapegrad::ops::unary::LN;
/// assert_eq!((LN.forward)(1.0, 0.0), 0.0);
/// assert_eq!((LN.local)(2.0, 2f64.ln(), 0.0), 0.5); // 1/x
/// ```
pub static LN: UnaryRule =
    UnaryRule { name: "ln", forward: |x, _| x.ln(), local: |x, _, _| 1.0 / x, local_text: "1/x" };
/// `sqrt x`; `d/dx = 1/(2 sqrt x)`, +inf at 0 (as PyTorch).
///
/// ```
/// use tapegrad::ops::unary::SQRT;
/// assert_eq!((SQRT.forward)(4.0, 0.0), 2.0);
/// assert_eq!((SQRT.local)(4.0, 2.0, 0.0), 0.25); // 1/(2 sqrt 4)
/// assert_eq!((SQRT.local)(0.0, 0.0, 0.0), f64::INFINITY);
/// ```
pub static SQRT: UnaryRule =
    UnaryRule { name: "sqrt", forward: |x, _| x.sqrt(), local: |_, y, _| 0.5 / y, local_text: "1/(2 sqrt(x))" };
/// `|x|`; `d/dx = sign x`, and 0 at 0 (the subgradient PyTorch picks).
///
/// ```
/// use tapegrad::ops::unary::ABS;
/// assert_eq!((ABS.forward)(-3.0, 0.0), 3.0);
/// assert_eq!((ABS.local)(-3.0, 3.0, 0.0), -1.0);
/// assert_eq!((ABS.local)(0.0, 0.0, 0.0), 0.0);
/// ```
pub static ABS: UnaryRule = UnaryRule {
    name: "abs",
    forward: |x, _| x.abs(),
    local: |x, _, _| {
        if x > 0.0 {
            1.0
        } else if x < 0.0 {
            -1.0
        } else {
            0.0
        }
    },
    local_text: "sign(x)",
};
/// `sin x`; `d/dx = cos x`.
///
/// ```
/// use tapegrad::ops::unary::SIN;
/// assert_eq!((SIN.forward)(0.0, 0.0), 0.0);
/// assert_eq!((SIN.local)(0.0, 0.0, 0.0), 1.0); // cos 0
/// ```
pub static SIN: UnaryRule =
    UnaryRule { name: "sin", forward: |x, _| x.sin(), local: |x, _, _| x.cos(), local_text: "cos(x)" };
/// `cos x`; `d/dx = -sin x`.
///
/// ```
/// use tapegrad::ops::unary::COS;
/// use std::f64::consts::FRAC_PI_2;
/// assert_eq!((COS.forward)(0.0, 0.0), 1.0);
/// assert_eq!((COS.local)(FRAC_PI_2, FRAC_PI_2.cos(), 0.0), -1.0); // -sin(pi/2)
/// ```
pub static COS: UnaryRule =
    UnaryRule { name: "cos", forward: |x, _| x.cos(), local: |x, _, _| -x.sin(), local_text: "-sin(x)" };
/// `tanh x`; `d/dx = 1 - tanh^2 x = 1 - y^2`.
///
/// ```
/// use tapegrad::ops::unary::TANH;
/// assert_eq!((TANH.forward)(0.0, 0.0), 0.0);
/// assert_eq!((TANH.local)(0.0, 0.0, 0.0), 1.0); // 1 - 0^2
/// assert_eq!((TANH.local)(0.5f64.atanh(), 0.5, 0.0), 0.75); // 1 - 0.5^2
/// ```
pub static TANH: UnaryRule =
    UnaryRule { name: "tanh", forward: |x, _| x.tanh(), local: |_, y, _| 1.0 - y * y, local_text: "1-t^2" };
/// `s = 1/(1 + e^-x)`; `d/dx = s (1 - s)`.
///
/// ```
/// use tapegrad::ops::unary::SIGMOID;
/// assert_eq!((SIGMOID.forward)(0.0, 0.0), 0.5);
/// assert_eq!((SIGMOID.local)(0.0, 0.5, 0.0), 0.25); // s (1 - s)
/// ```
pub static SIGMOID: UnaryRule = UnaryRule {
    name: "sigmoid",
    forward: |x, _| stable_sigmoid(x),
    local: |_, y, _| y * (1.0 - y),
    local_text: "s(1-s)",
};
/// `max(x, 0)`; `d/dx = 1` for x > 0, else 0 (0 at the kink, as PyTorch).
/// A NaN input gives NaN, as in PyTorch: `f64::max` would drop it and hide
/// the NaN from the rest of the program.
///
/// ```
/// use tapegrad::ops::unary::RELU;
/// assert_eq!(((RELU.forward)(-2.0, 0.0), (RELU.forward)(3.0, 0.0)), (0.0, 3.0));
/// assert_eq!(((RELU.local)(-2.0, 0.0, 0.0), (RELU.local)(3.0, 3.0, 0.0)), (0.0, 1.0));
/// assert_eq!((RELU.local)(0.0, 0.0, 0.0), 0.0); // at the kink
/// assert!((RELU.forward)(f64::NAN, 0.0).is_nan());
/// ```
pub static RELU: UnaryRule = UnaryRule {
    name: "relu",
    forward: |x, _| relu(x),
    local: |x, _, _| if x > 0.0 { 1.0 } else { 0.0 },
    local_text: "[x>0]",
};
/// `x^2`; `d/dx = 2x`.
///
/// ```
/// use tapegrad::ops::unary::SQUARE;
/// assert_eq!((SQUARE.forward)(3.0, 0.0), 9.0);
/// assert_eq!((SQUARE.local)(3.0, 9.0, 0.0), 6.0); // 2x
/// ```
pub static SQUARE: UnaryRule =
    UnaryRule { name: "square", forward: |x, _| x * x, local: |x, _, _| 2.0 * x, local_text: "2x" };
/// `x^n` for an integer `n = p`; `d/dx = n x^(n-1)`.
///
/// Edges: `n = 0` has derivative 0 everywhere, also at `x = 0` (where
/// `0 * 0^-1` would be NaN); for `n = i32::MIN`, `n - 1` does not fit an
/// `i32`, so `x^(n-1)` is taken as a real power (exact: the exponent is a
/// whole number, so negative `x` keeps its sign rule).
///
/// ```
/// use tapegrad::ops::unary::POWI;
/// assert_eq!((POWI.forward)(2.0, 3.0), 8.0); // 2^3
/// assert_eq!((POWI.local)(2.0, 8.0, 3.0), 12.0); // 3 * 2^2
/// assert_eq!((POWI.local)(0.0, 1.0, 0.0), 0.0); // d/dx x^0 = 0, even at 0
/// assert_eq!((POWI.local)(1.0, 1.0, i32::MIN as f64), i32::MIN as f64);
/// ```
pub static POWI: UnaryRule = UnaryRule {
    name: "powi",
    forward: |x, p| x.powi(p as i32),
    local: |x, _, p| match (p as i32).checked_sub(1) {
        _ if p == 0.0 => 0.0,
        Some(m) => p * x.powi(m),
        None => p * x.powf(p - 1.0),
    },
    local_text: "n x^(n-1)",
};
/// `x^p` for a real `p`; `d/dx = p x^(p-1)`.
///
/// Edge: `p = 0` has derivative 0 everywhere, also at `x = 0` (where
/// `0 * 0^-1` would be NaN), as for [`POWI`].
///
/// ```
/// use tapegrad::ops::unary::POWF;
/// assert_eq!((POWF.forward)(4.0, 0.5), 2.0); // 4^0.5
/// assert_eq!((POWF.local)(4.0, 2.0, 0.5), 0.25); // 0.5 * 4^-0.5
/// assert_eq!((POWF.local)(0.0, 1.0, 0.0), 0.0);
/// ```
pub static POWF: UnaryRule = UnaryRule {
    name: "powf",
    forward: |x, p| x.powf(p),
    local: |x, _, p| if p == 0.0 { 0.0 } else { p * x.powf(p - 1.0) },
    local_text: "p x^(p-1)",
};
/// `-x`; `d/dx = -1`.
///
/// ```
/// use tapegrad::ops::unary::NEG;
/// assert_eq!((NEG.forward)(2.0, 0.0), -2.0);
/// assert_eq!((NEG.local)(2.0, -2.0, 0.0), -1.0);
/// ```
pub static NEG: UnaryRule = UnaryRule { name: "neg", forward: |x, _| -x, local: |_, _, _| -1.0, local_text: "-1" };
/// `x + c`; `d/dx = 1`.
///
/// ```
/// use tapegrad::ops::unary::ADD_SCALAR;
/// assert_eq!((ADD_SCALAR.forward)(2.0, 3.0), 5.0); // x + c with c = 3
/// assert_eq!((ADD_SCALAR.local)(2.0, 5.0, 3.0), 1.0);
/// ```
pub static ADD_SCALAR: UnaryRule =
    UnaryRule { name: "add_scalar", forward: |x, c| x + c, local: |_, _, _| 1.0, local_text: "1" };
/// `c - x`; `d/dx = -1`.
///
/// ```
/// use tapegrad::ops::unary::RSUB_SCALAR;
/// assert_eq!((RSUB_SCALAR.forward)(2.0, 3.0), 1.0); // c - x with c = 3
/// assert_eq!((RSUB_SCALAR.local)(2.0, 1.0, 3.0), -1.0);
/// ```
pub static RSUB_SCALAR: UnaryRule =
    UnaryRule { name: "rsub_scalar", forward: |x, c| c - x, local: |_, _, _| -1.0, local_text: "-1" };
/// `c x`; `d/dx = c`.
///
/// ```
/// use tapegrad::ops::unary::MUL_SCALAR;
/// assert_eq!((MUL_SCALAR.forward)(2.0, 3.0), 6.0); // c x with c = 3
/// assert_eq!((MUL_SCALAR.local)(2.0, 6.0, 3.0), 3.0); // c
/// ```
pub static MUL_SCALAR: UnaryRule =
    UnaryRule { name: "mul_scalar", forward: |x, c| x * c, local: |_, _, c| c, local_text: "c" };
/// `x / c`; `d/dx = 1/c`.
///
/// ```
/// use tapegrad::ops::unary::DIV_SCALAR;
/// assert_eq!((DIV_SCALAR.forward)(6.0, 4.0), 1.5); // x / c with c = 4
/// assert_eq!((DIV_SCALAR.local)(6.0, 1.5, 4.0), 0.25); // 1/c
/// ```
pub static DIV_SCALAR: UnaryRule =
    UnaryRule { name: "div_scalar", forward: |x, c| x / c, local: |_, _, c| 1.0 / c, local_text: "1/c" };
/// `c / x`; `d/dx = -c / x^2`.
///
/// ```
/// use tapegrad::ops::unary::RDIV_SCALAR;
/// assert_eq!((RDIV_SCALAR.forward)(2.0, 6.0), 3.0); // c / x with c = 6
/// assert_eq!((RDIV_SCALAR.local)(2.0, 3.0, 6.0), -1.5); // -c/x^2
/// ```
pub static RDIV_SCALAR: UnaryRule =
    UnaryRule { name: "rdiv_scalar", forward: |x, c| c / x, local: |x, _, c| -c / (x * x), local_text: "-c/x^2" };

/// Runs `$body` with `$r` naming the rule statically when `$rule` is one of
/// the hottest rules (sigmoid, tanh, relu, square, c x, x + c, sin, cos), else `$fallback`. Compiled once per
/// hot rule, the body's loop inlines that rule's functions instead of
/// calling them through a pointer per element. The one list of hot rules.
macro_rules! with_hot_rule {
    ($rule:expr, |$r:ident| $body:expr, else $fallback:expr) => {
        with_hot_rule!(@each $rule, $r, $body, $fallback, SIGMOID, TANH, RELU, SQUARE, MUL_SCALAR, ADD_SCALAR, SIN, COS)
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

/// Forward: `y[i] = f(x[i]; p)`.
fn forward<'t>(rule: &'static UnaryRule, x: Var<'t>, p: f64) -> Var<'t> {
    if let Some(y) = x.tape.record_scalar(Op::Unary(rule), p, [x], |[v]| (rule.forward)(v, p)) {
        return y;
    }
    with_hot_rule!(rule, |r| forward_with(rule, |v, p| (r.forward)(v, p), x, p), else forward_with(rule, rule.forward, x, p))
}

/// [`forward`] with the rule's function `f` passed in.
fn forward_with<'t>(rule: &'static UnaryRule, f: impl Fn(f64, f64) -> f64, x: Var<'t>, p: f64) -> Var<'t> {
    x.tape.record_like(Op::Unary(rule), p, &[x], x.idx, |arena, out| {
        let xs = arena.value(x.idx);
        out.iter_mut().zip(xs).for_each(|(o, &v)| *o = f(v, p));
    })
}

/// Backward: `grad_x[i] += grad_y[i] * f'(x[i])`.
pub(crate) fn backward(rule: &UnaryRule, me: u32, node: &Node, arena: &Arena<'_>, upstream: &[f64], below: &mut [f64]) {
    with_hot_rule!(
        rule,
        |r| backward_with(|x, y, p| (r.local)(x, y, p), me, node, arena, upstream, below),
        else backward_with(rule.local, me, node, arena, upstream, below)
    )
}

/// [`backward`] for a 0-d node (whose input is 0-d too): `g_x += g_y * f'(x)`.
pub(crate) fn scalar_backward(rule: &UnaryRule, node: &Node, arena: &Arena<'_>, up: f64, below: &mut [f64]) {
    let x = &arena.nodes[node.args[0] as usize];
    if x.needs_grad {
        let (xv, yv) = (arena.values[x.start as usize], arena.values[node.start as usize]);
        below[x.start as usize] += up * (rule.local)(xv, yv, node.param);
    }
}

/// [`backward`] with the rule's derivative `local` passed in.
fn backward_with(
    local: impl Fn(f64, f64, f64) -> f64,
    me: u32,
    node: &Node,
    arena: &Arena<'_>,
    upstream: &[f64],
    below: &mut [f64],
) {
    let x = node.args[0];
    let (xs, ys) = (arena.value(x), arena.value(me));
    if let Some(gx) = super::input_grad(arena, below, x) {
        for (((g, &u), &x), &y) in gx.iter_mut().zip(upstream).zip(xs).zip(ys) {
            *g += u * local(x, y, node.param);
        }
    }
}

/// One method per rule, each a one-line call of `forward`.
macro_rules! unary_methods {
    ($($(#[$doc:meta])* $name:ident => $rule:ident;)*) => {
        impl<'t> Var<'t> {
            $(
                $(#[$doc])*
                pub fn $name(self) -> Var<'t> {
                    forward(&$rule, self, 0.0)
                }
            )*
        }
    };
}

unary_methods! {
    /// `e^x`, elementwise.
    ///
    /// ```
    /// let tape = tapegrad::Tape::new();
    /// let x = tape.scalar(1.0);
    /// assert_eq!(x.exp().backward().wrt(x).item(), 1f64.exp());
    /// ```
    exp => EXP;
    /// Natural logarithm, elementwise.
    ///
    /// ```
    /// let tape = tapegrad::Tape::new();
    /// let x = tape.scalar(4.0);
    /// assert_eq!(x.ln().backward().wrt(x).item(), 0.25);
    /// ```
    ln => LN;
    /// Square root, elementwise (derivative +inf at 0).
    ///
    /// ```
    /// let tape = tapegrad::Tape::new();
    /// let x = tape.scalar(4.0);
    /// assert_eq!(x.sqrt().backward().wrt(x).item(), 0.25);
    /// ```
    sqrt => SQRT;
    /// Absolute value, elementwise (derivative 0 at 0).
    ///
    /// ```
    /// let tape = tapegrad::Tape::new();
    /// let x = tape.scalar(-3.0);
    /// assert_eq!(x.abs().backward().wrt(x).item(), -1.0);
    /// ```
    abs => ABS;
    /// Sine, elementwise.
    ///
    /// ```
    /// let tape = tapegrad::Tape::new();
    /// let x = tape.scalar(0.0);
    /// assert_eq!(x.sin().backward().wrt(x).item(), 1.0);
    /// ```
    sin => SIN;
    /// Cosine, elementwise.
    ///
    /// ```
    /// let tape = tapegrad::Tape::new();
    /// let x = tape.scalar(0.0);
    /// assert_eq!(x.cos().backward().wrt(x).item(), 0.0);
    /// ```
    cos => COS;
    /// Hyperbolic tangent, elementwise.
    ///
    /// ```
    /// let tape = tapegrad::Tape::new();
    /// let x = tape.scalar(0.0);
    /// assert_eq!(x.tanh().backward().wrt(x).item(), 1.0);
    /// ```
    tanh => TANH;
    /// Logistic sigmoid `1/(1+e^-x)`, elementwise, stable at +-1000.
    ///
    /// ```
    /// let tape = tapegrad::Tape::new();
    /// let x = tape.scalar(0.0);
    /// assert_eq!(x.sigmoid().backward().wrt(x).item(), 0.25); // s(1-s)
    /// ```
    sigmoid => SIGMOID;
    /// `max(x, 0)`, elementwise (derivative 0 at 0); NaN stays NaN.
    ///
    /// ```
    /// let tape = tapegrad::Tape::new();
    /// let x = tape.scalar(2.0);
    /// assert_eq!(x.relu().backward().wrt(x).item(), 1.0);
    /// ```
    relu => RELU;
    /// `x^2`, elementwise.
    ///
    /// ```
    /// let tape = tapegrad::Tape::new();
    /// let x = tape.scalar(3.0);
    /// assert_eq!(x.square().backward().wrt(x).item(), 6.0);
    /// ```
    square => SQUARE;
}

impl<'t> Var<'t> {
    /// `x^n` for an integer exponent, elementwise.
    ///
    /// ```
    /// let tape = tapegrad::Tape::new();
    /// let x = tape.scalar(2.0);
    /// assert_eq!(x.powi(3).backward().wrt(x).item(), 12.0);
    /// ```
    pub fn powi(self, n: i32) -> Var<'t> {
        forward(&POWI, self, n as f64)
    }

    /// `x^p` for a real exponent, elementwise.
    ///
    /// ```
    /// let tape = tapegrad::Tape::new();
    /// let x = tape.scalar(4.0);
    /// assert_eq!(x.powf(0.5).backward().wrt(x).item(), 0.25);
    /// ```
    pub fn powf(self, p: f64) -> Var<'t> {
        forward(&POWF, self, p)
    }

    /// Records any elementwise [`UnaryRule`] with parameter `p`: the way to
    /// add an elementwise op of your own.
    ///
    /// ```
    /// use tapegrad::ops::unary::MUL_SCALAR;
    /// let tape = tapegrad::Tape::new();
    /// let x = tape.scalar(2.0);
    /// assert_eq!(x.apply(&MUL_SCALAR, 5.0).item(), 10.0);
    /// ```
    pub fn apply(self, rule: &'static UnaryRule, p: f64) -> Var<'t> {
        forward(rule, self, p)
    }
}

/// The Var-f64 and f64-Var operators, each one unary rule.
macro_rules! scalar_operator {
    ($trait:ident, $method:ident, $var_c:ident, $c_var:ident) => {
        impl<'t> std::ops::$trait<f64> for Var<'t> {
            type Output = Var<'t>;
            fn $method(self, c: f64) -> Var<'t> {
                forward(&$var_c, self, c)
            }
        }
        impl<'t> std::ops::$trait<Var<'t>> for f64 {
            type Output = Var<'t>;
            fn $method(self, x: Var<'t>) -> Var<'t> {
                forward(&$c_var, x, self)
            }
        }
    };
}
scalar_operator!(Add, add, ADD_SCALAR, ADD_SCALAR);
scalar_operator!(Mul, mul, MUL_SCALAR, MUL_SCALAR);
scalar_operator!(Div, div, DIV_SCALAR, RDIV_SCALAR);

impl<'t> std::ops::Sub<f64> for Var<'t> {
    type Output = Var<'t>;
    fn sub(self, c: f64) -> Var<'t> {
        forward(&ADD_SCALAR, self, -c)
    }
}
impl<'t> std::ops::Sub<Var<'t>> for f64 {
    type Output = Var<'t>;
    fn sub(self, x: Var<'t>) -> Var<'t> {
        forward(&RSUB_SCALAR, x, self)
    }
}
impl<'t> std::ops::Neg for Var<'t> {
    type Output = Var<'t>;
    fn neg(self) -> Var<'t> {
        forward(&NEG, self, 0.0)
    }
}
