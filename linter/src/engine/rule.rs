//! The rule file format and loading. Unknown keys are errors; every doc key must be filled.

use miette::{NamedSource, SourceSpan};
use serde::{Deserialize, Serialize};

use super::check::unknown_fields;
use super::template::{Template, compile, display};
use super::{fact_scope, root_context};
use crate::analysis::{FACT_KINDS, fact_kind};
use crate::model::Input;
use crate::source::{Excerpt, MAX_LABEL, printable};

mod builtin {
    include!(concat!(env!("OUT_DIR"), "/builtin_rules.rs"));
}

/// How bad a finding is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Worth knowing; never fails a run.
    Info,
    /// Likely a fault.
    Warning,
    /// A fault: the run exits 1.
    Error,
}

impl Severity {
    /// Lowercase name.
    pub fn name(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Error => "error",
        }
    }
}

/// How proven a rule is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// New or noisy.
    Preview,
    /// Proven on real dumps.
    Stable,
}

/// The fault family a rule belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Category {
    /// A published port whose service listens on loopback only, or not at all.
    LoopbackBind,
    /// A workload behind two NAT layers.
    DoubleNat,
    /// Subnets the LAN cannot reach, or that collide with the host's routes.
    UnreachableRoute,
    /// MTUs that drop along a path.
    MtuMismatch,
}

impl Category {
    /// The kebab-case name.
    pub fn name(self) -> &'static str {
        match self {
            Category::LoopbackBind => "loopback-bind",
            Category::DoubleNat => "double-nat",
            Category::UnreachableRoute => "unreachable-route",
            Category::MtuMismatch => "mtu-mismatch",
        }
    }
}

/// A label of a rule: which anchor of the fact, and the text under it.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct LabelSpec {
    /// Anchor name.
    pub at: String,
    /// Text (a template).
    pub text: String,
}

/// An example dump of a rule: one where it must fire, or one where it must stay silent.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Example {
    /// A dump where the rule fires.
    pub fires: Option<String>,
    /// A dump where the rule stays silent.
    pub silent: Option<String>,
}

/// A rule file as written. Keep this key order in every file.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RuleFile {
    /// Short code, such as `NL001`; assigned once, never reused.
    pub id: String,
    /// Kebab-case name of the fault.
    pub name: String,
    /// Fault family.
    pub category: Category,
    /// Default severity.
    pub severity: Severity,
    /// preview or stable.
    pub status: Status,
    /// One line: what the rule finds.
    pub summary: String,
    /// Kind of fact the rule reads.
    pub fact: String,
    /// Inputs without which the rule cannot run; `a|b` is met by either.
    #[serde(default)]
    pub requires: Vec<String>,
    /// CEL condition over the fact's fields.
    pub when: String,
    /// Message template: what is wrong, with real values.
    pub message: String,
    /// Help template: what to do.
    pub help: String,
    /// Labels: where, and why there.
    pub labels: Vec<LabelSpec>,
    /// How the fault hurts in production.
    pub why: String,
    /// What the rule cannot see.
    pub known_gaps: String,
    /// Dumps that make it fire and dumps that must stay silent.
    pub examples: Vec<Example>,
}

/// A loaded rule with its compiled expressions.
#[derive(Debug)]
pub struct Rule {
    /// The file as written.
    pub file: RuleFile,
    /// Where it came from (`rules/…` for shipped rules).
    pub path: String,
    /// Severity in force.
    pub severity: Severity,
    /// Whether it runs.
    pub enabled: bool,
    /// Inputs it needs: every entry, each met by any one of its inputs.
    pub requires: Vec<Vec<Input>>,
    pub(super) when: cel::Program,
    pub(super) message: Template,
    pub(super) help: Template,
    pub(super) labels: Vec<Template>,
}

/// The rules of a run.
#[derive(Debug, Default)]
pub struct RuleSet {
    /// Rules, sorted by id.
    pub rules: Vec<Rule>,
}

/// A rule file that cannot be used.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
#[error("rule file `{path}`: {message}")]
#[diagnostic(code(netlint::rules))]
pub struct RuleError {
    /// The file.
    pub path: String,
    /// What is wrong.
    pub message: String,
    /// The file's text, made visible and cut around long lines.
    #[source_code]
    pub src: NamedSource<Excerpt>,
    /// Where.
    #[label("here")]
    pub span: Option<SourceSpan>,
    /// What was expected.
    #[help]
    pub help: Option<String>,
}

impl RuleSet {
    /// The rules shipped with netlint.
    pub fn builtin() -> Result<RuleSet, Vec<RuleError>> {
        RuleSet::load(RuleSet::builtin_files())
    }

