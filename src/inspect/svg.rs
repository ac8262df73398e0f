//! The tape's graph drawn straight to SVG, with no system tools: the same
//! records and op ovals as [`dot`](super::dot), laid out left to right by
//! a small layered (Sugiyama-style) layout.
//!
//! The layout, in four steps:
//! 1. **Layers** by longest path from the inputs: an op one column right of
//!    its last input, its output one column right of the op; a leaf or
//!    constant then moves right to sit just before its first consumer, so
//!    a bias used late does not stretch an edge across the picture.
//! 2. **Dummy points** split every edge longer than one column, so the
//!    ordering sees it in every column it crosses.
//! 3. **Ordering**: sweeps right and left, sorting each column by the
//!    barycentre (mean position) of its neighbours in the column before,
//!    keeping the order with the fewest crossings seen.
//! 4. **Coordinates**: columns as wide as their widest node; in each
//!    column nodes stacked in order, then pulled towards their neighbours'
//!    height without overlapping.
//!
//! Text is monospace so widths are known without measuring fonts. The
//! output is a pure function of the tape: the same tape gives the same bytes.

use super::dot::{DrawnNode, describe};
use crate::Gradients;
use crate::tape::{Tape, TapeInner};
use std::fmt::Write;

impl Tape {
    /// The recorded graph as an SVG picture: a box per node (index, name,
    /// shape, value), an oval per op, arrows input -> op -> output.
    ///
    /// ```
    /// let tape = tapegrad::Tape::new();
    /// let a = tape.scalar(2.0).named("a");
    /// let _ = a.exp();
    /// let svg = tape.to_svg();
    /// assert!(svg.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\""));
    /// assert!(svg.contains(">#0 a</text>")); // the box of node 0, named a
    /// assert_eq!(svg.matches("class=\"edge\"").count(), 2); // a -> exp -> #1
    /// ```
    pub fn to_svg(&self) -> String {
        render(&self.inner.borrow(), None)
    }
}

impl Gradients<'_> {
    /// Like [`Tape::to_svg`], with each node's gradient in its box.
    ///
    /// ```
    /// let tape = tapegrad::Tape::new();
    /// let a = tape.scalar(3.0).named("a");
    /// let g = a.square().backward();
    /// assert!(g.to_svg().contains(">grad 6</text>"));
    /// ```
    pub fn to_svg(&self) -> String {
        render(&self.tape.inner.borrow(), Some(self))
    }
}

/// Monospace character width and line height at 12px, in pixels.
const CHAR_W: f64 = 7.2;
const LINE_H: f64 = 18.0;
/// Padding inside a box, space between columns, between nodes in a column.
const PAD: f64 = 7.0;
const GAP_X: f64 = 44.0;
const GAP_Y: f64 = 18.0;
const MARGIN: f64 = 12.0;

enum Kind {
    /// A tape node's box: its text lines, and whether it is a constant.
    Record { lines: Vec<String>, constant: bool },
    /// An op's oval.
    Op(String),
    /// A point an edge passes through in a column it crosses.
    Dummy,
}

struct Vertex {
    id: String,
    kind: Kind,
    layer: usize,
    w: f64,
    h: f64,
    /// Top-left corner, once laid out.
    x: f64,
    y: f64,
}

impl Vertex {
    fn new(id: String, kind: Kind) -> Vertex {
        let (w, h) = match &kind {
            Kind::Record { lines, .. } => {
                let chars = lines.iter().map(|l| l.chars().count()).max().unwrap_or(0);
                (chars as f64 * CHAR_W + 2.0 * PAD, lines.len() as f64 * LINE_H + PAD)
            }
            Kind::Op(label) => (label.chars().count() as f64 * CHAR_W + 4.0 * PAD, 28.0),
            Kind::Dummy => (0.0, 4.0),
        };
        Vertex { id, kind, layer: 0, w, h, x: 0.0, y: 0.0 }
    }

    fn center_y(&self) -> f64 {
        self.y + self.h / 2.0
    }
}

/// The graph being laid out: vertices, and each drawn edge as the chain of
/// vertices it passes through (source, dummies, target).
struct Layout {
    v: Vec<Vertex>,
    edges: Vec<Vec<usize>>,
    /// Left and right x of each layer's column, once laid out.
    columns: Vec<(f64, f64)>,
}

