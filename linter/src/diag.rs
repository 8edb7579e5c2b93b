//! Turns findings and input problems into miette diagnostics.
//!
//! A finding's labels may sit in several files (the DNAT line in `iptables-save`, the
//! listener in a container's `ss`). miette gives one source per diagnostic, so the labels of
//! the primary location's file stay on the diagnostic and each other file becomes a related
//! diagnostic of its own, in the order the rule lists its labels.

use miette::{Diagnostic, LabeledSpan, NamedSource, SourceCode};

use crate::RunError;
use crate::engine::{Finding, RuleSet, Severity};
use crate::problem::{Problem, ProblemLevel};
use crate::source::{CONTEXT, Excerpt, FileId, MAX_LABEL, MAX_LINE, Sources, Span, floor_char};

/// A diagnostic ready for miette to render.
#[derive(Debug)]
pub struct Rendered {
    code: String,
    message: String,
    severity: miette::Severity,
    help: Option<String>,
    source: Option<NamedSource<Excerpt>>,
    labels: Vec<LabeledSpan>,
    /// Further excerpts of the same finding ("see also"), rendered after it.
    pub also: Vec<Rendered>,
}

impl std::fmt::Display for Rendered {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Rendered {}

impl Diagnostic for Rendered {
    fn code<'a>(&'a self) -> Option<Box<dyn std::fmt::Display + 'a>> {
        // A "see also" excerpt has no code, and an empty one would print as a blank header.
        (!self.code.is_empty()).then(|| Box::new(&self.code) as Box<dyn std::fmt::Display>)
    }

    fn severity(&self) -> Option<miette::Severity> {
        Some(self.severity)
    }

    fn help<'a>(&'a self) -> Option<Box<dyn std::fmt::Display + 'a>> {
        self.help.as_ref().map(|h| Box::new(h) as Box<dyn std::fmt::Display>)
    }

    fn source_code(&self) -> Option<&dyn SourceCode> {
        self.source.as_ref().map(|s| s as &dyn SourceCode)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        (!self.labels.is_empty())
            .then(|| Box::new(self.labels.iter().cloned()) as Box<dyn Iterator<Item = LabeledSpan>>)
    }
}

fn named_source(sources: &Sources, file: FileId) -> NamedSource<Excerpt> {
    let f = sources.get(file);
    NamedSource::new(f.rel_path.clone(), f.excerpt())
}

/// Lines a label may cover and still be underlined whole (a Docker port binding object).
const MAX_LABEL_LINES: usize = 6;

/// A label's span as an excerpt shows it: whole when it covers a few short lines, else cut to
/// its first line and to [`MAX_LABEL`] bytes.
fn shown_span(sources: &Sources, span: Span) -> std::ops::Range<usize> {
    let file = sources.get(span.file);
    let (start, end) = (span.start as usize, span.end as usize);
    let (first, first_len) = file.line_of(span.start);
    let (last, _) = file.line_of(span.end.saturating_sub(1).max(span.start));
    let few_short_lines = last > first
        && last - first < MAX_LABEL_LINES
        && (first..=last).all(|idx| {
            let line_start = file.line_starts().get(idx).copied().unwrap_or(0);
            file.line_of(line_start).1 <= MAX_LINE
        });
    if few_short_lines {
        return start..end;
    }
    let line_start = file.line_starts().get(first).map_or(0, |&s| s as usize);
    let end = end.min(line_start + first_len).min(start + MAX_LABEL).max(start);
    start..floor_char(&file.text, end).max(start)
}

fn severity(severity: Severity) -> miette::Severity {
    match severity {
        Severity::Error => miette::Severity::Error,
        Severity::Warning => miette::Severity::Warning,
        Severity::Info => miette::Severity::Advice,
    }
}

