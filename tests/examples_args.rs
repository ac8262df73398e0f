//! Every example refuses bad arguments cleanly (issue 18 item 11): one
//! `error:` line on stderr naming the flag and the value, a non-zero exit
//! that is not a panic's 101, and nothing trained first. And a diverged run
//! of `sine` skips its log-scale plot with a message instead of laying out
//! ticks until memory runs out (item 10).
//!
//! The examples are run as built by `cargo test` (which builds every
//! example into `target/<profile>/examples/` next to this test's
//! `deps/`); `cargo test --test examples_args` alone does not build them.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

/// The built example `name`, found from this test binary's own path
/// (`target/<profile>/deps/examples_args-HASH`).
fn example(name: &str) -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let profile_dir = exe.parent().and_then(Path::parent).expect("target/<profile>/deps/this-test");
    let path = profile_dir.join("examples").join(format!("{name}{}", std::env::consts::EXE_SUFFIX));
    assert!(
        path.exists(),
        "{} is not built: run `cargo test` (which builds the examples) or `cargo build --examples` first",
        path.display()
    );
    path
}

/// Runs an example, killing it after `limit` (a run that trains instead of
/// refusing its arguments would otherwise take minutes).
fn run(name: &str, args: &[&str], limit: Duration) -> Output {
    let mut child = Command::new(example(name))
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("{name}: {e}"));
    let start = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if start.elapsed() > limit {
            child.kill().unwrap();
            let out = child.wait_with_output().unwrap();
            panic!(
                "{name} {args:?} still running after {limit:?} (it did not refuse its arguments); stdout:\n{}",
                String::from_utf8_lossy(&out.stdout)
            );
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    child.wait_with_output().unwrap()
}

/// Asserts a clean refusal (exit code 2 from clap, 1 from the run) and
/// returns its one `error:` line.
fn refused(name: &str, args: &[&str]) -> String {
    let out = run(name, args, Duration::from_secs(60));
    let (stdout, stderr) = (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    let code = out.status.code();
    assert!(!out.status.success(), "{name} {args:?} succeeded; stdout:\n{stdout}");
    assert_ne!(code, Some(101), "{name} {args:?} panicked:\n{stderr}");
    assert!(matches!(code, Some(1 | 2)), "{name} {args:?}: exit code {code:?}:\n{stderr}");
    assert!(!stderr.contains("panicked"), "{name} {args:?}:\n{stderr}");
    let errors: Vec<&str> = stderr.lines().filter(|l| l.starts_with("error:")).collect();
    assert_eq!(errors.len(), 1, "{name} {args:?}: one error line, got:\n{stderr}");
    assert!(stderr.starts_with("error:"), "{name} {args:?}: the error comes first:\n{stderr}");
    errors[0].to_string()
}

/// The examples in `examples/` (one `NAME.rs` each).
fn all_examples() -> Vec<String> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples");
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .filter_map(|e| {
            let path = e.unwrap().path();
            (path.extension()? == "rs").then(|| path.file_stem().unwrap().to_string_lossy().into_owned())
        })
        .collect();
    names.sort();
    names
}

/// Every example, including ones added later: an unknown flag is an
/// error, never ignored (an example that ignores it would go on to train,
/// and be killed by the time limit).
#[test]
fn every_example_refuses_an_unknown_flag() {
    let names = all_examples();
    assert!(names.len() >= 13, "{names:?}");
    assert!(!names.contains(&"zz_prof".to_string()), "the leftover profiling example is gone");
    for name in &names {
        let line = refused(name, &["--no-such-flag"]);
        assert_eq!(line, "error: unexpected argument '--no-such-flag' found", "{name}");
    }
}

/// Every example's `--help` opens with what it does (clap takes it from
/// the doc comment on its `Args`, or `args::no_options`' text), not with
/// the bare usage line a misplaced doc comment leaves.
#[test]
fn every_examples_help_says_what_it_does() {
    for name in all_examples() {
        let out = run(&name, &["--help"], Duration::from_secs(60));
        assert!(out.status.success(), "{name} --help failed");
        let help = String::from_utf8_lossy(&out.stdout);
        let first = help.lines().next().unwrap_or("");
        assert!(!first.is_empty() && !first.starts_with("Usage:"), "{name} --help has no description:\n{help}");
    }
}

