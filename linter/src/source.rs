//! Source files of a dump and spans into them.
//!
//! Every fact in the model keeps a [`Span`]: the file it came from and a byte range in the
//! decoded text of that file. `Sources` owns the texts, and turns a span into a 1-based line
//! and column for machine formats and editors.

use std::borrow::Cow;
use std::path::PathBuf;
use std::sync::{Arc, OnceLock};

use miette::{MietteError, MietteSpanContents, SourceCode, SourceSpan, SpanContents};

/// Index of a file in [`Sources`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct FileId(pub u32);

/// A byte range in one source file.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Span {
    /// The file.
    pub file: FileId,
    /// Byte offset of the first byte.
    pub start: u32,
    /// Byte offset one past the last byte.
    pub end: u32,
}

impl Span {
    /// A span over `start..end` of `file`; offsets beyond `u32::MAX` are clamped, which only a
    /// file larger than the size limit could reach.
    pub fn new(file: FileId, start: usize, end: usize) -> Self {
        let clamp = |n: usize| u32::try_from(n).unwrap_or(u32::MAX);
        Span { file, start: clamp(start), end: clamp(end.max(start)) }
    }

    /// An empty span at the start of `file`, for problems about a whole file.
    pub fn file_start(file: FileId) -> Self {
        Span { file, start: 0, end: 0 }
    }

    /// The last character of `text` that is not whitespace (the start of the file when there
    /// is none): where a file that was cut short visibly ends.
    pub fn at_end(file: FileId, text: &str) -> Self {
        let trimmed = text.trim_end();
        let last = trimmed.chars().next_back().map_or(0, char::len_utf8);
        Span::new(file, trimmed.len() - last, trimmed.len())
    }

    /// The byte range, for miette.
    pub fn range(&self) -> std::ops::Range<usize> {
        self.start as usize..self.end as usize
    }
}

/// One file of the dump, decoded to text.
#[derive(Debug)]
pub struct SourceFile {
    /// Path relative to the dump root, with `/` separators.
    pub rel_path: String,
    /// Absolute or user-given path, for reading and error messages.
    pub path: PathBuf,
    /// Decoded text (UTF-8); empty for files that were not read. Shared, so diagnostics
    /// can hold it without a copy.
    pub text: Arc<str>,
    /// Byte offset of the start of every line, for line/column lookups.
    line_starts: Arc<[u32]>,
    /// Whether the text is all ASCII (most tool output is): a column is then a byte count,
    /// found without walking the line, which for the one-line JSON of `ip -j` is long.
    ascii: bool,
    /// The text as excerpts show it, made on first use (see [`SourceFile::shown_text`]).
    shown: OnceLock<Arc<str>>,
}

impl SourceFile {
    /// A file whose text has been decoded.
    pub fn new(rel_path: String, path: PathBuf, text: String) -> Self {
        let line_starts = std::iter::once(0)
            .chain(text.match_indices('\n').map(|(i, _)| i + 1))
            .map(|i| u32::try_from(i).unwrap_or(u32::MAX))
            .collect::<Vec<u32>>()
            .into();
        let ascii = text.is_ascii();
        SourceFile {
            rel_path,
            path,
            text: Arc::from(text),
            line_starts,
            ascii,
            shown: OnceLock::new(),
        }
    }

    /// The text as a diagnostic's excerpt shows it: the same bytes, except that control
    /// characters are made visible (see [`visible`]), so a file cannot drive the terminal,
    /// and Docker environment values are masked (see [`mask_env_values`]).
    /// Spans into [`SourceFile::text`] fit it unchanged.
    pub fn shown_text(&self) -> Arc<str> {
        let shown = self.shown.get_or_init(|| {
            let masked = mask_env_values(&self.text);
            match (visible(&masked), &masked) {
                (Cow::Borrowed(_), Cow::Borrowed(_)) => self.text.clone(),
                (Cow::Borrowed(text), Cow::Owned(_)) => Arc::from(text),
                (Cow::Owned(text), _) => Arc::from(text),
            }
        });
        shown.clone()
    }

    /// The byte offset where each line starts, shared with excerpts.
    pub fn line_starts(&self) -> Arc<[u32]> {
        self.line_starts.clone()
    }

    /// An excerpt of the file, as diagnostics show it (see [`SourceFile::shown_text`]).
    pub fn excerpt(&self) -> Excerpt {
        Excerpt { text: self.shown_text(), line_starts: self.line_starts(), ascii: self.ascii }
    }