/// A finding as a diagnostic: the excerpt around its first label, then a "see also"
/// diagnostic for each further excerpt, in the order the rule lists its labels.
pub fn render_finding(finding: &Finding, rules: &RuleSet, sources: &Sources) -> Rendered {
    let rule = &rules.rules[finding.rule].file;
    let spans: Vec<Span> = finding.labels.iter().map(|(span, _)| *span).collect();
    // The finding's first label is its primary location: the excerpt's header shows it,
    // as the short and JSON formats do.
    let labels_of = |group: &[usize]| -> Vec<LabeledSpan> {
        group
            .iter()
            .filter_map(|&i| Some((i, finding.labels.get(i)?)))
            .map(|(i, (span, text))| {
                let text = (!text.is_empty()).then(|| text.clone());
                let range = shown_span(sources, *span);
                if i == 0 {
                    LabeledSpan::new_primary_with_span(text, range)
                } else {
                    LabeledSpan::new_with_span(text, range)
                }
            })
            .collect()
    };

    let mut groups = excerpt_groups(&spans, sources).into_iter();
    let primary = groups.next();
    let also = groups
        .map(|(file, group)| Rendered {
            code: String::new(),
            message: format!("see also `{}`", sources.get(file).rel_path),
            severity: miette::Severity::Advice,
            help: None,
            source: Some(named_source(sources, file)),
            labels: labels_of(&group),
            also: Vec::new(),
        })
        .collect();
    Rendered {
        code: format!(
            "{} {} ({}, {})",
            rule.id,
            rule.name,
            finding.severity.name(),
            rule.category.name()
        ),
        message: finding.message.clone(),
        severity: severity(finding.severity),
        help: Some(finding.help.clone()),
        source: primary.as_ref().map(|(file, _)| named_source(sources, *file)),
        labels: primary.map(|(_, group)| labels_of(&group)).unwrap_or_default(),
        also,
    }
}

/// Lines apart that two labels may be and still share one excerpt: miette prints every line
/// between the labels of one excerpt, so the DNAT line and a filter rule 300 lines further
/// down must each get their own.
const MAX_GAP_LINES: usize = 5;

/// Splits labels into the excerpts that show them: one per file, further split wherever two
/// labels are more than [`MAX_GAP_LINES`] apart, sit on different lines of which one is too
/// long to show whole, or sit far apart on one long line (the one-line JSON of `ip -j`).
/// Groups come in the order of their first label, and hold label indexes in offset order.
fn excerpt_groups(spans: &[Span], sources: &Sources) -> Vec<(FileId, Vec<usize>)> {
    let mut order: Vec<usize> = (0..spans.len()).collect();
    order.sort_by_key(|&i| (spans[i].file, spans[i].start, i));

    let mut groups: Vec<(FileId, Vec<usize>)> = Vec::new();
    let mut last: Option<(FileId, usize, usize, u32)> = None; // file, line, line length, end
    for i in order {
        let span = spans[i];
        let file = sources.get(span.file);
        let (line, len) = file.line_of(span.start);
        let joins = last.is_some_and(|(last_file, last_line, last_len, last_end)| {
            let same_file = last_file == span.file;
            let near = line.saturating_sub(last_line) <= MAX_GAP_LINES;
            let long = len > MAX_LINE || last_len > MAX_LINE;
            let close_on_line = line == last_line
                && (span.start.saturating_sub(last_end) as usize) < MAX_LINE - 2 * CONTEXT;
            same_file && near && (!long || close_on_line)
        });
        match groups.last_mut() {
            Some((_, group)) if joins => group.push(i),
            _ => groups.push((span.file, vec![i])),
        }
        let end = last.filter(|_| joins).map_or(span.end, |(.., end)| end.max(span.end));
        last = Some((span.file, line, len, end));
    }
    groups.sort_by_key(|(_, group)| group.iter().min().copied());
    groups
}

/// An error of the run as a whole: no file to show.
pub fn render_run_error(error: &RunError) -> Rendered {
    Rendered {
        code: error.code.to_string(),
        message: error.message.clone(),
        severity: miette::Severity::Error,
        help: Some(error.help.clone()),
        source: None,
        labels: Vec::new(),
        also: Vec::new(),
    }
}

/// An input problem as a diagnostic.
pub fn render_problem(problem: &Problem, sources: &Sources) -> Rendered {
    let span = problem.span;
    let label = LabeledSpan::new_with_span(Some("here".into()), shown_span(sources, span));
    let file = sources.get(span.file);
    // A problem about a file that could not be read has no text to show.
    let has_text = !file.text.is_empty();
    Rendered {
        code: problem.code.to_string(),
        message: if has_text {
            problem.message.clone()
        } else {
            format!("{}: {}", file.rel_path, problem.message)
        },
        severity: match problem.level {
            ProblemLevel::Error => miette::Severity::Error,
            ProblemLevel::Note => miette::Severity::Advice,
        },
        help: problem.help.clone(),
        source: has_text.then(|| named_source(sources, span.file)),
        labels: if has_text { vec![label] } else { Vec::new() },
        also: Vec::new(),
    }
}
