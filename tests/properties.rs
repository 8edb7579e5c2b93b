//! Property tests: every parser, the classifier and the whole pipeline, run on real
//! captured output mutated at random (bits flipped, the file cut, random bytes or pieces of
//! the formats' own syntax inserted, lines duplicated or dropped).
//!
//! Whatever the input: nothing panics; each case ends well within a hang guard; every
//! problem and every record points inside its file, on character boundaries, at a 1-based
//! line and column; no message carries a terminal control character; and a JSON or XML
//! file that does not parse yields an error.
//!
//! The case counts keep this file near 15 s in a debug build on two cores. For a longer
//! search, `PROPTEST_CASES=100000 cargo test --release --test properties`; failing seeds
//! are kept in `tests/proptest-regressions/properties.txt` and replayed first.

#![expect(
    clippy::unwrap_used,
    reason = "helpers of this test binary are test code: a failed setup step fails the test"
)]

mod common;

use std::path::Path;
use std::time::{Duration, Instant};

use proptest::prelude::*;
use proptest::sample::Index;
use proptest::test_runner::FileFailurePersistence;

use netlint::discover::{self, Format, Limits};
use netlint::output;
use netlint::parse::{Content, parse_file};
use netlint::problem::Problem;
use netlint::source::{FileId, SourceFile, Span, is_hostile};

/// A case that takes longer than this is a hang, not a slow machine: the largest fixture
/// parses in milliseconds.
const HANG: Duration = Duration::from_secs(2);

/// The whole pipeline (discover, lint, three renderings) runs a few rules over a dump.
const PIPELINE_HANG: Duration = Duration::from_secs(10);

/// Pieces of the formats' own syntax, and values that tend to break parsers.
const TOKENS: &[&str] = &[
    "\"",
    "{",
    "}",
    "[",
    "]",
    ":",
    ",",
    "\n",
    "\r\n",
    "\r",
    " ",
    "\t",
    "\\",
    "\\u",
    "\\ud800",
    "null",
    "true",
    "-",
    "-1",
    "0",
    "4294967296",
    "99999999999999999999",
    "1e400",
    "1.5",
    "/",
    "/33",
    "/129",
    ":70000",
    "@",
    "@NONE",
    "@if",
    "mtu ",
    "link/ether ",
    "inet ",
    "    ",
    "<",
    ">",
    "/>",
    "</",
    "<!--",
    "-->",
    "<![CDATA[",
    "&",
    "&amp;",
    "&#0;",
    "'",
    "=",
    "*nat\n",
    "*filter\n",
    "COMMIT\n",
    ":CHAIN - [0:0]\n",
    "-A ",
    "! ",
    "--dport ",
    "-j ",
    "#",
    "LISTEN ",
    "users:((",
    "default ",
    "via ",
    "dev ",
    "nexthop ",
    "\u{1b}[2J",
    "\u{0}",
    "é",
    "\u{feff}",
    "\u{202e}",
    "\u{9b}",
    "𝄞",
];

/// One change to a file's bytes.
#[derive(Clone, Debug)]
enum Mutation {
    Flip { at: Index, bit: u8 },
    Cut { at: Index },
    Bytes { at: Index, bytes: Vec<u8> },
    Token { at: Index, token: &'static str },
    DuplicateLine { line: Index },
    DropLine { line: Index },
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        1 => (any::<Index>(), 0..8u8).prop_map(|(at, bit)| Mutation::Flip { at, bit }),
        1 => any::<Index>().prop_map(|at| Mutation::Cut { at }),
        1 => (any::<Index>(), prop::collection::vec(any::<u8>(), 1..8))
            .prop_map(|(at, bytes)| Mutation::Bytes { at, bytes }),
        3 => (any::<Index>(), prop::sample::select(TOKENS))
            .prop_map(|(at, token)| Mutation::Token { at, token }),
        1 => any::<Index>().prop_map(|line| Mutation::DuplicateLine { line }),
        1 => any::<Index>().prop_map(|line| Mutation::DropLine { line }),
    ]
}

fn mutations() -> impl Strategy<Value = Vec<Mutation>> {
    prop::collection::vec(mutation(), 1..6)
}

