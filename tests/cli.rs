//! CLI tests: the real binary on real dumps. Each case is a command line, its full output
//! and its exit code, snapshotted together.

mod common;

use std::process::Command;

/// Runs netlint from the repository root with a fixed width and no colour.
fn run(args: &[&str]) -> (i32, String, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_netlint"))
        .args(args)
        .current_dir(common::root())
        .env("COLUMNS", "80")
        .env("NO_COLOR", "1")
        .env_remove("NETLINT_LOG")
        .output()
        .expect("the netlint binary runs");
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    (output.status.code().unwrap_or(-1), stdout, stderr)
}

fn snapshot(name: &str, args: &[&str]) -> i32 {
    let (code, stdout, stderr) = run(args);
    let text = format!(
        "$ netlint {}\nexit: {code}\n--- stdout\n{stdout}--- stderr\n{stderr}",
        args.join(" ")
    );
    common::with_snapshots(|| insta::assert_snapshot!(name.to_string(), text));
    code
}

#[test]
fn every_format_on_the_netns_lab() {
    for format in ["human", "short", "json"] {
        let code =
            snapshot(&format!("netns_lab_{format}"), &["examples/netns-lab", "--format", format]);
        assert_eq!(code, 1, "errors were found, so the run fails");
    }
}

#[test]
fn json_locations_are_dump_relative_and_one_based() {
    let (_, stdout, _) = run(&["examples/libvirt-double-nat", "--format", "json"]);
    let json: serde_json::Value = serde_json::from_str(&stdout).expect("valid JSON");
    let diagnostics = json["diagnostics"].as_array().expect("diagnostics array");
    assert!(!diagnostics.is_empty());
    for d in diagnostics {
        for key in ["rule", "name", "category", "severity", "message"] {
            assert!(d[key].is_string(), "{key} missing in {d}");
        }
        let file = d["location"]["file"].as_str().expect("file");
        assert!(!file.starts_with('/'), "absolute path {file}");
        assert!(d["location"]["line"].as_u64().expect("line") >= 1);
        assert!(d["location"]["column"].as_u64().expect("column") >= 1);
    }
}

#[test]
fn clean_dump_exits_zero_with_no_finding() {
    let code = snapshot("clean_human", &["examples/clean"]);
    assert_eq!(code, 0);
}

#[test]
fn warnings_fail_only_when_asked() {
    let (code, _, _) = run(&["examples/netns-lab", "--select", "NL031"]);
    assert_eq!(code, 0, "a warning alone passes by default");
    let (code, _, _) = run(&[
        "examples/netns-lab",
        "--select",
        "veth-peers-disagree-on-mtu",
        "--fail-on",
        "warning",
    ]);
    assert_eq!(code, 1, "--fail-on warning fails on a warning; rules are named by code or name");
}

#[test]
fn usage_errors_exit_two() {
    assert_eq!(snapshot("missing_path", &["does/not/exist"]), 2);
    assert_eq!(snapshot("unknown_rule", &["examples/clean", "--select", "NL999"]), 2);
    assert_eq!(run(&["examples/clean", "--format", "xml"]).0, 2);
}

#[test]
fn an_empty_dump_is_an_input_error_not_a_pass() {
    let dir = std::env::temp_dir().join(format!("netlint-empty-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("notes.txt"), "nothing a network tool printed\n").unwrap();
    let (code, stdout, stderr) = run(&[dir.to_str().unwrap()]);
    assert_eq!(code, 3, "stdout: {stdout}\nstderr: {stderr}");
    assert!(stdout.contains("no recognised input"), "{stdout}");
    assert!(stdout.contains("notes.txt: content not recognised"), "{stdout}");
    for format in ["short", "json"] {
        let (code, stdout, _) = run(&[dir.to_str().unwrap(), "--format", format]);
        assert_eq!(code, 3, "{format}");
        assert!(stdout.contains("netlint::discover::empty"), "{format}: {stdout}");
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn user_rules_are_added_and_bad_ones_rejected() {
    let dir = std::env::temp_dir().join(format!("netlint-rules-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let good = std::fs::read_to_string(
        common::root().join("rules/mtu-mismatch/veth-peers-disagree-on-mtu.toml"),
    )
    .unwrap()
    .replace("NL031", "NL901")
    .replace("veth-peers-disagree-on-mtu", "my-veth-rule");
    std::fs::write(dir.join("my-veth-rule.toml"), &good).unwrap();
    let (code, stdout, _) = run(&[
        "examples/netns-lab",
        "--rules",
        dir.to_str().unwrap(),
        "--select",
        "NL901",
        "--format",
        "short",
    ]);
    assert_eq!(code, 0);
    assert!(stdout.contains("[NL901 my-veth-rule]"), "{stdout}");

    std::fs::write(
        dir.join("bad.toml"),
        good.replace("NL901", "NL902")
            .replace("my-veth-rule", "x")
            .replace("fact = \"veth_pair\"", "fact = \"veth_pairs\"\ncolour = 1"),
    )
    .unwrap();
    let (code, _, stderr) = run(&["examples/netns-lab", "--rules", dir.to_str().unwrap()]);
    std::fs::remove_dir_all(&dir).unwrap();
    assert_eq!(code, 2);
    assert!(stderr.contains("unknown field `colour`"), "{stderr}");
}
