//! The command line: clap arguments, lifted into [`Settings`], then one run.
//!
//! Exit codes: 0 no finding at or above the fail level; 1 such findings; 2 usage or
//! configuration error (bad flags, a bad rule file); 3 bad input (an unreadable part of the
//! dump, or nothing recognised at all), with every finding of the rest still printed;
//! 4 internal error. A closed stdout ends the run quietly.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use clap::{Parser, ValueEnum};

use netlint::discover::{self, Limits, io_reason};
use netlint::engine::{RuleSet, Severity};
use netlint::output::{self, RenderContext};
use netlint::source::printable;

/// Lints the network configuration of a Linux host that runs VMs and containers.
#[derive(Parser, Debug)]
#[command(version, about, long_about = None)]
pub struct Args {
    /// The host dump: a folder of captured tool output (or a single file).
    pub dump: PathBuf,
    /// Output format.
    #[arg(long, value_enum, default_value_t = FormatArg::Human)]
    pub format: FormatArg,
    /// More rule files: a folder searched for `*.toml`, added to the shipped rules.
    #[arg(long = "rules", value_name = "DIR")]
    pub rules_dirs: Vec<PathBuf>,
    /// Run only these rules (code, name or category; repeat or separate with commas).
    #[arg(long, value_delimiter = ',', value_name = "RULE")]
    pub select: Vec<String>,
    /// Do not run these rules (code, name or category).
    #[arg(long, value_delimiter = ',', value_name = "RULE")]
    pub ignore: Vec<String>,
    /// Exit 1 when a finding is at or above this severity.
    #[arg(long, value_enum, default_value_t = FailOn::Error)]
    pub fail_on: FailOn,
    /// Refuse dump files larger than this many bytes.
    #[arg(long, default_value_t = Limits::default().max_file_bytes, value_name = "BYTES")]
    pub max_file_size: u64,
    /// Show notes about the input; twice, also debug logs on stderr; three times, trace logs
    /// (`NETLINT_LOG` sets a filter of its own).
    #[arg(short, long, action = clap::ArgAction::Count)]
    pub verbose: u8,
    /// Colour in the human format: auto, always or never.
    #[arg(long, value_enum, default_value_t = ColorArg::Auto)]
    pub color: ColorArg,
}

/// `--format`.
#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum FormatArg {
    /// Reports with labels on the lines that prove each finding.
    Human,
    /// `file:line:col: severity: message [rule]`, one per line.
    Short,
    /// One JSON object.
    Json,
}

/// `--fail-on`.
#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum FailOn {
    /// Errors only.
    Error,
    /// Warnings and errors.
    Warning,
    /// Any finding.
    Info,
}

/// `--color`.
#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum ColorArg {
    /// When stdout is a terminal and `NO_COLOR` is unset.
    Auto,
    /// Always.
    Always,
    /// Never.
    Never,
}

/// Validated settings of one run.
pub struct Settings {
    dump: PathBuf,
    format: output::Format,
    rules: RuleSet,
    fail_on: Severity,
    limits: Limits,
    verbose: bool,
    color: bool,
}

/// What a run ends with.
pub enum Outcome {
    /// Exit with this code.
    Exit(u8),
}

/// Resolves the arguments into settings: loads and selects the rules.
pub fn settings(args: Args) -> miette::Result<Settings> {
    let mut files: Vec<(String, String)> = RuleSet::builtin_files().collect();
    for dir in &args.rules_dirs {
        files.extend(read_rule_dir(dir)?);
    }
    let mut rules = match RuleSet::load(files) {
        Ok(rules) => rules,
        Err(errors) => {
            let n = errors.len();
            for error in errors {
                eprintln_report(miette::Report::new(error));
            }
            miette::bail!("{n} rule file(s) could not be loaded");
        }
    };
    let is_category = |name: &str| rules.rules.iter().any(|r| r.file.category.name() == name);
    for name in args.select.iter().chain(&args.ignore) {
        if rules.find(name).is_none() && !is_category(name) {
            let known: Vec<&str> = rules.rules.iter().map(|r| r.file.id.as_str()).collect();
            miette::bail!(
                help = format!(
                    "name a rule by code ({}), by name (published-port-to-loopback-listener) or a \
                     category (loopback-bind, double-nat, unreachable-route, mtu-mismatch)",
                    known.join(", ")
                ),
                "unknown rule `{}`",
                printable(name)
            );
        }
    }
    for rule in &mut rules.rules {
        let named = |list: &[String]| {
            list.iter().any(|n| {
                n.eq_ignore_ascii_case(&rule.file.id)
                    || *n == rule.file.name
                    || *n == rule.file.category.name()
            })
        };
        rule.enabled = (args.select.is_empty() || named(&args.select)) && !named(&args.ignore);
    }
    if rules.rules.iter().all(|r| !r.enabled) {
        miette::bail!(
            help = "`--ignore` takes away what `--select` picked; leave at least one rule",
            "no rule is left to run"
        );
    }
    let color = match args.color {
        ColorArg::Always => true,
        ColorArg::Never => false,
        ColorArg::Auto => {
            std::env::var_os("NO_COLOR").is_none()
                && std::io::IsTerminal::is_terminal(&std::io::stdout())
        }
    };
    Ok(Settings {
        dump: args.dump,
        format: match args.format {
            FormatArg::Human => output::Format::Human,
            FormatArg::Short => output::Format::Short,
            FormatArg::Json => output::Format::Json,
        },
        rules,
        fail_on: match args.fail_on {
            FailOn::Error => Severity::Error,
            FailOn::Warning => Severity::Warning,
            FailOn::Info => Severity::Info,
        },
        limits: Limits { max_file_bytes: args.max_file_size, ..Limits::default() },
        verbose: args.verbose > 0,
        color,
    })
}

