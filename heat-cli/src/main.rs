//! The `heat` command.
//! OWNER: graph/CLI helper.
#![forbid(unsafe_code)]

fn main() {}
