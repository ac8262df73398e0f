//! The workloads of `benches/peers.rs`, written for each engine, and the
//! checks that every peer computes the same gradients as tapegrad (run once
//! before timing; a mismatch stops the run).
//!
//! - pendulum chain: 20,000 x (`p -= h sin q; q += h p`), d q_N / d q_0, by
//!   hand, on tapegrad's tape, on echidna's Adept-style tape (`echidna::grad`,
//!   a pooled tape re-recorded every call) and on its bytecode tape
//!   (recorded once, re-evaluated by `gradient_with_buf`).
//! - the notes' sine step: 1-3-1, sigmoid hidden, linear output, error
//!   `0.5 (y - t)^2`, one per-sample SGD step; tapegrad's `notes::sine` engines
//!   beside echidna written with scalars and candle with tensors.
//! - the MLP step: 784-128-64-10 sigmoid, batch 64, MSE, SGD; hand-written,
//!   tapegrad, candle.
//!
//! tapegrad runs each workload twice: eager (recorded every step on a reused
//! tape) and replayed (recorded once, `Tape::replay` per step).

// The main package's workloads, whose constructors it names `new` (they
// are not part of a public API there, so it has no `Default` lint).
#[allow(clippy::new_without_default)]
#[path = "../../workloads/mod.rs"]
pub mod workloads;

pub mod candle_nets;
pub mod echidna_nets;

/// Relative difference, scaled so values near 0 compare absolutely.
pub fn rel_diff(a: f64, b: f64) -> f64 {
    (a - b).abs() / (1.0 + b.abs())
}

/// Largest [`rel_diff`] over two equally long slices.
pub fn max_rel_diff(a: &[f64], b: &[f64]) -> f64 {
    assert_eq!(a.len(), b.len(), "compared slices differ in length");
    a.iter().zip(b).map(|(&x, &y)| rel_diff(x, y)).fold(0.0, f64::max)
}

/// Panics with `what` if the two differ by more than `tol` (relative).
pub fn check(what: &str, got: &[f64], want: &[f64], tol: f64) {
    let d = max_rel_diff(got, want);
    assert!(d <= tol, "{what}: differs from tapegrad by {d:e} (tolerance {tol:e})");
}
