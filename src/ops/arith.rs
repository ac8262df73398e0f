//! `+ - * /` between two Vars, with NumPy broadcasting. Each is a
//! [`BinaryFn`] rule: the function and its two partials side by side; the
//! shared machinery (loops, broadcasting, reduce-to-shape) is in
//! [`super::elementwise`].

use super::elementwise::{BinaryFn, binary};
use crate::tape::Var;
use crate::tensor::ShapeError;

/// Defines a binary rule in one line: name, words, `f`, `da`, `db`.
/// The last closure is the VJP as tape ops for input `k` (`upstream *
/// da` or `upstream * db`, multiplies skipped where a partial is 1 or -1).
macro_rules! rule {
    ($ty:ident, $name:literal, $text:expr, |$a:pat_param, $b:pat_param| $f:expr,
     |$a1:pat_param, $b1:pat_param, $y1:pat_param| $da:expr, |$a2:pat_param, $b2:pat_param, $y2:pat_param| $db:expr,
     |$vk:pat_param, $va:pat_param, $vb:pat_param, $vu:pat_param| $vjp:expr) => {
        #[doc = concat!("The `", $name, "` rule.")]
        pub(crate) struct $ty;
        impl BinaryFn for $ty {
            const NAME: &'static str = $name;
            const TEXT: [&'static str; 2] = $text;
            fn f($a: f64, $b: f64) -> f64 {
                $f
            }
            fn da($a1: f64, $b1: f64, $y1: f64) -> f64 {
                $da
            }
            fn db($a2: f64, $b2: f64, $y2: f64) -> f64 {
                $db
            }
            fn vjp_var<'t>($vk: usize, $va: Var<'t>, $vb: Var<'t>, _: Var<'t>, $vu: Var<'t>) -> Option<Var<'t>> {
                Some($vjp)
            }
            // The emitter's text of f, da and db: the very closures above.
            const F_SRC: Option<&'static str> =
                Some(concat!("|", stringify!($a), ", ", stringify!($b), "| ", stringify!($f)));
            const DA_SRC: Option<&'static str> = Some(concat!(
                "|",
                stringify!($a1),
                ", ",
                stringify!($b1),
                ", ",
                stringify!($y1),
                "| ",
                stringify!($da)
            ));
            const DB_SRC: Option<&'static str> = Some(concat!(
                "|",
                stringify!($a2),
                ", ",
                stringify!($b2),
                ", ",
                stringify!($y2),
                "| ",
                stringify!($db)
            ));
        }
    };
}

rule!(Add, "add", ["1", "1"], |a, b| a + b, |_, _, _| 1.0, |_, _, _| 1.0, |_, _, _, u| u);
rule!(Sub, "sub", ["1", "-1"], |a, b| a - b, |_, _, _| 1.0, |_, _, _| -1.0, |k, _, _, u| if k == 0 { u } else { -u });
rule!(Mul, "mul", ["b", "a"], |a, b| a * b, |_, b, _| b, |a, _, _| a, |k, a, b, u| u * if k == 0 { b } else { a });
rule!(Div, "div", ["1/b", "-a/b^2"], |a, b| a / b, |_, b, _| 1.0 / b, |a, b, _| -a / (b * b), |k, a, b, u| u
    * if k == 0 { 1.0 / b } else { -a / b.square() });

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
                    binary::<$rule>(self, other)
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
    Add, "add", try_add, Add, add;
    Sub, "sub", try_sub, Sub, sub;
    Mul, "mul", try_mul, Mul, mul;
    Div, "div", try_div, Div, div;
}

use super::registry::OpCase;

/// This file's cases in the op registry (see [`super::registry`]).
pub(crate) const CASES: &[OpCase] = &[
    OpCase::binary("add", |v| v[0] + v[1]).shapes(&[&[2, 3], &[3]]),
    OpCase::binary("sub", |v| v[0] - v[1]).shapes(&[&[3], &[2, 3]]),
    OpCase::binary("mul", |v| v[0] * v[1]).shapes(&[&[3, 1], &[1, 4]]),
    OpCase::binary("div", |v| v[0] / v[1]),
];

#[cfg(test)]
mod tests {
    use crate::{Tape, Tensor};

    /// `f(a, b)` on a `[2, 3]` and a broadcast `[3]`: values and both
    /// gradients of `sum(f)` against closed forms (`db` summed over rows).
    fn check(
        f: impl for<'a> Fn(crate::Var<'a>, crate::Var<'a>) -> crate::Var<'a>,
        y: fn(f64, f64) -> f64,
        da: fn(f64, f64) -> f64,
        db: fn(f64, f64) -> f64,
    ) {
        let av = [1.0, -2.0, 3.0, 0.5, 4.0, -1.5];
        let bv = [2.0, -0.5, 1.25];
        let tape = Tape::new();
        let a = tape.var(Tensor::from_vec(av.to_vec(), &[2, 3]));
        let b = tape.var(Tensor::from_vec(bv.to_vec(), &[3]));
        let out = f(a, b);
        let g = out.sum().backward();
        let (ga, gb) = (g.wrt(a), g.wrt(b));
        for i in 0..6 {
            let (x, z) = (av[i], bv[i % 3]);
            assert_eq!(out.value().data()[i], y(x, z));
            assert_eq!(ga.data()[i], da(x, z));
        }
        for (j, &bj) in bv.iter().enumerate() {
            let want = da_rows(db, &av, bj, j);
            assert!((gb.data()[j] - want).abs() < 1e-15, "db[{j}]: {} vs {want}", gb.data()[j]);
        }
        // Forward mode: dy[i] = da * ta[i] + db * tb[i % 3], the `[3]`
        // tangent broadcast over the rows as its value was.
        let ta = [0.5, 1.0, -1.0, 2.0, 0.25, 3.0];
        let tb = [-1.0, 0.75, 2.0];
        let t = out.jvp(&[(a, &Tensor::from_vec(ta.to_vec(), &[2, 3])), (b, &Tensor::from_vec(tb.to_vec(), &[3]))]);
        for (i, &got) in t.unwrap().data().iter().enumerate() {
            let (x, z) = (av[i], bv[i % 3]);
            let want = da(x, z) * ta[i] + db(x, z) * tb[i % 3];
            assert!((got - want).abs() < 1e-15, "tangent[{i}]: {got} vs {want}");
        }
    }

    fn da_rows(db: fn(f64, f64) -> f64, av: &[f64], b: f64, j: usize) -> f64 {
        db(av[j], b) + db(av[j + 3], b)
    }

    #[test]
    fn arithmetic_matches_closed_forms_with_broadcasting() {
        check(|a, b| a + b, |a, b| a + b, |_, _| 1.0, |_, _| 1.0);
        check(|a, b| a - b, |a, b| a - b, |_, _| 1.0, |_, _| -1.0);
        check(|a, b| a * b, |a, b| a * b, |_, b| b, |a, _| a);
        check(|a, b| a / b, |a, b| a / b, |_, b| 1.0 / b, |a, b| -a / (b * b));
    }

    #[test]
    fn a_node_used_twice_gets_both_contributions() {
        let tape = Tape::new();
        let x = tape.scalar(3.0);
        assert_eq!((x * x).backward().wrt(x).item(), 6.0); // 2x
        let v = tape.var(Tensor::from_vec(vec![1.0, -2.0], &[2]));
        assert_eq!((v * v).sum().backward().wrt(v).data(), &[2.0, -4.0]);
        // Forward mode too: d(x x) = 2 x dx, both tangents read from one node.
        assert_eq!((x * x).jvp(&[(x, &Tensor::scalar(1.0))]).unwrap().item(), 6.0);
    }
}
