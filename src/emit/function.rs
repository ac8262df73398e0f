//! One program to two functions: `NAME` (the forward pass) and
//! `NAME_grad` (the forward pass, then the reverse sweep).

use super::names::Names;
use super::{EmitError, MAX_NODES};
use crate::tape::emit_cx::f64_literal;
use crate::tape::{EmitCx, Operand, TapeInner, Var};
use std::fmt::Write;
use std::ops::Range;

/// Lints the generated code trips by being generated (index loops over
/// fixed arrays, `x * 1.0`, `b - b`, many parameters): it copies the tape's
/// arithmetic, not idiomatic Rust.
pub(super) const ALLOW: &str = "#[allow(clippy::all, unused_parens, unused_mut, unused_variables)]";

/// What the program is, read off the tape once.
pub(super) struct Program<'a> {
    pub(super) inner: &'a TapeInner,
    pub(super) out: usize,
    /// Live nodes (parameters included).
    pub(super) count: usize,
    /// The output depends on the node (dead nodes are left out).
    pub(super) live: Vec<bool>,
    /// Some argument with a gradient flows into the node: it has an adjoint.
    pub(super) flows: Vec<bool>,
    /// Per node: whether it is a parameter (`Some`) and, if so, whether it gets a gradient.
    pub(super) param: Vec<Option<bool>>,
    /// The names of the values (adjoints are `d_` and the name).
    pub(super) names: Vec<String>,
    /// Parameters in order: node, gets a gradient.
    pub(super) params: Vec<(usize, bool)>,
    /// The reverse sweep reaches the node with an adjoint (it runs the
    /// node's backward rule): the output, if an argument flows into it, and
    /// every flowing input of a node that has one.
    pub(super) gets: Vec<bool>,
}

/// Writes `NAME` and `NAME_grad` for the program `p` as two whole
/// functions (a program of at most [`CHUNK`](super::CHUNK) lets; larger
/// ones are `chunk.rs`'s).
pub(super) fn emit_whole(p: &Program<'_>, name: &str, helpers: &mut Vec<&'static str>) -> Result<String, EmitError> {
    let mut s = String::new();
    p.header(&mut s, name);
    p.open_value(&mut s, name);
    let mut body = String::new();
    p.forward(&mut body, helpers, 0..p.out + 1)?;
    s.push_str(&body);
    let _ = writeln!(s, "    {}\n}}\n", p.value_operand(p.out).at("0"));

    p.open_grad(&mut s, name);
    s.push_str(&body);
    if p.backward_start(&mut s) {
        let mut declared = p.param.iter().map(|g| *g == Some(true)).collect::<Vec<_>>();
        p.backward(&mut s, helpers, 0..p.out + 1, &mut declared)?;
    }
    let _ = writeln!(s, "    {}\n}}", p.value_operand(p.out).at("0"));
    Ok(s)
}