/// Applies the mutations in order.
fn mutate(mut bytes: Vec<u8>, mutations: &[Mutation]) -> Vec<u8> {
    let at = |index: &Index, len: usize| index.index(len + 1);
    for m in mutations {
        match m {
            Mutation::Flip { at: index, bit } => {
                if !bytes.is_empty() {
                    let i = index.index(bytes.len());
                    bytes[i] ^= 1 << bit;
                }
            }
            Mutation::Cut { at: index } => bytes.truncate(at(index, bytes.len())),
            Mutation::Bytes { at: index, bytes: new } => {
                let i = at(index, bytes.len());
                bytes.splice(i..i, new.iter().copied());
            }
            Mutation::Token { at: index, token } => {
                let i = at(index, bytes.len());
                bytes.splice(i..i, token.bytes());
            }
            Mutation::DuplicateLine { line } | Mutation::DropLine { line } => {
                let starts: Vec<usize> = std::iter::once(0)
                    .chain(
                        bytes.iter().enumerate().filter(|(_, b)| **b == b'\n').map(|(i, _)| i + 1),
                    )
                    .collect();
                let n = line.index(starts.len());
                let start = starts[n];
                let end = starts.get(n + 1).copied().unwrap_or(bytes.len());
                let copy: Vec<u8> = bytes[start..end].to_vec();
                if matches!(m, Mutation::DuplicateLine { .. }) {
                    bytes.splice(start..start, copy);
                } else {
                    bytes.drain(start..end);
                }
            }
        }
    }
    bytes
}

