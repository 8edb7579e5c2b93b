//! The `netlint` binary: sets up logging and error reporting, runs the CLI, and maps
//! every way a run can end to an exit code (see `cli`).

mod cli;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let args = match cli::Args::try_parse() {
        Ok(args) => args,
        Err(err) => {
            let _ = err.print();
            return ExitCode::from(if err.use_stderr() { 2 } else { 0 });
        }
    };
    init_logging(args.verbose);
    // An internal error must still exit 4, never abort with a Rust backtrace alone.
    let result = std::panic::catch_unwind(move || cli::settings(args).and_then(cli::run));
    match result {
        Ok(Ok(cli::Outcome::Exit(code))) => ExitCode::from(code),
        Ok(Err(report)) => {
            report_error(report);
            ExitCode::from(2)
        }
        Err(_) => ExitCode::from(4),
    }
}

#[expect(clippy::print_stderr, reason = "the binary reports errors on stderr")]
fn report_error(report: miette::Report) {
    eprintln!("{report:?}");
}

fn init_logging(verbose: u8) {
    let default = match verbose {
        0 => "off",
        1 => "netlint=debug",
        _ => "netlint=trace",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_env("NETLINT_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false)
        .init();
}