pub(crate) fn render(inner: &TapeInner, grads: Option<&Gradients<'_>>) -> String {
    render_fitting(&describe(inner, grads), &[])
}

/// The picture of `nodes`, each node's box wide enough for its lines and
/// for `fits[i]` characters too (the stepper's running totals, which it
/// writes into the boxes and can be longer than the final gradient).
pub(crate) fn render_fitting(nodes: &[DrawnNode], fits: &[usize]) -> String {
    let mut g = build(nodes, fits);
    let layers = g.order();
    g.place(&layers);
    g.write()
}

fn build(nodes: &[DrawnNode], fits: &[usize]) -> Layout {
    let mut v: Vec<Vertex> = Vec::new();
    let mut record_of = vec![0; nodes.len()];
    let mut edges = Vec::new();
    for node in nodes {
        let mut lines = vec![node.title.clone(), format!("data {}", node.data)];
        if let Some(grad) = &node.grad {
            lines.push(format!("grad {grad}"));
        }
        let constant = node.constant;
        let mut record = Vertex::new(format!("n{}", node.index), Kind::Record { lines, constant });
        let fit = fits.get(node.index as usize).map_or(0.0, |&chars| chars as f64 * CHAR_W + 2.0 * PAD);
        record.w = record.w.max(fit);
        if let Some((label, inputs)) = &node.op {
            let mut op = Vertex::new(format!("n{}_op", node.index), Kind::Op(label.clone()));
            // step 1: longest path (inputs come earlier on the tape)
            op.layer = inputs.iter().map(|&i| v[record_of[i as usize]].layer + 1).max().unwrap_or(0);
            let op_id = v.len();
            v.push(op);
            for &input in inputs {
                edges.push(vec![record_of[input as usize], op_id]);
            }
            edges.push(vec![op_id, op_id + 1]);
            let mut record = record;
            record.layer = v[op_id].layer + 1;
            v.push(record);
        } else {
            v.push(record);
        }
        record_of[node.index as usize] = v.len() - 1;
    }
    // sources move right, next to their first consumer
    for node in nodes.iter().filter(|n| n.op.is_none()) {
        let r = record_of[node.index as usize];
        let first_use = edges.iter().filter(|e| e[0] == r).map(|e| v[e[1]].layer).min();
        if let Some(layer) = first_use {
            v[r].layer = layer - 1;
        }
    }
    // step 2: dummy points on long edges
    for edge in &mut edges {
        let (from, to) = (edge[0], edge[1]);
        let mut chain = vec![from];
        for layer in v[from].layer + 1..v[to].layer {
            let mut dummy = Vertex::new(format!("d{}", v.len()), Kind::Dummy);
            dummy.layer = layer;
            chain.push(v.len());
            v.push(dummy);
        }
        chain.push(to);
        *edge = chain;
    }
    Layout { v, edges, columns: Vec::new() }
}

impl Layout {
    /// Step 3: the vertices of each layer, ordered to cut crossings.
    fn order(&self) -> Vec<Vec<usize>> {
        let n_layers = self.v.iter().map(|v| v.layer + 1).max().unwrap_or(0);
        let mut layers = vec![Vec::new(); n_layers];
        for (i, v) in self.v.iter().enumerate() {
            layers[v.layer].push(i);
        }
        let (mut preds, mut succs) = (vec![Vec::new(); self.v.len()], vec![Vec::new(); self.v.len()]);
        for chain in &self.edges {
            for pair in chain.windows(2) {
                preds[pair[1]].push(pair[0]);
                succs[pair[0]].push(pair[1]);
            }
        }
        let mut best = (self.crossings(&layers, &succs), layers.clone());
        for sweep in 0..8 {
            let rightward = sweep % 2 == 0;
            let order: Vec<usize> =
                if rightward { (1..n_layers).collect() } else { (0..n_layers.saturating_sub(1)).rev().collect() };
            for l in order {
                let (neighbours, fixed) = if rightward { (&preds, l - 1) } else { (&succs, l + 1) };
                let pos = positions(&layers[fixed], self.v.len());
                let mut keyed: Vec<(f64, usize)> = layers[l]
                    .iter()
                    .enumerate()
                    .map(|(k, &u)| {
                        let ns = &neighbours[u];
                        // a vertex with no neighbour there keeps its place
                        let key = if ns.is_empty() {
                            k as f64
                        } else {
                            ns.iter().map(|&n| pos[n]).sum::<f64>() / ns.len() as f64
                        };
                        (key, u)
                    })
                    .collect();
                keyed.sort_by(|a, b| a.0.total_cmp(&b.0)); // stable: ties keep their order
                layers[l] = keyed.into_iter().map(|(_, u)| u).collect();
            }
            let c = self.crossings(&layers, &succs);
            if c < best.0 {
                best = (c, layers.clone());
            }
        }
        best.1
    }

