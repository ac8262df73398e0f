//! A node too large for the tape (more than 2^32 values) is an error from
//! every `try_` form, naming the op and the shape, with nothing recorded;
//! the panicking forms panic with the same message (issue 18, item 8).

use tapegrad::{Tape, Tensor, Var};

/// Runs `f` (a `try_` form) on a fresh tape, asserts the error says the
/// tape is full and names `op`, and that the tape still works after it.
fn assert_tape_full(op: &str, f: impl for<'t> Fn(&'t Tape) -> Result<Var<'t>, tapegrad::tensor::ShapeError>) {
    let tape = Tape::new();
    let e = f(&tape).map(|v| v.shape()).unwrap_err();
    let text = e.to_string();
    assert!(text.starts_with(&format!("{op}: ")) && text.contains("the tape is full"), "{text}");
    // Nothing of the refused node is left (only its inputs were recorded,
    // and no room was taken for its values), and recording goes on.
    let last = tape.node(tape.len() - 1).op_name();
    assert!(last == "leaf" || last == "constant", "{op}: the tape ends in {last}");
    assert_eq!(tape.value_count(), (0..tape.len()).map(|i| tape.node(i).len()).sum::<usize>());
    let x = tape.scalar(2.0);
    assert_eq!((x * x).backward().wrt(x).item(), 4.0);
}

#[test]
fn try_broadcast_to_a_too_large_shape_is_an_error() {
    assert_tape_full("broadcast_to", |t| t.scalar(1.0).try_broadcast_to(&[1 << 33]));
}

#[test]
fn try_matmul_of_a_too_large_product_is_an_error() {
    // [70000, 0] x [0, 70000]: no values in, 4.9e9 out.
    assert_tape_full("matmul", |t| t.var(Tensor::zeros(&[70000, 0])).try_matmul(t.var(Tensor::zeros(&[0, 70000]))));
    assert_tape_full("matmul", |t| {
        t.var(Tensor::zeros(&[2, 70000, 0])).try_matmul(t.var(Tensor::zeros(&[2, 0, 70000])))
    });
}

#[test]
fn try_sum_axis_of_an_empty_axis_with_a_huge_rest_is_an_error() {
    assert_tape_full("sum_axis", |t| t.var(Tensor::zeros(&[0, 1 << 40])).try_sum_axis(0, false));
    assert_tape_full("mean_axis", |t| t.var(Tensor::zeros(&[0, 1 << 40])).try_mean_axis(0, true));
}

#[test]
fn the_panicking_forms_panic_with_the_same_message() {
    let r = std::panic::catch_unwind(|| {
        let tape = Tape::new();
        let _ = tape.scalar(1.0).broadcast_to(&[1 << 33]);
    });
    let e = r.unwrap_err();
    let text = e.downcast_ref::<String>().unwrap();
    assert!(text.starts_with("broadcast_to: shape [8589934592]: the tape is full"), "{text}");
}
