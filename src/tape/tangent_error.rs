//! Why a forward (tangent) sweep or an op's tangent rule failed: the one
//! error type both the op interface (`Op::jvp`) and the sweep
//! (`tangent.rs`) name, kept apart so neither imports the other.

use crate::tensor::Shape;
use std::fmt;

/// Why a forward (tangent) sweep failed.
///
/// ```
/// use tapegrad::{Tape, Tensor, TangentError};
/// let tape = Tape::new();
/// let x = tape.var(Tensor::ones(&[3]));
/// let y = x.sin().sum();
/// let err = y.jvp(&[(x, &Tensor::ones(&[2]))]).unwrap_err();
/// assert!(matches!(err, TangentError::Shape { node: 0, .. }));
/// assert_eq!(err.to_string(), "jvp: the tangent given for node 0 has shape [2] but the node has shape [3]");
/// ```
#[derive(Clone, Debug, PartialEq)]
pub enum TangentError {
    /// A tangent does not have its node's shape.
    Shape {
        /// The node the tangent was given for.
        node: usize,
        /// The node's shape.
        expected: Shape,
        /// The tangent's shape.
        got: Shape,
    },
    /// A tangent was given for a Var of another tape.
    OtherTape {
        /// The Var's node index (on its own tape).
        node: usize,
    },
    /// Two tangents were given for one node.
    Repeated {
        /// The node.
        node: usize,
    },
    /// [`func::jvp`](crate::func::jvp) got a different number of tangents
    /// than of primals.
    Count {
        /// Number of primals.
        primals: usize,
        /// Number of tangents.
        tangents: usize,
    },
    /// A user op a tangent flows into has no tangent rule
    /// ([`CustomOp::jvp`](crate::ops::custom::CustomOp::jvp)).
    NoRule {
        /// The op's name.
        op: &'static str,
    },
    /// A user op's tangent rule returned a tangent of the wrong shape.
    RuleShape {
        /// The op's name.
        op: &'static str,
        /// The output's shape.
        expected: Shape,
        /// The shape the rule returned.
        got: Shape,
    },
}

impl fmt::Display for TangentError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TangentError::Shape { node, expected, got } => write!(
                f,
                "jvp: the tangent given for node {node} has shape {:?} but the node has shape {:?}",
                got.as_slice(),
                expected.as_slice()
            ),
            TangentError::OtherTape { node } => write!(
                f,
                "jvp: a tangent was given for node {node} of another tape; tangents must be for Vars of the \
                 output's tape"
            ),
            TangentError::Repeated { node } => write!(f, "jvp: node {node} was given two tangents"),
            TangentError::Count { primals, tangents } => {
                write!(f, "jvp: {tangents} tangent(s) for {primals} primal(s); give one tangent per primal")
            }
            TangentError::NoRule { op } => {
                write!(f, "custom op {op} has no tangent rule: implement CustomOp::jvp to use forward mode through it")
            }
            TangentError::RuleShape { op, expected, got } => write!(
                f,
                "custom op {op}: jvp returned a tangent of shape {:?} for an output of shape {:?}",
                got.as_slice(),
                expected.as_slice()
            ),
        }
    }
}

impl std::error::Error for TangentError {}
