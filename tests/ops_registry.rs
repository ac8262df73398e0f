//! Every op of the registry (`tapegrad::ops::registry`, each op file's
//! cases) through every check it takes part in, each against an
//! independent truth: central differences, forward mode against reverse
//! mode, and Hessian-vector products against differences of gradients
//! (NaN propagation: `tests/nan_propagation.rs`; random programs:
//! `tests/random_programs.rs`, `tests/forward_mode.rs`). One more test fails
//! when an op the crate defines has no case, so "every op" stays true as
//! ops are added.

use std::collections::BTreeSet;
use tapegrad::check::{GradcheckOptions, gradcheck, gradcheck_forward, hvpcheck};
use tapegrad::ops::registry::{OpCase, cases, weighted_sum};
use tapegrad::{Tape, Tensor, Var};

/// Each case runs on inputs from these seeds.
const SEEDS: [u64; 3] = [0, 1, 2];

/// `weighted_sum` of the case's output: a scalar reading every element
/// with its own weight.
fn loss<'t>(case: &OpCase, v: &[Var<'t>]) -> Var<'t> {
    weighted_sum((case.run)(v))
}

fn each_case(check: impl Fn(&OpCase) -> bool, mut run: impl FnMut(&OpCase, &[Tensor])) -> usize {
    let mut n = 0;
    for case in cases().filter(|c| check(c)) {
        for seed in SEEDS {
            run(case, &case.inputs(seed));
        }
        n += 1;
    }
    n
}

#[test]
fn gradients_match_central_differences() {
    let n = each_case(
        |c| c.checks.central,
        |case, x| {
            if let Err(e) = gradcheck(|_, v| loss(case, v), x, &GradcheckOptions::default()) {
                panic!("{}: {e}\ninputs: {x:?}", case.name);
            }
        },
    );
    eprintln!("central differences: {n} cases");
}

#[test]
fn forward_mode_matches_reverse_mode() {
    let n = each_case(
        |c| c.checks.forward,
        |case, x| {
            if let Err(e) = gradcheck_forward(|_, v| loss(case, v), x, 1e-12) {
                panic!("{}: {e}\ninputs: {x:?}", case.name);
            }
        },
    );
    eprintln!("forward mode: {n} cases");
}

#[test]
fn hessian_vector_products_match_differences_of_gradients() {
    let n = each_case(
        |c| c.checks.second,
        |case, x| {
            // A direction with a different value per element.
            let v: Vec<Tensor> = x.iter().map(|t| t.map(|e| 0.3 - 0.7 * e.sin())).collect();
            // `tanh` of the loss: curvature even where the op is linear.
            if let Err(e) = hvpcheck(|_, v| loss(case, v).tanh(), x, &v, &GradcheckOptions::default()) {
                panic!("{}: {e}\ninputs: {x:?}", case.name);
            }
        },
    );
    eprintln!("second order: {n} cases");
}

/// Every case records a node of its name, so an entry cannot claim an op
/// it does not exercise.
#[test]
fn every_case_records_its_op() {
    for case in cases() {
        let tape = Tape::new();
        let vars: Vec<Var<'_>> = case.inputs(0).iter().map(|t| tape.var(t)).collect();
        let y = (case.run)(&vars);
        let recorded: Vec<&str> = (0..=y.index()).map(|i| tape.node(i).op_name()).collect();
        assert!(recorded.contains(&case.name), "{}: records only {recorded:?}", case.name);
    }
}

/// The op names the crate defines, read from its source: the `NAME` of
/// each elementwise rule, the literals an `Op::name` returns, and the
/// names given to the rule-defining macros (`rule!(Neg, "neg", ..)`).
/// Doc comments and test modules are skipped.
fn defined_op_names() -> BTreeSet<String> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/ops");
    let mut names = BTreeSet::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let text = std::fs::read_to_string(&path).unwrap();
        let code = text.split("#[cfg(test)]").next().unwrap();
        let mut in_name_fn = false;
        for line in code.lines().map(str::trim).filter(|l| !l.starts_with("//")) {
            let literals = || line.split('"').skip(1).step_by(2).map(str::to_string);
            let is_macro_rule = line.split_once('!').is_some_and(|(m, rest)| {
                !m.is_empty()
                    && m.chars().all(|c| c.is_ascii_lowercase() || c == '_')
                    && rest.starts_with('(')
                    && rest[1..].split(',').nth(1).is_some_and(|a| a.trim().starts_with('"'))
            });
            if line.starts_with("const NAME: &'static str") {
                names.extend(literals());
            } else if is_macro_rule && !line.starts_with("assert") && !line.starts_with("panic") {
                names.extend(literals().take(1));
            } else if line.starts_with("fn name(&self) -> &'static str") {
                in_name_fn = true;
                names.extend(literals());
            } else if in_name_fn {
                names.extend(literals());
                in_name_fn = line != "}";
            }
        }
    }
    names
}

#[test]
fn every_op_the_crate_defines_has_a_case() {
    let defined = defined_op_names();
    // The scan itself must see each way a name is written.
    for known in ["sin", "neg", "add", "sign", "gather", "index_select", "max_axis", "matmul", "cube"] {
        assert!(defined.contains(known), "the scan missed {known}: {defined:?}");
    }
    let registered: BTreeSet<String> = cases().map(|c| c.name.to_string()).collect();
    let missing: Vec<&String> = defined.difference(&registered).collect();
    assert!(missing.is_empty(), "ops without a registry case (add one to their file's CASES): {missing:?}");
    let stale: Vec<&String> = registered.difference(&defined).collect();
    assert!(stale.is_empty(), "registry cases naming no op the crate defines: {stale:?}");
    let checks =
        cases().map(|c| [c.checks.central, c.checks.forward, c.checks.second, c.checks.nan, c.checks.programs]);
    let count: usize = checks.map(|c| c.iter().filter(|&&b| b).count()).sum();
    eprintln!("{} ops, {} cases, {count} registered checks", registered.len(), cases().count());
}