    /// Edge crossings between every pair of neighbouring layers.
    fn crossings(&self, layers: &[Vec<usize>], succs: &[Vec<usize>]) -> usize {
        let mut total = 0;
        for pair in layers.windows(2) {
            let (left, right) = (positions(&pair[0], self.v.len()), positions(&pair[1], self.v.len()));
            let (left, right) = (&left, &right);
            let segs: Vec<(f64, f64)> =
                pair[0].iter().flat_map(|&u| succs[u].iter().map(move |&w| (left[u], right[w]))).collect();
            for (i, a) in segs.iter().enumerate() {
                total += segs[i + 1..].iter().filter(|b| (a.0 - b.0) * (a.1 - b.1) < 0.0).count();
            }
        }
        total
    }

    /// Step 4: coordinates. Columns left to right; within a column, nodes
    /// in order, each pulled towards the mean height of its neighbours.
    fn place(&mut self, layers: &[Vec<usize>]) {
        let mut x = MARGIN;
        for layer in layers {
            let width = layer.iter().map(|&u| self.v[u].w).fold(0.0, f64::max);
            for &u in layer {
                self.v[u].x = x + (width - self.v[u].w) / 2.0;
            }
            self.columns.push((x, x + width));
            x += width + GAP_X;
        }
        for layer in layers {
            let mut y = 0.0;
            for &u in layer {
                self.v[u].y = y;
                y += self.v[u].h + GAP_Y;
            }
        }
        let mut neighbours = vec![Vec::new(); self.v.len()];
        for chain in &self.edges {
            for pair in chain.windows(2) {
                neighbours[pair[0]].push(pair[1]);
                neighbours[pair[1]].push(pair[0]);
            }
        }
        for _ in 0..6 {
            for layer in layers {
                let wanted: Vec<f64> = layer
                    .iter()
                    .map(|&u| {
                        let ns = &neighbours[u];
                        let c = if ns.is_empty() {
                            self.v[u].center_y()
                        } else {
                            ns.iter().map(|&n| self.v[n].center_y()).sum::<f64>() / ns.len() as f64
                        };
                        c - self.v[u].h / 2.0
                    })
                    .collect();
                // Two placements keeping the order with no overlap: each as
                // wanted but below the one above, and each as wanted but
                // above the one below. Their mean keeps the order too.
                let mut down = wanted.clone();
                for k in 1..layer.len() {
                    down[k] = down[k].max(down[k - 1] + self.v[layer[k - 1]].h + GAP_Y);
                }
                let mut up = wanted;
                for k in (0..layer.len().saturating_sub(1)).rev() {
                    up[k] = up[k].min(up[k + 1] - self.v[layer[k]].h - GAP_Y);
                }
                for (k, &u) in layer.iter().enumerate() {
                    self.v[u].y = (down[k] + up[k]) / 2.0;
                }
            }
        }
        let top = self.v.iter().map(|v| v.y).fold(f64::INFINITY, f64::min);
        for v in &mut self.v {
            v.y += MARGIN - top;
        }
    }

