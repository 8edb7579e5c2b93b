//! Reading JSON with byte spans: the common layer of every JSON parser.
//!
//! serde_json keeps no positions, and every fact must point at the text that proves it, so
//! JSON is read with jsonc-parser's AST, whose nodes carry byte ranges. Parse errors become a
//! [`Problem`] on the exact span. Typed getters record a problem when a key has the wrong
//! type, and return `None`, so one odd value never hides the rest of the file.

use jsonc_parser::ast::{Array, Object, ObjectProp, Value};
use jsonc_parser::common::Ranged;
use jsonc_parser::errors::ParseErrorKind;
use jsonc_parser::{CollectOptions, ParseOptions, ParseStringErrorKind};

use crate::problem::Problem;
use crate::source::{FileId, Span, printable};

/// Parses `text` as JSON; on failure returns the problem at the failing position.
pub fn parse<'a>(
    file: FileId,
    text: &'a str,
    code: &'static str,
    what: &str,
) -> Result<Option<Value<'a>>, Problem> {
    // Strict JSON, as `ip -j` and `docker inspect` print it: every leniency is named and
    // off, so a new one in jsonc-parser fails to compile here instead of slipping in.
    let options = ParseOptions {
        allow_comments: false,
        allow_loose_object_property_names: false,
        allow_trailing_commas: false,
        allow_missing_commas: false,
        allow_single_quoted_strings: false,
        allow_hexadecimal_numbers: false,
        allow_unary_plus_numbers: false,
        allow_bare_decimal_point_numbers: false,
        allow_non_finite_numbers: false,
        allow_extended_string_escapes: false,
    };
    jsonc_parser::parse_to_ast(text, &CollectOptions::default(), &options).map(|r| r.value).map_err(
        |err| {
            let range = err.range();
            let kind = err.kind().to_string();
            let kind = lowercase_first(&kind);
            let end = Span::at_end(file, text);
            // An unterminated array, object, string or comment runs to the end of the file,
            // where something is missing: point there, and say where it was opened.
            let (span, message) = if is_unterminated(err.kind()) {
                let (line, column) = line_col(text, range.start);
                let opened = format!("opened at line {line}, column {column}");
                (end, format!("invalid JSON: {kind} ({opened}), at the end of the file"))
            } else if range.start >= text.len() {
                (end, format!("invalid JSON: {kind}, at the end of the file"))
            } else {
                // An empty range marks a position: show the character there.
                let rest = text.get(range.start..).unwrap_or("");
                let next_char = rest.get(..rest.chars().next().map_or(0, char::len_utf8));
                let found = text.get(range.start..range.end).filter(|f| !f.is_empty());
                let found = found.or(next_char).unwrap_or("");
                let span = Span::new(file, range.start, range.start + found.len());
                (span, format!("invalid JSON: {kind}, found `{}`", printable(found)))
            };
            let help = match err.kind() {
                ParseErrorKind::NestingDepthExceeded => {
                    format!("expected the JSON output of `{what}`, which nests a few levels deep")
                }
                _ => format!(
                    "expected the complete JSON output of `{what}`; was the file cut short?"
                ),
            };
            Problem::error(code, span, message).with_help(help)
        },
    )
}

fn is_unterminated(kind: &ParseErrorKind) -> bool {
    matches!(
        kind,
        ParseErrorKind::UnterminatedArray
            | ParseErrorKind::UnterminatedObject
            | ParseErrorKind::UnterminatedCommentBlock
            | ParseErrorKind::String(ParseStringErrorKind::UnterminatedStringLiteral)
    )
}

fn lowercase_first(text: &str) -> String {
    let mut chars = text.chars();
    chars.next().map(|c| c.to_lowercase().chain(chars).collect()).unwrap_or_default()
}

/// 1-based line and column (in characters) of a byte offset, for messages.
fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let before = text.get(..offset).unwrap_or(text);
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let column = before.get(line_start..).map_or(0, |l| l.chars().count());
    (before.matches('\n').count() + 1, column + 1)
}

/// The span of any AST node.
pub fn span_of(file: FileId, node: &impl Ranged) -> Span {
    let range = node.range();
    Span::new(file, range.start, range.end)
}

/// Typed access to the members of one JSON object, recording type errors as problems.
pub struct Obj<'a, 'b> {
    /// The object.
    pub object: &'b Object<'a>,
    /// The file it is in.
    pub file: FileId,
    code: &'static str,
}

impl<'a, 'b> Obj<'a, 'b> {
    /// Wraps an object; `code` names the format for problems.
    pub fn new(object: &'b Object<'a>, file: FileId, code: &'static str) -> Self {
        Obj { object, file, code }
    }

    /// The span of the whole object.
    pub fn span(&self) -> Span {
        span_of(self.file, self.object)
    }

    /// The property `key`, if present and not null.
    pub fn prop(&self, key: &str) -> Option<&'b ObjectProp<'a>> {
        self.object.get(key).filter(|p| !matches!(p.value, Value::NullKeyword(_)))
    }

    /// The span of the property `key` (name and value), or of the object when absent.
    pub fn key_span(&self, key: &str) -> Span {
        self.object.get(key).map(|p| span_of(self.file, p)).unwrap_or_else(|| self.span())
    }