/// The values the issue found taking down an example (a panic, a NaN run,
/// an accuracy of 0.0% from no steps), and their neighbours: each is one
/// line naming the flag, the value and the rule.
#[test]
fn bad_values_are_refused_before_anything_runs() {
    let cases: &[(&str, &[&str], &str)] = &[
        ("sine", &["--epochs", "0"], "error: invalid value '0' for '--epochs <EPOCHS>': must be at least 1"),
        ("sine", &["--hidden", "0"], "error: invalid value '0' for '--hidden <HIDDEN>': must be at least 1"),
        // sizes have a ceiling: this one tried to allocate 8 GB matrices
        (
            "sine",
            &["--hidden", "1000000000"],
            "error: invalid value '1000000000' for '--hidden <HIDDEN>': must be at most 1024 (these examples are small models)",
        ),
        (
            "transformer",
            &["--d", "2048"],
            "error: invalid value '2048' for '--d <D>': must be at most 1024 (these examples are small models)",
        ),
        (
            "char_rnn",
            &["--batch", "5000"],
            "error: invalid value '5000' for '--batch <BATCH>': must be at most 1024 (these examples are small models)",
        ),
        ("sine", &["--lr", "nan"], "error: invalid value 'nan' for '--lr <LR>': must be a finite number > 0"),
        ("sine", &["--lr", "inf"], "error: invalid value 'inf' for '--lr <LR>': must be a finite number > 0"),
        // a hyphen value reaches the check instead of reading as a flag
        ("sine", &["--lr", "-1"], "error: invalid value '-1' for '--lr <LR>': must be a finite number > 0"),
        ("sine", &["--seed", "-1"], "error: invalid value '-1' for '--seed <SEED>': invalid digit found in string"),
        ("sine_seeds", &["--epochs", "0"], "error: invalid value '0' for '--epochs <EPOCHS>': must be at least 1"),
        ("sine_seeds", &["--count", "0"], "error: invalid value '0' for '--count <COUNT>': must be at least 1"),
        ("transformer", &["--heads", "0"], "error: invalid value '0' for '--heads <HEADS>': must be at least 1"),
        ("transformer", &["--lr", "nan"], "error: invalid value 'nan' for '--lr <LR>': must be a finite number > 0"),
        ("transformer", &["--clip=-1"], "error: invalid value '-1' for '--clip <CLIP>': must be a finite number > 0"),
        (
            "transformer",
            &["--temperature", "0"],
            "error: invalid value '0' for '--temperature <TEMPERATURE>': must be a finite number > 0",
        ),
        (
            "transformer",
            &["--d", "30", "--heads", "4"],
            "error: --d 30 does not split into --heads 4 heads of equal width",
        ),
        ("transformer", &["--seq-len", "1000"], "error: --seq-len 1000 leaves no window in a text of 485 characters"),
        ("char_rnn", &["--seq-len", "0"], "error: invalid value '0' for '--seq-len <SEQ_LEN>': must be at least 1"),
        ("char_rnn", &["--lr", "nan"], "error: invalid value 'nan' for '--lr <LR>': must be a finite number > 0"),
        (
            "char_rnn",
            &["--temperature", "0"],
            "error: invalid value '0' for '--temperature <TEMPERATURE>': must be a finite number > 0",
        ),
        ("char_rnn", &["--batch", "0"], "error: invalid value '0' for '--batch <BATCH>': must be at least 1"),
        ("char_rnn", &["--steps", "0"], "error: invalid value '0' for '--steps <STEPS>': must be at least 1"),
        ("char_rnn", &["--clip=-5"], "error: invalid value '-5' for '--clip <CLIP>': must be a finite number > 0"),
        ("char_rnn", &["--hidden", "0"], "error: invalid value '0' for '--hidden <HIDDEN>': must be at least 1"),
        ("char_rnn", &["--embed", "0"], "error: invalid value '0' for '--embed <EMBED>': must be at least 1"),
        ("moons", &["--steps", "0"], "error: invalid value '0' for '--steps <STEPS>': must be at least 1"),
        ("numerical_gd", &["--lr", "-1"], "error: invalid value '-1' for '--lr <LR>': must be a finite number > 0"),
        ("numerical_gd", &["--steps", "0"], "error: invalid value '0' for '--steps <STEPS>': must be at least 1"),
        ("optimizers", &["--tol", "nan"], "error: invalid value 'nan' for '--tol <TOL>': must be a finite number >= 0"),
        ("optimizers", &["--steps", "0"], "error: invalid value '0' for '--steps <STEPS>': must be at least 1"),
        ("normal_equation", &["--epochs", "0"], "error: invalid value '0' for '--epochs <EPOCHS>': must be at least 1"),
        ("trace", &["--x", "inf"], "error: invalid value 'inf' for '--x <X>': must be a finite number"),
        ("stepper", &["--x", "nan"], "error: invalid value 'nan' for '--x <X>': must be a finite number"),
        (
            "regularization",
            &["--seed", "x"],
            "error: invalid value 'x' for '--seed <SEED>': invalid digit found in string",
        ),
        ("quickstart", &["extra"], "error: unexpected argument 'extra' found"),
        ("newton", &["extra"], "error: unexpected argument 'extra' found"),
        ("custom_model", &["extra"], "error: unexpected argument 'extra' found"),
        ("graph", &["extra"], "error: unexpected argument 'extra' found"),
    ];
    for (name, args, want) in cases {
        assert_eq!(refused(name, args), *want, "{name} {args:?}");
    }
}

