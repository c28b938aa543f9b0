//! Table-driven tests of evaluation.
