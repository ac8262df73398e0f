//! The page's step data against independent truths: micrograd's published
//! neuron gradients, the notes' hand-written deltas, closed forms; the
//! sends against the trace's own numbers; and the page against the web.

use super::steps::{BackStep, backward};
use super::*;
use crate::inspect::preview;
use crate::notes::manual::{HiddenLayer, OutputLayer};
use crate::notes::one_sample::{OneSample, Weights};
use crate::{Tape, Tensor};

/// The last running total each node reached: what the page shows at the end.
fn final_totals(steps: &[BackStep]) -> Vec<(usize, Tensor)> {
    let mut last: Vec<(usize, Tensor)> = Vec::new();
    for s in steps {
        for ((to, _), total) in s.trace.sends.iter().zip(&s.totals) {
            last.retain(|(k, _)| k != to);
            last.push((*to, total.clone()));
        }
    }
    last
}

fn total_of(totals: &[(usize, Tensor)], v: Var<'_>) -> Tensor {
    totals
        .iter()
        .find(|(k, _)| *k == v.index())
        .unwrap_or_else(|| panic!("nothing reached node {}", v.index()))
        .1
        .clone()
}

/// The JSON the page carries, read back out of the page.
fn page_data(page: &str) -> Value {
    let open = "<script id=\"steps\" type=\"application/json\">";
    let start = page.find(open).expect("the steps element") + open.len();
    let end = start + page[start..].find("</script>").expect("closed");
    serde_json::from_str(&page[start..end]).expect("the steps are JSON")
}

#[test]
fn micrograd_neuron_ends_at_micrograds_published_gradients() {
    let tape = Tape::new();
    let crate::notes::neuron::Neuron { x1, x2, w1, w2, b, n, o } = crate::notes::neuron::Neuron::record(&tape);
    let totals = final_totals(&backward(o.backward_traced().1));
    let grads = o.backward();
    // micrograd's README: x1 -1.5, w1 1.0, x2 0.5, w2 0.0, n 0.5 (1 - tanh^2 at o = 1/sqrt 2)
    for (v, published) in [(x1, -1.5), (w1, 1.0), (x2, 0.5), (w2, 0.0), (b, 0.5), (n, 0.5)] {
        let shown = total_of(&totals, v).item();
        assert!((shown - published).abs() < 1e-12, "node {}: page ends at {shown}, micrograd {published}", v.index());
        assert_eq!(shown, grads.wrt(v).item(), "node {}: the page and backward() disagree", v.index());
    }
}

#[test]
fn sine_network_ends_at_the_notes_hand_written_gradients() {
    let x = Tensor::from_vec(vec![1.0], &[1, 1]);
    let t = x.map(f64::sin);
    let w = Weights::drawn(0);
    let tape = Tape::new();
    let net = OneSample::record(&tape, &x, &t, &w);
    let totals = final_totals(&backward(net.loss.backward_traced().1));
    let grads = net.loss.backward();
    let mut hidden = HiddenLayer::from_weights(w.w1.clone(), w.b1.clone());
    let mut output = OutputLayer::from_weights(w.w2.clone(), w.b2.clone());
    output.forward(&hidden.forward(&x));
    hidden.backward(&output.backward(&t));
    let by_hand =
        [(net.w1, &hidden.grad_w), (net.b1, &hidden.grad_b), (net.w2, &output.grad_w), (net.b2, &output.grad_b)];
    for (leaf, hand) in by_hand {
        let shown = total_of(&totals, leaf);
        assert!(shown.max_abs_diff(hand) <= 1e-14, "node {}: page {shown}, notes {hand}", leaf.index());
        assert!(shown.max_abs_diff(&grads.wrt(leaf)) == 0.0, "node {}: page vs backward()", leaf.index());
    }
}

#[test]
fn running_totals_add_each_contribution_in_sweep_order() {
    let tape = Tape::new();
    let x = tape.scalar(3.0).named("x");
    let y = (x * x).named("y");
    let z = (y + x).named("z"); // dz/dx = 2x + 1 = 7, reached in two sends: 1, then 6
    let steps = backward(z.backward_traced().1);
    let to_x: Vec<(f64, f64)> = steps
        .iter()
        .flat_map(|s| s.trace.sends.iter().zip(&s.totals))
        .filter(|((to, _), _)| *to == x.index())
        .map(|((_, sent), total)| (sent.item(), total.item()))
        .collect();
    assert_eq!(to_x, [(1.0, 1.0), (6.0, 7.0)]);
}

