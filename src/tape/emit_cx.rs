//! What an op's emit rule sees: the names the generated Rust code gives its
//! inputs, its output and their adjoints, its parameters, and the text it
//! writes into. The emitter itself (which nodes, which names, the function
//! around the lines) is `crate::emit`; this layer only carries the words.
//!
//! A rule writes the *same float operations in the same order* as its
//! `forward` and `backward`, so the generated code gives the tape's bits.

use super::NodeParams;
use std::fmt::Write;

/// How generated code refers to one node's value or adjoint: a name, the
/// node's shape, and whether it is one `f64` (then `at(i)` is the name
/// itself) or a fixed-size array (`name[i]`).
#[derive(Clone, Debug)]
pub struct Operand {
    /// The Rust expression naming it (`hidden_y`, `d_w1`, `*d_q0`).
    pub name: String,
    /// The node's shape.
    pub shape: Vec<usize>,
    /// True when it is held as one `f64`, not an array.
    pub scalar: bool,
    /// The values, when the node is a constant baked into the code (for
    /// rules that read one as structure: `permute`'s axes).
    pub constant: Option<std::rc::Rc<[f64]>>,
}

impl Operand {
    /// Number of elements.
    pub fn len(&self) -> usize {
        self.shape.iter().product()
    }

    /// Its zero as a typed literal: `0.0f64`, or `[0.0f64; N]`.
    pub fn zero(&self) -> String {
        if self.scalar { "0.0f64".into() } else { format!("[0.0f64; {}]", self.len()) }
    }

    /// Element `i` (a Rust index expression): the name itself for a scalar.
    pub fn at(&self, i: &str) -> String {
        if self.scalar { self.name.clone() } else { format!("{}[{i}]", self.name) }
    }
}

/// The emit rule's view of one node (see `Op::emit_forward`).
pub struct EmitCx<'a> {
    /// The inputs' values, in argument order.
    pub inputs: &'a [Operand],
    /// The node's value.
    pub out: &'a Operand,
    /// The inputs' adjoints, `None` for an input no argument flows into
    /// (backward only; empty in forward).
    pub d_inputs: &'a [Option<Operand>],
    /// The node's adjoint (backward only).
    pub d_out: Option<&'a Operand>,
    /// The node's parameters.
    pub params: NodeParams,
    /// The body being written, one statement per line.
    pub code: &'a mut String,
    /// Helper functions the generated module must define (their source
    /// text), added by rules that call one (`stable_sigmoid`).
    pub helpers: &'a mut Vec<&'static str>,
}

impl EmitCx<'_> {
    /// Writes one line of code.
    pub fn line(&mut self, s: impl AsRef<str>) {
        let _ = writeln!(self.code, "    {}", s.as_ref());
    }

    /// Asks for a helper fn (its full source text) in the module.
    pub fn helper(&mut self, src: &'static str) {
        if !self.helpers.contains(&src) {
            self.helpers.push(src);
        }
    }

    /// The scalar parameter as a Rust expression that round-trips exactly
    /// (see [`f64_literal`]), parenthesised when negative so that it can be
    /// a method's receiver.
    pub fn p(&self) -> String {
        let s = f64_literal(self.params.p);
        if s.starts_with('-') { format!("({s})") } else { s }
    }

    /// Writes `stmt("0")` for one element, else a loop
    /// `for i in 0..n { stmt("i") }`.
    pub fn each(&mut self, n: usize, stmt: impl Fn(&str) -> String) {
        if n == 1 {
            self.line(stmt("0"));
        } else {
            self.line(format!("for i in 0..{n} {{"));
            self.line(format!("    {}", stmt("i")));
            self.line("}");
        }
    }

    /// Declares the output as zeros, to be written element by element:
    /// `let mut y = 0.0f64;` for a scalar, `let mut y = [0.0f64; N];`.
    pub fn declare_out(&mut self) {
        let out = self.out.clone();
        self.line(format!("let mut {} = {};", out.name, out.zero()));
    }

    /// Writes nested loops over `extents` (row-major order, a loop of one
    /// left out) and inside them `stmt(idx)`, where `idx[j]` is the index
    /// expression `i0 * strides[j][0] + i1 * strides[j][1] + ...` (the
    /// tensor's `row_major_strides` and `broadcast_strides` give them).
    pub fn nest<S: AsRef<[usize]>>(&mut self, extents: &[usize], strides: &[S], stmt: impl Fn(&[String]) -> String) {
        let mut depth = 0;
        for (d, &e) in extents.iter().enumerate() {
            if e != 1 {
                self.line(format!("{}for i{d} in 0..{e} {{", "    ".repeat(depth)));
                depth += 1;
            }
        }
        let idx: Vec<String> = strides
            .iter()
            .map(|st| {
                let st = st.as_ref();
                let terms: Vec<String> = (0..extents.len())
                    .filter(|&d| extents[d] != 1 && st[d] != 0)
                    .map(|d| if st[d] == 1 { format!("i{d}") } else { format!("i{d} * {}", st[d]) })
                    .collect();
                if terms.is_empty() { "0".into() } else { terms.join(" + ") }
            })
            .collect();
        self.line(format!("{}{}", "    ".repeat(depth), stmt(&idx)));
        for d in (0..depth).rev() {
            self.line(format!("{}}}", "    ".repeat(d)));
        }
    }

    /// Declares the output and fills it element by element: `let y = E;`
    /// for a scalar, `let mut y = [0.0; N]; for i in 0..N { y[i] = E; }`
    /// for an array, with `elem("i")` giving `E` for element `i`.
    pub fn assign_each(&mut self, elem: impl Fn(&str) -> String) {
        let out = self.out.clone();
        if out.scalar {
            self.line(format!("let {} = {};", out.name, elem("0")));
        } else {
            let n = out.len();
            self.line(format!("let mut {} = [0.0f64; {n}];", out.name));
            self.line(format!("for i in 0..{n} {{"));
            self.line(format!("    {}[i] = {};", out.name, elem("i")));
            self.line("}");
        }
    }
}

