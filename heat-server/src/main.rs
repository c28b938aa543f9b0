//! The heat-server binary.
#![forbid(unsafe_code)]

fn main() {}
