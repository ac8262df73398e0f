//! A large program as `#[inline(never)]` chunks: rustc's time on one
//! function grows faster than its size, on many small ones linearly.
//!
//! The recorded nodes are cut, in order, into chunks of at most
//! [`CHUNK`](super::CHUNK) live nodes (or [`Module::chunk`](super::Module::chunk)'s).
//! Each chunk's forward pass is a function `NAME_fwd_K` and its part of
//! the reverse sweep `NAME_bwd_K`; their bodies are the very lines
//! a small program gets (the same rules, names and order, so the same bits).
//! What crosses a chunk's edge goes through two arrays on the caller's
//! stack: `saved`, the values a later chunk or the reverse sweep reads, and
//! `d_saved`, the adjoints that chunks add into across an edge. A chunk
//! loads what it reads into `let`s of the usual names at its top and stores
//! what others read at its end, so there is no allocation and the arrays'
//! indices are constants.

use super::EmitError;
use super::function::{ALLOW, Program};
use std::collections::{BTreeSet, HashSet};
use std::fmt::Write;
use std::ops::Range;

/// Writes `NAME`, `NAME_grad` and their chunks of at most `size` live nodes
/// (by default [`CHUNK`](super::CHUNK)) for a program of more than `size`.
pub(super) fn emit(
    p: &Program<'_>,
    name: &str,
    size: usize,
    helpers: &mut Vec<&'static str>,
) -> Result<String, EmitError> {
    let n = p.out + 1;
    let chunks = partition(p, size);
    let mut chunk_of = vec![0; n];
    for (k, r) in chunks.iter().enumerate() {
        chunk_of[r.clone()].fill(k);
    }
    let args = |i: usize| p.inner.args(i as u32).iter().map(|&a| a as usize);
    let runs = |i: usize| p.inner.nodes[i].nargs != 0;

    // The forward chunks: their bodies, and what each reads from elsewhere.
    let mut fwd = Vec::with_capacity(chunks.len());
    let mut needed = vec![false; n];
    needed[p.out] = true;
    for (k, r) in chunks.iter().enumerate() {
        let mut body = String::new();
        p.forward(&mut body, helpers, r.clone())?;
        let mut reads = BTreeSet::new();
        for i in r.clone().filter(|&i| p.live[i] && p.param[i].is_none() && runs(i)) {
            reads.extend(args(i).filter(|&a| p.param[a].is_some() || chunk_of[a] != k));
        }
        for &a in &reads {
            needed[a] |= p.param[a].is_none();
        }
        fwd.push((body, reads));
    }

    // Adjoints added into from another chunk than their node's.
    let mut cross = vec![false; n];
    for i in (0..n).filter(|&i| p.gets[i] && runs(i)) {
        for a in args(i).filter(|&a| p.flows[a] && p.param[a].is_none() && chunk_of[a] != chunk_of[i]) {
            cross[a] = true;
        }
    }
    // The backward chunks: bodies, values read (found in the body: which of
    // its nodes' inputs and outputs a rule uses is the rule's business),
    // gradient buffers and crossing adjoints touched.
    let mut bwd = Vec::with_capacity(chunks.len());
    for r in &chunks {
        let mut adjoints = BTreeSet::new();
        let mut grads = BTreeSet::new();
        let mut candidates = BTreeSet::new();
        for i in r.clone().filter(|&i| p.gets[i] && runs(i)) {
            if cross[i] {
                adjoints.insert(i);
            }
            candidates.insert(i);
            for a in args(i) {
                candidates.insert(a);
                if cross[a] {
                    adjoints.insert(a);
                }
                if p.param[a] == Some(true) {
                    grads.insert(a);
                }
            }
        }
        let mut declared: Vec<bool> = p.param.iter().map(|g| *g == Some(true)).collect();
        for &a in &adjoints {
            declared[a] = true;
        }
        let mut body = String::new();
        p.backward(&mut body, helpers, r.clone(), &mut declared)?;
        let used = words(&body);
        let reads: BTreeSet<usize> = candidates.into_iter().filter(|&i| used.contains(p.names[i].as_str())).collect();
        for &a in &reads {
            needed[a] |= p.param[a].is_none();
        }
        bwd.push((body, reads, grads, adjoints));
    }

    // Where each saved value and crossing adjoint lives.
    let (mut slot, mut d_slot) = (vec![0; n], vec![0; n]);
    let (mut nv, mut nd) = (0, 0);
    for i in (0..n).filter(|&i| needed[i]) {
        slot[i] = nv;
        nv += p.len(i);
    }
    for i in (0..n).filter(|&i| cross[i]) {
        d_slot[i] = nd;
        nd += p.len(i);
    }

    let mut s = String::new();
    p.header(&mut s, name);
    let _ = writeln!(
        s,
        "/// Written as {} chunks of at most {size} nodes (`{name}_fwd_K`, `{name}_bwd_K`), so that it compiles fast.",
        chunks.len()
    );
    p.open_value(&mut s, name);
    let _ = writeln!(
        s,
        "    // {} live nodes in {} chunks; the values a chunk reads from another are in `saved`.",
        p.count,
        chunks.len()
    );
    let _ = writeln!(s, "    let mut saved = [0.0f64; {nv}];");
    let call = |s: &mut String, f: String, nodes: &BTreeSet<usize>, extra: &[&str]| {
        let mut a: Vec<String> = p.params_in(nodes).map(|i| p.names[i].clone()).collect();
        a.extend(extra.iter().map(|e| e.to_string()));
        let _ = writeln!(s, "    {f}({});", a.join(", "));
    };
    let mut forward_calls = String::new();
    for (k, (_, reads)) in fwd.iter().enumerate() {
        call(&mut forward_calls, format!("{name}_fwd_{k}"), reads, &["&mut saved"]);
    }
    s.push_str(&forward_calls);
    let _ = writeln!(s, "    saved[{}]\n}}\n", slot[p.out]);

    p.open_grad(&mut s, name);
    let _ = writeln!(s, "    let mut saved = [0.0f64; {nv}];");
    s.push_str(&forward_calls);
    if p.backward_start(&mut s) {
        let _ =
            writeln!(s, "    // The adjoints a chunk adds into for another.\n    let mut d_saved = [0.0f64; {nd}];");
        for k in (0..chunks.len()).rev() {
            let (body, reads, grads, _) = &bwd[k];
            if body.is_empty() {
                continue;
            }
            let mut a: Vec<String> = p.params_in(reads).map(|i| p.names[i].clone()).collect();
            a.extend(p.params_in(grads).map(|i| format!("d_{}", p.names[i])));
            a.extend(["&saved".to_string(), "&mut d_saved".to_string()]);
            let _ = writeln!(s, "    {name}_bwd_{k}({});", a.join(", "));
        }
    }
    let _ = writeln!(s, "    saved[{}]\n}}", slot[p.out]);

    // The chunks themselves.
    let param_sig = |nodes: &BTreeSet<usize>| -> Vec<String> {
        p.params_in(nodes).map(|i| format!("{}: {}", p.names[i], p.value_type(i))).collect()
    };
    for (k, ((body, reads), r)) in fwd.iter().zip(&chunks).enumerate() {
        let mut sig = param_sig(reads);
        sig.push(format!("saved: &mut [f64; {nv}]"));
        let _ = writeln!(
            s,
            "\n/// `{name}`, nodes {}..={}: the forward pass.\n#[inline(never)]\n{ALLOW}\nfn {name}_fwd_{k}({}) {{",
            r.start,
            r.end - 1,
            sig.join(", ")
        );
        let reads: Vec<usize> = reads.iter().copied().filter(|&a| p.param[a].is_none()).collect();
        if !reads.is_empty() {
            s.push_str("    // Values of earlier chunks.\n");
        }
        for a in reads {
            load(&mut s, p, a, "", "saved", slot[a]);
        }
        s.push_str(body);
        let keep: Vec<usize> = r.clone().filter(|&i| needed[i] && p.param[i].is_none()).collect();
        if !keep.is_empty() {
            s.push_str("    // For later chunks and the reverse sweep.\n");
        }
        for i in keep {
            store(&mut s, p, &p.names[i], i, "saved", slot[i]);
        }
        s.push_str("}\n");
    }
    for (k, ((body, reads, grads, adjoints), r)) in bwd.iter().zip(&chunks).enumerate() {
        if body.is_empty() {
            continue;
        }
        let mut sig = param_sig(reads);
        sig.extend(
            p.params
                .iter()
                .filter(|(i, _)| grads.contains(i))
                .map(|&(i, _)| format!("d_{}: {}", p.names[i], p.grad_type(i))),
        );
        sig.extend([format!("saved: &[f64; {nv}]"), format!("d_saved: &mut [f64; {nd}]")]);
        let _ = writeln!(
            s,
            "\n/// `{name}_grad`, nodes {}..={}: their part of the reverse sweep.\n#[inline(never)]\n{ALLOW}\nfn {name}_bwd_{k}({}) {{",
            r.start,
            r.end - 1,
            sig.join(", ")
        );
        s.push_str("    // The forward values these rules read, and the adjoints other chunks add into too.\n");
        for &a in reads.iter().filter(|&&a| p.param[a].is_none()) {
            load(&mut s, p, a, "", "saved", slot[a]);
        }
        for &a in adjoints {
            load(&mut s, p, a, "d_", "d_saved", d_slot[a]);
        }
        s.push_str(body);
        let earlier: Vec<usize> = adjoints.iter().copied().filter(|&a| a < r.start).collect();
        if !earlier.is_empty() {
            s.push_str("    // The adjoints of earlier chunks' nodes, for their part of the sweep.\n");
        }
        for a in earlier {
            store(&mut s, p, &format!("d_{}", p.names[a]), a, "d_saved", d_slot[a]);
        }
        s.push_str("}\n");
    }
    Ok(s)
}

