//! The rule engine: loads declarative rules and evaluates them over derived facts.
//!
//! A rule is one TOML file (see `rules/` and ARCHITECTURE.md). Its `when` condition and the
//! `{…}` placeholders of its message, help and labels are CEL expressions over the fields
//! of one kind of fact; all of them are compiled once, when the rule is loaded. Evaluating
//! a rule yields [`Finding`]s: data, never text for the terminal, which is `diag`'s job.
//! The engine does no IO: rule files reach it as text.

mod check;
mod rule;
mod template;

pub use rule::{
    Category, Example, LabelSpec, Rule, RuleError, RuleFile, RuleSet, Severity, Status,
};

use crate::analysis::{Fact, Facts};
use crate::model::Coverage;
use crate::source::Span;

/// One finding about the host.
#[derive(Clone, Debug)]
pub struct Finding {
    /// Index of the rule in the [`RuleSet`].
    pub rule: usize,
    /// Severity (the rule's default, or as configured).
    pub severity: Severity,
    /// The rendered message.
    pub message: String,
    /// The rendered help.
    pub help: String,
    /// Labels: where, and why there. The first is the primary location.
    pub labels: Vec<(Span, String)>,
    /// Identity of what the finding is about (the fact's key).
    pub key: String,
    /// The fact's fields, for machine formats.
    pub fact: serde_json::Value,
}

impl Finding {
    /// The primary location.
    pub fn primary(&self) -> Option<Span> {
        self.labels.first().map(|(span, _)| *span)
    }
}

/// A rule that did not run, and why.
#[derive(Clone, Debug)]
pub struct SkippedRule {
    /// Index of the rule.
    pub rule: usize,
    /// Why, for the coverage summary.
    pub reason: String,
}

/// The result of evaluating every rule.
#[derive(Debug, Default)]
pub struct Evaluation {
    /// Findings, sorted by location and rule id.
    pub findings: Vec<Finding>,
    /// Rules that did not run.
    pub skipped: Vec<SkippedRule>,
    /// Rules whose expressions failed at run time (a bug in the rule).
    pub rule_errors: Vec<String>,
}

/// Evaluates every enabled rule over the facts of its kind.
pub fn evaluate(rules: &RuleSet, facts: &Facts, coverage: &Coverage) -> Evaluation {
    let mut evaluation = Evaluation::default();
    for (idx, rule) in rules.rules.iter().enumerate() {
        if !rule.enabled {
            continue;
        }
        let missing: Vec<String> = rule
            .requires
            .iter()
            .filter(|any_of| !any_of.iter().any(|i| coverage.inputs.contains(i)))
            .map(|any_of| {
                let names: Vec<String> =
                    any_of.iter().map(|i| format!("`{}`", i.command())).collect();
                format!("no {} output", names.join(" or "))
            })
            .collect();
        if !missing.is_empty() {
            evaluation.skipped.push(SkippedRule { rule: idx, reason: missing.join("; ") });
            tracing::debug!(rule = %rule.file.id, "skipped: missing input");
            continue;
        }
        let _span = tracing::trace_span!("rule", id = %rule.file.id).entered();
        let empty = Vec::new();
        let root = root_context();
        for fact in facts.get(rule.file.fact.as_str()).unwrap_or(&empty) {
            match rule.check(&root, fact) {
                Ok(Some(finding)) => evaluation.findings.push(Finding { rule: idx, ..finding }),
                Ok(None) => {}
                Err(err) => {
                    evaluation.rule_errors.push(format!(
                        "rule {} ({}) in `{}` failed on fact `{}`: {err}",
                        rule.file.id, rule.file.name, rule.path, fact.key
                    ));
                    break;
                }
            }
        }
    }
    evaluation.findings.sort_by(|a, b| {
        (a.primary(), &rules.rules[a.rule].file.id, &a.key).cmp(&(
            b.primary(),
            &rules.rules[b.rule].file.id,
            &b.key,
        ))
    });
    evaluation
}

/// The context every expression runs in: CEL's standard library plus `list.join(sep)`
/// from CEL's strings extension, which templates need to print lists.
pub fn root_context() -> cel::Context<'static, 'static> {
    let mut ctx = cel::Context::default();
    ctx.add_function(
        "join",
        |cel::extractors::This(list): cel::extractors::This<std::sync::Arc<Vec<cel::Value>>>,
         sep: std::sync::Arc<String>| {
            list.iter()
                .map(|v| match v {
                    cel::Value::String(s) => s.to_string(),
                    other => format!("{other:?}"),
                })
                .collect::<Vec<_>>()
                .join(sep.as_str())
        },
    )
    .expect("`join` is not in the standard library, so adding it cannot clash");
    ctx
}

/// A scope of `root` in which each field of a fact is a variable.
pub(crate) fn fact_scope<'a>(
    root: &'a cel::Context<'_, '_>,
    fact: &serde_json::Value,
) -> Result<cel::Context<'a, 'a>, String> {
    let mut ctx = root.new_inner_scope();
    if let serde_json::Value::Object(fields) = fact {
        for (key, value) in fields {
            let value = cel::to_value(value).map_err(|e| e.to_string())?;
            ctx.add_variable_from_value(key.as_str(), value);
        }
    }
    Ok(ctx)
}

impl Rule {
    /// Evaluates the rule over one fact.
    fn check(&self, root: &cel::Context<'_, '_>, fact: &Fact) -> Result<Option<Finding>, String> {
        let ctx = fact_scope(root, &fact.value)?;
        match self.when.execute(&ctx).map_err(|e| e.to_string())? {
            cel::Value::Bool(false) => return Ok(None),
            cel::Value::Bool(true) => {}
            other => return Err(format!("`when` gave {other:?}, not true or false")),
        }
        let mut labels = Vec::new();
        for (spec, text) in self.file.labels.iter().zip(&self.labels) {
            let text = text.render(&ctx)?;
            labels.extend(
                fact.anchors.iter().filter(|a| a.name == spec.at).map(|a| (a.span, text.clone())),
            );
        }
        if labels.is_empty() {
            labels.extend(fact.anchors.first().map(|a| (a.span, String::new())));
        }
        Ok(Some(Finding {
            rule: 0,
            severity: self.severity,
            message: self.message.render(&ctx)?,
            help: self.help.render(&ctx)?,
            labels,
            key: fact.key.clone(),
            fact: fact.value.clone(),
        }))
    }
}
