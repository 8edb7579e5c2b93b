//! Problems with netlint's input: what could not be read, and what was read with doubt.
//!
//! A problem is never a finding about the host. Parsers return the records they could read
//! plus a list of problems; one bad line or file never hides what the rest of the dump says.

use crate::source::{FileId, Span};

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