/// Recorded nodes `0..=out` cut in order into ranges of at most `size`
/// nodes that get a `let` (live, not parameters).
fn partition(p: &Program<'_>, size: usize) -> Vec<Range<usize>> {
    let mut chunks = Vec::new();
    let (mut start, mut count) = (0, 0);
    for i in 0..=p.out {
        if p.live[i] && p.param[i].is_none() {
            if count == size {
                chunks.push(start..i);
                (start, count) = (i, 0);
            }
            count += 1;
        }
    }
    chunks.push(start..p.out + 1);
    chunks
}

/// `let v12 = saved[3];`, or for an array
/// `let v12: [f64; 4] = saved[3..7].try_into().unwrap();` (`prefix` `d_`
/// for an adjoint, then mutable).
fn load(s: &mut String, p: &Program<'_>, i: usize, prefix: &str, buf: &str, at: usize) {
    let m = if prefix.is_empty() { "" } else { "mut " };
    let name = &p.names[i];
    let len = p.len(i);
    if p.is_scalar(i) {
        let _ = writeln!(s, "    let {m}{prefix}{name} = {buf}[{at}];");
    } else {
        let _ = writeln!(s, "    let {m}{prefix}{name}: [f64; {len}] = {buf}[{at}..{}].try_into().unwrap();", at + len);
    }
}

/// `saved[3] = v12;`, or `saved[3..7].copy_from_slice(&v12);`.
fn store(s: &mut String, p: &Program<'_>, name: &str, i: usize, buf: &str, at: usize) {
    if p.is_scalar(i) {
        let _ = writeln!(s, "    {buf}[{at}] = {name};");
    } else {
        let _ = writeln!(s, "    {buf}[{at}..{}].copy_from_slice(&{name});", at + p.len(i));
    }
}

/// The identifiers the code uses (comments left out).
fn words(code: &str) -> HashSet<&str> {
    code.lines()
        .map(|l| l.split("//").next().unwrap_or(""))
        .flat_map(|l| l.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_')))
        .filter(|w| !w.is_empty())
        .collect()
}
