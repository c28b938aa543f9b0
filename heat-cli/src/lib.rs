//! The `heat` command, as a library so that every command can run in-process against any
//! writer (the binary in `main.rs` only wires it to stdout and stderr).
//!
//! Contract of the command line:
//! - exit status 0: success (for `validate`, every file is valid; warnings allowed);
//! - 1: a template has an error (`validate`, `graph`);
//! - 2: a usage error (bad arguments, malformed `-P`, unknown version) or an I/O error
//!   (a file that cannot be read). When both happen, 2 wins.
//! - A closed output pipe ends the command quietly (the binary exits 0).
#![forbid(unsafe_code)]

pub mod args;
mod catalogue;
mod graph;
mod output;
mod validate;

use std::ffi::OsString;
use std::io::{self, Write};

use clap::Parser;

pub use args::Cli;

/// How a command ended: the process exit status.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Exit {
    /// Everything is valid (exit status 0).
    Success,
    /// At least one template has an error (exit status 1).
    Invalid,
    /// A usage or I/O error (exit status 2).
    Usage,
}

impl Exit {
    /// The numeric exit status.
    pub fn code(self) -> u8 {
        match self {
            Exit::Success => 0,
            Exit::Invalid => 1,
            Exit::Usage => 2,
        }
    }

    /// The more severe of two outcomes (usage/I/O errors win over invalid templates).
    #[must_use]
    pub fn worst(self, other: Exit) -> Exit {
        self.max(other)
    }
}

/// Parses a command line (`args` includes the program name) and runs it, writing results to
/// `out` and problems to `err`.
///
/// Usage errors are written to `err` and give [`Exit::Usage`]; `--help` and `--version` go to
/// `out`. The only `Err` is a failure to write to `out` or `err` (for instance a closed pipe).
pub fn run_from_args<I, T>(args: I, out: &mut dyn Write, err: &mut dyn Write) -> io::Result<Exit>
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    match Cli::try_parse_from(args) {
        Ok(cli) => run(&cli, out, err),
        Err(error) => {
            let text = error.render().to_string();
            if error.use_stderr() {
                err.write_all(text.as_bytes())?;
                Ok(Exit::Usage)
            } else {
                out.write_all(text.as_bytes())?;
                Ok(Exit::Success)
            }
        }
    }
}

/// Runs a parsed command line.
pub fn run(cli: &Cli, out: &mut dyn Write, err: &mut dyn Write) -> io::Result<Exit> {
    use args::{Command, TemplateCommand};
    match &cli.command {
        Command::Template(TemplateCommand::Validate(a)) => validate::run(a, out, err),
        Command::Template(TemplateCommand::Graph(a)) => graph::run(a, out, err),
        Command::Template(TemplateCommand::Versions(a)) => catalogue::versions(a, out),
        Command::Template(TemplateCommand::Functions(a)) => catalogue::functions(a, out, err),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run_args(args: &[&str]) -> (Exit, String, String) {
        let mut out = Vec::new();
        let mut err = Vec::new();
        let exit = run_from_args(args, &mut out, &mut err).unwrap_or(Exit::Usage);
        (
            exit,
            String::from_utf8_lossy(&out).into_owned(),
            String::from_utf8_lossy(&err).into_owned(),
        )
    }

    #[test]
    fn commands_run_in_process() {
        let (exit, out, err) = run_args(&["heat", "template", "versions"]);
        assert_eq!(exit, Exit::Success);
        assert!(out.starts_with("VERSION"), "{out}");
        assert!(err.is_empty());

        let (exit, out, err) = run_args(&["heat", "template", "functions", "queens"]);
        assert_eq!(exit, Exit::Success);
        assert!(
            out.lines().any(|l| l.starts_with("list_concat_unique ")),
            "{out}"
        );
        assert!(err.is_empty());
    }

    #[test]
    fn usage_errors_go_to_err_and_help_to_out() {
        let (exit, out, err) = run_args(&["heat", "template", "validate", "-P", "x", "f.yaml"]);
        assert_eq!(exit, Exit::Usage);
        assert!(out.is_empty());
        assert!(err.contains("KEY=VALUE"), "{err}");

        let (exit, out, err) = run_args(&["heat", "template", "--help"]);
        assert_eq!(exit, Exit::Success);
        assert!(out.contains("validate"), "{out}");
        assert!(err.is_empty());

        let (exit, _, err) = run_args(&["heat", "template", "functions", "nope"]);
        assert_eq!(exit, Exit::Usage);
        assert!(
            err.starts_with("heat: unknown template version 'nope'"),
            "{err}"
        );
    }

    /// A writer whose reader has gone away.
    struct ClosedPipe;

    impl Write for ClosedPipe {
        fn write(&mut self, _: &[u8]) -> io::Result<usize> {
            Err(io::Error::from(io::ErrorKind::BrokenPipe))
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn a_closed_pipe_is_an_error_value_not_a_panic() {
        let mut err = Vec::new();
        let result = run_from_args(["heat", "template", "versions"], &mut ClosedPipe, &mut err);
        assert_eq!(result.map_err(|e| e.kind()), Err(io::ErrorKind::BrokenPipe));
    }

    #[test]
    fn exit_codes_and_precedence() {
        assert_eq!(Exit::Success.code(), 0);
        assert_eq!(Exit::Invalid.code(), 1);
        assert_eq!(Exit::Usage.code(), 2);
        assert_eq!(Exit::Invalid.worst(Exit::Usage), Exit::Usage);
        assert_eq!(Exit::Usage.worst(Exit::Invalid), Exit::Usage);
        assert_eq!(Exit::Success.worst(Exit::Invalid), Exit::Invalid);
    }
}
