//! A Var with a plain number: `x + c`, `c - x`, `c * x`, `x / c`, `c / x`,
//! and `-x`. Each is a unary rule whose parameter `p` is the number, so the
//! number lives in the node and the operators record one node each.

use super::elementwise::{UnaryFn, unary};
use crate::tape::Var;

/// Defines a unary rule in one line: name, words, `f(x, p)`, `df(x, y, p)`.
/// The last closure is the VJP as tape ops (`upstream * df`, with the
/// multiply skipped where `df` is 1 or -1), for the differentiable backward.
macro_rules! rule {
    ($ty:ident, $name:literal, $text:literal, |$x:pat_param, $p:pat_param| $f:expr, |$dx:pat_param, $dy:pat_param, $dp:pat_param| $df:expr,
     |$vx:pat_param, $vp:pat_param, $vu:pat_param| $vjp:expr) => {
        #[doc = concat!("The `", $name, "` rule.")]
        pub(crate) struct $ty;
        impl UnaryFn for $ty {
            const NAME: &'static str = $name;
            const TEXT: &'static str = $text;
            fn f($x: f64, $p: f64) -> f64 {
                $f
            }
            fn df($dx: f64, $dy: f64, $dp: f64) -> f64 {
                $df
            }
            fn vjp_var<'t>($vx: Var<'t>, _: Var<'t>, $vp: f64, $vu: Var<'t>) -> Option<Var<'t>> {
                Some($vjp)
            }
            // The emitter's text of f and df: the very closures above.
            const F_SRC: Option<&'static str> =
                Some(concat!("|", stringify!($x), ", ", stringify!($p), "| ", stringify!($f)));
            const DF_SRC: Option<&'static str> = Some(concat!(
                "|",
                stringify!($dx),
                ", ",
                stringify!($dy),
                ", ",
                stringify!($dp),
                "| ",
                stringify!($df)
            ));
        }
    };
}

rule!(Neg, "neg", "-1", |x, _| -x, |_, _, _| -1.0, |_, _, u| -u);
rule!(AddScalar, "add_scalar", "1", |x, c| x + c, |_, _, _| 1.0, |_, _, u| u);
rule!(RsubScalar, "rsub_scalar", "-1", |x, c| c - x, |_, _, _| -1.0, |_, _, u| -u);
rule!(MulScalar, "mul_scalar", "c", |x, c| x * c, |_, _, c| c, |_, c, u| u * c);
rule!(DivScalar, "div_scalar", "1/c", |x, c| x / c, |_, _, c| 1.0 / c, |_, c, u| u * (1.0 / c));
rule!(RdivScalar, "rdiv_scalar", "-c/x^2", |x, c| c / x, |x, _, c| -c / (x * x), |x, c, u| u * (-c / x.square()));

/// The Var-f64 and f64-Var operators, each one unary rule.
macro_rules! scalar_operator {
    ($trait:ident, $method:ident, $var_c:ident, $c_var:ident) => {
        impl<'t> std::ops::$trait<f64> for Var<'t> {
            type Output = Var<'t>;
            fn $method(self, c: f64) -> Var<'t> {
                unary::<$var_c>(self, c)
            }
        }
        impl<'t> std::ops::$trait<Var<'t>> for f64 {
            type Output = Var<'t>;
            fn $method(self, x: Var<'t>) -> Var<'t> {
                unary::<$c_var>(x, self)
            }
        }
    };
}
scalar_operator!(Add, add, AddScalar, AddScalar);
scalar_operator!(Mul, mul, MulScalar, MulScalar);
scalar_operator!(Div, div, DivScalar, RdivScalar);

impl<'t> std::ops::Sub<f64> for Var<'t> {
    type Output = Var<'t>;
    fn sub(self, c: f64) -> Var<'t> {
        unary::<AddScalar>(self, -c)
    }
}
impl<'t> std::ops::Sub<Var<'t>> for f64 {
    type Output = Var<'t>;
    fn sub(self, x: Var<'t>) -> Var<'t> {
        unary::<RsubScalar>(x, self)
    }
}
impl<'t> std::ops::Neg for Var<'t> {
    type Output = Var<'t>;
    fn neg(self) -> Var<'t> {
        unary::<Neg>(self, 0.0)
    }
}

use super::registry::OpCase;

/// This file's cases in the op registry (see [`super::registry`]).
pub(crate) const CASES: &[OpCase] = &[
    OpCase::unary("neg", |v| -v[0]),
    OpCase::unary("add_scalar", |v| v[0] + 1.5),
    OpCase::unary("rsub_scalar", |v| 2.0 - v[0]),
    OpCase::unary("mul_scalar", |v| v[0] * 1.5),
    OpCase::unary("div_scalar", |v| v[0] / 2.0),
    OpCase::unary("rdiv_scalar", |v| 2.0 / v[0]),
];

#[cfg(test)]
mod tests {
    use super::super::testing::unary;

    #[test]
    fn scalar_operators_match_their_closed_forms() {
        let xs = [-2.0, 0.5, 3.0];
        unary(|v| v + 1.5, &xs, |x| x + 1.5, |_| 1.0, 0.0);
        unary(|v| v - 1.5, &xs, |x| x - 1.5, |_| 1.0, 0.0);
        unary(|v| 1.5 - v, &xs, |x| 1.5 - x, |_| -1.0, 0.0);
        unary(|v| 1.5 * v, &xs, |x| 1.5 * x, |_| 1.5, 0.0);
        unary(|v| v / 4.0, &xs, |x| x / 4.0, |_| 0.25, 0.0);
        unary(|v| 3.0 / v, &xs, |x| 3.0 / x, |x| -3.0 / (x * x), 1e-15);
        unary(|v| -v, &xs, |x| -x, |_| -1.0, 0.0);
    }

    #[test]
    fn labels_print_the_number() {
        let tape = crate::Tape::new();
        let x = tape.scalar(1.0);
        assert_eq!(format!("{:?}", x * 0.5), "Var(node 1, mul_scalar(0.5), shape [])");
        assert_eq!(format!("{:?}", -x), "Var(node 2, neg, shape [])");
    }
}
