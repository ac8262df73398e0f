//! The tape drawn as SVG with no system tools: well-formed XML (read back
//! by an independent parser), one element per node, op and edge, labels
//! escaped, boxes that do not overlap, edges running left to right, and
//! the same bytes every time.

mod common;

use common::neuron;
use rand::SeedableRng;
use roxmltree::{Document, Node};
use tapegrad::{Tape, Tensor, Var};

/// The notes' 1-3-1 sine network on 3 samples: broadcasting, matmul, a
/// bias used many columns after it is recorded.
fn sine_loss(tape: &Tape) -> Var<'_> {
    let mut rng = rand_chacha::ChaCha12Rng::seed_from_u64(0);
    let xs = Tensor::from_vec(vec![0.0, 0.1, 0.2], &[3, 1]);
    let x = tape.constant(&xs).named("x");
    let t = tape.constant(xs.map(f64::sin)).named("t");
    let w1 = tape.var(Tensor::randn(&[1, 3], &mut rng)).named("hidden.w");
    let b1 = tape.var(Tensor::randn(&[3], &mut rng)).named("hidden.b");
    let w2 = tape.var(Tensor::randn(&[3, 1], &mut rng)).named("out.w");
    let b2 = tape.var(Tensor::randn(&[1], &mut rng)).named("out.b");
    let h = (x.matmul(w1) + b1).sigmoid();
    let y = h.matmul(w2) + b2;
    ((y - t).square() * 0.5).sum().named("loss")
}

fn with_class<'a, 'i>(doc: &'a Document<'i>, tag: &str, class: &str) -> Vec<Node<'a, 'i>> {
    doc.descendants().filter(|n| n.has_tag_name(tag) && n.attribute("class") == Some(class)).collect()
}

fn attr(n: Node<'_, '_>, name: &str) -> f64 {
    n.attribute(name).unwrap_or_else(|| panic!("no {name}")).parse().unwrap()
}

/// (left, top, right, bottom) of each node's box and each op's oval, by id.
fn boxes(doc: &Document<'_>) -> Vec<(String, [f64; 4])> {
    let mut out = Vec::new();
    for g in with_class(doc, "g", "node") {
        let r = g.children().find(|c| c.has_tag_name("rect")).unwrap();
        let (x, y) = (attr(r, "x"), attr(r, "y"));
        out.push((g.attribute("id").unwrap().to_string(), [x, y, x + attr(r, "width"), y + attr(r, "height")]));
    }
    for g in with_class(doc, "g", "op") {
        let e = g.children().find(|c| c.has_tag_name("ellipse")).unwrap();
        let (cx, cy, rx, ry) = (attr(e, "cx"), attr(e, "cy"), attr(e, "rx"), attr(e, "ry"));
        out.push((g.attribute("id").unwrap().to_string(), [cx - rx, cy - ry, cx + rx, cy + ry]));
    }
    out
}

/// Checks what every picture must satisfy; returns (nodes, ops, edges).
fn check_picture(svg: &str) -> (usize, usize, usize) {
    let doc = Document::parse(svg).unwrap_or_else(|e| panic!("not XML: {e}\n{svg}"));
    assert_eq!(doc.root_element().tag_name().name(), "svg");
    let boxes = boxes(&doc);
    for (i, (a, p)) in boxes.iter().enumerate() {
        for (b, q) in &boxes[i + 1..] {
            let apart = p[2] <= q[0] || q[2] <= p[0] || p[3] <= q[1] || q[3] <= p[1];
            assert!(apart, "{a} {p:?} overlaps {b} {q:?}");
        }
    }
    let bounds = |id: &str| boxes.iter().find(|(b, _)| b == id).unwrap_or_else(|| panic!("no element {id}")).1;
    let edges = with_class(&doc, "path", "edge");
    for e in &edges {
        let (from, to) = (bounds(e.attribute("data-from").unwrap()), bounds(e.attribute("data-to").unwrap()));
        assert!(from[2] < to[0], "edge {:?} runs right to left", e.attribute("d"));
    }
    (with_class(&doc, "g", "node").len(), with_class(&doc, "g", "op").len(), edges.len())
}

#[test]
fn neuron_svg_has_one_element_per_node_op_and_edge() {
    let tape = Tape::new();
    let grads = neuron(&tape).backward();
    let svg = grads.to_svg();
    let (nodes, ops, edges) = check_picture(&svg);
    assert_eq!(nodes, tape.len()); // 10 records
    assert_eq!(ops, 5); // 2 muls, 2 adds, tanh
    assert_eq!(edges, 5 + 4 * 2 + 1); // op -> output, plus two inputs per binary op, one for tanh
    // micrograd's published gradient of x1 is -1.5
    let doc = Document::parse(&svg).unwrap();
    let x1: Vec<&str> = doc
        .descendants()
        .filter(|n| n.attribute("id") == Some("n0"))
        .flat_map(|g| g.descendants())
        .filter(|n| n.has_tag_name("text"))
        .filter_map(|n| n.text())
        .collect();
    assert_eq!(x1, ["#0 x1", "data 2", "grad -1.5"]);
}

#[test]
fn sine_network_svg_is_well_formed() {
    let tape = Tape::new();
    let _ = sine_loss(&tape);
    let (nodes, ops, _) = check_picture(&tape.to_svg());
    assert_eq!(nodes, tape.len());
    assert_eq!(ops, tape.len() - 6); // every node but the 2 constants and 4 parameters
}

#[test]
fn labels_are_escaped() {
    let name = "a<b> & \"c\" 'd'";
    let tape = Tape::new();
    let _ = tape.scalar(1.0).named(name).exp();
    let svg = tape.to_svg();
    assert!(svg.contains("a&lt;b&gt; &amp; &quot;c&quot; &apos;d&apos;"), "{svg}");
    let doc = Document::parse(&svg).unwrap();
    assert!(doc.descendants().any(|n| n.text() == Some(&format!("#0 {name}"))));
}

#[test]
fn the_same_tape_gives_the_same_bytes() {
    let tape = Tape::new();
    let _ = sine_loss(&tape);
    let first = tape.to_svg();
    let again = Tape::new();
    let _ = sine_loss(&again);
    assert_eq!(again.to_svg(), first);
}

#[test]
fn small_graph_snapshot() {
    let tape = Tape::new();
    let a = tape.scalar(2.0).named("a");
    let b = tape.scalar(-1.0).named("b");
    let grads = (a * b).named("c").exp().backward();
    insta::assert_snapshot!("small_graph_svg", grads.to_svg());
}

#[test]
fn an_empty_tape_is_an_empty_picture() {
    let svg = Tape::new().to_svg();
    assert_eq!(check_picture(&svg), (0, 0, 0));
}
