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
    init_logging(args.verbose, cli::stderr_color(args.color));
    install_error_report(cli::stderr_color(args.color));
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

fn report_error(report: miette::Report) {
    // A closed stderr must not turn a report into a panic and exit 4.
    let _ = std::io::Write::write_fmt(&mut std::io::stderr(), format_args!("{report:?}\n"));
}

/// Errors on stderr look like the report on stdout: unicode, colour only on a terminal.
fn install_error_report(color: bool) {
    let _ = miette::set_hook(Box::new(move |_| {
        Box::new(
            miette::MietteHandlerOpts::new()
                .unicode(true)
                .color(color)
                .terminal_links(false)
                .width(cli::terminal_width())
                .build(),
        )
    }));
}

/// `-v` shows notes only (see `cli`); `-vv` adds debug logs, `-vvv` trace logs.
fn init_logging(verbose: u8, color: bool) {
    let default = match verbose {
        0 | 1 => "off",
        2 => "netlint=debug",
        _ => "netlint=trace",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_env("NETLINT_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(color)
        .with_target(false)
        .init();
}
