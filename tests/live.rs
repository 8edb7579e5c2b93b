//! Live tests: recapture each example from real tools (netns lab, a real dockerd, virsh's
//! test driver) with the scripts in `tools/lab/`, lint the fresh dump, and require exactly the
//! findings of the committed example. This proves the committed dumps are what the tools
//! print today, and that the findings do not hang on per-run values.
//!
//! They need root, network namespaces and the lab's Debian packages. Without them, or with
//! `NETLINT_SKIP_LIVE=1`, they skip with a printed reason, unless `NETLINT_REQUIRE_LIVE=1`
//! (set by `.ci/run`), where a missing prerequisite fails the test. The scripts clean up
//! after themselves, also on failure.

mod common;

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::process::Command;
use std::sync::Mutex;

/// The labs share iptables backends and dockerd's global files: run one at a time.
static LAB: Mutex<()> = Mutex::new(());

fn missing_prerequisite(tools: &[&str]) -> Option<String> {
    if std::env::var("NETLINT_SKIP_LIVE").as_deref() == Ok("1") {
        return Some("NETLINT_SKIP_LIVE=1".into());
    }
    let uid = Command::new("id")
        .arg("-u")
        .output()
        .ok()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string());
    if uid.as_deref() != Some("0") {
        return Some("not running as root".into());
    }
    for tool in tools {
        let found = Command::new("sh")
            .args(["-c", &format!("command -v {tool}")])
            .output()
            .is_ok_and(|o| o.status.success());
        if !found {
            return Some(format!(
                "`{tool}` is not installed (tools/lab/install-deps.sh installs it)"
            ));
        }
    }
    None
}

#[expect(clippy::print_stderr, reason = "a skipped test says why")]
fn should_run(test: &str, tools: &[&str]) -> bool {
    let Some(reason) = missing_prerequisite(tools) else { return true };
    if std::env::var("NETLINT_REQUIRE_LIVE").as_deref() == Ok("1") {
        panic!("live test {test} cannot run, and NETLINT_REQUIRE_LIVE=1: {reason}");
    }
    eprintln!("skipping live test {test}: {reason}");
    false
}

/// The findings of a dump as `RULE key` lines.
fn findings(dump: &str) -> BTreeSet<String> {
    let rules = common::rules();
    let (_, report) = common::lint(dump, &rules);
    let errors: Vec<_> =
        report.problems.iter().filter(|p| p.is_error()).map(|p| p.message.clone()).collect();
    assert!(errors.is_empty(), "{dump}: input errors {errors:?}");
    report.findings.iter().map(|f| format!("{} {}", rules.rules[f.rule].file.id, f.key)).collect()
}

fn recapture_matches_example(example: &str, tools: &[&str]) {
    if !should_run(example, tools) {
        return;
    }
    let _guard = LAB.lock().unwrap_or_else(|e| e.into_inner());
    let out: PathBuf =
        std::env::temp_dir().join(format!("netlint-live-{example}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&out);
    let script = common::root().join(format!("tools/lab/{example}.sh"));
    let status = Command::new("bash")
        .arg(&script)
        .arg(&out)
        .env("LAB_PREFIX", format!("nlt{}-{}", std::process::id() % 10000, &example[..2]))
        .status()
        .expect("bash runs");
    let fresh = out.to_string_lossy().into_owned();
    let result = std::panic::catch_unwind(|| {
        assert!(status.success(), "{} failed: {status}", script.display());
        assert_eq!(
            findings(&fresh),
            findings(&format!("examples/{example}")),
            "a fresh capture of {example} lints differently"
        );
    });
    let _ = std::fs::remove_dir_all(&out);
    if let Err(panic) = result {
        std::panic::resume_unwind(panic);
    }
}

#[test]
fn netns_lab_recaptured() {
    recapture_matches_example(
        "netns-lab",
        &["ip", "iptables-nft", "ip6tables-nft", "curl", "ping", "python3"],
    );
}

#[test]
fn docker_lab_recaptured() {
    recapture_matches_example(
        "docker-lab",
        &["ip", "dockerd", "/usr/bin/docker", "busybox", "nsenter", "curl"],
    );
}

#[test]
fn libvirt_double_nat_recaptured() {
    recapture_matches_example("libvirt-double-nat", &["ip", "virsh", "iptables-nft", "python3"]);
}

#[test]
fn clean_recaptured() {
    let tools = [
        "ip",
        "iptables-nft",
        "curl",
        "python3",
        "dockerd",
        "containerd",
        "/usr/bin/docker",
        "busybox",
        "nsenter",
        "virsh",
    ];
    recapture_matches_example("clean", &tools);
}
