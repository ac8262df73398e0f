//! The emitter's cost: the time to emit, and rustc's time to compile the
//! emitted module, for programs of 100, 1,000, 10,000 and 30,000 nodes
//! (the pendulum chain, 5 scalar ops per step; past `emit::CHUNK` nodes
//! the emitter writes chunks). Ignored by default (it runs rustc); run it
//! with
//!
//! `cargo test --release --test emit_cost -- --ignored --nocapture`
//!
//! It prints one row per size; BENCHMARKS.md keeps the figures. Set
//! `TAPEGRAD_EMIT_CHUNK=N` to cut the programs into chunks of `N` nodes
//! (`Module::chunk`) instead of `emit::CHUNK`; a large `N` writes each
//! program as one function.

mod emit_programs;

use std::process::Command;
use std::time::Instant;
use tapegrad::Tape;
use tapegrad::emit::{CHUNK, Module};

#[test]
#[ignore = "runs rustc; a measurement, not a check"]
fn emit_and_rustc_time_by_program_size() {
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("emit_cost");
    std::fs::create_dir_all(&dir).unwrap();
    let chunk = std::env::var("TAPEGRAD_EMIT_CHUNK").map_or(CHUNK, |n| n.parse().expect("a chunk size"));
    println!("chunks of {chunk} nodes");
    println!("| nodes | emit | source lines | rustc -O | rustc (debug) |");
    for steps in [20, 200, 2000, 6000] {
        let tape = Tape::new();
        let (q, args) = emit_programs::pendulum(&tape, 0.5, 0.0, steps);
        let t = Instant::now();
        let src = Module::new().chunk(chunk).function("chain", q, &args).unwrap().to_source();
        let emit = t.elapsed();
        let file = dir.join(format!("chain_{steps}.rs"));
        std::fs::write(&file, &src).unwrap();
        let rustc = |opt: bool| {
            let t = Instant::now();
            let mut cmd = Command::new("rustc");
            cmd.args(["--edition", "2024", "--crate-type", "lib", "--out-dir"]).arg(&dir).arg(&file);
            if opt {
                cmd.arg("-O");
            }
            let out = cmd.output().expect("rustc on PATH");
            assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
            t.elapsed()
        };
        let (o, d) = (rustc(true), rustc(false));
        println!("| {} | {:.2?} | {} | {:.2?} | {:.2?} |", tape.len(), emit, src.lines().count(), o, d);
    }
}
