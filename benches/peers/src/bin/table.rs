//! Prints the peers run as one table: criterion's median for every bench of
//! `benches/peers.rs`, and its ratio to the hand-written Rust of the same
//! workload. Reads `<criterion dir>/<group>/<bench>/new/estimates.json`.
//!
//! `cargo run --release --bin table -- <criterion dir>`

use std::path::Path;

const GROUPS: [(&str, &str, f64); 4] = [
    // (group, what one timed iteration is, divisor for the per-unit column)
    ("pendulum_20k", "ns/op (100,000 ops)", 100_000.0),
    ("pendulum_200", "ns/op (1,000 ops)", 1_000.0),
    ("sine_step", "ns/step", 1.0),
    ("mlp_step", "us/step", 1000.0),
];

fn median_ns(dir: &Path) -> Option<f64> {
    let text = std::fs::read_to_string(dir.join("new").join("estimates.json")).ok()?;
    let json: serde_json::Value = serde_json::from_str(&text).ok()?;
    json["median"]["point_estimate"].as_f64()
}

fn main() {
    let root = std::env::args().nth(1).expect("usage: table <criterion dir>");
    let root = Path::new(&root);
    println!("| workload | engine | median | per unit | vs hand-written |");
    println!("|---|---|---|---|---|");
    for (group, unit, div) in GROUPS {
        let hand = median_ns(&root.join(group).join("hand"));
        for engine in
            ["hand", "tapegrad", "tapegrad_replay", "tapegrad_compiled", "echidna_tape", "echidna_bytecode", "candle"]
        {
            let Some(ns) = median_ns(&root.join(group).join(engine)) else { continue };
            let per = ns / div;
            let ratio = hand.map(|h| format!("{:.2}x", ns / h)).unwrap_or_else(|| "-".into());
            println!("| {group} | {engine} | {:.3} us | {per:.2} {unit} | {ratio} |", ns / 1000.0);
        }
    }
}
