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

/// The name of the dump folder inside each scratch folder; netlint is run from the scratch
/// folder with this relative path, so no temporary path reaches the output.
pub const DUMP: &str = "dump";

/// A dump under construction in a temporary folder.
pub struct Scratch {
    /// The scratch folder; the dump is its `DUMP` sub-folder.
    pub tmp: tempfile::TempDir,
}

impl Scratch {
    /// An empty dump.
    pub fn empty() -> Self {
        let tmp = tempfile::Builder::new()
            .prefix("netlint-bad-input-")
            .tempdir()
            .expect("a temporary folder");
        std::fs::create_dir(tmp.path().join(DUMP)).expect("scratch files are writable");
        Scratch { tmp }
    }

    /// A copy of `examples/<name>`, without its hidden capture notes.
    pub fn example(name: &str) -> Self {
        let scratch = Scratch::empty();
        copy_dir(&root().join("examples").join(name), &scratch.root());
        scratch
    }

    pub fn root(&self) -> PathBuf {
        self.tmp.path().join(DUMP)
    }

    pub fn path(&self, rel: &str) -> PathBuf {
        self.root().join(rel)
    }

    pub fn write(&self, rel: &str, bytes: impl AsRef<[u8]>) {
        let path = self.path(rel);
        std::fs::create_dir_all(path.parent().expect("scratch files are writable"))
            .expect("scratch files are writable");
        std::fs::write(path, bytes).expect("scratch files are writable");
    }

    pub fn read(&self, rel: &str) -> String {
        std::fs::read_to_string(self.path(rel)).expect("scratch files are writable")
    }

    pub fn edit(&self, rel: &str, f: impl FnOnce(String) -> String) {
        let text = f(self.read(rel));
        self.write(rel, text);
    }
}

pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("scratch files are writable");
    for entry in std::fs::read_dir(from).expect("scratch files are writable") {
        let entry = entry.expect("scratch files are writable");
        if entry.file_name().to_string_lossy().starts_with('.') {
            continue;
        }
        let target = to.join(entry.file_name());
        if entry.file_type().expect("scratch files are writable").is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).expect("scratch files are writable");
        }
    }
}