    /// Loads rules from (path, text) pairs; every bad file is reported, not only the first.
    pub fn load(
        files: impl IntoIterator<Item = (String, String)>,
    ) -> Result<RuleSet, Vec<RuleError>> {
        let mut rules: Vec<Rule> = Vec::new();
        let mut errors = Vec::new();
        for (path, text) in files {
            match Rule::load(&path, &text) {
                Ok(rule) => rules.push(rule),
                Err(err) => errors.push(*err),
            }
        }
        rules.sort_by(|a, b| a.file.id.cmp(&b.file.id));
        let mut seen: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
        for (idx, rule) in rules.iter().enumerate() {
            for key in [rule.file.id.to_ascii_uppercase(), rule.file.name.clone()] {
                let Some(&first) = seen.get(&key) else {
                    seen.insert(key, idx);
                    continue;
                };
                let first = &rules[first];
                errors.push(RuleError {
                    path: rule.path.clone(),
                    message: format!(
                        "rule `{}` ({}) takes the {} `{key}` of `{}`",
                        rule.file.id,
                        rule.file.name,
                        if key == rule.file.name { "name" } else { "id" },
                        first.path
                    ),
                    src: NamedSource::new(printable(&rule.path), Excerpt::of("")),
                    span: None,
                    help: Some("rule ids and names are unique; pick an unused one".into()),
                });
            }
        }
        if errors.is_empty() { Ok(RuleSet { rules }) } else { Err(errors) }
    }

    /// The shipped rule files as (path, text), to load together with a user's own.
    pub fn builtin_files() -> impl Iterator<Item = (String, String)> {
        builtin::BUILTIN.iter().map(|(path, text)| (path.to_string(), text.to_string()))
    }

    /// The rule with this id or name.
    pub fn find(&self, id_or_name: &str) -> Option<usize> {
        self.rules
            .iter()
            .position(|r| r.file.id.eq_ignore_ascii_case(id_or_name) || r.file.name == id_or_name)
    }
}

impl Rule {
    fn load(path: &str, text: &str) -> Result<Rule, Box<RuleError>> {
        let src = Excerpt::of(text);
        let error =
            |message: String, span: Option<std::ops::Range<usize>>, help: Option<String>| {
                Box::new(RuleError {
                    path: printable(path),
                    message,
                    src: NamedSource::new(printable(path), src.clone()),
                    span: span.map(|r| SourceSpan::from(r.start..r.end.min(r.start + MAX_LABEL))),
                    help,
                })
            };
        let file: RuleFile = toml::from_str(text).map_err(|e| {
            error(
                e.message().to_string(),
                e.span(),
                Some("see ARCHITECTURE.md: the rule file format".into()),
            )
        })?;
        let key_span = |key: &str| key_range(text, key);

        let id_ok = file.id.len() == 5
            && file.id.starts_with("NL")
            && file.id[2..].chars().all(|c| c.is_ascii_digit());
        if !id_ok {
            return Err(error(
                format!("id `{}` is not of the form NL000", printable(&file.id)),
                key_span("id"),
                None,
            ));
        }
        let kebab = !file.name.is_empty()
            && file.name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
        if !kebab {
            return Err(error(
                format!("name `{}` is not kebab-case", printable(&file.name)),
                key_span("name"),
                None,
            ));
        }
        let Some(kind) = fact_kind(&file.fact) else {
            let names: Vec<&str> = FACT_KINDS.iter().map(|k| k.name).collect();
            return Err(error(
                format!("unknown fact `{}`", printable(&file.fact)),
                key_span("fact"),
                Some(format!("expected one of: {}", names.join(", "))),
            ));
        };
        for (key, value) in [
            ("summary", &file.summary),
            ("why", &file.why),
            ("known_gaps", &file.known_gaps),
            ("help", &file.help),
        ] {
            if value.trim().is_empty() {
                return Err(error(
                    format!("`{key}` is empty"),
                    key_span(key),
                    Some("every doc key is filled in".into()),
                ));
            }
        }
        let mut requires = Vec::new();
        for entry in &file.requires {
            let any_of = entry
                .split('|')
                .map(|name| {
                    Input::from_name(name.trim()).ok_or_else(|| {
                        error(
                            format!("unknown input `{}` in `requires`", printable(name.trim())),
                            key_span("requires"),
                            Some(
                                "expected links, addresses, routes, sockets, firewall, docker or \
                                 libvirt; `a|b` for either"
                                    .into(),
                            ),
                        )
                    })
                })
                .collect::<Result<Vec<_>, _>>()?;
            requires.push(any_of);
        }
        for label in &file.labels {
            if !kind.anchors.contains(&label.at.as_str()) {
                return Err(error(
                    format!(
                        "label `at = \"{}\"` names no anchor of fact `{}`",
                        label.at, kind.name
                    ),
                    quoted_range(text, &label.at).or_else(|| key_span("labels")),
                    Some(format!("expected one of: {}", kind.anchors.join(", "))),
                ));
            }
        }
        let when = compile(&file.when)
            .map_err(|e| error(format!("`when`: {e}"), key_span("when"), None))?;
        let template = |key: &str, text: &str| {
            Template::compile(text).map_err(|e| error(format!("`{key}`: {e}"), key_span(key), None))
        };
        let message = template("message", &file.message)?;
        let help = template("help", &file.help)?;
        let labels = file
            .labels
            .iter()
            .map(|l| template("labels", &l.text))
            .collect::<Result<Vec<_>, _>>()?;

        let sample = (kind.sample)();
        let expressions = std::iter::once(("when", &when))
            .chain(message.programs().map(|p| ("message", p)))
            .chain(help.programs().map(|p| ("help", p)))
            .chain(labels.iter().flat_map(|l| l.programs().map(|p| ("labels", p))));
        for (key, program) in expressions {
            let line = key_span(key);
            let unknown = unknown_fields(program.expression(), &sample);
            if let Some(first) = unknown.first() {
                // The first use at or after the key's line: a label's template sits below
                // the `labels = [` line.
                let at = line.clone().and_then(|range| {
                    let start = range.start + text.get(range.start..)?.find(first.as_str())?;
                    Some(start..start + first.len())
                });
                let parent = first.rsplit_once('.').map_or("", |(parent, _)| parent);
                let what =
                    if parent.is_empty() { kind.name.to_string() } else { parent.to_string() };
                return Err(error(
                    format!("`{key}` reads `{first}`, which fact `{}` does not have", kind.name),
                    at.or(line),
                    Some(format!("the fields of `{what}` are: {}", fields_at(&sample, parent))),
                ));
            }
            match run_on_sample(program, &sample) {
                Err(err) if is_type_error(&err) => {
                    return Err(error(
                        format!("`{key}` cannot be evaluated on fact `{}`: {err}", kind.name),
                        line,
                        Some("compare values of the same type: numbers with numbers, strings with strings".into()),
                    ));
                }
                Ok(value) if key == "when" && !matches!(value, cel::Value::Bool(_)) => {
                    return Err(error(
                        format!("`when` gives `{}`, not true or false", display(&value)),
                        line,
                        Some("a condition compares, for example `a.mtu != b.mtu`".into()),
                    ));
                }
                _ => {}
            }
        }

        Ok(Rule {
            severity: file.severity,
            enabled: true,
            requires,
            when,
            message,
            help,
            labels,
            path: path.to_string(),
            file,
        })
    }
}

