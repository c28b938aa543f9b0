//! Architecture invariants from ARCHITECTURE.md that a test can hold.

use std::path::Path;

/// The `[dependencies]` table of a crate's manifest, by name.
fn dependencies(crate_dir: &str) -> Vec<String> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join(crate_dir)
        .join("Cargo.toml");
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    let mut in_dependencies = false;
    let mut out = Vec::new();
    for line in text.lines() {
        let line = line.trim();
        if line.starts_with('[') {
            in_dependencies = line == "[dependencies]";
            continue;
        }
        if in_dependencies
            && !line.is_empty()
            && !line.starts_with('#')
            && let Some(name) = line.split(['=', '.']).next()
        {
            out.push(name.trim().to_string());
        }
    }
    out
}

/// **Invariant:** heat-core does no I/O and depends on no HTTP, SQL, async runtime or clock
/// crate. New dependencies must be added here on purpose, after checking they keep it so.
#[test]
fn heat_core_depends_only_on_pure_crates() {
    let allowed = [
        "saphyr-parser",
        "petgraph",
        "serde_json",
        "regex",
        "fancy-regex",
        "thiserror",
        "base64",
        "md-5",
        "sha1",
        "sha2",
        "serde",
        "futures",
        "async-trait",
    ];
    let deps = dependencies("heat-core");
    assert!(
        !deps.is_empty(),
        "no dependencies parsed from heat-core/Cargo.toml"
    );
    let unexpected: Vec<&String> = deps
        .iter()
        .filter(|d| !allowed.contains(&d.as_str()))
        .collect();
    assert!(
        unexpected.is_empty(),
        "heat-core gained dependencies outside its allowed set: {unexpected:?} \
         (heat-core must stay free of I/O, HTTP, SQL, runtimes and clocks)"
    );
}

/// **Invariant:** no crate reaches upward: heat-core depends on no other heat crate.
#[test]
fn heat_core_depends_on_no_heat_crate() {
    let deps = dependencies("heat-core");
    assert!(
        deps.iter().all(|d| !d.starts_with("heat")),
        "heat-core must not depend on {deps:?}"
    );
}