/// Errors found while running (a window longer than the text, a file that
/// does not load, a directory that cannot be made) are one line naming the
/// flag or the file too, with exit code 1.
#[test]
fn errors_found_while_running_are_one_line_too() {
    let line = refused("char_rnn", &["--seq-len", "1000"]);
    assert_eq!(line, "error: --seq-len 1000 leaves no window in a text of 485 characters");

    let dir = std::env::temp_dir().join(format!("tapegrad_examples_args_{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let missing = dir.join("missing.safetensors");
    let line = refused("sine", &["--load", missing.to_str().unwrap(), "--epochs", "1"]);
    assert!(line.starts_with(&format!("error: safetensors: {}: ", missing.display())), "{line}");
    let file = dir.join("a_file");
    std::fs::write(&file, b"").unwrap();
    let under_file = file.join("graphs");
    let line = refused("graph", &["--out", under_file.to_str().unwrap()]);
    assert!(line.starts_with(&format!("error: {}: ", under_file.display())), "{line}");
    std::fs::remove_dir_all(&dir).unwrap();
}

/// The longest window the text allows (one short of its 485 characters:
/// each character needs the next as its target) trains; the transformer's
/// training loop once asked for one character more than its flag check
/// did and panicked here.
#[test]
fn the_longest_window_the_text_allows_trains() {
    for name in ["transformer", "char_rnn"] {
        let args = ["--seq-len", "484", "--steps", "1", "--batch", "1", "--sample-len", "5"];
        let out = run(name, &args, Duration::from_secs(120));
        assert!(out.status.success(), "{name}: {}", String::from_utf8_lossy(&out.stderr));
    }
    let line = refused("transformer", &["--seq-len", "485"]);
    assert_eq!(line, "error: --seq-len 485 leaves no window in a text of 485 characters");
}

/// Issue 18 item 10: `sine --lr 1e308` diverges to NaN errors, and plotting
/// them on a log axis grew memory without bound. The run finishes, says it
/// diverged, and writes no plot.
#[test]
fn a_diverged_sine_run_skips_its_plot() {
    let plot = std::env::temp_dir().join(format!("tapegrad_diverged_{}.svg", std::process::id()));
    let plot_arg = plot.to_str().unwrap();
    for lr in ["1e308", "100"] {
        let out = run(
            "sine",
            &["--lr", lr, "--epochs", "5", "--engine", "tape", "--plot", plot_arg],
            Duration::from_secs(60),
        );
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(out.status.success(), "--lr {lr}: {}", String::from_utf8_lossy(&out.stderr));
        assert!(stdout.contains("verdict: the training diverged"), "--lr {lr}:\n{stdout}");
        assert!(
            stdout.contains("no plot written: the errors or predictions are not all finite"),
            "--lr {lr}:\n{stdout}"
        );
        assert!(!plot.exists(), "--lr {lr}: a plot was written");
    }
}
