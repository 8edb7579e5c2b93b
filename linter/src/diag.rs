//! Turns findings and input problems into miette diagnostics.
//!
//! A finding's labels may sit in several files (the DNAT line in `iptables-save`, the
//! listener in a container's `ss`). miette gives one source per diagnostic, so the labels of
//! the primary location's file stay on the diagnostic and each other file becomes a related
//! diagnostic of its own, in the order the rule lists its labels.

use std::sync::Arc;

use miette::{
    Diagnostic, LabeledSpan, MietteError, MietteSpanContents, NamedSource, SourceCode, SourceSpan,
    SpanContents,
};

use crate::RunError;
use crate::engine::{Finding, RuleSet, Severity};
use crate::problem::{Problem, ProblemLevel};
use crate::source::{FileId, Sources, Span};

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
    NamedSource::new(
        f.rel_path.clone(),
        Excerpt { text: f.shown_text(), line_starts: f.line_starts() },
    )
}

/// A file's text as miette reads it, with control characters made visible (miette would
/// print them raw), and a line too long to show (the one-line JSON of `ip -j`, say) cut to
/// the part around the label, keeping its real line and column numbers.
///
/// miette's own reader counts lines from the start of the file for every excerpt, which
/// makes a report of many findings in one large file quadratic; this one looks lines up in
/// the file's line index, and counts columns in characters, as the other formats do.
#[derive(Debug, Clone)]
pub struct Excerpt {
    text: Arc<str>,
    line_starts: Arc<[u32]>,
}

/// Lines longer than this are cut around the label.
const MAX_LINE: usize = 160;
/// Bytes kept on each side of a label on a cut line.
const CONTEXT: usize = 48;
/// Labels longer than this, or that run past their first line, are cut to it: an
/// underline of a whole object or file helps nobody, and miette cannot pad past 65 535.
const MAX_LABEL: usize = 120;

impl Excerpt {
    /// The index of the line holding `offset`, and that line's start and end (before its
    /// line end).
    fn line(&self, offset: usize) -> (usize, usize, usize) {
        let offset = u32::try_from(offset).unwrap_or(u32::MAX);
        let idx = self.line_starts.partition_point(|&s| s <= offset).saturating_sub(1);
        let (start, end) = self.bounds(idx);
        (idx, start, end)
    }

    fn bounds(&self, idx: usize) -> (usize, usize) {
        let len = self.text.len();
        let start = self.line_starts.get(idx).map_or(len, |&s| s as usize).min(len);
        let next = self.line_starts.get(idx + 1).map_or(len, |&s| s as usize).min(len);
        let line = self.text.get(start..next).unwrap_or("");
        let line = line.strip_suffix('\n').unwrap_or(line);
        (start, start + line.strip_suffix('\r').unwrap_or(line).len())
    }

    fn column(&self, line_start: usize, offset: usize) -> usize {
        self.text.get(line_start..offset).map_or(0, |t| t.chars().count())
    }
}

impl SourceCode for Excerpt {
    fn read_span<'a>(
        &'a self,
        span: &SourceSpan,
        before: usize,
        after: usize,
    ) -> Result<Box<dyn SpanContents<'a> + 'a>, MietteError> {
        let text: &str = &self.text;
        let start = floor_char(text, span.offset().min(text.len()));
        let end = floor_char(text, (span.offset() + span.len()).min(text.len())).max(start);
        let (first, first_start, first_end) = self.line(start);
        let (last, ..) = self.line(end.saturating_sub(1).max(start));

        if first == last && first_end - first_start > MAX_LINE {
            let cut_start = floor_char(text, start.saturating_sub(CONTEXT).max(first_start));
            let cut_end = ceil_char(text, (end + CONTEXT).min(first_end));
            // miette shows `column` in the `[file:line:col]` header: make it the label's own.
            let column = self.column(first_start, start);
            let data = text.get(cut_start..cut_end).unwrap_or("").as_bytes();
            let contents =
                MietteSpanContents::new(data, (cut_start..cut_end).into(), first, column, 1);
            return Ok(Box::new(contents));
        }
        if before == 0 && after == 0 {
            let data = text.get(start..end).unwrap_or("").as_bytes();
            let column = self.column(first_start, start);
            let contents =
                MietteSpanContents::new(data, (start..end).into(), first, column, last - first + 1);
            return Ok(Box::new(contents));
        }
        let ctx_first = first.saturating_sub(before);
        let ctx_last = (last + after).min(self.line_starts.len().saturating_sub(1));
        let data_start = self.bounds(ctx_first).0;
        // Up to and with the last line's line end, as miette's own reader gives it.
        let data_end =
            self.line_starts.get(ctx_last + 1).map_or(text.len(), |&s| s as usize).min(text.len());
        let data = text.get(data_start..data_end).unwrap_or("").as_bytes();
        let span = (data_start..data_end).into();
        let contents = MietteSpanContents::new(data, span, ctx_first, 0, ctx_last - ctx_first + 1);
        Ok(Box::new(contents))
    }
}

fn floor_char(text: &str, mut at: usize) -> usize {
    while !text.is_char_boundary(at) {
        at -= 1;
    }
    at
}

fn ceil_char(text: &str, mut at: usize) -> usize {
    while !text.is_char_boundary(at) {
        at += 1;
    }
    at
}

/// A label's span as an excerpt shows it: cut to its first line and to [`MAX_LABEL`] bytes.
fn shown_span(sources: &Sources, span: Span) -> std::ops::Range<usize> {
    let file = sources.get(span.file);
    let (line_idx, line_len) = file.line_of(span.start);
    let line_start = file.line_starts().get(line_idx).map_or(0, |&s| s as usize);
    let start = span.start as usize;
    let end = (span.end as usize).min(line_start + line_len).min(start + MAX_LABEL).max(start);
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
const MAX_GAP_LINES: usize = 3;

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
