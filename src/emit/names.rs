//! The Rust names of a program's nodes: a node's own name (`Var::named`)
//! made an identifier, else `v` and its index; each unique.

use std::collections::HashSet;

/// Words a generated name must not be: keywords (strict and reserved),
/// the locals the op rules write (loop indices, lane starts, accumulators:
/// a node named `k` would be shadowed inside `for k in ..`; the nests'
/// `i0`, `i1`, .. are matched by pattern in [`Names::node`]), the chunks'
/// buffers, and the helper functions. `tests/emit.rs` finds every local
/// the rules write in their output and fails on one missing here.
const TAKEN: &[&str] = &[
    "abstract",
    "become",
    "box",
    "do",
    "final",
    "macro",
    "override",
    "priv",
    "typeof",
    "unsized",
    "virtual",
    "yield",
    "k",
    "o",
    "s",
    "win",
    "e",
    "lane",
    "max",
    "shift",
    "total",
    "ln_sum",
    "mean",
    "xp",
    "yp",
    "xc",
    "saved",
    "d_saved",
    "gelu_value",
    "gelu_slope",
    "as",
    "break",
    "const",
    "continue",
    "crate",
    "else",
    "enum",
    "extern",
    "false",
    "fn",
    "for",
    "if",
    "impl",
    "in",
    "let",
    "loop",
    "match",
    "mod",
    "move",
    "mut",
    "pub",
    "ref",
    "return",
    "self",
    "static",
    "struct",
    "super",
    "trait",
    "true",
    "type",
    "unsafe",
    "use",
    "where",
    "while",
    "async",
    "await",
    "dyn",
    "gen",
    "try",
    "f64",
    "i",
    "j",
    "r",
    "p",
    "acc",
    "g",
    "stable_sigmoid",
    "stable_softplus",
    "relu",
    "sign",
    "max_keep_nan",
];

/// Hands out unique identifiers.
#[derive(Default)]
pub(super) struct Names {
    used: HashSet<String>,
}

impl Names {
    /// An identifier for node `idx` named `name` (if it has one): the name
    /// with every character that cannot be in an identifier made `_`,
    /// lower-cased (`hidden.w` -> `hidden_w`); `v12` for node 12 unnamed;
    /// the node's index appended when that is taken.
    pub fn node(&mut self, idx: usize, name: Option<&str>) -> String {
        let base = name.map(identifier).filter(|s| !s.is_empty()).unwrap_or_else(|| format!("v{idx}"));
        let nest_index = base.len() > 1 && base.starts_with('i') && base[1..].bytes().all(|b| b.is_ascii_digit());
        let taken = TAKEN.contains(&base.as_str()) || base.starts_with("d_") || nest_index;
        let mut s = if taken { format!("{base}_{idx}") } else { base };
        if self.used.contains(&s) {
            s = format!("{s}_{idx}");
        }
        // A name can still clash (`a_3` given, then `a` at node 3): count up.
        let mut k = 0;
        let stem = s.clone();
        while self.used.contains(&s) {
            k += 1;
            s = format!("{stem}_{k}");
        }
        self.used.insert(s.clone());
        s
    }
}

/// `name` as a Rust identifier: lower case, `_` for anything else, and an
/// `n` in front of a leading digit.
fn identifier(name: &str) -> String {
    let mut s: String =
        name.chars().map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_lowercase() } else { '_' }).collect();
    if s.starts_with(|c: char| c.is_ascii_digit()) {
        s.insert(0, 'n');
    }
    if s.chars().all(|c| c == '_') { String::new() } else { s }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_identifiers_and_unique() {
        let mut n = Names::default();
        assert_eq!(n.node(0, Some("hidden.w")), "hidden_w");
        assert_eq!(n.node(1, Some("hidden.w")), "hidden_w_1");
        assert_eq!(n.node(2, None), "v2");
        assert_eq!(n.node(3, Some("for")), "for_3");
        assert_eq!(n.node(4, Some("2x")), "n2x");
        assert_eq!(n.node(5, Some("d_x")), "d_x_5"); // adjoints are d_NAME
        assert_eq!(n.node(6, Some("--")), "v6");
    }
}
