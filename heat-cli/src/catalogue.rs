//! `heat template versions` and `heat template functions VERSION`: what Heat's API lists at
//! `GET /template_versions` and `GET /template_versions/{version}/functions`.

use std::io::{self, Write};

use heat_core::template::Version;
use heat_core::template::functions::{
    FunctionInfo, functions as version_functions, functions_with_conditions,
};
use serde_json::{Value, json};

use crate::Exit;
use crate::args::{FunctionsArgs, ListArgs, ListFormat};

/// One line of the version list, as Heat's API gives it.
struct VersionEntry {
    version: String,
    kind: &'static str,
    aliases: Vec<String>,
}

/// Every version in Heat's order (sorted names: the CloudFormation keys first, then HOT by
/// date), with its type (`hot` or `cfn`) and its release-name aliases.
fn version_entries() -> Vec<VersionEntry> {
    let mut entries: Vec<VersionEntry> = Version::ALL
        .iter()
        .map(|v| VersionEntry {
            version: v.api_name(),
            kind: if v.is_hot() { "hot" } else { "cfn" },
            aliases: v
                .alias()
                .map(|a| vec![format!("{}.{a}", v.key())])
                .unwrap_or_default(),
        })
        .collect();
    entries.sort_by(|a, b| a.version.cmp(&b.version));
    entries
}

/// Runs `versions`.
pub(crate) fn versions(args: &ListArgs, out: &mut dyn Write) -> io::Result<Exit> {
    let entries = version_entries();
    match args.format {
        ListFormat::Json => {
            let list: Vec<Value> = entries
                .iter()
                .map(|e| json!({ "version": e.version, "type": e.kind, "aliases": e.aliases }))
                .collect();
            write_json(out, &json!({ "template_versions": list }))?;
        }
        ListFormat::Text => {
            let rows: Vec<[String; 3]> = entries
                .iter()
                .map(|e| [e.version.clone(), e.kind.to_string(), e.aliases.join(", ")])
                .collect();
            write_table(out, ["VERSION", "TYPE", "ALIASES"], &rows)?;
        }
    }
    Ok(Exit::Success)
}

/// Reads a version argument: an API name (`heat_template_version.2016-10-14`,
/// `heat_template_version.newton`, `AWSTemplateFormatVersion.2010-09-09`), a bare date
/// (`2016-10-14`, `2010-09-09`, `2012-12-12`) or a release name (`newton`).
pub(crate) fn parse_version(text: &str) -> Option<Version> {
    let text = text.trim();
    Version::from_api_name(text).or_else(|| {
        Version::ALL
            .iter()
            .copied()
            .find(|v| v.date() == text || v.alias() == Some(text))
    })
}

/// Runs `functions`.
pub(crate) fn functions(
    args: &FunctionsArgs,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> io::Result<Exit> {
    let Some(version) = parse_version(&args.template_version) else {
        let known: Vec<String> = version_entries()
            .into_iter()
            .flat_map(|e| std::iter::once(e.version).chain(e.aliases))
            .collect();
        writeln!(
            err,
            "heat: unknown template version '{}'; known versions: {}",
            args.template_version,
            known.join(", ")
        )?;
        return Ok(Exit::Usage);
    };
    let list: Vec<FunctionInfo> = if args.with_condition_functions {
        functions_with_conditions(version)
    } else {
        version_functions(version)
    };
    match args.format {
        ListFormat::Json => {
            let items: Vec<Value> = list
                .iter()
                .map(|f| json!({ "functions": f.name, "description": f.description }))
                .collect();
            write_json(out, &json!({ "template_functions": items }))?;
        }
        ListFormat::Text => {
            let rows: Vec<[String; 2]> = list
                .iter()
                .map(|f| [f.name.to_string(), f.description.to_string()])
                .collect();
            write_table(out, ["FUNCTION", "DESCRIPTION"], &rows)?;
        }
    }
    Ok(Exit::Success)
}

fn write_json(out: &mut dyn Write, value: &Value) -> io::Result<()> {
    let text = serde_json::to_string_pretty(value).map_err(io::Error::other)?;
    writeln!(out, "{text}")
}

/// A left-aligned table: columns separated by two spaces, no trailing blanks.
fn write_table<const N: usize>(
    out: &mut dyn Write,
    header: [&str; N],
    rows: &[[String; N]],
) -> io::Result<()> {
    let mut widths = header.map(|h| h.chars().count());
    for row in rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let mut write_row = |cells: [&str; N]| -> io::Result<()> {
        let mut line = String::new();
        for (i, cell) in cells.iter().enumerate() {
            line.push_str(cell);
            if i + 1 < N {
                let pad = widths[i] - cell.chars().count() + 2;
                line.extend(std::iter::repeat_n(' ', pad));
            }
        }
        writeln!(out, "{}", line.trim_end())
    };
    write_row(header)?;
    for row in rows {
        write_row(std::array::from_fn(|i| row[i].as_str()))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_arguments() {
        let cases = [
            (
                "heat_template_version.2016-10-14",
                Some(Version::Hot20161014),
            ),
            ("heat_template_version.newton", Some(Version::Hot20161014)),
            ("2016-10-14", Some(Version::Hot20161014)),
            ("wallaby", Some(Version::Hot20210416)),
            (
                "AWSTemplateFormatVersion.2010-09-09",
                Some(Version::Cfn20100909),
            ),
            ("2010-09-09", Some(Version::Cfn20100909)),
            (
                "HeatTemplateFormatVersion.2012-12-12",
                Some(Version::Heat20121212),
            ),
            ("heat_template_version.2010-09-09", None),
            ("2099-01-01", None),
            ("", None),
        ];
        for (text, expected) in cases {
            assert_eq!(parse_version(text), expected, "{text}");
        }
    }

    #[test]
    fn versions_are_in_heat_order_with_aliases() {
        let entries = version_entries();
        assert_eq!(entries.len(), 13);
        assert_eq!(entries[0].version, "AWSTemplateFormatVersion.2010-09-09");
        assert_eq!(entries[0].kind, "cfn");
        assert_eq!(entries[1].version, "HeatTemplateFormatVersion.2012-12-12");
        assert_eq!(entries[2].version, "heat_template_version.2013-05-23");
        let newton = entries
            .iter()
            .find(|e| e.version == "heat_template_version.2016-10-14");
        assert_eq!(
            newton.map(|e| e.aliases.clone()),
            Some(vec!["heat_template_version.newton".to_string()])
        );
    }

    #[test]
    fn table_is_aligned() {
        let mut out = Vec::new();
        let rows = [
            ["a".to_string(), "x".to_string()],
            ["long".to_string(), String::new()],
        ];
        write_table(&mut out, ["K", "V"], &rows).unwrap_or_default();
        assert_eq!(
            String::from_utf8(out).unwrap_or_default(),
            "K     V\na     x\nlong\n"
        );
    }
}
