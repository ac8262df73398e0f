//! The page's steps as data: the nodes in tape order (the forward pass,
//! described as the pictures describe them) and the trace's backward steps,
//! each with the running total of every input it sends to.

use super::super::dot::DrawnNode;
use super::super::preview;
use crate::inspect::{Trace, TraceStep};
use crate::tensor::Tensor;
use serde_json::{Value, json};

/// One backward step: the trace's step, and for each of its sends the
/// input's adjoint after it (everything sent to that input so far).
pub(crate) struct BackStep {
    pub(crate) trace: TraceStep,
    pub(crate) totals: Vec<Tensor>,
}

/// The trace's steps in sweep order, with the running totals. An input's
/// total starts at its first contribution and adds each later one in
/// sweep order, as the sweep's adjoint does, so a leaf's last total is
/// its gradient.
pub(crate) fn backward(trace: Trace) -> Vec<BackStep> {
    let mut so_far: Vec<Option<Tensor>> = Vec::new();
    trace
        .steps
        .into_iter()
        .map(|step| {
            let totals = step
                .sends
                .iter()
                .map(|(to, sent)| {
                    if so_far.len() <= *to {
                        so_far.resize(to + 1, None);
                    }
                    let total = match &so_far[*to] {
                        Some(before) => sent.add(before),
                        None => sent.clone(),
                    };
                    so_far[*to] = Some(total.clone());
                    total
                })
                .collect();
            BackStep { trace: step, totals }
        })
        .collect()
}

fn show(t: &Tensor) -> String {
    preview(t.data(), t.shape())
}

/// The nodes as the script reads them: title, kind, op and inputs, and
/// the value and final gradient in the pictures' words.
pub(crate) fn nodes_json(nodes: &[DrawnNode]) -> Value {
    let rows: Vec<Value> = nodes
        .iter()
        .map(|n| {
            let (op, inputs) = match &n.op {
                Some((label, inputs)) => (Some(label.as_str()), inputs.clone()),
                None => (None, Vec::new()),
            };
            let kind = if op.is_some() {
                "op"
            } else if n.constant {
                "constant"
            } else {
                "leaf"
            };
            json!({ "title": n.title, "kind": kind, "op": op, "inputs": inputs, "data": n.data, "grad": n.grad })
        })
        .collect();
    Value::Array(rows)
}

/// The backward steps as the script reads them: the trace's line, its
/// parts, and each send with its note (`delta_out`) and running total.
pub(crate) fn backward_json(steps: &[BackStep], notes: &[(usize, usize, String)]) -> Value {
    let rows: Vec<Value> = steps
        .iter()
        .map(|s| {
            let t = &s.trace;
            let local: Vec<Value> =
                t.local.iter().map(|l| json!({ "text": l.text, "value": l.value.as_ref().map(show) })).collect();
            let sends: Vec<Value> = t
                .sends
                .iter()
                .zip(&s.totals)
                .map(|((to, sent), total)| {
                    let note = notes.iter().find(|(f, k, _)| (*f, *k) == (t.node, *to)).map(|n| n.2.as_str());
                    json!({ "to": to, "value": show(sent), "total": show(total), "note": note })
                })
                .collect();
            json!({
                "node": t.node,
                "line": t.to_string(),
                "upstream": show(&t.upstream),
                "local": local,
                "sends": sends,
            })
        })
        .collect();
    Value::Array(rows)
}

/// For each node, the characters of the longest `grad ...` line the script
/// writes into its box during the sweep: a running total can be longer than
/// the final gradient (`-1.5` before `0`), and the box must hold both.
pub(crate) fn widest_grad_lines(steps: &[BackStep]) -> Vec<usize> {
    let mut widest = Vec::new();
    for s in steps {
        for ((to, _), total) in s.trace.sends.iter().zip(&s.totals) {
            if widest.len() <= *to {
                widest.resize(to + 1, 0);
            }
            widest[*to] = widest[*to].max("grad ".len() + show(total).chars().count());
        }
    }
    widest
}