fn read(rel: &str) -> Vec<u8> {
    std::fs::read(common::root().join(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

/// Runs cases as many times as asked, or `default` times.
fn config(default: u32) -> ProptestConfig {
    let mut config = ProptestConfig {
        // Failing cases are kept here and replayed first on the next run.
        failure_persistence: Some(Box::new(FileFailurePersistence::Direct(
            "tests/proptest-regressions/properties.txt",
        ))),
        ..ProptestConfig::default()
    };
    if std::env::var_os("PROPTEST_CASES").is_none() {
        config.cases = default;
    }
    config
}

/// A span lies inside `text`, on character boundaries, and its line and column agree with
/// a count made here from scratch.
fn check_span(what: &str, span: Span, text: &str) -> Result<(), TestCaseError> {
    let (start, end) = (span.start as usize, span.end as usize);
    prop_assert_eq!(span.file, FileId(0), "{}: wrong file", what);
    prop_assert!(
        start <= end && end <= text.len(),
        "{}: {}..{} outside {} bytes",
        what,
        start,
        end,
        text.len()
    );
    prop_assert!(
        text.is_char_boundary(start) && text.is_char_boundary(end),
        "{}: {}..{} splits a character",
        what,
        start,
        end
    );
    let file = SourceFile::new("f".into(), "f".into(), text.to_string());
    let before = &text[..start];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().unwrap_or("").chars().count() + 1;
    prop_assert_eq!(
        file.line_col(span.start),
        (line, column),
        "{}: line/column of {}",
        what,
        start
    );
    Ok(())
}

fn check_problem(problem: &Problem, text: &str) -> Result<(), TestCaseError> {
    check_span(&format!("problem `{}`", problem.message), problem.span, text)?;
    let shown = [Some(problem.message.as_str()), problem.help.as_deref()];
    for part in shown.into_iter().flatten() {
        prop_assert!(!part.chars().any(is_hostile), "unescaped control in {:?}", part);
    }
    Ok(())
}

/// The spans every record keeps, which diagnostics underline.
fn record_spans(content: &Content) -> Vec<Span> {
    let mut spans = Vec::new();
    match content {
        Content::Links(links) => {
            for l in links {
                spans.push(l.span);
                spans.extend(l.mtu.as_ref().map(|m| m.span));
                spans.extend(l.master.as_ref().map(|m| m.span));
                spans.extend(l.addrs.iter().map(|a| a.span));
            }
        }
        Content::Routes(routes) => spans.extend(routes.iter().map(|r| r.span)),
        Content::Sockets(sockets) => {
            spans.extend(sockets.iter().flat_map(|s| [s.span, s.addr_span]));
        }
        Content::Firewall(ruleset) => {
            spans.extend(ruleset.chains.iter().map(|c| c.span));
            for r in &ruleset.rules {
                spans.push(r.span);
                spans.extend(r.proto.iter().map(|m| m.span));
                spans.extend(r.src.iter().chain(&r.dst).map(|m| m.span));
                spans.extend(r.in_if.iter().chain(&r.out_if).chain(&r.dport).map(|m| m.span));
                spans.extend(r.target.iter().chain(&r.to).map(|t| t.span));
                spans.extend(r.unsupported.iter().map(|u| u.span));
            }
        }
        Content::DockerContainers(containers) => {
            for c in containers {
                spans.push(c.span);
                spans.extend(c.network_mode.as_ref().map(|m| m.span));
                spans.extend(c.port_bindings.iter().chain(&c.ports).map(|b| b.span));
                spans.extend(c.networks.iter().map(|n| n.span));
            }
        }
        Content::DockerNetworks(networks) => {
            for n in networks {
                spans.push(n.span);
                spans.extend(n.internal.as_ref().map(|i| i.span));
                spans.extend(n.subnets.iter().map(|s| s.span));
                spans.extend(n.options.iter().map(|(_, o)| o.span));
            }
        }
        Content::LibvirtDomain(domain) => {
            spans.push(domain.span);
            for i in &domain.interfaces {
                spans.push(i.span);
                spans.extend(i.mtu.as_ref().map(|m| m.span));
            }
        }
        Content::LibvirtNetwork(network) => {
            spans.push(network.span);
            spans.extend(network.forward.as_ref().map(|f| f.span));
            spans.extend(network.bridge.as_ref().map(|b| b.span));
            spans.extend(network.mtu.as_ref().map(|m| m.span));
            spans.extend(network.ips.iter().map(|i| i.span));
            spans.extend(network.dhcp_hosts.iter().map(|(_, _, span)| *span));
        }
    }
    spans
}

/// Whether a JSON or XML document is broken, by a parser netlint does not use for JSON.
fn is_broken_document(format: Format, text: &str) -> Option<bool> {
    match format {
        Format::IpLinkJson
        | Format::IpAddrJson
        | Format::IpRouteJson
        | Format::DockerContainers
        | Format::DockerNetworks => {
            // Blank text never reaches a parser: discovery skips it as an empty file.
            let text = leniencies_as_spaces(text);
            // serde_json refuses numbers beyond f64 (`1e400`), which JSON's grammar allows.
            let broken = |e: serde_json::Error| !e.to_string().starts_with("number out of range");
            (!text.trim().is_empty())
                .then(|| serde_json::from_str::<serde_json::Value>(&text).is_err_and(broken))
        }
        Format::LibvirtDomain | Format::LibvirtNetwork => {
            Some(roxmltree::Document::parse(text).is_err())
        }
        _ => None,
    }
}

/// Two leniencies of netlint's JSON reader, made equal for the reference parser: raw
/// control characters in strings are taken as they are (a name with a newline still reads,
/// and is escaped wherever it is shown), and any Unicode space counts as white space.
fn leniencies_as_spaces(text: &str) -> String {
    let (mut in_string, mut escaped) = (false, false);
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        let lenient = if in_string { c.is_ascii_control() } else { c.is_whitespace() };
        out.push(if lenient { ' ' } else { c });
        match c {
            '\\' if in_string => escaped = !escaped,
            '"' if !escaped => in_string = !in_string,
            _ => {}
        }
        if c != '\\' {
            escaped = false;
        }
    }
    out
}

/// Parses a mutated fixture and checks every property of one parser.
fn check_parser(
    format: Format,
    fixture: &[u8],
    mutations: &[Mutation],
) -> Result<(), TestCaseError> {
    let bytes = mutate(fixture.to_vec(), mutations);
    // Discovery hands parsers decoded text; any bytes decode to some text.
    let text = String::from_utf8_lossy(&bytes);

    let started = Instant::now();
    let parsed = parse_file(FileId(0), format, &text);
    let elapsed = started.elapsed();

    prop_assert!(elapsed < HANG, "{:?} took {:?}", format, elapsed);
    for problem in &parsed.problems {
        check_problem(problem, &text)?;
    }
    for span in parsed.value.iter().flat_map(record_spans) {
        check_span("record", span, &text)?;
    }
    if is_broken_document(format, &text) == Some(true) {
        prop_assert!(
            parsed.problems.iter().any(Problem::is_error),
            "{:?}: a broken document gave no error",
            format
        );
    }
    Ok(())
}

/// One property per parser: a random fixture of its format, mutated; the fixtures are read
/// once per test.
macro_rules! parser_property {
    ($name:ident, $format:expr, $cases:expr, [$($path:literal),+ $(,)?]) => {
        proptest! {
            #![proptest_config(config($cases))]
            #[test]
            fn $name(pick in any::<Index>(), mutations in mutations()) {
                static FIXTURES: std::sync::OnceLock<Vec<Vec<u8>>> = std::sync::OnceLock::new();
                let fixtures = FIXTURES.get_or_init(|| vec![$(read($path)),+]);
                let fixture: &Vec<u8> = pick.get(fixtures);
                check_parser($format, fixture, &mutations)?;
            }
        }
    };
}

parser_property!(
    ip_link_json_survives_mutation,
    Format::IpLinkJson,
    2500,
    [
        "tests/fixtures/captured/netns-lab/host/ip-j-d-link.json",
        "tests/fixtures/captured/netns-lab/c1/ip-j-d-link.json",
        "tests/fixtures/captured/netns-lab/host/ip-j-addr.json",
        "tests/fixtures/captured/netns-lab/c1/ip-j-addr.json",
    ]
);

parser_property!(
    ip_link_text_survives_mutation,
    Format::IpLinkText,
    2500,
    [
        "tests/fixtures/captured/netns-lab/host/ip-d-link.txt",
        "tests/fixtures/captured/netns-lab/c1/ip-d-link.txt",
        "tests/fixtures/captured/netns-lab/host/ip-addr.txt",
        "tests/fixtures/captured/netns-lab/c1/ip-addr.txt",
    ]
);

parser_property!(
    ip_route_json_survives_mutation,
    Format::IpRouteJson,
    2500,
    [
        "tests/fixtures/captured/netns-lab/host/ip-j-route.json",
        "tests/fixtures/captured/netns-lab/host/ip-j-6-route.json",
        "tests/fixtures/captured/netns-lab/c1/ip-j-route.json",
    ]
);

parser_property!(
    ip_route_text_survives_mutation,
    Format::IpRouteText,
    2500,
    [
        "tests/fixtures/captured/netns-lab/host/ip-route.txt",
        "tests/fixtures/captured/netns-lab/host/ip-6-route.txt",
        "tests/fixtures/captured/netns-lab/c1/ip-route.txt",
    ]
);

parser_property!(
    ss_survives_mutation,
    Format::Ss,
    2500,
    [
        "tests/fixtures/captured/netns-lab/host/ss-lntuH.txt",
        "tests/fixtures/captured/netns-lab/c1/ss-lntupH.txt",
    ]
);

parser_property!(
    iptables_save_survives_mutation,
    Format::IptablesSave,
    2500,
    [
        "tests/fixtures/captured/netns-lab/host/iptables-nft-save.txt",
        "tests/fixtures/captured/netns-lab/host/iptables-nft-save-with-legacy-warning.txt",
        "tests/fixtures/captured/netns-lab/host/ip6tables-save.txt",
        "tests/fixtures/captured/docker-lab/iptables-save.txt",
    ]
);

parser_property!(
    docker_inspect_survives_mutation,
    Format::DockerContainers,
    1200,
    ["tests/fixtures/captured/docker-lab/docker-inspect.json",]
);

parser_property!(
    docker_network_inspect_survives_mutation,
    Format::DockerNetworks,
    1200,
    ["tests/fixtures/captured/docker-lab/docker-network-inspect.json",]
);

parser_property!(
    virsh_dumpxml_survives_mutation,
    Format::LibvirtDomain,
    2500,
    [
        "examples/libvirt-double-nat/virsh-dumpxml-vm1.xml",
        "examples/libvirt-double-nat/virsh-dumpxml-vm2.xml",
    ]
);

parser_property!(
    virsh_net_dumpxml_survives_mutation,
    Format::LibvirtNetwork,
    2500,
    [
        "examples/libvirt-double-nat/virsh-net-dumpxml-default.xml",
        "examples/libvirt-double-nat/virsh-net-dumpxml-isolated.xml",
        "examples/libvirt-double-nat/virsh-net-dumpxml-routed.xml",
    ]
);

proptest! {
    #![proptest_config(config(4000))]

    /// Classification looks at any text, whatever the format: it must answer, and fast.
    #[test]
    fn classify_survives_mutation(pick in any::<Index>(), mutations in mutations()) {
        static FIXTURES: std::sync::OnceLock<Vec<Vec<u8>>> = std::sync::OnceLock::new();
        let fixtures = FIXTURES.get_or_init(|| {
            ["ip-j-d-link.json", "ip-d-link.txt", "ip-route.txt", "ss-lntuH.txt", "iptables-nft-save.txt"]
                .iter()
                .map(|f| read(&format!("tests/fixtures/captured/netns-lab/host/{f}")))
                .chain([read("tests/fixtures/captured/docker-lab/docker-inspect.json")])
                .chain([read("examples/libvirt-double-nat/virsh-dumpxml-vm1.xml")])
                .collect()
        });
        let bytes = mutate(pick.get(fixtures.as_slice()).clone(), &mutations);
        let text = String::from_utf8_lossy(&bytes);
        let started = Instant::now();
        let _ = discover::classify(&text);
        prop_assert!(started.elapsed() < HANG);
    }
}

/// Every file of the example dumps, as (example, path in the dump).
fn example_files() -> Vec<(String, String)> {
    let mut files = Vec::new();
    for example in common::examples() {
        let root = common::root().join("examples").join(&example);
        for entry in walk(&root) {
            let rel = entry.strip_prefix(&root).unwrap().to_string_lossy().into_owned();
            if !rel.split('/').any(|part| part.starts_with('.')) {
                files.push((example.clone(), rel));
            }
        }
    }
    files.sort();
    files
}

fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() { out.extend(walk(&path)) } else { out.push(path) }
    }
    out
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

proptest! {
    #![proptest_config(config(500))]

    /// One file of a real dump mutated at the byte level, before decoding, then the whole
    /// run: discover, parse, lower, analyse, evaluate the shipped rules, render each format.
    #[test]
    fn whole_pipeline_survives_one_mutated_file(pick in any::<Index>(), mutations in mutations()) {
        static FILES: std::sync::OnceLock<Vec<(String, String)>> = std::sync::OnceLock::new();
        static RULES: std::sync::OnceLock<netlint::engine::RuleSet> = std::sync::OnceLock::new();
        let (example, rel) = pick.get(FILES.get_or_init(example_files).as_slice());
        let rules = RULES.get_or_init(common::rules);
        let tmp = tempfile::tempdir().unwrap();
        copy_dir(&common::root().join("examples").join(example), tmp.path());
        let path = tmp.path().join(rel);
        std::fs::write(&path, mutate(std::fs::read(&path).unwrap(), &mutations)).unwrap();

        let started = Instant::now();
        let dump = discover::discover(tmp.path(), Limits::default()).unwrap();
        let report = netlint::lint(&dump, rules);
        let rendered: Vec<String> = [output::Format::Human, output::Format::Short, output::Format::Json]
            .into_iter()
            .map(|format| common::render(format, &dump, &report, rules, true))
            .collect();
        let elapsed = started.elapsed();

        prop_assert!(elapsed < PIPELINE_HANG, "{}/{} took {:?}", example, rel, elapsed);
        for problem in &report.problems {
            let text = &dump.sources.get(problem.span.file).text;
            let local = Problem { span: Span { file: FileId(0), ..problem.span }, ..problem.clone() };
            check_problem(&local, text)?;
        }
        for out in &rendered {
            let line = out.split('\n').find(|l| l.chars().any(is_hostile));
            prop_assert!(line.is_none(), "{}/{}: control character in {:?}", example, rel, line);
        }
        let json = rendered.last().map(String::as_str).unwrap_or_default();
        prop_assert!(serde_json::from_str::<serde_json::Value>(json).is_ok(), "the JSON report parses");
    }
}
