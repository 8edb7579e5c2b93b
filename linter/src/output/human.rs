//! The human format: each finding as a miette report with its labels, then input
//! problems, then what the run covered and a one-line summary.

use std::fmt::Write as _;

use miette::{GraphicalReportHandler, GraphicalTheme};

use super::{Counts, RenderContext, missing_inputs, plural};
use crate::Report;
use crate::diag::{Rendered, render_finding, render_problem, render_run_error};

/// Renders the human report.
pub fn render_human(report: &Report, ctx: &RenderContext<'_>) -> String {
    let theme =
        if ctx.color { GraphicalTheme::unicode() } else { GraphicalTheme::unicode_nocolor() };
    let handler = GraphicalReportHandler::new_themed(theme).with_width(ctx.width).with_links(false);
    let mut out = String::new();
    let mut emit = |rendered: Rendered| {
        // Writing into a String does not fail; a renderer error leaves the report shorter.
        let _ = handler.render_report(&mut out, &rendered);
        for also in &rendered.also {
            out.push('\n');
            let _ = handler.render_report(&mut out, also);
        }
        out.push('\n');
    };
    for finding in &report.findings {
        emit(render_finding(finding, ctx.rules, &ctx.dump.sources));
    }
    for problem in report.problems.iter().filter(|p| ctx.verbose || p.is_error()) {
        emit(render_problem(problem, &ctx.dump.sources));
    }
    for error in &report.run_errors {
        emit(render_run_error(error));
    }
    out.push_str(&coverage(report, ctx));
    out
}

fn coverage(report: &Report, ctx: &RenderContext<'_>) -> String {
    let mut out = String::new();
    let model = &report.model;
    let cov = &model.coverage;
    let names: Vec<String> = model.namespaces.iter().map(|n| n.display()).collect();
    if cov.n_files == 0 {
        let _ = writeln!(out, "read no file");
    } else {
        let _ = writeln!(
            out,
            "read {} in {} ({}):",
            plural(cov.n_files, "file"),
            plural(model.namespaces.len(), "namespace"),
            names.join(", ")
        );
    }
    for (kind, n) in &cov.files_by_kind {
        let _ = writeln!(out, "  {n:>4} × {kind}");
    }
    let missing = missing_inputs(report);
    if !missing.is_empty() {
        let _ = writeln!(out, "not captured in every namespace (rules skip what is missing):");
        for (ns, commands) in missing {
            let _ = writeln!(out, "  {ns}: no `{}`", commands.join("`, no `"));
        }
    }
    let skipped = &ctx.dump.skipped;
    if !skipped.is_empty() {
        let _ = writeln!(out, "skipped {}:", plural(skipped.len(), "file"));
        let shown = if ctx.verbose { skipped.len() } else { skipped.len().min(10) };
        for s in skipped.iter().take(shown) {
            let _ = writeln!(out, "  {}: {}", s.rel_path, s.reason);
        }
        if shown < skipped.len() {
            let _ = writeln!(out, "  … and {} more (--verbose lists them)", skipped.len() - shown);
        }
    }
    let enabled = ctx.rules.rules.iter().filter(|r| r.enabled).count();
    let _ = writeln!(
        out,
        "rules: {} run, {} skipped",
        enabled - report.skipped_rules.len(),
        report.skipped_rules.len()
    );
    for skip in &report.skipped_rules {
        let rule = &ctx.rules.rules[skip.rule].file;
        let _ = writeln!(out, "  {} {}: {}", rule.id, rule.name, skip.reason);
    }
    let notes = report.problems.iter().filter(|p| !p.is_error()).count();
    if notes > 0 && !ctx.verbose {
        let _ = writeln!(out, "{} about the input (--verbose shows them)", plural(notes, "note"));
    }
    let counts = Counts::of(report);
    let mut parts = vec![plural(counts.errors, "error"), plural(counts.warnings, "warning")];
    if counts.infos > 0 {
        parts.push(plural(counts.infos, "info"));
    }
    if counts.input_errors > 0 {
        parts.push(plural(counts.input_errors, "input error"));
    }
    if !report.run_errors.is_empty() {
        parts.push(plural(report.run_errors.len(), "run error"));
    }
    let _ = writeln!(out, "{} in {}", parts.join(", "), plural(cov.n_files, "file"));
    out
}
