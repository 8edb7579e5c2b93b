//! Problems with netlint's input: what could not be read, and what was read with doubt.
//!
//! A problem is never a finding about the host. Parsers return the records they could read
//! plus a list of problems; one bad line or file never hides what the rest of the dump says.

use std::collections::HashMap;

use crate::source::{FileId, Span};

/// Problems reported for one file at the most: past them a file is not what it claims to
/// be, and a report of millions of lines helps nobody.
pub const MAX_PROBLEMS_PER_FILE: usize = 100;

const TOO_MANY: &str = "netlint::parse::too-many";

/// Keeps the first [`MAX_PROBLEMS_PER_FILE`] problems of each file, in their order, and
/// says at the first one left out how many more that file had.
pub fn cap_per_file(problems: &mut Vec<Problem>) {
    let mut kept: HashMap<FileId, usize> = HashMap::new();
    // Per file: how many were left out, where the first was, and whether one was an error.
    let mut dropped: HashMap<FileId, (usize, Span, bool)> = HashMap::new();
    problems.retain(|problem| {
        // A count from an earlier cap (the parser's) stays, and counts for nothing.
        if problem.code == TOO_MANY {
            return true;
        }
        let n = kept.entry(problem.span.file).or_default();
        if *n < MAX_PROBLEMS_PER_FILE {
            *n += 1;
            return true;
        }
        let entry = dropped.entry(problem.span.file).or_insert((0, problem.span, false));
        entry.0 += 1;
        entry.2 |= problem.is_error();
        false
    });
    let mut dropped: Vec<_> = dropped.into_iter().collect();
    dropped.sort_by_key(|(file, _)| *file);
    for (_, (n_more, span, any_error)) in dropped {
        let message = format!("{n_more} more problems in this file are not shown");
        let problem = if any_error {
            Problem::error(TOO_MANY, span, message)
        } else {
            Problem::note(TOO_MANY, span, message)
        };
        problems.push(problem.with_help(
            "fix the ones above first: a file this broken is not the tool output it resembles",
        ));
    }
}

/// How bad a problem is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum ProblemLevel {
    /// Something was skipped on purpose or is ambiguous; shown with `--verbose`.
    Note,
    /// Part of the input could not be read; the run exits 3.
    Error,
}

/// One problem with the input, pointing at the exact place.
#[derive(Clone, Debug)]
pub struct Problem {
    /// Stable code, such as `netlint::parse::iptables`.
    pub code: &'static str,
    /// Error or note.
    pub level: ProblemLevel,
    /// Where: the exact span, or the start of the file for whole-file problems.
    pub span: Span,
    /// What is wrong, quoting what was found (already made printable).
    pub message: String,
    /// What was expected there.
    pub help: Option<String>,
}

/// A parser's result: what it could read, and what it could not.
#[derive(Debug)]
pub struct Parsed<T> {
    /// The records that were read.
    pub value: T,
    /// Problems met on the way.
    pub problems: Vec<Problem>,
}

impl Problem {
    /// An error at a span.
    pub fn error(code: &'static str, span: Span, message: impl Into<String>) -> Self {
        Problem { code, level: ProblemLevel::Error, span, message: message.into(), help: None }
    }

    /// A note at a span.
    pub fn note(code: &'static str, span: Span, message: impl Into<String>) -> Self {
        Problem { code, level: ProblemLevel::Note, span, message: message.into(), help: None }
    }

    /// Adds what was expected.
    pub fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    /// Sort order: file, position, code.
    pub fn sort_key(&self) -> (FileId, u32, &'static str) {
        (self.span.file, self.span.start, self.code)
    }

    /// Whether this problem makes the run's input count as bad.
    pub fn is_error(&self) -> bool {
        self.level == ProblemLevel::Error
    }
}
