//! Fuzz target: any UTF-8 text through the loader, then through the template parser.
//!
//! Run (nightly features through RUSTC_BOOTSTRAP on a stable toolchain), from the repository root:
//! `RUSTC_BOOTSTRAP=1 cargo fuzz run load -- -max_total_time=30`
#![no_main]

use heat_core::diagnostic::has_errors;
use heat_core::template::{Limits, load, parse};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|text: &str| {
    let limits = Limits::default();
    let loaded = load(text, &limits);
    assert!(
        loaded.root.is_some() || has_errors(&loaded.diagnostics),
        "no document and no error"
    );
    let parsed = parse(text, &limits);
    assert!(parsed.template.is_some() || has_errors(&parsed.diagnostics));
});
