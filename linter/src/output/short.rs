//! The short format, for editors and grep: `file:line:col: severity: message [id name]`.

use std::fmt::Write as _;

use super::{RenderContext, location};
use crate::Report;
use crate::source::printable;

/// Renders one line per finding and per input error (and note, with `--verbose`).
pub fn render_short(report: &Report, ctx: &RenderContext<'_>) -> String {
    let mut out = String::new();
    for finding in &report.findings {
        let rule = &ctx.rules.rules[finding.rule].file;
        let (file, (line, col), _) =
            finding.primary().map(|s| location(ctx.dump, s)).unwrap_or_default();
        let _ = writeln!(
            out,
            "{file}:{line}:{col}: {}: {} [{} {}]",
            finding.severity.name(),
            finding.message,
            rule.id,
            rule.name
        );
    }
    for problem in report.problems.iter().filter(|p| ctx.verbose || p.is_error()) {
        let (file, (line, col), _) = location(ctx.dump, problem.span);
        let level = if problem.is_error() { "error" } else { "note" };
        let _ = writeln!(
            out,
            "{file}:{line}:{col}: {level}: {} [{}]",
            printable(&problem.message),
            problem.code
        );
    }
    for error in &report.run_errors {
        let _ = writeln!(out, "netlint: error: {} [{}]", error.message, error.code);
    }
    out
}