    /// A value of the wrong type or out of range, quoted as found.
    fn wrong_type(&self, prop: &ObjectProp<'a>, expected: &str, problems: &mut Vec<Problem>) {
        problems.push(Problem::error(
            self.code,
            span_of(self.file, &prop.value),
            format!(
                "`{}` is {}, not {expected}",
                printable(prop.name.as_str()),
                // Docker's `Env` holds secrets: its value is never quoted, whatever it is.
                found(&prop.value, prop.name.as_str() != "Env")
            ),
        ));
    }

    /// A string member.
    pub fn str(&self, key: &str, problems: &mut Vec<Problem>) -> Option<String> {
        let prop = self.prop(key)?;
        match &prop.value {
            Value::StringLit(s) => Some(s.value.to_string()),
            _ => {
                self.wrong_type(prop, "a string", problems);
                None
            }
        }
    }

    /// An unsigned integer member that must fit `T` (an MTU, a port, an index).
    pub fn uint<T: TryFrom<u64>>(&self, key: &str, problems: &mut Vec<Problem>) -> Option<T> {
        let prop = self.prop(key)?;
        let parsed = match &prop.value {
            Value::NumberLit(n) => n.value.parse::<u64>().ok().and_then(|v| T::try_from(v).ok()),
            _ => None,
        };
        if parsed.is_none() {
            self.wrong_type(
                prop,
                &format!("a whole number from 0 to {}", type_max::<T>()),
                problems,
            );
        }
        parsed
    }

    /// A signed integer member.
    pub fn int(&self, key: &str, problems: &mut Vec<Problem>) -> Option<i64> {
        let prop = self.prop(key)?;
        match &prop.value {
            Value::NumberLit(n) => n.value.parse::<i64>().ok().or_else(|| {
                self.wrong_type(prop, "a whole number", problems);
                None
            }),
            _ => {
                self.wrong_type(prop, "a whole number", problems);
                None
            }
        }
    }

    /// A boolean member.
    pub fn bool(&self, key: &str, problems: &mut Vec<Problem>) -> Option<bool> {
        let prop = self.prop(key)?;
        match &prop.value {
            Value::BooleanLit(b) => Some(b.value),
            _ => {
                self.wrong_type(prop, "true or false", problems);
                None
            }
        }
    }

    /// An object member.
    pub fn obj(&self, key: &str, problems: &mut Vec<Problem>) -> Option<Obj<'a, 'b>> {
        let prop = self.prop(key)?;
        match &prop.value {
            Value::Object(o) => Some(Obj::new(o, self.file, self.code)),
            _ => {
                self.wrong_type(prop, "an object", problems);
                None
            }
        }
    }

    /// An array member.
    pub fn array(&self, key: &str, problems: &mut Vec<Problem>) -> Option<&'b Array<'a>> {
        let prop = self.prop(key)?;
        match &prop.value {
            Value::Array(a) => Some(a),
            _ => {
                self.wrong_type(prop, "an array", problems);
                None
            }
        }
    }

    /// The members of this object as (name, value, span of the property).
    pub fn entries(&self) -> impl Iterator<Item = (&'b str, &'b Value<'a>, Span)> {
        let file = self.file;
        self.object.properties.iter().map(move |p| (p.name.as_str(), &p.value, span_of(file, p)))
    }
}

fn type_max<T: TryFrom<u64>>() -> u64 {
    // The largest u64 that fits T, found by halving; T is a small unsigned type here.
    let mut max = u64::MAX;
    while T::try_from(max).is_err() {
        max >>= 1;
    }
    max
}

/// The objects of a top-level JSON array (or a single object, as `docker inspect` of one
/// object piped through some tools prints), with a problem for any other element.
pub fn top_level_objects<'a, 'b>(
    value: &'b Value<'a>,
    file: FileId,
    code: &'static str,
    problems: &mut Vec<Problem>,
) -> Vec<Obj<'a, 'b>> {
    match value {
        Value::Array(array) => array
            .elements
            .iter()
            .filter_map(|element| match element {
                Value::Object(o) => Some(Obj::new(o, file, code)),
                other => {
                    problems.push(
                        Problem::error(
                            code,
                            span_of(file, other),
                            "array element is not an object",
                        )
                        .with_help("expected a JSON array of objects"),
                    );
                    None
                }
            })
            .collect(),
        Value::Object(o) => vec![Obj::new(o, file, code)],
        other => {
            problems.push(
                Problem::error(
                    code,
                    span_of(file, other),
                    "top-level value is not an array or object",
                )
                .with_help("expected a JSON array of objects"),
            );
            Vec::new()
        }
    }
}

/// A string element of an array, or `None` for anything else.
pub fn as_str<'b>(value: &'b Value<'_>) -> Option<&'b str> {
    match value {
        Value::StringLit(s) => Some(&s.value),
        _ => None,
    }
}

/// What a JSON value is, for a message: a number as written, or its kind.
fn found(value: &Value<'_>, quote: bool) -> String {
    match value {
        Value::NumberLit(_) | Value::StringLit(_) if !quote => "a value of another type".into(),
        Value::NumberLit(n) => format!("`{}`", printable(n.value)),
        Value::StringLit(s) => format!("the string `{}`", printable(&s.value)),
        Value::BooleanLit(b) => format!("`{}`", b.value),
        Value::Object(_) => "an object".into(),
        Value::Array(_) => "an array".into(),
        Value::NullKeyword(_) => "`null`".into(),
    }
}