    /// 1-based line and column (in characters) of a byte offset.
    pub fn line_col(&self, offset: u32) -> (usize, usize) {
        let line_idx = self.line_starts.partition_point(|&s| s <= offset).saturating_sub(1);
        let line_start = self.line_starts.get(line_idx).copied().unwrap_or(0) as usize;
        let offset = (offset as usize).min(self.text.len());
        let column = column_of(&self.text, line_start, offset, self.ascii);
        (line_idx + 1, column + 1)
    }

    /// The 0-based index of the line that holds a byte offset, and that line's length in
    /// bytes (without its line end).
    pub fn line_of(&self, offset: u32) -> (usize, usize) {
        let line_idx = self.line_starts.partition_point(|&s| s <= offset).saturating_sub(1);
        let start = self.line_starts.get(line_idx).copied().unwrap_or(0) as usize;
        let next = self.line_starts.get(line_idx + 1).map_or(self.text.len(), |&s| s as usize);
        let line = self.text.get(start..next).unwrap_or("");
        let len = line.strip_suffix('\n').unwrap_or(line);
        (line_idx, len.strip_suffix('\r').unwrap_or(len).len())
    }

    /// The text under a span, or "" when the span does not fit the text.
    pub fn slice(&self, span: Span) -> &str {
        self.text.get(span.range()).unwrap_or("")
    }
}

/// All files of a dump, indexed by [`FileId`].
#[derive(Debug, Default)]
pub struct Sources {
    files: Vec<SourceFile>,
}

impl Sources {
    /// Adds a file and returns its id.
    pub fn add(&mut self, file: SourceFile) -> FileId {
        self.files.push(file);
        FileId(u32::try_from(self.files.len() - 1).unwrap_or(u32::MAX))
    }

    /// The file behind an id. Ids are only made by `add`, so a miss is a bug.
    pub fn get(&self, id: FileId) -> &SourceFile {
        self.files.get(id.0 as usize).expect("FileId is only created by Sources::add")
    }

    /// Every file, in id order.
    pub fn iter(&self) -> impl Iterator<Item = (FileId, &SourceFile)> {
        self.files.iter().enumerate().map(|(i, f)| (FileId(i as u32), f))
    }

    /// Number of files.
    pub fn len(&self) -> usize {
        self.files.len()
    }

    /// Whether there are no files.
    pub fn is_empty(&self) -> bool {
        self.files.is_empty()
    }
}

/// Iterates the lines of `text` with the byte offset where each starts; a trailing `\r` is
/// dropped so CRLF files read like LF files.
pub fn lines_with_offsets(text: &str) -> impl Iterator<Item = (usize, &str)> {
    let mut offset = 0;
    text.split_inclusive('\n').map(move |raw| {
        let start = offset;
        offset += raw.len();
        let line = raw.strip_suffix('\n').unwrap_or(raw);
        (start, line.strip_suffix('\r').unwrap_or(line))
    })
}

/// Makes a value read from input safe to print: control characters (terminal escapes,
/// newlines) are shown as `\u{..}` escapes, and very long values are cut.
pub fn printable(value: &str) -> String {
    printable_within(value, 200)
}

/// A path of the dump made safe to print like [`printable`], but never cut: machine
/// formats and editors need it whole to open the file.
pub fn printable_path(path: &str) -> String {
    printable_within(path, usize::MAX)
}

fn printable_within(value: &str, max: usize) -> String {
    let mut out = String::with_capacity(value.len().min(max));
    for (i, c) in value.chars().enumerate() {
        if i == max {
            out.push('…');
            break;
        }
        if is_hostile(c) {
            out.extend(c.escape_unicode());
        } else {
            out.push(c);
        }
    }
    out
}

