//! The Rust names of a program's nodes: a node's own name (`Var::named`)
//! made an identifier, else `v` and its index; each unique.

use std::collections::HashSet;

/// Words a generated name must not be (keywords, and the names the code
/// itself uses: loop indices, accumulators).
const TAKEN: &[&str] = &[
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
        let mut s =
            if TAKEN.contains(&base.as_str()) || base.starts_with("d_") { format!("{base}_{idx}") } else { base };
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

/// `name` as a Rust identifier: lower case, `_` for anything else, and a
/// leading `_` dropped for a leading digit's `n`.
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
