//! Shared test helpers: where snapshots live, and one way to lint and render a dump.

#![allow(dead_code, reason = "each test binary uses a different part of this module")]

use std::path::{Path, PathBuf};

use netlint::Report;
use netlint::discover::{Dump, Limits, discover};
use netlint::engine::RuleSet;
use netlint::output::{self, RenderContext};

/// The repository root.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Runs `f` with insta writing to `snapshots/` and with per-machine values redacted.
pub fn with_snapshots(f: impl FnOnce()) {
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path(root().join("snapshots"));
    settings.set_prepend_module_to_snapshot(true);
    settings.add_filter(&regex_escape(&root().display().to_string()), "[ROOT]");
    settings.bind(f);
}

/// Escapes `text` for use as a literal in an insta filter (a regex).
pub fn regex_escape(text: &str) -> String {
    text.chars()
        .flat_map(|c| if "\\.+*?()|[]{}^$".contains(c) { vec!['\\', c] } else { vec![c] })
        .collect()
}

/// The shipped rules.
pub fn rules() -> RuleSet {
    RuleSet::builtin().unwrap_or_else(|errors| panic!("shipped rules must load: {errors:?}"))
}

/// Discovers and lints a dump given relative to the repository root.
pub fn lint(rel: &str, rules: &RuleSet) -> (Dump, Report) {
    let dump = discover(&root().join(rel), Limits::default()).expect("example dumps exist");
    let report = netlint::lint(&dump, rules);
    (dump, report)
}

/// Renders a report as snapshots show it: no colour, width 80.
pub fn render(
    format: output::Format,
    dump: &Dump,
    report: &Report,
    rules: &RuleSet,
    verbose: bool,
) -> String {
    let ctx = RenderContext { dump, rules, verbose, width: 80, color: false };
    output::render(format, report, &ctx)
}

/// The names of the example dumps.
pub fn examples() -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(root().join("examples"))
        .expect("examples/ exists")
        .filter_map(|e| e.ok())
        .filter(|e| e.path().is_dir())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// Whether a path exists relative to the root.
pub fn exists(rel: &str) -> bool {
    Path::new(&root().join(rel)).exists()
}