/// Masks the values of every `"Env": [...]` list of `docker inspect` output with `*`, byte
/// for byte, so that an excerpt near a container's environment never shows a secret while
/// spans stay true. Only what follows the first `=` of each string is masked: the variable
/// names stay readable. A list cut short is masked to the end of the text.
pub fn mask_env_values(text: &str) -> Cow<'_, str> {
    let bytes = text.as_bytes();
    let mut masked: Option<Vec<u8>> = None;
    let mut mask = |i: usize| {
        let out = masked.get_or_insert_with(|| bytes.to_vec());
        // UTF-8 continuation bytes become `*` too: each byte stays one byte.
        if let Some(slot) = out.get_mut(i) {
            *slot = b'*';
        }
    };
    let mut from = 0;
    // `"Env` without its closing quote too: a broken file must not show what a good one hides.
    while let Some(found) = text.get(from..).and_then(|t| t.find("\"Env")) {
        let mut i = from + found + 4;
        from = i;
        while bytes.get(i).is_some_and(|b| b.is_ascii_whitespace() || matches!(b, b':' | b'"')) {
            i += 1;
        }
        // A list is masked after each `=`; any other value (a string, an object: not what
        // Docker prints, but a hand-edited dump may hold one) is masked whole.
        let whole = match bytes.get(i) {
            Some(b'[') => false,
            Some(b'{') => true,
            _ if bytes.get(i.wrapping_sub(1)) == Some(&b'"') => true,
            _ => continue,
        };
        if whole && bytes.get(i) != Some(&b'{') {
            // A lone string: masked to its closing quote (an escaped `\"` does not close it).
            let mut escaped = false;
            while let Some(&b) = bytes.get(i) {
                if b == b'\n' || (b == b'"' && !escaped) {
                    break;
                }
                escaped = b == b'\\' && !escaped;
                mask(i);
                i += 1;
            }
            from = i.max(from);
            continue;
        }
        // Walk the value; after an `=` (or, for an object, anywhere) bytes are masked until
        // the string closes, or outside a string (quotes lost) until `,`, a line end or `]`.
        let (mut in_string, mut escaped, mut after_eq) = (false, false, false);
        while let Some(&b) = bytes.get(i) {
            if in_string {
                if escaped {
                    escaped = false;
                } else if b == b'\\' {
                    escaped = true;
                } else if b == b'"' {
                    in_string = false;
                    after_eq = false;
                    i += 1;
                    continue;
                }
                if (after_eq || whole) && !matches!(b, b'\n' | b'\r') {
                    mask(i);
                } else if b == b'=' {
                    after_eq = true;
                }
            } else if b == b'"' {
                in_string = true;
                after_eq = false;
            } else if b == b']' || b == b'}' {
                break;
            } else if matches!(b, b',' | b'\n' | b'\r') {
                after_eq = false;
            } else if after_eq {
                mask(i);
            } else if b == b'=' {
                after_eq = true;
            }
            i += 1;
        }
        from = i.max(from);
    }
    match masked {
        // Only whole characters were replaced by ASCII, so the bytes are still UTF-8.
        Some(out) => Cow::Owned(String::from_utf8_lossy(&out).into_owned()),
        None => Cow::Borrowed(text),
    }
}

/// Makes a whole file safe to show in an excerpt without moving any byte: each hostile
/// character becomes a visible one of the same UTF-8 length (`?`, `¿` or `�`), so spans and
/// columns stay true. Line ends (`\n`, `\r\n`) and tabs are kept, since the excerpt is
/// laid out by line.
pub fn visible(text: &str) -> Cow<'_, str> {
    let keep = |(i, c): (usize, char)| {
        !is_hostile(c)
            || c == '\n'
            || c == '\t'
            || (c == '\r' && text.get(i..).is_some_and(|t| t.starts_with("\r\n")))
    };
    if text.char_indices().all(keep) {
        return Cow::Borrowed(text);
    }
    let shown = text
        .char_indices()
        .map(|(i, c)| match c.len_utf8() {
            _ if keep((i, c)) => c,
            1 => '?',
            2 => '¿',
            _ => '\u{fffd}',
        })
        .collect();
    Cow::Owned(shown)
}

/// Characters that move the cursor, change colours or reorder text on a terminal: C0 and C1
/// controls, zero-width marks, line and paragraph separators, the byte-order mark and the
/// bidirectional marks, overrides and isolates ("Trojan Source").
pub fn is_hostile(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{061c}'
                | '\u{200b}'..='\u{200f}'
                | '\u{2028}'..='\u{202e}'
                | '\u{2060}'..='\u{2069}'
                | '\u{feff}'
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
    ascii: bool,
}

/// Lines longer than this are cut around the label.
pub const MAX_LINE: usize = 160;
/// Bytes kept on each side of a label on a cut line.
pub const CONTEXT: usize = 48;
/// Labels longer than this, or that run past their first line, are cut to it: an
/// underline of a whole object or file helps nobody, and miette cannot pad past 65 535.
pub const MAX_LABEL: usize = 120;

