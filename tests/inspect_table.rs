//! The tape's table and its Graphviz form: stable text (insta snapshots),
//! checked against micrograd's published neuron numbers, and fed to
//! Graphviz when it is installed.

mod common;

use common::neuron;
use rand::SeedableRng;
use std::io::Write;
use std::process::{Command, Stdio};
use tapegrad::{Gradients, Tape, Tensor, Var};

/// The notes' 1-3-1 sine network on `batch` samples, loss 0.5 sum (y - t)^2.
fn sine_loss(tape: &Tape, batch: usize) -> Var<'_> {
    let mut rng = rand_chacha::ChaCha12Rng::seed_from_u64(0);
    let xs = Tensor::from_vec((0..batch).map(|i| 0.1 * i as f64).collect(), &[batch, 1]);
    let x = tape.constant(&xs).named("x");
    let t = tape.constant(xs.map(f64::sin)).named("t");
    let w1 = tape.var(Tensor::randn(&[1, 3], &mut rng)).named("hidden.w");
    let b1 = tape.var(Tensor::randn(&[3], &mut rng)).named("hidden.b");
    let w2 = tape.var(Tensor::randn(&[3, 1], &mut rng)).named("output.w");
    let b2 = tape.var(Tensor::randn(&[1], &mut rng)).named("output.b");
    let h = (x.matmul(w1) + b1).sigmoid().named("hidden.y");
    let y = (h.matmul(w2) + b2).named("output.y");
    ((y - t).square() * 0.5).sum().named("loss")
}

/// The cells of row `node` of a table (names in these tests have no spaces).
fn row(table: &str, node: usize) -> Vec<String> {
    table.lines().nth(node + 1).unwrap().split_whitespace().map(String::from).collect()
}

fn grad_cell(grads: &Gradients<'_>, node: usize) -> String {
    row(&grads.table(), node).last().unwrap().clone()
}

#[test]
fn neuron_table_shows_micrographs_published_gradients() {
    let tape = Tape::new();
    let o = neuron(&tape);
    let grads = o.backward();
    // micrograd's README / lecture: o = 0.7071, do/dn = 1 - o^2 = 0.5,
    // x1.grad = w1 * 0.5 = -1.5, w1.grad = x1 * 0.5 = 1, x2.grad = 0.5, w2.grad = 0.
    let expected = [(0, "-1.5"), (1, "0.5"), (2, "1"), (3, "0"), (4, "0.5"), (8, "0.5"), (9, "1")];
    for (node, grad) in expected {
        assert_eq!(grad_cell(&grads, node), grad, "gradient of node {node}");
    }
    assert_eq!(row(&tape.table(), 9), ["9", "o", "tanh", "8", "[]", "0.7071"]);
    assert_eq!(tape.table().lines().count(), tape.len() + 1);
    insta::assert_snapshot!("neuron_tape", tape.table());
    insta::assert_snapshot!("neuron_grads", grads.table());
}

#[test]
fn sine_network_table_with_gradients() {
    let tape = Tape::new();
    let loss = sine_loss(&tape, 1);
    let grads = loss.backward();
    let table = grads.table();
    // constants carry no gradient; the loss's own gradient is 1
    assert_eq!(row(&table, 0).last().unwrap(), "-");
    let last = row(&table, 14);
    assert_eq!((&last[..5], &last[6]), (&["14", "loss", "sum", "13", "[]"].map(String::from)[..], &"1".to_string()));
    assert_eq!(row(&table, 13)[..3], ["13", "mul_scalar(0.5)", "12"]); // unnamed: no name cell
    insta::assert_snapshot!("sine_grads", table);
}

#[test]
fn long_tensors_are_abbreviated_numpy_style() {
    let tape = Tape::new();
    let x = tape.constant(Tensor::arange(0.0, 6.3, 0.1).reshape(&[63, 1])).named("x");
    let _s = x.sum_axis(0, true).named("s");
    let table = tape.table();
    assert!(table.contains("[[0] [0.1] ... [6.1] [6.2]]"), "{table}");
    assert!(table.contains("sum_axis(axis=0, keepdim=true)"), "{table}");
    insta::assert_snapshot!("long_tensor", table);
}

#[test]
fn tape_display_is_its_table() {
    let tape = Tape::new();
    let _ = neuron(&tape);
    assert_eq!(format!("{tape}"), tape.table());
}

#[test]
fn neuron_dot_matches_micrographs_draw_dot() {
    let tape = Tape::new();
    let o = neuron(&tape);
    let grads = o.backward();
    let dot = grads.to_dot();
    // one record per node, one op oval and one op -> node edge per computed node
    assert_eq!(dot.matches("shape=record").count(), tape.len());
    assert_eq!(dot.matches("_op [label=").count(), 5);
    // edges from inputs to ops: two per binary op, one for tanh
    assert_eq!(dot.matches(" -> n").count() - 5, 4 * 2 + 1);
    assert!(dot.contains(r#"n0 [shape=record, label="{ #0 x1 | data 2 | grad -1.5 }"];"#), "{dot}");
    assert!(dot.contains("n8 -> n9_op;\n"), "{dot}");
    insta::assert_snapshot!("neuron_dot", dot);
}

#[test]
fn sine_network_dot_without_gradients() {
    let tape = Tape::new();
    let _ = sine_loss(&tape, 2);
    let dot = tape.to_dot();
    assert!(dot.contains(r#"label="{ #0 x [2, 1] (constant) | data [[0] [0.1]] }""#), "{dot}");
    assert!(!dot.contains("grad"), "{dot}");
    insta::assert_snapshot!("sine_dot", dot);
}

#[test]
fn record_special_characters_are_escaped() {
    let tape = Tape::new();
    let _ = tape.scalar(1.0).named("a|b {c} <d> \"e\"");
    let dot = tape.to_dot();
    assert!(dot.contains(r#"label="{ #0 a\|b \{c\} \<d\> \"e\" | data 1 }""#), "{dot}");
}

/// Graphviz must accept what we write (skipped when `dot` is not installed).
#[test]
fn graphviz_renders_the_dot_when_installed() {
    let tape = Tape::new();
    let loss = sine_loss(&tape, 3);
    let dot = loss.backward().to_dot();
    let child = Command::new("dot").arg("-Tsvg").stdin(Stdio::piped()).stdout(Stdio::piped()).spawn();
    let Ok(mut child) = child else {
        eprintln!("Graphviz `dot` not installed; skipping the render check");
        return;
    };
    child.stdin.take().unwrap().write_all(dot.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "dot rejected the graph:\n{dot}");
    let svg = String::from_utf8(out.stdout).unwrap();
    assert!(svg.contains("<svg") && svg.contains("hidden.w"), "{svg}");
}
