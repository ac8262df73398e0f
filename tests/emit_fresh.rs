//! The generated code checked into the repository is what the emitter
//! writes today: each file is regenerated from its recording and compared.
//! Run with `TAPEGRAD_BLESS=1` to rewrite the files after a change to the
//! emitter or an op's emit rule (then review the diff: it is code).

mod emit_programs;

use std::path::Path;

/// Compares `path` (from the crate root) with `want`, or writes it when
/// `TAPEGRAD_BLESS` is set.
fn check(path: &str, want: &str) {
    let full = Path::new(env!("CARGO_MANIFEST_DIR")).join(path);
    if std::env::var_os("TAPEGRAD_BLESS").is_some() {
        std::fs::write(&full, want).unwrap_or_else(|e| panic!("writing {path}: {e}"));
        return;
    }
    let have = std::fs::read_to_string(&full).unwrap_or_default();
    if have == want {
        return;
    }
    let mut diff = String::new();
    let (h, w): (Vec<&str>, Vec<&str>) = (have.lines().collect(), want.lines().collect());
    for i in 0..h.len().max(w.len()) {
        let (a, b) = (h.get(i), w.get(i));
        if a != b {
            diff.push_str(&format!("line {}:\n- {}\n+ {}\n", i + 1, a.unwrap_or(&"<none>"), b.unwrap_or(&"<none>")));
            if diff.len() > 4000 {
                break;
            }
        }
    }
    panic!("{path} is stale: the emitter now writes something else (rerun with TAPEGRAD_BLESS=1 and review):\n{diff}");
}

#[test]
fn sine_step_is_fresh() {
    check("src/notes/compiled/sine_step.rs", &tapegrad::notes::compiled::sine_step_module().unwrap().to_source());
}

#[test]
fn neuron_is_fresh() {
    check("examples/compiled/neuron.rs", &emit_programs::neuron_module().to_source());
}

#[test]
fn pendulum_is_fresh() {
    check("examples/compiled/pendulum.rs", &emit_programs::pendulum_module().to_source());
}

#[test]
fn mlp_is_fresh() {
    check("examples/compiled/mlp.rs", &emit_programs::mlp_module().to_source());
}

#[test]
fn random_programs_are_fresh() {
    check("examples/compiled/random.rs", &emit_programs::random_module().to_source());
}

#[test]
fn long_chain_is_fresh() {
    let want = emit_programs::long_chain_module().to_source();
    assert!(want.len() < 1 << 20, "long_chain.rs is {} bytes: keep the checked-in file under 1 MB", want.len());
    check("examples/compiled/long_chain.rs", &want);
}