/// An `f64` as Rust source that evaluates to exactly the same bits.
///
/// Finite values print with `{:?}`, Rust's shortest representation that
/// parses back to the same `f64` (`0.1`, `-0.0`, `1e-300`), so constants
/// stay readable. Infinities and NaNs have no literal: they are written
/// `f64::from_bits(0x...)`, which keeps a NaN's payload too.
///
/// ```
/// # // `f64_literal` is reachable through the emitter's re-export.
/// use tapegrad::emit::f64_literal;
/// assert_eq!(f64_literal(0.1), "0.1");
/// assert_eq!(f64_literal(-0.0), "-0.0");
/// assert_eq!((f64_literal(1.0), f64_literal(1e20)), ("1.0".into(), "1e20".into()));
/// assert_eq!(f64_literal(f64::INFINITY), "f64::from_bits(0x7ff0000000000000)");
/// ```
pub fn f64_literal(x: f64) -> String {
    if x.is_finite() {
        // `{:?}` always writes a `.` or an `e` (`1.0`, `1e20`): an f64
        // literal as it stands, and the shortest text that round-trips.
        format!("{x:?}")
    } else {
        format!("f64::from_bits({:#018x})", x.to_bits())
    }
}

/// A rule's source, written as a closure (`"|x, _, p| x * p"`), applied
/// to argument expressions: the body with each parameter's name replaced
/// by its argument (`_` takes none), where that name stands as a whole
/// identifier and not after a `.` (a method). `apply("|a, b| a * b",
/// &["v3[i]", "w"])` is `v3[i] * w`. The arguments are names, indexed
/// names or parenthesised literals, so no precedence changes.
pub fn apply(closure: &str, args: &[&str]) -> String {
    let rest = closure.trim().strip_prefix('|').expect("a rule's source starts with |params|");
    let end = rest.find('|').expect("a rule's source closes its |params|");
    let params: Vec<&str> = rest[..end].split(',').map(str::trim).collect();
    // One line: `stringify!` may break a long body over several.
    let body = rest[end + 1..].split_whitespace().collect::<Vec<_>>().join(" ");
    let body = body.as_str();
    let mut out = String::with_capacity(body.len());
    let mut chars = body.char_indices().peekable();
    let mut last = ' ';
    while let Some((i, c)) = chars.next() {
        if c.is_ascii_alphabetic() || c == '_' {
            let mut j = i + c.len_utf8();
            while let Some(&(k, d)) = chars.peek() {
                if !(d.is_ascii_alphanumeric() || d == '_') {
                    break;
                }
                j = k + d.len_utf8();
                chars.next();
            }
            let word = &body[i..j];
            match params.iter().position(|p| *p == word) {
                Some(k) if last != '.' && word != "_" => out.push_str(args[k]),
                _ => out.push_str(word),
            }
            last = 'a';
        } else {
            out.push(c);
            if !c.is_whitespace() {
                last = c;
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn apply_replaces_whole_parameters_only() {
        assert_eq!(
            apply("|x, _, p| x.powi(p as i32) * xp", &["v1[i]", "y", "(-2.0)"]),
            "v1[i].powi((-2.0) as i32) * xp"
        );
        assert_eq!(apply("|a, b| a.max(b)", &["u", "w"]), "u.max(w)");
        assert_eq!(apply("|_, s, _| s * (1.0 - s)", &["x", "y", "0.0"]), "y * (1.0 - y)");
    }

    #[test]
    fn literals_round_trip() {
        for x in [0.1, -0.0, 1e300, 5e-324, 1.0 / 3.0, -2.5e-8, 123456789.0] {
            let s = f64_literal(x);
            assert_eq!(s.parse::<f64>().unwrap().to_bits(), x.to_bits(), "{s}");
        }
        assert_eq!(f64_literal(f64::NAN), format!("f64::from_bits({:#018x})", f64::NAN.to_bits()));
        assert_eq!(f64_literal(1e20), "1e20");
        assert_eq!(f64_literal(3.0), "3.0");
    }
}
