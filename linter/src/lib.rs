//! netlint: lints the network configuration of a Linux host that runs VMs and containers.
//!
//! Data flows one way, and each module owns one step (see ARCHITECTURE.md):
//! `discover` reads and classifies the files of a host dump, `parse` turns each format into
//! raw records with spans, `lower` builds the one `model`, `analysis` derives facts from it,
//! `engine` evaluates the declarative rules over those facts, `diag` turns findings into
//! miette diagnostics and `output` renders them. Only `discover` and the binary touch the
//! file system.

pub mod analysis;
pub mod diag;
pub mod discover;
pub mod engine;
pub mod lower;
pub mod model;
pub mod output;
pub mod parse;
pub mod problem;
pub mod source;

/// Runs everything after discovery: parse, lower, analyse, evaluate the rules.
pub fn lint(dump: &discover::Dump, rules: &engine::RuleSet) -> Report {
    let parsed = parse::parse_dump(dump);
    let (model, mut problems) = lower::lower(dump, parsed);
    let facts = analysis::derive_all(&model);
    let evaluation = engine::evaluate(rules, &facts, &model.coverage);
    problems.sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
    Report {
        findings: evaluation.findings,
        skipped_rules: evaluation.skipped,
        rule_errors: evaluation.rule_errors,
        problems,
        model,
    }
}

/// Everything one run found: findings about the host, problems with the input, and the
/// model they were read from (kept for coverage and for rendering spans).
pub struct Report {
    /// Findings about the host, sorted by file, line and rule id.
    pub findings: Vec<engine::Finding>,
    /// Rules that could not run, with the reason.
    pub skipped_rules: Vec<engine::SkippedRule>,
    /// Rules whose expressions failed at run time.
    pub rule_errors: Vec<String>,
    /// What could not be read, or was read with doubt.
    pub problems: Vec<problem::Problem>,
    /// The model of the host.
    pub model: model::Model,
}