/// Evaluates a program with the sample's fields (every one present, each empty) as
/// variables.
fn run_on_sample(
    program: &cel::Program,
    sample: &serde_json::Value,
) -> Result<cel::Value, cel::ExecutionError> {
    let root = root_context();
    let ctx = fact_scope(&root, sample).map_err(cel::ExecutionError::InternalError)?;
    program.execute(&ctx)
}

/// Whether an error on the sample comes from the types of the fields, and so would come on
/// every fact, rather than from their empty values (an empty list, a key of an empty
/// string in a map), which real facts fill in.
fn is_type_error(err: &cel::ExecutionError) -> bool {
    use cel::ExecutionError as E;
    !matches!(
        err,
        E::NoSuchKey(_)
            | E::FunctionError { .. }
            | E::DivisionByZero(_)
            | E::RemainderByZero(_)
            | E::Overflow(..)
            | E::IndexOutOfBounds(_)
            | E::DuplicateKey(_)
            | E::InternalError(_)
    )
}

/// The field names of the object at `path` in the sample (`""` for the fact itself).
fn fields_at(sample: &serde_json::Value, path: &str) -> String {
    let mut value = sample;
    for field in path.split('.').filter(|f| !f.is_empty()) {
        value = value.get(field).unwrap_or(&serde_json::Value::Null);
    }
    match value {
        serde_json::Value::Object(map) => map.keys().cloned().collect::<Vec<_>>().join(", "),
        _ => String::new(),
    }
}

/// The byte range of the first `"value"` in the text, quotes included.
fn quoted_range(text: &str, value: &str) -> Option<std::ops::Range<usize>> {
    let quoted = format!("\"{value}\"");
    text.find(&quoted).map(|start| start..start + quoted.len())
}

/// The byte range of the line that sets `key`, for error labels.
fn key_range(text: &str, key: &str) -> Option<std::ops::Range<usize>> {
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        if line.trim_start().starts_with(key) && line.contains('=') {
            return Some(offset..offset + line.trim_end().len());
        }
        offset += line.len();
    }
    None
}
