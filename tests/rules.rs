//! Walks `rules/`: every rule file loads with its doc keys filled, each of its examples
//! runs (it must fire on `fires` dumps and stay silent on `silent` ones), and the full
//! output of every example dump is snapshotted. Adding a rule needs no new test here.

mod common;

use netlint::engine::Severity;
use netlint::output::Format;

#[test]
fn every_rule_fires_and_stays_silent_on_its_examples() {
    let rules = common::rules();
    assert!(rules.rules.len() >= 11, "expected the shipped rules, got {}", rules.rules.len());
    let mut failures = Vec::new();
    for rule in &rules.rules {
        let file = &rule.file;
        let fires: Vec<_> = file.examples.iter().filter_map(|e| e.fires.as_deref()).collect();
        let silent: Vec<_> = file.examples.iter().filter_map(|e| e.silent.as_deref()).collect();
        if fires.is_empty() || silent.is_empty() {
            failures.push(format!("{}: needs a `fires` and a `silent` example", file.id));
        }
        for example in fires.iter().chain(&silent) {
            if !common::exists(example) {
                failures.push(format!("{}: example `{example}` does not exist", file.id));
                continue;
            }
            let (_, report) = common::lint(example, &rules);
            let n =
                report.findings.iter().filter(|f| rules.rules[f.rule].file.id == file.id).count();
            let should_fire = fires.contains(example);
            // Silence proves nothing when the rule did not run for lack of input.
            if report.skipped_rules.iter().any(|s| rules.rules[s.rule].file.id == file.id) {
                failures.push(format!(
                    "{} was skipped on {example}: the example lacks its input",
                    file.id
                ));
            }
            if should_fire && n == 0 {
                failures.push(format!("{} did not fire on {example}", file.id));
            }
            if !should_fire && n > 0 {
                failures.push(format!(
                    "{} fired {n} times on {example}, which must stay silent",
                    file.id
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn rule_files_follow_the_house_style() {
    let rules = common::rules();
    for rule in &rules.rules {
        let file = &rule.file;
        let path = &rule.path;
        let dir = std::path::Path::new(path)
            .parent()
            .and_then(|p| p.file_name())
            .map(|n| n.to_string_lossy().into_owned());
        assert_eq!(
            dir.as_deref(),
            Some(file.category.name()),
            "{path}: a rule lives in rules/<category>/"
        );
        assert!(
            path.ends_with(&format!("{}.toml", file.name)),
            "{path}: the file is named after the rule"
        );
        assert!(
            !file.name.starts_with("no-") && !file.name.starts_with("bad-"),
            "{path}: name the fault"
        );
        let first = file.message.chars().next().unwrap_or(' ');
        assert!(!first.is_uppercase(), "{path}: messages start lowercase");
        assert!(!file.message.ends_with('.'), "{path}: messages have no trailing period");
        assert!(!file.labels.is_empty(), "{path}: a rule labels where its finding is");
    }
}

#[test]
fn example_dumps_snapshot() {
    let rules = common::rules();
    common::with_snapshots(|| {
        for example in common::examples() {
            let (dump, report) = common::lint(&format!("examples/{example}"), &rules);
            let human = common::render(Format::Human, &dump, &report, &rules, false);
            insta::assert_snapshot!(format!("example_{example}"), human);
        }
    });
}

#[test]
fn clean_example_is_silent_and_exits_zero_worthy() {
    let rules = common::rules();
    let (dump, report) = common::lint("examples/clean", &rules);
    assert!(report.findings.is_empty(), "clean dump produced findings");
    assert!(report.problems.iter().all(|p| !p.is_error()), "clean dump has input errors");
    assert!(dump.files.len() >= 10, "clean dump should be read in full, read {}", dump.files.len());
    let skipped: Vec<_> =
        report.skipped_rules.iter().map(|s| &rules.rules[s.rule].file.id).collect();
    assert!(
        skipped.is_empty(),
        "every rule's input must be in the clean dump; skipped: {skipped:?}"
    );
}

#[test]
fn findings_never_print_environment_values() {
    let rules = common::rules();
    let (dump, report) = common::lint("examples/docker-lab", &rules);
    let text =
        std::fs::read_to_string(common::root().join("examples/docker-lab/docker-inspect.json"))
            .unwrap();
    assert!(text.contains("hunter2-secret"), "the fixture carries a secret to test redaction");
    for format in [Format::Human, Format::Short, Format::Json] {
        let out = common::render(format, &dump, &report, &rules, true);
        assert!(!out.contains("hunter2"), "{format:?} output leaked an environment value");
    }
    assert!(report.findings.iter().any(|f| f.severity == Severity::Error));
}

/// NL024's two other branches, on the real c5 of `netns-lab` with its routes edited: with no
/// default route the replies have no way back at all; with a route in a table of its own,
/// source-based routing may send them back the right way, so the rule stays silent.
#[test]
fn return_path_without_a_route_and_with_policy_routing() {
    let rules = common::rules();
    let nl024 = |scratch: &common::Scratch| -> Vec<String> {
        let dump = netlint::discover::discover(&scratch.root(), Default::default()).unwrap();
        let report = netlint::lint(&dump, &rules);
        report
            .findings
            .iter()
            .filter(|f| rules.rules[f.rule].file.id == "NL024")
            .map(|f| f.message.clone())
            .collect()
    };
    let routes = |scratch: &common::Scratch, edit: &dyn Fn(&mut Vec<serde_json::Value>)| {
        scratch.edit("c5/ip-j-route.json", |text| {
            let mut routes: Vec<serde_json::Value> = serde_json::from_str(&text).unwrap();
            edit(&mut routes);
            serde_json::to_string(&routes).unwrap()
        });
    };

    let no_default = common::Scratch::example("netns-lab");
    routes(&no_default, &|r| r.retain(|route| route["dst"] != "default"));
    assert_eq!(
        nl024(&no_default),
        ["tcp port 8083 is forwarded to `c5` at 10.88.0.15:80 on `eth0`, but it has no route \
          back to clients beyond its own subnets"]
    );

    let policy = common::Scratch::example("netns-lab");
    routes(&policy, &|r| {
        r.push(serde_json::json!({"dst": "default", "gateway": "10.88.0.1", "dev": "eth0",
                                  "table": "100", "flags": []}));
    });
    assert_eq!(nl024(&policy), Vec::<String>::new());
}
