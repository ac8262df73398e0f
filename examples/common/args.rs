//! The examples' command line, shared by every example (each includes
//! this file with `#[path]`): checks for numeric flags, and the exit on an
//! error. clap runs them while it parses, so a
//! bad value stops the example before anything is trained, with one
//! `error:` line naming the flag, the value and the valid range, and exit
//! code 2 (clap's usage error) instead of a panic or a NaN run:
//!
//! ```text
//! $ cargo run --example sine -- --lr nan
//! error: invalid value 'nan' for '--lr <LR>': must be a finite number > 0
//! ```
//!
//! Flags that take a number also set `allow_hyphen_values`, so `--lr -1`
//! reaches the check (and gets its message) rather than being read as an
//! unknown flag `-1`.

// Each example uses some of these.
#![allow(dead_code)]

/// A count of at least 1 (epochs, steps, widths, lengths).
pub fn at_least_one(s: &str) -> Result<usize, String> {
    let n: usize = s.parse().map_err(|e| format!("{e}"))?;
    if n == 0 { Err("must be at least 1".into()) } else { Ok(n) }
}

/// Most a size flag takes (a width, a sequence length, a batch, a count of
/// heads or blocks). These examples are small models: past this a run asks
/// for more memory than a laptop has (`sine --hidden 1000000000` tried to
/// allocate its 8 GB matrices and was killed) instead of teaching anything.
pub const MAX_SIZE: usize = 1024;

/// A size: at least 1, at most [`MAX_SIZE`].
pub fn size(s: &str) -> Result<usize, String> {
    let n = at_least_one(s)?;
    if n > MAX_SIZE { Err(format!("must be at most {MAX_SIZE} (these examples are small models)")) } else { Ok(n) }
}

/// A finite number > 0 (a learning rate, a temperature).
pub fn positive(s: &str) -> Result<f64, String> {
    number(s, |x| x > 0.0, "must be a finite number > 0")
}

/// A finite number >= 0 (a clipping bound, a tolerance).
pub fn non_negative(s: &str) -> Result<f64, String> {
    number(s, |x| x >= 0.0, "must be a finite number >= 0")
}

/// Any finite number (an input value).
pub fn finite(s: &str) -> Result<f64, String> {
    number(s, |_| true, "must be a finite number")
}

/// `s` as a finite number within `ok`: NaN and the infinities get the
/// range's message too, since they are outside every range an example has.
fn number(s: &str, ok: impl Fn(f64) -> bool, rule: &str) -> Result<f64, String> {
    let x: f64 = s.parse().map_err(|e| format!("{e}"))?;
    if x.is_finite() && ok(x) { Ok(x) } else { Err(rule.into()) }
}

/// Ends an example whose run failed: the error's message (which names the
/// file, the tensor or the flag) as one `error:` line, exit code 1. Not
/// `main() -> Result`, which prints the error's Debug form.
pub fn exit_on_error<E: std::fmt::Display>(result: Result<(), E>) {
    if let Err(e) = result {
        eprintln!("error: {e}");
        std::process::exit(1);
    }
}

/// For an example without options: `--help` says what it does, and any
/// argument is an error (one `error:` line, exit code 2), not ignored.
pub fn no_options(about: &'static str) {
    clap::Command::new(env!("CARGO_CRATE_NAME")).about(about).get_matches();
}

/// The flags of the examples that learn the shared text and then sample
/// from it (`char_rnn`, `transformer`), with the same defaults so their
/// runs compare; each example flattens it into its own flags.
#[derive(clap::Args)]
pub struct TextRun {
    /// Seed of the initial weights, the training windows and the sampling.
    #[arg(long, default_value_t = 0, allow_hyphen_values = true)]
    pub seed: u64,
    /// Training steps (each one batch of windows).
    #[arg(long, default_value_t = 500, value_parser = at_least_one, allow_hyphen_values = true)]
    pub steps: usize,
    /// Characters per window (for the GRU: the steps BPTT unrolls).
    #[arg(long, default_value_t = 24, value_parser = size, allow_hyphen_values = true)]
    pub seq_len: usize,
    /// Windows per batch.
    #[arg(long, default_value_t = 16, value_parser = size, allow_hyphen_values = true)]
    pub batch: usize,
    /// Characters to sample after training.
    #[arg(long, default_value_t = 240, allow_hyphen_values = true)]
    pub sample_len: usize,
    /// Sampling temperature: the logits are divided by it (below 1: surer).
    #[arg(long, default_value_t = 0.5, value_parser = positive, allow_hyphen_values = true)]
    pub temperature: f64,
}