impl Excerpt {
    /// An excerpt of any text (a rule file, say): made visible, and indexed.
    pub fn of(text: &str) -> Excerpt {
        SourceFile::new(String::new(), PathBuf::new(), text.to_string()).excerpt()
    }

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
        column_of(&self.text, line_start, offset, self.ascii)
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

/// The 0-based column, in characters, of `offset` on the line that starts at `line_start`.
fn column_of(text: &str, line_start: usize, offset: usize, ascii: bool) -> usize {
    if ascii {
        return offset.saturating_sub(line_start);
    }
    text.get(line_start..offset).map_or(offset.saturating_sub(line_start), |t| t.chars().count())
}

/// The char boundary at or before `at`.
pub fn floor_char(text: &str, mut at: usize) -> usize {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn env_values_are_masked_byte_for_byte() {
        let text =
            "{\"Env\": [\"DB_PASSWORD=hunter2\", \"PATH=/bin\", \"Q=a\\\"b\"], \"Name\": \"/c1\"}";
        let masked = mask_env_values(text);
        assert_eq!(
            masked,
            "{\"Env\": [\"DB_PASSWORD=*******\", \"PATH=****\", \"Q=****\"], \"Name\": \"/c1\"}"
        );
        assert_eq!(masked.len(), text.len());
        let compact = "[{\"Env\":[\"K=sécret\"],\"Cmd\":[\"x=1\"]}]";
        assert_eq!(mask_env_values(compact), "[{\"Env\":[\"K=*******\"],\"Cmd\":[\"x=1\"]}]");
        let cut = "\"Env\": [\"A=hunter";
        assert_eq!(mask_env_values(cut), "\"Env\": [\"A=******");
        let escaped = "{\"Env\": \"A=x\\\"hunter2\"}";
        assert_eq!(mask_env_values(escaped), "{\"Env\": \"************\"}");
        let string = "{\"Env\": \"A=hunter2\", \"B\": \"x\"}";
        assert_eq!(mask_env_values(string), "{\"Env\": \"*********\", \"B\": \"x\"}");
        let broken_key = "\"Env: [\"A=hunter2\"]";
        assert_eq!(mask_env_values(broken_key), "\"Env: [\"A=*******\"]");
        let unquoted = "\"Env\": [\n  DB_PASSWORD=hunter2,\n  \"B=x\"]";
        assert_eq!(mask_env_values(unquoted), "\"Env\": [\n  DB_PASSWORD=*******,\n  \"B=*\"]");
        let half_quoted = "\"Env\":[A=hunter2\", \"B=x\"]";
        assert!(!mask_env_values(half_quoted).contains("hunter2"));
        let object = "{\"Env\": {\"A\": \"hunter2\"}, \"B\": \"x\"}";
        assert_eq!(mask_env_values(object), "{\"Env\": {\"*\": \"*******\"}, \"B\": \"x\"}");
        assert!(matches!(mask_env_values("no environment"), Cow::Borrowed(_)));
    }

    #[test]
    fn line_col_counts_from_one_and_in_chars() {
        let file = SourceFile::new("f".into(), "f".into(), "ab\nçd\r\nef".into());
        assert_eq!(file.line_col(0), (1, 1));
        assert_eq!(file.line_col(3), (2, 1));
        assert_eq!(file.line_col(5), (2, 2));
        assert_eq!(file.line_col(8), (3, 1));
        assert_eq!(file.line_col(9), (3, 2));
    }

    #[test]
    fn lines_drop_crlf() {
        let lines: Vec<_> = lines_with_offsets("a\r\nb\nc").collect();
        assert_eq!(lines, vec![(0, "a"), (3, "b"), (5, "c")]);
    }

    #[test]
    fn printable_escapes_terminal_sequences() {
        assert_eq!(printable("eth0\u{1b}[31m\n"), "eth0\\u{1b}[31m\\u{a}");
    }

    #[test]
    fn at_end_is_the_last_character_that_is_not_white_space() {
        let span = Span::at_end(FileId(0), "[{\"a\": \"é\n  ");
        assert_eq!((span.start, span.end), (8, 10), "the two bytes of `é`");
        assert_eq!(Span::at_end(FileId(0), " \n"), Span::file_start(FileId(0)));
    }

    #[test]
    fn visible_keeps_every_byte_offset() {
        let text = "a\u{1b}[2J\rb\u{85}c\u{202e}d\r\n\te\n";
        let shown = visible(text);
        assert_eq!(shown, "a?[2J?b¿c\u{fffd}d\r\n\te\n");
        assert_eq!(shown.len(), text.len());
        assert!(matches!(visible("plain\r\ntext\n"), Cow::Borrowed(_)));
    }
}