#[test]
fn every_send_on_the_page_is_the_traces_number_in_the_traces_words() {
    let x = Tensor::from_vec(vec![0.4, 1.7], &[2, 1]);
    let tape = Tape::new();
    let net = OneSample::record(&tape, &x, &x.map(f64::sin), &Weights::drawn(3));
    let (_, trace) = net.loss.backward_traced();
    let mut page = StepPage::new("sine");
    for (what, from, to) in net.deltas() {
        page = page.note(from, to, what);
    }
    let data = page_data(&page.render(net.loss));
    let back = data["backward"].as_array().unwrap();
    assert_eq!(back.len(), trace.steps.len());
    for (shown, step) in back.iter().zip(&trace.steps) {
        assert_eq!(shown["node"], step.node);
        assert_eq!(shown["line"], step.to_string());
        assert_eq!(shown["upstream"], preview(step.upstream.data(), step.upstream.shape()));
        let sends = shown["sends"].as_array().unwrap();
        assert_eq!(sends.len(), step.sends.len());
        for (s, (to, sent)) in sends.iter().zip(&step.sends) {
            assert_eq!(s["to"], *to);
            assert_eq!(s["value"], preview(sent.data(), sent.shape()));
        }
    }
    // the notes' deltas are named on their edges, as the trace example names them
    let sig = back.iter().find(|s| s["node"] == net.h.index()).unwrap();
    assert_eq!(sig["sends"][0]["note"], "delta_hidden = grad_h h(1-h)");
    assert_eq!(sig["local"][0]["text"], "s(1-s)");
    let nodes = data["nodes"].as_array().unwrap();
    assert_eq!(nodes.len(), tape.len()); // one forward step per node, in tape order
    assert_eq!(nodes[net.u1.index()]["inputs"], serde_json::json!([net.xw1.index(), net.b1.index()]));
}

/// Every `src=`, `href=` and CSS `url(` value in the page.
fn references(page: &str) -> Vec<String> {
    let mut out = Vec::new();
    for key in ["src=", "href=", "url("] {
        for (at, _) in page.match_indices(key) {
            let rest = &page[at + key.len()..];
            let rest = rest.trim_start_matches(['"', '\'']);
            let end = rest.find(['"', '\'', ')', ' ', '>']).unwrap_or(rest.len());
            out.push(rest[..end].to_string());
        }
    }
    out
}

#[test]
fn the_page_reaches_for_nothing_outside_itself() {
    let tape = Tape::new();
    let a = tape.scalar(2.0).named("a");
    let page = (a.sin() * a).named("f").to_html();
    let refs = references(&page);
    assert!(!refs.is_empty(), "the markers are referenced with url(#...)");
    for r in &refs {
        assert!(!r.contains("//") && !r.starts_with("http"), "external reference {r:?}");
        assert!(r.starts_with('#'), "only in-page references, got {r:?}");
    }
    assert!(!page.contains("<link") && !page.contains("@import") && !page.contains("<script src"));
}

#[test]
fn names_cannot_break_out_of_the_page() {
    let tape = Tape::new();
    let a = tape.scalar(1.0).named("</script><script>alert(1)</script>{{data}}");
    let page = a.exp().to_html();
    assert_eq!(page.matches("<script").count(), 2, "only the data and the stepper's script");
    let data = page_data(&page);
    assert_eq!(data["nodes"][0]["title"], "#0 </script><script>alert(1)</script>{{data}}");
}

#[test]
fn past_max_drawn_the_nodes_are_listed_not_drawn() {
    let tape = Tape::new();
    let mut h = tape.scalar(0.5);
    for _ in 0..10 {
        h = h.tanh();
    }
    let listed = StepPage::default().max_drawn(10).render(h);
    assert_eq!(page_data(&listed)["drawn"], false);
    assert!(!listed.contains("class=\"edge\""));
    let drawn = StepPage::default().max_drawn(11).render(h);
    assert_eq!(page_data(&drawn)["drawn"], true);
    assert_eq!(drawn.matches("class=\"edge\"").count(), 20);
}

/// The width the picture gave node `i`'s box, read from its `<rect>`.
fn box_width(page: &str, i: usize) -> f64 {
    let open = format!("<g class=\"node\" id=\"n{i}\">");
    let at = page.find(&open).expect("the node's box") + open.len();
    let rect = &page[at..at + page[at..].find("/>").expect("its rect")];
    let w = rect.split("width=\"").nth(1).expect("a width").split('"').next().unwrap();
    w.parse().expect("a number")
}

#[test]
fn a_box_holds_every_running_total_not_only_the_final_gradient() {
    // x's two contributions cancel: its final gradient is "0", but its box
    // shows one contribution alone first, a longer text.
    let tape = Tape::new();
    let (x, a) = (tape.scalar(1.0).named("x"), tape.scalar(-1.2345678).named("a"));
    let page = ((x * a) - (x * a)).to_html();
    let data = page_data(&page);
    assert_eq!(data["nodes"][x.index()]["grad"], "0");
    let longest = data["backward"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|s| s["sends"].as_array().unwrap())
        .filter(|send| send["to"] == x.index())
        .map(|send| format!("grad {}", send["total"].as_str().unwrap()).chars().count())
        .max()
        .expect("x receives sends");
    assert!(longest > "grad 0".len() + 3, "the test needs a running total longer than the final gradient");
    // The picture's monospace metrics: 7.2 px a character, 7 px padding each side.
    let needed = longest as f64 * 7.2 + 14.0;
    let title_fits = ("#0 x".len() as f64) * 7.2 + 14.0;
    assert!(needed > title_fits);
    assert!(box_width(&page, x.index()) >= needed - 1e-9, "box {} < {needed}", box_width(&page, x.index()));
}
