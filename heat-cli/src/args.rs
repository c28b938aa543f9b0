//! The command line, as clap parses it: plain data, no I/O.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// heat: an OpenStack Heat implementation. Offline tools for CloudFormation and HOT templates.
#[derive(Debug, Parser)]
#[command(name = "heat", version, propagate_version = true)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The top-level commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Work with templates offline: validate, graph, list versions and functions.
    #[command(subcommand)]
    Template(TemplateCommand),
}

/// `heat template ...`.
#[derive(Debug, Subcommand)]
pub enum TemplateCommand {
    /// Check templates (CloudFormation JSON/YAML or HOT) and report every problem found.
    ///
    /// Exit status: 0 when every file is valid (warnings allowed), 1 when any file has an
    /// error, 2 on usage errors or when a file cannot be read.
    Validate(ValidateArgs),
    /// Print the dependency graph of a template's resources (A -> B: A depends on B).
    Graph(GraphArgs),
    /// List the template versions heat knows, with their type and aliases.
    Versions(ListArgs),
    /// List the intrinsic functions of a template version.
    Functions(FunctionsArgs),
}

/// Arguments of `heat template validate`.
#[derive(Debug, Args)]
pub struct ValidateArgs {
    /// Template files to check; each is judged on its own.
    #[arg(value_name = "FILE", required = true)]
    pub files: Vec<PathBuf>,
    /// Environment file (parameters, parameter_defaults, resource_registry, ...); may be
    /// given several times, merged in order.
    #[arg(short = 'e', long = "environment", value_name = "ENV_FILE")]
    pub environments: Vec<PathBuf>,
    /// A parameter value; may be given several times. Applied after the environments.
    #[arg(short = 'P', long = "parameter", value_name = "KEY=VALUE", value_parser = parse_key_value)]
    pub parameters: Vec<KeyValue>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = ValidateFormat::Text)]
    pub format: ValidateFormat,
    /// Maximum template size in bytes (Heat's max_template_size).
    #[arg(long, value_name = "BYTES", default_value_t = heat_core::template::Limits::default().max_template_size)]
    pub max_template_size: usize,
}

/// Arguments of `heat template graph`.
#[derive(Debug, Args)]
pub struct GraphArgs {
    /// The template file.
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
    /// Output format.
    #[arg(long, value_enum, default_value_t = GraphFormat::Dot)]
    pub format: GraphFormat,
}

/// Arguments of `heat template versions`.
#[derive(Debug, Args)]
pub struct ListArgs {
    /// Output format.
    #[arg(long, value_enum, default_value_t = ListFormat::Text)]
    pub format: ListFormat,
}

/// Arguments of `heat template functions`.
#[derive(Debug, Args)]
pub struct FunctionsArgs {
    /// The template version: `heat_template_version.2016-10-14`, `2016-10-14`, `newton`,
    /// `AWSTemplateFormatVersion.2010-09-09`, ...
    #[arg(value_name = "VERSION")]
    pub template_version: String,
    /// Also list the condition functions (those usable in `conditions`).
    #[arg(long)]
    pub with_condition_functions: bool,
    /// Output format.
    #[arg(long, value_enum, default_value_t = ListFormat::Text)]
    pub format: ListFormat,
}

/// Output formats of `validate`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ValidateFormat {
    /// `FILE:LINE:COL: error[CODE]: message` lines and a summary per file.
    Text,
    /// One JSON document (see the README for its shape).
    Json,
}

/// Output formats of `graph`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum GraphFormat {
    /// Graphviz DOT.
    Dot,
    /// A Mermaid flowchart.
    Mermaid,
}

/// Output formats of the list commands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ListFormat {
    /// An aligned table.
    Text,
    /// JSON, in the shape of Heat's API response.
    Json,
}

/// A `KEY=VALUE` parameter argument.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyValue {
    /// The parameter name.
    pub key: String,
    /// The value (everything after the first `=`).
    pub value: String,
}

/// Parses `KEY=VALUE` (the value may contain `=`; the key may not be empty).
pub fn parse_key_value(text: &str) -> Result<KeyValue, String> {
    // heat-core owns the rule (and its E2023 diagnostic), so the CLI and library agree.
    match heat_core::parameters::parse_assignment(text) {
        Ok((key, value)) => Ok(KeyValue { key, value }),
        Err(diagnostic) => Err(match diagnostic.hint {
            Some(hint) => format!("{} ({hint})", diagnostic.message),
            None => diagnostic.message,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn clap_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn key_value_table() {
        type Expected = Result<(&'static str, &'static str), &'static str>;
        let cases: &[(&str, Expected)] = &[
            ("a=b", Ok(("a", "b"))),
            ("a=", Ok(("a", ""))),
            ("url=http://x/?q=1", Ok(("url", "http://x/?q=1"))),
            ("a==b", Ok(("a", "=b"))),
            ("novalue", Err("no '='")),
            ("=v", Err("empty")),
        ];
        for (input, expected) in cases {
            let got = parse_key_value(input);
            match (expected, got) {
                (Ok((k, v)), Ok(kv)) => {
                    assert_eq!((kv.key.as_str(), kv.value.as_str()), (*k, *v), "{input}");
                }
                (Err(part), Err(message)) => assert!(message.contains(part), "{input}: {message}"),
                (expected, got) => panic!("{input}: expected {expected:?}, got {got:?}"),
            }
        }
    }
}
