//! Output formats: the report rendered for people (`human`), editors (`short`) and
//! machines (`json`). Every format is sorted and deterministic: the same dump gives the
//! same bytes. Rendering returns a `String`; only the binary writes to stdout.

pub mod human;
pub mod json;
pub mod short;

use crate::Report;
use crate::discover::Dump;
use crate::engine::{RuleSet, Severity};
use crate::model::Input;

/// The `--format` values.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// miette reports with labels and a coverage summary.
    Human,
    /// One `file:line:col: severity: message [id name]` line per diagnostic.
    Short,
    /// One JSON object.
    Json,
}

/// What the renderers need besides the report.
pub struct RenderContext<'a> {
    /// The dump (sources and skipped files).
    pub dump: &'a Dump,
    /// The rules that ran.
    pub rules: &'a RuleSet,
    /// Show notes, not only errors.
    pub verbose: bool,
    /// Terminal width for `human`.
    pub width: usize,
    /// Colour for `human`.
    pub color: bool,
}

/// Renders the report in a format.
pub fn render(format: Format, report: &Report, ctx: &RenderContext<'_>) -> String {
    match format {
        Format::Human => human::render_human(report, ctx),
        Format::Short => short::render_short(report, ctx),
        Format::Json => json::render_json(report, ctx),
    }
}

/// Counts for the summary line.
#[derive(Debug, Default, Clone, Copy)]
pub struct Counts {
    /// Findings at error.
    pub errors: usize,
    /// Findings at warning.
    pub warnings: usize,
    /// Findings at info.
    pub infos: usize,
    /// Input problems at error.
    pub input_errors: usize,
}

impl Counts {
    /// Counts a report.
    pub fn of(report: &Report) -> Counts {
        let by = |s: Severity| report.findings.iter().filter(|f| f.severity == s).count();
        Counts {
            errors: by(Severity::Error),
            warnings: by(Severity::Warning),
            infos: by(Severity::Info),
            input_errors: report.problems.iter().filter(|p| p.is_error()).count(),
        }
    }
}

/// The namespaces that lack an input the rules read per namespace, with the commands.
pub fn missing_inputs(report: &Report) -> Vec<(String, Vec<String>)> {
    let per_ns = [Input::Links, Input::Addresses, Input::Routes, Input::Sockets];
    let model = &report.model;
    let mut out = Vec::new();
    for ns in &model.namespaces {
        let missing: Vec<String> = per_ns
            .iter()
            .filter(|i| model.coverage.inputs.contains(i) && !ns.captured.contains(i))
            .map(|i| i.command().to_string())
            .collect();
        if !missing.is_empty() {
            out.push((ns.display(), missing));
        }
    }
    out
}

/// `2 errors`, `1 warning`.
pub fn plural(n: usize, word: &str) -> String {
    if n == 1 { format!("{n} {word}") } else { format!("{n} {word}s") }
}

/// 1-based line and column of a span's start and end.
pub fn location(
    dump: &Dump,
    span: crate::source::Span,
) -> (String, (usize, usize), (usize, usize)) {
    let file = dump.sources.get(span.file);
    (file.rel_path.clone(), file.line_col(span.start), file.line_col(span.end))
}
