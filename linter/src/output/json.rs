//! The JSON format: one object with `diagnostics` (findings, then input problems, each with
//! a dump-relative location, 1-based line and column), `run_errors` (an empty dump, a rule
//! that failed), `coverage` and `summary`. Keys keep
//! a fixed order, so the output diffs cleanly.

use serde::Serialize;

use super::{Counts, RenderContext, location, missing_inputs};
use crate::Report;
use crate::source::{Span, is_hostile};

#[derive(Serialize)]
struct Output<'a> {
    version: u32,
    diagnostics: Vec<Diagnostic<'a>>,
    run_errors: Vec<RunError<'a>>,
    coverage: Coverage<'a>,
    summary: Summary,
}

#[derive(Serialize)]
struct Diagnostic<'a> {
    rule: &'a str,
    name: &'a str,
    category: &'a str,
    severity: &'a str,
    message: &'a str,
    help: Option<&'a str>,
    location: Location,
    labels: Vec<Label<'a>>,
    key: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    fact: Option<&'a serde_json::Value>,
}

#[derive(Serialize)]
struct RunError<'a> {
    code: &'a str,
    message: &'a str,
    help: &'a str,
}

#[derive(Serialize)]
struct Location {
    file: String,
    line: usize,
    column: usize,
    end_line: usize,
    end_column: usize,
}

#[derive(Serialize)]
struct Label<'a> {
    location: Location,
    text: &'a str,
}

#[derive(Serialize)]
struct Coverage<'a> {
    files: usize,
    files_by_kind: &'a std::collections::BTreeMap<&'static str, usize>,
    namespaces: Vec<String>,
    missing_in_namespaces: Vec<Missing>,
    skipped_files: Vec<Skipped<'a>>,
    rules_run: usize,
    rules_skipped: Vec<SkippedRule<'a>>,
}

#[derive(Serialize)]
struct Missing {
    namespace: String,
    commands: Vec<String>,
}

#[derive(Serialize)]
struct Skipped<'a> {
    file: &'a str,
    reason: &'a str,
}

#[derive(Serialize)]
struct SkippedRule<'a> {
    rule: &'a str,
    name: &'a str,
    reason: &'a str,
}

#[derive(Serialize)]
struct Summary {
    errors: usize,
    warnings: usize,
    infos: usize,
    input_errors: usize,
    notes: usize,
    run_errors: usize,
}

fn loc(ctx: &RenderContext<'_>, span: Span) -> Location {
    let (file, (line, column), (end_line, end_column)) = location(ctx.dump, span);
    Location { file, line, column, end_line, end_column }
}

/// Renders the JSON report.
pub fn render_json(report: &Report, ctx: &RenderContext<'_>) -> String {
    let mut diagnostics = Vec::new();
    for finding in &report.findings {
        let rule = &ctx.rules.rules[finding.rule].file;
        let Some(primary) = finding.primary() else { continue };
        diagnostics.push(Diagnostic {
            rule: &rule.id,
            name: &rule.name,
            category: rule.category.name(),
            severity: finding.severity.name(),
            message: &finding.message,
            help: Some(&finding.help),
            location: loc(ctx, primary),
            labels: finding
                .labels
                .iter()
                .map(|(span, text)| Label { location: loc(ctx, *span), text })
                .collect(),
            key: Some(&finding.key),
            fact: Some(&finding.fact),
        });
    }
    for problem in report.problems.iter().filter(|p| ctx.verbose || p.is_error()) {
        diagnostics.push(Diagnostic {
            rule: problem.code,
            name: problem.code.rsplit("::").next().unwrap_or(problem.code),
            category: "input",
            severity: if problem.is_error() { "error" } else { "note" },
            message: &problem.message,
            help: problem.help.as_deref(),
            location: loc(ctx, problem.span),
            labels: Vec::new(),
            key: None,
            fact: None,
        });
    }
    let counts = Counts::of(report);
    let enabled = ctx.rules.rules.iter().filter(|r| r.enabled).count();
    let output = Output {
        version: 1,
        diagnostics,
        run_errors: report
            .run_errors
            .iter()
            .map(|e| RunError { code: e.code, message: &e.message, help: &e.help })
            .collect(),
        coverage: Coverage {
            files: report.model.coverage.n_files,
            files_by_kind: &report.model.coverage.files_by_kind,
            namespaces: report.model.namespaces.iter().map(|n| n.display()).collect(),
            missing_in_namespaces: missing_inputs(report)
                .into_iter()
                .map(|(namespace, commands)| Missing { namespace, commands })
                .collect(),
            skipped_files: ctx
                .dump
                .skipped
                .iter()
                .map(|s| Skipped { file: &s.rel_path, reason: &s.reason })
                .collect(),
            rules_run: enabled - report.skipped_rules.len(),
            rules_skipped: report
                .skipped_rules
                .iter()
                .map(|s| {
                    let rule = &ctx.rules.rules[s.rule].file;
                    SkippedRule { rule: &rule.id, name: &rule.name, reason: &s.reason }
                })
                .collect(),
        },
        summary: Summary {
            errors: counts.errors,
            warnings: counts.warnings,
            infos: counts.infos,
            input_errors: counts.input_errors,
            notes: report.problems.iter().filter(|p| !p.is_error()).count(),
            run_errors: report.run_errors.len(),
        },
    };
    // Serializing plain structs of strings and numbers cannot fail.
    let mut text = escape_hostile(&serde_json::to_string_pretty(&output).unwrap_or_default());
    text.push('\n');
    text
}

/// serde_json escapes only C0 controls; DEL, C1 controls and bidi marks from input values
/// are escaped too (`\u009b`), which keeps the JSON value and makes the report safe to
/// print. Outside strings the report holds no control character but its line ends.
fn escape_hostile(json: &str) -> String {
    let mut out = String::with_capacity(json.len());
    for c in json.chars() {
        if c != '\n' && is_hostile(c) {
            out.push_str(&format!("\\u{:04x}", u32::from(c)));
        } else {
            out.push(c);
        }
    }
    out
}
