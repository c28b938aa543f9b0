//! Workspace-level home of heat's end-to-end tests (`tests/`), benchmarks (`benches/`) and
//! examples (`examples/`). It re-exports the library crates so examples can use one path.
#![forbid(unsafe_code)]

pub use heat_core;
