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
    // Lowering adds notes of its own (an unmodelled option per line): the cap holds for all.
    problem::cap_per_file(&mut problems);
    problems.sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));

    let mut run_errors = Vec::new();
    if dump.files.is_empty() {
        run_errors.push(RunError {
            code: "netlint::discover::empty",
            message: format!(
                "no recognised input in `{}`: nothing was linted",
                source::printable(&dump.root.to_string_lossy())
            ),
            help: "a dump holds the output of `ip -j -d link`, `ip -j addr`, `iptables-save`, \
                   `ss -lntuH`, `docker inspect` or `virsh dumpxml`; see README, \"Making a dump\""
                .into(),
        });
    }
    run_errors.extend(evaluation.rule_errors.into_iter().map(|message| {
        RunError {
            code: "netlint::rules::eval",
            // It quotes the rule's path and the fact's key, from the user and the dump.
            message: source::printable_path(&message),
            help: "the rule's expression failed on a fact: fix the rule file, or report it if it \
               is a shipped rule"
                .into(),
        }
    }));
    Report {
        findings: evaluation.findings,
        skipped_rules: evaluation.skipped,
        run_errors,
        problems,
        model,
    }
}

/// Something that went wrong with the run as a whole, not with one file of the dump: an
/// empty or unrecognised dump, or a rule whose expression failed.
#[derive(Clone, Debug)]
pub struct RunError {
    /// Stable code: `netlint::discover::empty` or `netlint::rules::eval`.
    pub code: &'static str,
    /// What went wrong.
    pub message: String,
    /// What to do.
    pub help: String,
}

impl RunError {
    /// Whether the error is a rule's (exit 2) rather than the input's (exit 3).
    pub fn is_rule_error(&self) -> bool {
        self.code.starts_with("netlint::rules")
    }
}

/// Everything one run found: findings about the host, problems with the input, and the
/// model they were read from (kept for coverage and for rendering spans).
pub struct Report {
    /// Findings about the host, sorted by file, line and rule id.
    pub findings: Vec<engine::Finding>,
    /// Rules that could not run, with the reason.
    pub skipped_rules: Vec<engine::SkippedRule>,
    /// What went wrong with the run as a whole.
    pub run_errors: Vec<RunError>,
    /// What could not be read, or was read with doubt.
    pub problems: Vec<problem::Problem>,
    /// The model of the host.
    pub model: model::Model,
}