fn read_rule_dir(dir: &Path) -> miette::Result<Vec<(String, String)>> {
    let mut files = Vec::new();
    let cannot_read = |path: &Path, reason: String| {
        miette::miette!(
            code = "netlint::rules",
            help = "`--rules` takes a folder of rule files (`*.toml`), or one rule file",
            "cannot read rules from `{}`: {reason}",
            printable(&path.to_string_lossy())
        )
    };
    for entry in walkdir::WalkDir::new(dir).sort_by_file_name() {
        let entry = entry.map_err(|err| {
            let path = err.path().unwrap_or(dir).to_path_buf();
            let reason = err.io_error().map_or_else(|| printable(&err.to_string()), io_reason);
            cannot_read(&path, reason)
        })?;
        if entry.file_type().is_file() && entry.path().extension().is_some_and(|e| e == "toml") {
            let text = std::fs::read_to_string(entry.path())
                .map_err(|err| cannot_read(entry.path(), io_reason(&err)))?;
            files.push((entry.path().display().to_string(), text));
        }
    }
    if files.is_empty() {
        miette::bail!(
            help = "a rules folder holds one `.toml` file per rule",
            "no rule files in {}",
            dir.display()
        );
    }
    Ok(files)
}

/// One run: discover, lint, render, and the exit code.
pub fn run(settings: Settings) -> miette::Result<Outcome> {
    let dump = match discover::discover(&settings.dump, settings.limits) {
        Ok(dump) => dump,
        Err(err) => {
            eprintln_report(miette::Report::new(err));
            return Ok(Outcome::Exit(2));
        }
    };
    tracing::debug!(files = dump.files.len(), skipped = dump.skipped.len(), "discovered");
    let report = netlint::lint(&dump, &settings.rules);
    let ctx = RenderContext {
        dump: &dump,
        rules: &settings.rules,
        verbose: settings.verbose,
        width: 80.max(terminal_width()),
        color: settings.color,
    };
    let text = output::render(settings.format, &report, &ctx);

    write_stdout(&text);

    let input_bad = report.run_errors.iter().any(|e| !e.is_rule_error())
        || report.problems.iter().any(|p| p.is_error());
    let failing = report.findings.iter().any(|f| f.severity >= settings.fail_on);
    let code = if report.run_errors.iter().any(|e| e.is_rule_error()) {
        2
    } else if input_bad {
        3
    } else if failing {
        1
    } else {
        0
    };
    Ok(Outcome::Exit(code))
}

/// Whether stderr gets colour: `--color`, else only on a terminal without `NO_COLOR`.
pub fn stderr_color(color: ColorArg) -> bool {
    match color {
        ColorArg::Always => true,
        ColorArg::Never => false,
        ColorArg::Auto => {
            std::env::var_os("NO_COLOR").is_none()
                && std::io::IsTerminal::is_terminal(&std::io::stderr())
        }
    }
}

/// The width reports wrap at: `COLUMNS`, else 100, at most 160.
pub fn terminal_width() -> usize {
    std::env::var("COLUMNS").ok().and_then(|c| c.parse().ok()).unwrap_or(100).min(160)
}

fn eprintln_report(report: miette::Report) {
    // A closed stderr (`2>&1 | head`) must not turn a report into a panic and exit 4.
    let _ = writeln!(std::io::stderr(), "{report:?}");
}

/// Writes the report; a closed pipe (`netlint … | head`) ends the run quietly.
fn write_stdout(text: &str) {
    let mut stdout = std::io::stdout().lock();
    let _ = stdout.write_all(text.as_bytes()).and_then(|()| stdout.flush());
}
