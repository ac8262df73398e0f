//! A stable text form of gradients (or any tensors), for snapshot tests.
//!
//! The format is part of the public API, so that you can snapshot your own
//! models' gradients with [insta](https://insta.rs) and a refactor cannot
//! silently change a derivative:
//!
//! ```text
//! hidden.w: shape [1, 3]
//!   -1.234567890e-2 5.000000000e-1 0.000000000e0
//! ```
//!
//! - entries in the order given (for `Gradients::snapshot`, tape order);
//! - one header line `name: shape [..]`, then one line per row of the last
//!   dimension, indented two spaces;
//! - every value in scientific notation with 10 significant digits, `-0`
//!   written as `0`, and `NaN`, `inf`, `-inf` spelled out.
//!
//! Ten digits keep the last few bits of rounding noise (which can differ
//! between summation orders or CPUs) out of the snapshot while catching any
//! real change of a derivative.
//!
//! ```
//! use tapegrad::{Tape, Tensor};
//! let tape = Tape::new();
//! let w = tape.var(Tensor::from_vec(vec![1.0, -2.0], &[1, 2])).named("w");
//! let loss = w.square().sum();
//! let text = loss.backward().snapshot();
//! assert_eq!(text, "w: shape [1, 2]\n  2.000000000e0 -4.000000000e0\n");
//! // in a test: insta::assert_snapshot!(text);
//! ```
//!
//! In a test of your own model: seed every random input (the same seed
//! gives bit-identical gradients), name the Vars you care about with
//! [`Var::named`](crate::Var::named), and call
//! `insta::assert_snapshot!(loss.backward().snapshot())`. With insta's
//! defaults the first `cargo test` fails and writes the snapshot as
//! `tests/snapshots/<file>__<test>.snap.new`; accept it with
//! `cargo insta review` (from `cargo install cargo-insta`), or write the
//! `.snap` files directly with `INSTA_UPDATE=always cargo test`, then
//! commit them. The README section "Snapshot-testing gradients" has a full
//! example and what the file looks like.
//!
//! # Seeds that survive a dependency update
//!
//! Seed a generator whose algorithm is fixed, such as
//! `rand_chacha::ChaCha12Rng` (or the faster `ChaCha8Rng`), not
//! `rand::rngs::StdRng`. rand documents `StdRng` as not portable: "any
//! future library version may replace the algorithm", so a `cargo update`
//! could change every seeded input, and every snapshot would then show a
//! diff although no derivative changed. The `rand_chacha` generators are
//! named algorithms, tested against reference vectors; their output (like
//! that of rand's and rand_distr's conversions to floats, ranges and
//! normals) changes only in a new minor version (0.9 to 0.10), which
//! `cargo update` does not pick on its own.
//!
//! This crate's own snapshot tests and examples seed `ChaCha12Rng`: it is
//! the algorithm behind rand 0.9's `StdRng`, so the switch changed no
//! stream, snapshot or published number (`tests/snapshots_grads.rs`
//! checks the two streams agree).
//!
//! ```
//! use rand::SeedableRng;
//! use rand_chacha::ChaCha12Rng;
//! use tapegrad::{Tape, Tensor};
//! let mut rng = ChaCha12Rng::seed_from_u64(42); // the same numbers after any `cargo update`
//! let tape = Tape::new();
//! let w = tape.var(Tensor::randn(&[2, 2], &mut rng)).named("w");
//! let text = w.square().sum().backward().snapshot();
//! assert!(text.starts_with("w: shape [2, 2]\n"));
//! // in a test: insta::assert_snapshot!(text);
//! ```

use crate::tape::{Gradients, Var};
use crate::tensor::Tensor;
use std::fmt::Write;

impl<'t> Gradients<'t> {
    /// The gradients of the given named Vars in snapshot format (see
    /// [`crate::snapshot`]), for `insta::assert_snapshot!`.
    ///
    /// ```
    /// let tape = tapegrad::Tape::new();
    /// let a = tape.scalar(2.0);
    /// let g = (a * a).backward();
    /// assert_eq!(g.snapshot_of(&[("a", a)]), "a: shape []\n  4.000000000e0\n");
    /// ```
    pub fn snapshot_of(&self, vars: &[(&str, Var<'t>)]) -> String {
        let grads: Vec<(String, Tensor)> = vars.iter().map(|(n, v)| (n.to_string(), self.wrt(*v))).collect();
        render(grads.iter().map(|(n, t)| (n.as_str(), t)))
    }

    /// The gradients of every named node (see [`Var::named`]), in tape
    /// order, in snapshot format; nodes without a name are left out.
    ///
    /// ```
    /// let tape = tapegrad::Tape::new();
    /// let w = tape.scalar(3.0).named("w");
    /// let g = w.square().backward();
    /// assert_eq!(g.snapshot(), "w: shape []\n  6.000000000e0\n");
    /// ```
    pub fn snapshot(&self) -> String {
        let tape = self.tape();
        let named: Vec<(String, Var<'t>)> = {
            let inner = tape.inner.borrow();
            let names = inner.names_by_node(); // one pass: linear in the names
            (0..self.covered)
                .filter_map(|i| names[i as usize].map(|n| (n.to_string(), tape.node(i as usize))))
                .collect()
        };
        let grads: Vec<(String, Tensor)> = named.into_iter().map(|(n, v)| (n, self.wrt(v))).collect();
        render(grads.iter().map(|(n, t)| (n.as_str(), t)))
    }
}

/// Renders named tensors in the snapshot format.
///
/// ```
/// use tapegrad::{Tensor, snapshot::render};
/// let t = Tensor::from_vec(vec![0.1, -0.0], &[2]);
/// assert_eq!(render([("g", &t)]), "g: shape [2]\n  1.000000000e-1 0.000000000e0\n");
/// ```
pub fn render<'a>(entries: impl IntoIterator<Item = (&'a str, &'a Tensor)>) -> String {
    let mut out = String::new();
    for (name, t) in entries {
        let _ = writeln!(out, "{name}: shape {:?}", t.shape());
        let row = t.shape().last().copied().unwrap_or(1).max(1);
        for chunk in t.data().chunks(row) {
            let cells: Vec<String> = chunk.iter().map(|&v| format_value(v)).collect();
            let _ = writeln!(out, "  {}", cells.join(" "));
        }
    }
    out
}

/// One value with 10 significant digits (`-0` as `0`).
///
/// ```
/// assert_eq!(tapegrad::snapshot::format_value(-0.0), "0.000000000e0");
/// assert_eq!(tapegrad::snapshot::format_value(12.0), "1.200000000e1");
/// ```
pub fn format_value(v: f64) -> String {
    if v.is_nan() {
        "NaN".into()
    } else if v == 0.0 {
        "0.000000000e0".into()
    } else {
        format!("{v:.9e}")
    }
}
