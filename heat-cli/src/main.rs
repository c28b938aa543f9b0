//! The `heat` binary: wires [`heat_cli::run_from_args`] to stdout and stderr.
#![forbid(unsafe_code)]

use std::io::{self, BufWriter, Write};
use std::process::ExitCode;

fn main() -> ExitCode {
    let stdout = io::stdout();
    let mut out = BufWriter::new(stdout.lock());
    let stderr = io::stderr();
    let mut err = stderr.lock();
    let result = heat_cli::run_from_args(std::env::args_os(), &mut out, &mut err)
        .and_then(|exit| out.flush().map(|()| exit));
    match result {
        Ok(exit) => ExitCode::from(exit.code()),
        // The reader went away (`heat ... | head`): stop quietly, as other Unix tools do.
        Err(error) if error.kind() == io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(error) => {
            let _ = writeln!(err, "heat: cannot write output: {error}");
            ExitCode::from(2)
        }
    }
}