impl<'a> Program<'a> {
    pub(super) fn read(
        inner: &'a TapeInner,
        out: usize,
        args: &[Var<'_>],
        inputs: &[Var<'_>],
    ) -> Result<Program<'a>, EmitError> {
        let shape = inner.shape(out as u32);
        if shape.iter().product::<usize>() != 1 {
            return Err(EmitError::NotScalar { shape: shape.to_vec() });
        }
        let n = out + 1;
        let mut param = vec![None; inner.nodes.len()]; // arguments may come after the output
        let mut params = Vec::new();
        for (v, grad) in args.iter().map(|v| (v, true)).chain(inputs.iter().map(|v| (v, false))) {
            let i = v.index();
            if !inner.nodes[i].is_input() {
                return Err(EmitError::NotAnInput { node: i, op: inner.op(i as u32).name().to_string() });
            }
            if param[i].is_some() {
                return Err(EmitError::DuplicateName(format!("node {i}")));
            }
            // An input the tape gives no gradient (a constant) gets none here either.
            let grad = grad && inner.nodes[i].needs_grad();
            param[i] = Some(grad);
            params.push((i, grad));
        }
        let mut live = vec![false; n];
        live[out] = true;
        for i in (0..n).rev() {
            if live[i] {
                for &a in inner.args(i as u32) {
                    live[a as usize] = true;
                }
            }
        }
        let count = live.iter().filter(|&&l| l).count();
        if count > MAX_NODES {
            return Err(EmitError::TooLarge { nodes: count, limit: MAX_NODES });
        }
        let mut flows = vec![false; n];
        for i in 0..n {
            let node = &inner.nodes[i];
            flows[i] = live[i]
                && node.needs_grad()
                && (param[i] == Some(true) || inner.args(i as u32).iter().any(|&a| flows[a as usize]));
        }
        let mut gets = vec![false; n];
        gets[out] = flows[out];
        for i in (0..n).rev() {
            if gets[i] && inner.nodes[i].nargs != 0 {
                for &a in inner.args(i as u32) {
                    gets[a as usize] |= flows[a as usize];
                }
            }
        }
        let by_node = inner.names_by_node();
        let mut names = Names::default();
        let mut node_names = vec![String::new(); param.len()];
        // Parameters first, so they keep their names when a later node shares one.
        for &(i, _) in &params {
            node_names[i] = names.node(i, by_node[i]);
        }
        for i in 0..n {
            if live[i] && param[i].is_none() {
                node_names[i] = names.node(i, by_node[i]);
            }
        }
        Ok(Program { inner, out, count, live, flows, param, names: node_names, params, gets })
    }

    /// Live nodes that get a `let` (all but the parameters).
    pub(super) fn lets(&self) -> usize {
        (0..=self.out).filter(|&i| self.live[i] && self.param[i].is_none()).count()
    }

    /// `NAME: TYPE` for each parameter, in order.
    pub(super) fn signature(&self) -> Vec<String> {
        self.params.iter().map(|&(i, _)| format!("{}: {}", self.names[i], self.value_type(i))).collect()
    }

    /// Opens `pub fn NAME(args) -> f64 {`, the value function.
    pub(super) fn open_value(&self, s: &mut String, name: &str) {
        let _ = writeln!(s, "{ALLOW}\npub fn {name}({}) -> f64 {{", self.signature().join(", "));
    }

    /// Opens `pub fn NAME_grad(args, d_args) -> f64 {`, with its doc line.
    pub(super) fn open_grad(&self, s: &mut String, name: &str) {
        let sig: Vec<String> = self.signature().into_iter().chain(self.grad_signature()).collect();
        let _ = writeln!(
            s,
            "/// `{name}` and its gradient, written into `d_ARG` (overwritten) for each argument.\n{ALLOW}\npub fn {name}_grad({}) -> f64 {{",
            sig.join(", ")
        );
    }

    /// The parameters among `nodes`, in order.
    pub(super) fn params_in<'s>(
        &'s self,
        nodes: &'s std::collections::BTreeSet<usize>,
    ) -> impl Iterator<Item = usize> + 's {
        self.params.iter().map(|&(i, _)| i).filter(|i| nodes.contains(i))
    }

    /// `d_NAME: TYPE` for each parameter with a gradient, in order.
    pub(super) fn grad_signature(&self) -> Vec<String> {
        self.params
            .iter()
            .filter(|&&(_, g)| g)
            .map(|&(i, _)| format!("d_{}: {}", self.names[i], self.grad_type(i)))
            .collect()
    }

    fn shape(&self, i: usize) -> &[usize] {
        self.inner.shape(i as u32)
    }

    pub(super) fn len(&self, i: usize) -> usize {
        self.inner.nodes[i].len as usize
    }

    /// Parameters of shape `[]` are `f64`; other parameters are arrays
    /// even of one element (their shape says so); every other one-element
    /// node is an `f64`.
    pub(super) fn is_scalar(&self, i: usize) -> bool {
        match self.param[i] {
            Some(_) => self.shape(i).is_empty(),
            None => self.len(i) == 1,
        }
    }

    pub(super) fn value_type(&self, i: usize) -> String {
        if self.is_scalar(i) { "f64".into() } else { format!("&[f64; {}]", self.len(i)) }
    }

    pub(super) fn grad_type(&self, i: usize) -> String {
        if self.is_scalar(i) { "&mut f64".into() } else { format!("&mut [f64; {}]", self.len(i)) }
    }

    pub(super) fn value_operand(&self, i: usize) -> Operand {
        let baked = self.inner.nodes[i].is_input() && self.param[i].is_none();
        let constant = baked.then(|| self.inner.value(i as u32).into());
        Operand { name: self.names[i].clone(), shape: self.shape(i).to_vec(), scalar: self.is_scalar(i), constant }
    }

    /// The adjoint: a local `d_NAME`, or `*d_NAME` for a scalar parameter's buffer.
    pub(super) fn grad_operand(&self, i: usize) -> Operand {
        let star = if self.param[i].is_some() && self.is_scalar(i) { "*" } else { "" };
        let (name, shape) = (format!("{star}d_{}", self.names[i]), self.shape(i).to_vec());
        Operand { name, shape, scalar: self.is_scalar(i), constant: None }
    }

    /// `// 12: sigmoid(v11)`.
    fn describe(&self, i: usize) -> String {
        let args: Vec<&str> = self.inner.args(i as u32).iter().map(|&a| self.names[a as usize].as_str()).collect();
        format!("// {i}: {}({})", self.inner.label(i as u32), args.join(", "))
    }

    /// Tapenade's header: what is computed, from what, w.r.t. what.
    pub(super) fn header(&self, s: &mut String, name: &str) {
        let live = self.count;
        let list = |grad: bool| {
            let v: Vec<String> = self
                .params
                .iter()
                .filter(|&&(_, g)| g == grad)
                .map(|&(i, _)| format!("`{}: {:?}`", self.names[i], self.shape(i)))
                .collect();
            if v.is_empty() { "none".to_string() } else { v.join(", ") }
        };
        let _ = writeln!(
            s,
            "/// `{name}`: node {} (`{}`, {}) of a tape of {} nodes, {live} of which it depends on.\n\
             /// Differentiated with respect to: {}.\n/// Inputs without gradient: {}.",
            self.out,
            self.names[self.out],
            self.inner.label(self.out as u32),
            self.inner.nodes.len(),
            list(true),
            list(false),
        );
    }

    /// One `let` per live node of `nodes`, in recording order.
    pub(super) fn forward(
        &self,
        s: &mut String,
        helpers: &mut Vec<&'static str>,
        nodes: Range<usize>,
    ) -> Result<(), EmitError> {
        for i in nodes {
            if !self.live[i] || self.param[i].is_some() {
                continue;
            }
            let node = &self.inner.nodes[i];
            if node.is_input() {
                let value = self.inner.value(i as u32);
                let _ = writeln!(s, "    // {i}: {} {:?}", self.inner.label(i as u32), self.shape(i));
                if self.is_scalar(i) {
                    let _ = writeln!(s, "    let {} = {};", self.names[i], f64_literal(value[0]));
                } else {
                    let items: Vec<String> = value.iter().map(|&v| f64_literal(v)).collect();
                    let _ = writeln!(s, "    let {}: [f64; {}] = [{}];", self.names[i], value.len(), items.join(", "));
                }
                continue;
            }
            let inputs: Vec<Operand> =
                self.inner.args(i as u32).iter().map(|&a| self.value_operand(a as usize)).collect();
            let out = self.value_operand(i);
            let _ = writeln!(s, "    {}", self.describe(i));
            let mut cx = EmitCx {
                inputs: &inputs,
                out: &out,
                d_inputs: &[],
                d_out: None,
                params: node.params(),
                code: s,
                helpers,
            };
            self.inner.op(i as u32).emit_forward(&mut cx).ok_or_else(|| self.no_rule(i))?;
        }
        Ok(())
    }

    /// The reverse sweep's start: its comment, every gradient buffer
    /// zeroed, and the output's adjoint set to 1 when the output is itself
    /// a parameter (otherwise `backward` declares it). False when no
    /// argument reaches the output: every gradient is zero.
    pub(super) fn backward_start(&self, s: &mut String) -> bool {
        let _ = writeln!(s, "    // The reverse sweep: adjoints d_NAME = d({})/d(NAME).", self.names[self.out]);
        for &(i, grad) in &self.params {
            if grad {
                let d = self.grad_operand(i);
                let zero = if d.scalar { "0.0".to_string() } else { format!("[0.0; {}]", d.len()) };
                let _ = writeln!(s, "    {} = {zero};", if d.scalar { d.name.clone() } else { format!("*{}", d.name) });
            }
        }
        if self.flows[self.out] && self.param[self.out].is_some() {
            let _ = writeln!(s, "    {} = 1.0;", self.grad_operand(self.out).at("0"));
        }
        self.flows[self.out]
    }

    /// The reverse sweep over `nodes`, as the tape runs it: from the last
    /// back, each node with an adjoint adds its contributions into its
    /// inputs'. The output's adjoint is 1; a local adjoint is declared
    /// (zero) just before the node that first adds into it, unless
    /// `declared` says it exists already (a gradient buffer, or an adjoint
    /// a chunk loaded).
    pub(super) fn backward(
        &self,
        s: &mut String,
        helpers: &mut Vec<&'static str>,
        nodes: Range<usize>,
        declared: &mut [bool],
    ) -> Result<(), EmitError> {
        if nodes.contains(&self.out) && self.flows[self.out] && self.param[self.out].is_none() {
            let _ = writeln!(s, "    let {} = 1.0f64;", self.grad_operand(self.out).name);
            declared[self.out] = true;
        }
        for i in nodes.rev() {
            let node = &self.inner.nodes[i];
            if !self.gets[i] || node.nargs == 0 {
                continue;
            }
            let args = self.inner.args(i as u32);
            let mut d_inputs = Vec::with_capacity(args.len());
            for &a in args {
                let a = a as usize;
                if !self.flows[a] {
                    d_inputs.push(None);
                    continue;
                }
                if !declared[a] {
                    let d = self.grad_operand(a);
                    let zero = d.zero();
                    let _ = writeln!(s, "    let mut {} = {zero};", d.name);
                    declared[a] = true;
                }
                d_inputs.push(Some(self.grad_operand(a)));
            }
            let inputs: Vec<Operand> = args.iter().map(|&a| self.value_operand(a as usize)).collect();
            let (out, d_out) = (self.value_operand(i), self.grad_operand(i));
            let _ = writeln!(s, "    {}, backward", self.describe(i));
            let mut cx = EmitCx {
                inputs: &inputs,
                out: &out,
                d_inputs: &d_inputs,
                d_out: Some(&d_out),
                params: node.params(),
                code: s,
                helpers,
            };
            self.inner.op(i as u32).emit_backward(&mut cx).ok_or_else(|| self.no_rule(i))?;
        }
        Ok(())
    }

    fn no_rule(&self, i: usize) -> EmitError {
        EmitError::NoRule {
            op: self.inner.op(i as u32).name().to_string(),
            node: i,
            shapes: self.inner.args(i as u32).iter().map(|&a| self.shape(a as usize).to_vec()).collect(),
        }
    }
}