    fn write(&self) -> String {
        let width = self.v.iter().map(|v| v.x + v.w).fold(0.0, f64::max) + MARGIN;
        let height = self.v.iter().map(|v| v.y + v.h).fold(0.0, f64::max) + MARGIN;
        let mut out = String::new();
        let _ = writeln!(
            out,
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{w}\" height=\"{h}\" viewBox=\"0 0 {w} {h}\" \
             font-family=\"DejaVu Sans Mono, Menlo, Consolas, monospace\" font-size=\"12\">",
            w = num(width),
            h = num(height)
        );
        out.push_str(
            "<defs><marker id=\"arrow\" viewBox=\"0 0 10 10\" refX=\"10\" refY=\"5\" markerWidth=\"7\" markerHeight=\"7\" \
             orient=\"auto\"><path d=\"M0,0 L10,5 L0,10 z\" fill=\"#666\"/></marker></defs>\n",
        );
        out.push_str("<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n");
        for chain in &self.edges {
            self.write_edge(&mut out, chain);
        }
        for v in &self.v {
            match &v.kind {
                Kind::Record { lines, constant } => {
                    let fill = if *constant { "#eeeeee" } else { "#eef3fc" };
                    let _ = writeln!(out, "<g class=\"node\" id=\"{}\">", v.id);
                    let _ = writeln!(
                        out,
                        "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" rx=\"3\" fill=\"{fill}\" stroke=\"#333\"/>",
                        num(v.x),
                        num(v.y),
                        num(v.w),
                        num(v.h)
                    );
                    for (k, line) in lines.iter().enumerate() {
                        let top = v.y + PAD / 2.0 + k as f64 * LINE_H;
                        if k > 0 {
                            let _ = writeln!(
                                out,
                                "<line x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"#999\"/>",
                                num(v.x),
                                num(top),
                                num(v.x + v.w),
                                num(top)
                            );
                        }
                        let _ = writeln!(
                            out,
                            "<text x=\"{}\" y=\"{}\">{}</text>",
                            num(v.x + PAD),
                            num(top + 13.0),
                            escape(line)
                        );
                    }
                    out.push_str("</g>\n");
                }
                Kind::Op(label) => {
                    let _ = writeln!(
                        out,
                        "<g class=\"op\" id=\"{}\"><ellipse cx=\"{}\" cy=\"{}\" rx=\"{}\" ry=\"{}\" fill=\"#fff6d5\" stroke=\"#333\"/>\
                         <text x=\"{}\" y=\"{}\" text-anchor=\"middle\">{}</text></g>",
                        v.id,
                        num(v.x + v.w / 2.0),
                        num(v.center_y()),
                        num(v.w / 2.0),
                        num(v.h / 2.0),
                        num(v.x + v.w / 2.0),
                        num(v.center_y() + 4.0),
                        escape(label)
                    );
                }
                Kind::Dummy => {}
            }
        }
        out.push_str("</svg>\n");
        out
    }

    /// An edge from the right of its source to the left of its target,
    /// straight through each column it crosses, an S-curve between columns.
    fn write_edge(&self, out: &mut String, chain: &[usize]) {
        let mut points = vec![(self.v[chain[0]].x + self.v[chain[0]].w, self.v[chain[0]].center_y())];
        for &d in &chain[1..chain.len() - 1] {
            // through the dummy's whole column, so the curve stays out of the nodes
            let column = self.columns[self.v[d].layer];
            points.push((column.0, self.v[d].center_y()));
            points.push((column.1, self.v[d].center_y()));
        }
        let last = &self.v[chain[chain.len() - 1]];
        points.push((last.x, last.center_y()));
        let mut d = format!("M{},{}", num(points[0].0), num(points[0].1));
        for (k, pair) in points.windows(2).enumerate() {
            let ((x0, y0), (x1, y1)) = (pair[0], pair[1]);
            if k % 2 == 1 {
                let _ = write!(d, " L{},{}", num(x1), num(y1));
            } else {
                let mid = (x0 + x1) / 2.0;
                let _ = write!(d, " C{},{} {},{} {},{}", num(mid), num(y0), num(mid), num(y1), num(x1), num(y1));
            }
        }
        let _ = writeln!(
            out,
            "<path class=\"edge\" data-from=\"{}\" data-to=\"{}\" d=\"{d}\" fill=\"none\" stroke=\"#666\" marker-end=\"url(#arrow)\"/>",
            self.v[chain[0]].id, last.id
        );
    }
}

/// Each vertex's position in `layer` (vertices elsewhere: 0).
fn positions(layer: &[usize], n: usize) -> Vec<f64> {
    let mut pos = vec![0.0; n];
    for (k, &u) in layer.iter().enumerate() {
        pos[u] = k as f64;
    }
    pos
}

/// A coordinate with at most one decimal, no trailing `.0`: short, and
/// the same bytes on every platform.
fn num(v: f64) -> String {
    let r = (v * 10.0).round() / 10.0;
    if r == r.trunc() { format!("{}", r as i64) } else { format!("{r:.1}") }
}

/// Escapes the characters that are special in XML text and attributes.
pub(crate) fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c => out.push(c),
        }
    }
    out
}
