//! The bad-input catalogue (issue 3): truncated, mis-encoded, odd, mixed-up and hostile
//! dumps, each run through the real binary.
//!
//! Every case builds its dump in a temporary folder, most by mutating a copy of a real
//! example from `examples/`, and snapshots what a user sees: stdout, stderr and the exit
//! code, at width 80 without colour. Each test also asserts the point it proves, so that a
//! snapshot accepted in haste cannot hide a regression. Inputs made by hand say so where
//! they are built, and name the real output they imitate.
//!
//! The contract under test (README, "Bad input"): every unreadable part gives an `input`
//! diagnostic of its own with file, line and column; the rest of the dump is still linted
//! and its findings printed; bad input exits 3; nothing panics, hangs or reads without
//! bound.

#![expect(
    clippy::unwrap_used,
    reason = "helpers of this test binary are test code: a failed setup step fails the test"
)]

mod common;

use std::collections::BTreeSet;
use std::io::Read as _;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{DUMP, Scratch};

/// Any run taking longer than this is a hang, not a slow machine: the largest case reads
/// thousands of files in well under a second in a debug build.
const HANG: Duration = Duration::from_secs(60);

/// One run of the binary.
struct Run {
    args: String,
    code: i32,
    stdout: String,
    stderr: String,
}

impl Run {
    /// Everything the user saw.
    fn all(&self) -> String {
        format!("{}{}", self.stdout, self.stderr)
    }

    /// With `--format short`: each finding as `message [rule]`, without its location, which
    /// moves when a test rewrites the file it is in.
    fn findings(&self) -> BTreeSet<String> {
        self.stdout
            .lines()
            .filter(|l| l.contains(" [NL"))
            .filter_map(|l| l.split_once(": ").map(|(_, rest)| rest.to_string()))
            .collect()
    }

    /// With `--format short`: the input errors, as `file:line:col: message`.
    fn input_errors(&self) -> Vec<&str> {
        self.stdout
            .lines()
            .filter(|l| l.contains(": error: ") && l.contains("[netlint::"))
            .collect()
    }
}

/// Runs netlint in the scratch folder, with a fixed width and no colour; `prefix` comes
/// before the binary (to run it with fewer privileges).
fn run_with(scratch: &Scratch, prefix: &[&str], args: &[&str]) -> Run {
    let binary = env!("CARGO_BIN_EXE_netlint");
    let mut command = match prefix.split_first() {
        Some((first, rest)) => {
            let mut command = Command::new(first);
            command.args(rest).arg(binary);
            command
        }
        None => Command::new(binary),
    };
    let mut child = command
        .args(args)
        .current_dir(scratch.tmp.path())
        .env("COLUMNS", "80")
        .env("NO_COLOR", "1")
        // `-v` shows notes and turns on debug logs; the logs carry timestamps.
        .env("NETLINT_LOG", "off")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the netlint binary runs");
    // Drain both pipes on threads, so a large report cannot block the child while we wait.
    let mut stdout = child.stdout.take().unwrap();
    let mut stderr = child.stderr.take().unwrap();
    let out = std::thread::spawn(move || {
        let mut bytes = Vec::new();
        stdout.read_to_end(&mut bytes).unwrap();
        bytes
    });
    let err = std::thread::spawn(move || {
        let mut bytes = Vec::new();
        stderr.read_to_end(&mut bytes).unwrap();
        bytes
    });
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if started.elapsed() > HANG {
            child.kill().unwrap();
            panic!("netlint {} hung for more than {HANG:?}", args.join(" "));
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    Run {
        args: netlint::source::printable(&args.join(" ")),
        code: status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.join().unwrap()).into_owned(),
        stderr: String::from_utf8_lossy(&err.join().unwrap()).into_owned(),
    }
}

fn run(scratch: &Scratch, args: &[&str]) -> Run {
    run_with(scratch, &[], args)
}

/// Snapshots a run as the user saw it.
fn snapshot(name: &str, scratch: &Scratch, run: &Run) {
    let text = format!(
        "$ netlint {}\nexit: {}\n--- stdout\n{}--- stderr\n{}",
        run.args, run.code, run.stdout, run.stderr
    );
    let tmp = scratch.tmp.path().display().to_string();
    common::with_snapshots(|| {
        let mut settings = insta::Settings::clone_current();
        settings.add_filter(&common::regex_escape(&tmp), "[TMP]");
        settings.bind(|| insta::assert_snapshot!(name.to_string(), text));
    });
}

/// Runs and snapshots.
fn check(name: &str, scratch: &Scratch, args: &[&str]) -> Run {
    let run = run(scratch, args);
    snapshot(name, scratch, &run);
    run
}

/// The 1-based line and column (in characters) of the last character of `text` that is not
/// whitespace: where an error about a file that was cut short points.
fn end_of(text: &str) -> (usize, usize) {
    let trimmed = text.trim_end();
    let line = trimmed.matches('\n').count() + 1;
    let last = trimmed.rsplit('\n').next().unwrap_or("");
    (line, last.chars().count())
}

/// Bytes that look random but are the same on every run (xorshift64).
fn noise(len: usize, seed: u64) -> Vec<u8> {
    let mut state = seed;
    (0..len)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state.to_le_bytes()[0]
        })
        .collect()
}

// ---------------------------------------------------------------------------------------
// Truncated, empty, zero, random and binary files.

#[test]
fn truncated_docker_inspect_is_reported_at_the_cut_and_the_rest_is_linted() {
    let scratch = Scratch::example("docker-lab");
    let text = scratch.read("docker-inspect.json");
    let cut = &text[..text.len() / 2];
    scratch.write("docker-inspect.json", cut);

    let run = check("truncated_docker_inspect", &scratch, &[DUMP, "--select", "NL001"]);
    assert_eq!(run.code, 3, "bad input exits 3");
    assert!(run.stdout.contains("NL001"), "the finding from iptables-save and ss is still printed");
    let short = self::run(&scratch, &[DUMP, "--format", "short"]);
    let (line, col) = end_of(cut);
    let opened = cut.rfind("\"HostConfig\": {").unwrap() + "\"HostConfig\": ".len();
    let (open_line, open_col) = end_of(&text[..=opened]);
    assert_eq!(
        short.input_errors(),
        [format!(
            "docker-inspect.json:{line}:{col}: error: invalid JSON: unterminated object (opened at line {open_line}, column {open_col}), at the end of the file [netlint::parse::docker]"
        )],
        "one error, where the file ends, naming where the cut object opened"
    );
}

#[test]
fn truncated_libvirt_xml_is_reported_at_the_cut_and_the_rest_is_linted() {
    let scratch = Scratch::example("libvirt-double-nat");
    let text = scratch.read("virsh-dumpxml-vm2.xml");
    let cut = &text[..text.find("<interface").unwrap() + "<interf".len()];
    scratch.write("virsh-dumpxml-vm2.xml", cut);

    let run = check("truncated_libvirt_xml", &scratch, &[DUMP, "--select", "NL021"]);
    assert_eq!(run.code, 3);
    assert!(run.stdout.contains("virsh-dumpxml-vm2.xml:"), "{}", run.stdout);
    assert!(run.stdout.contains("NL021"), "the overlap from the network XML is still printed");
}

#[test]
fn xml_root_left_open_points_at_the_end_of_the_file() {
    let scratch = Scratch::example("libvirt-double-nat");
    let text = scratch.read("virsh-net-dumpxml-routed.xml");
    let cut = text.trim_end().strip_suffix("</network>").unwrap();
    scratch.write("virsh-net-dumpxml-routed.xml", cut);

    let run = check("xml_root_left_open", &scratch, &[DUMP, "--select", "NL021"]);
    assert_eq!(run.code, 3);
    let (line, col) = end_of(cut);
    assert!(
        run.stdout.contains(&format!("[virsh-net-dumpxml-routed.xml:{line}:{col}]")),
        "an unclosed root is reported where the file ends, not at 1:1:\n{}",
        run.stdout
    );
}

#[test]
fn truncated_iptables_save_reports_the_cut_rule_and_the_missing_commit() {
    let scratch = Scratch::example("netns-lab");
    let text = scratch.read("iptables-save.txt");
    let cut =
        &text[..text.find("--to-destination 10.88.0.12:81").unwrap() + "--to-destination".len()];
    scratch.write("iptables-save.txt", cut);

    let run = check("truncated_iptables_save", &scratch, &[DUMP, "--select", "NL031,NL001"]);
    assert_eq!(run.code, 3);
    assert!(run.stdout.contains("option `--to-destination` has no value"), "{}", run.stdout);
    assert!(run.stdout.contains("has no `COMMIT`"), "{}", run.stdout);
    assert!(run.stdout.contains("NL031"), "the veth finding is still printed");
    assert!(run.stdout.contains("NL001"), "the rules before the cut are still read");
}

#[test]
fn empty_and_blank_files_are_listed_as_skipped() {
    let scratch = Scratch::example("netns-lab");
    scratch.write("ip-j-neigh.json", "");
    scratch.write("c1/ss-lntuH.txt", "\n\n   \n");
    // `ip -j -6 route` in a namespace without IPv6 routes prints `[]`.
    scratch.write("c1/ip-j-6-route.json", "[]\n");

    let run = check("empty_files", &scratch, &[DUMP, "--select", "NL031"]);
    assert_eq!(run.code, 0, "empty files are not bad input; a warning alone passes");
    assert_eq!(run.stdout.matches(": empty file").count(), 1, "{}", run.stdout);
    assert!(run.stdout.contains("ip-j-neigh.json: empty file"), "{}", run.stdout);
    assert!(run.stdout.contains("c1/ip-j-6-route.json: empty JSON array"), "{}", run.stdout);
    // An empty `ss` is an answer (nothing listens), known by its file name: it is read.
    assert!(!run.stdout.contains("c1/ss-lntuH.txt"), "{}", run.stdout);
}

#[test]
fn empty_ss_output_means_nothing_listens() {
    let scratch = Scratch::example("netns-lab");
    scratch.write("c2/ss-lntupH.txt", "");
    let run = run(&scratch, &[DUMP, "--format", "short", "--select", "NL002"]);
    let findings = run.findings().into_iter().collect::<Vec<_>>().join("\n");
    assert!(findings.contains("10.88.0.12:80, but nothing listens on port 80"), "{findings}");
}

#[test]
fn file_of_zeros_is_skipped_as_binary() {
    let scratch = Scratch::example("netns-lab");
    scratch.write("ip-j-route.json", vec![0u8; 64 * 1024]);

    let run = check("file_of_zeros", &scratch, &[DUMP, "--select", "NL031"]);
    assert_eq!(run.code, 0);
    assert!(run.stdout.contains("ip-j-route.json: binary content"), "{}", run.stdout);
}

#[test]
fn random_bytes_are_skipped_whether_or_not_they_hold_a_nul() {
    let scratch = Scratch::example("netns-lab");
    scratch.write("noise.bin", noise(10_000, 0x9E37_79B9_7F4A_7C15));
    let no_nul: Vec<u8> = noise(10_000, 42).into_iter().filter(|&b| b != 0).collect();
    scratch.write("c2/noise.txt", no_nul);

    let run = check("random_bytes", &scratch, &[DUMP, "--select", "NL031"]);
    assert_eq!(run.code, 0);
    assert!(run.stdout.contains("noise.bin: binary content"), "{}", run.stdout);
    assert!(run.stdout.contains("c2/noise.txt: content not recognised"), "{}", run.stdout);
}

#[test]
fn binary_executable_in_the_dump_is_skipped() {
    let scratch = Scratch::example("netns-lab");
    let mut elf = Vec::new();
    std::fs::File::open(env!("CARGO_BIN_EXE_netlint"))
        .unwrap()
        .take(256 * 1024)
        .read_to_end(&mut elf)
        .unwrap();
    assert!(elf.starts_with(b"\x7fELF"));
    scratch.write("c1/netlint", elf);

    let run = check("binary_executable", &scratch, &[DUMP, "--select", "NL031"]);
    assert_eq!(run.code, 0);
    assert!(run.stdout.contains("c1/netlint: binary content"), "{}", run.stdout);
}

// ---------------------------------------------------------------------------------------
// Encodings. Windows tools write these when a dump passes through them: PowerShell's `>`
// writes UTF-16 LE with a BOM, Notepad a UTF-8 BOM, and copies keep CRLF line ends.

/// The findings of an example as it was captured.
fn original_findings(example: &str) -> BTreeSet<String> {
    let findings = run(&Scratch::example(example), &[DUMP, "--format", "short"]).findings();
    assert!(!findings.is_empty(), "{example} has findings to compare with");
    findings
}

fn utf16(text: &str, big_endian: bool) -> Vec<u8> {
    let mut bytes = if big_endian { vec![0xFE, 0xFF] } else { vec![0xFF, 0xFE] };
    for unit in text.encode_utf16() {
        bytes.extend(if big_endian { unit.to_be_bytes() } else { unit.to_le_bytes() });
    }
    bytes
}

#[test]
fn utf8_bom_reads_like_plain_utf8() {
    let scratch = Scratch::example("netns-lab");
    for rel in ["iptables-save.txt", "ip-j-d-link.json", "c1/ss-lntupH.txt"] {
        scratch.edit(rel, |text| format!("\u{feff}{text}"));
    }

    let run = run(&scratch, &[DUMP, "--format", "short", "-v"]);
    assert_eq!(run.findings(), original_findings("netns-lab"));
    assert!(!run.stdout.contains("decoded as"), "a UTF-8 BOM is no news: {}", run.stdout);
    assert_eq!(run.code, 1);
}

#[test]
fn utf16_with_bom_reads_like_utf8_with_a_note() {
    let scratch = Scratch::example("netns-lab");
    scratch.write("iptables-save.txt", utf16(&scratch.read("iptables-save.txt"), false));
    scratch.write("c2/ip-j-d-link.json", utf16(&scratch.read("c2/ip-j-d-link.json"), true));

    let run = check("utf16_with_bom", &scratch, &[DUMP, "--format", "short", "-v"]);
    assert_eq!(run.findings(), original_findings("netns-lab"));
    assert!(run.stdout.contains("iptables-save.txt:1:1: note: file was decoded as UTF-16LE"));
    assert!(run.stdout.contains("c2/ip-j-d-link.json:1:1: note: file was decoded as UTF-16BE"));
    assert_eq!(run.code, 1);
}

#[test]
fn crlf_line_ends_read_like_lf() {
    let scratch = Scratch::example("netns-lab");
    let files = ["iptables-save.txt", "ip6tables-save.txt", "ss-lntupH.txt", "c2/ip-j-addr.json"];
    let c1 = ["c1/ip-d-link.txt", "c1/ip-addr.txt", "c1/ip-route.txt", "c1/ss-lntupH.txt"];
    for rel in files.into_iter().chain(c1) {
        scratch.edit(rel, |text| text.replace('\n', "\r\n"));
    }

    let short = run(&scratch, &[DUMP, "--format", "short"]);
    assert_eq!(short.findings(), original_findings("netns-lab"));
    let run = check("crlf_line_ends", &scratch, &[DUMP, "--select", "NL001"]);
    assert_eq!(run.code, 1);
    assert!(!run.stdout.contains('\r'), "a CR in an excerpt would move the cursor");
}

#[test]
fn latin1_bytes_in_comments_and_names_are_decoded_with_a_note() {
    let scratch = Scratch::example("netns-lab");
    // Hand-made, after iptables-save: a `#` comment and a `--comment` written by a tool set
    // to Latin-1, and a rule on an interface named in Latin-1 (Linux names are bytes).
    let mut bytes = scratch.read("iptables-save.txt").into_bytes();
    let at = bytes.windows(6).position(|w| w == b"COMMIT").unwrap();
    let rule = b"# Regel f\xfcr den Webserver\n-A FORWARD -i br-caf\xe9 -m comment --comment \"caf\xe9 \xa92026\" -j ACCEPT\n";
    bytes.splice(at..at, rule.iter().copied());
    scratch.write("iptables-save.txt", bytes);

    let run = check("latin1_bytes", &scratch, &[DUMP, "--format", "short", "-v"]);
    assert_eq!(run.findings(), original_findings("netns-lab"));
    assert!(run.stdout.contains(
        "iptables-save.txt:1:1: note: file was decoded as Windows-1252 (it is not UTF-8)"
    ));
    assert!(run.input_errors().is_empty(), "{:?}", run.input_errors());
}

#[test]
fn non_utf8_and_hostile_file_names_are_shown_escaped() {
    use std::os::unix::ffi::OsStrExt as _;

    let scratch = Scratch::example("netns-lab");
    let text = scratch.read("c2/ip-j-addr.json");
    let name = std::ffi::OsStr::from_bytes(b"ip-j-addr-\xff\x1b[31m.json");
    std::fs::write(scratch.path("c2").join(name), &text[..text.len() / 3]).unwrap();
    let folder = std::ffi::OsStr::from_bytes(b"c\xfe\x1b]0;pwned\x07");
    std::fs::create_dir(scratch.root().join(folder)).unwrap();
    std::fs::copy(scratch.path("c3/ss-lntupH.txt"), scratch.root().join(folder).join("ss.txt"))
        .unwrap();

    for format in ["human", "short", "json"] {
        let run = run(&scratch, &[DUMP, "--select", "NL031", "--format", format, "-v"]);
        assert_eq!(run.code, 3, "{format}");
        assert_no_terminal_controls(&run);
    }
    let run = check("hostile_file_names", &scratch, &[DUMP, "--select", "NL031"]);
    assert!(run.stdout.contains("c2/ip-j-addr-\u{fffd}\\u{1b}[31m.json"), "{}", run.stdout);
    assert!(run.stdout.contains("c\u{fffd}\\u{1b}]0;pwned\\u{7}"), "{}", run.stdout);
}

/// Nothing a file holds may reach the terminal as a control character: no escape
/// sequence, bell, carriage return or C1 control; line ends are the report's own.
fn assert_no_terminal_controls(run: &Run) {
    for (i, c) in run.all().char_indices() {
        let hostile = (c.is_control() && c != '\n') || matches!(c, '\u{202a}'..='\u{202e}');
        assert!(!hostile, "control character {c:?} at byte {i} of:\n{}", run.all());
    }
}

// ---------------------------------------------------------------------------------------
// Tool versions: what older and newer iproute2, iptables and Docker print.

/// Rewrites a JSON file through `f`; the result is compact, as `ip -j` prints it.
fn edit_json(scratch: &Scratch, rel: &str, f: impl FnOnce(&mut serde_json::Value)) {
    let mut value: serde_json::Value = serde_json::from_str(&scratch.read(rel)).unwrap();
    f(&mut value);
    scratch.write(rel, serde_json::to_string(&value).unwrap());
}

fn objects(
    value: &mut serde_json::Value,
) -> impl Iterator<Item = &mut serde_json::Map<String, serde_json::Value>> {
    value.as_array_mut().unwrap().iter_mut().map(|o| o.as_object_mut().unwrap())
}

#[test]
fn ip_json_of_older_iproute2_without_newer_keys_reads_cleanly() {
    let scratch = Scratch::example("netns-lab");
    // iproute2 before 6.x prints none of these keys; before 5.x not `link_netnsid` either.
    let newer = [
        "link_netnsid",
        "allmulti",
        "min_mtu",
        "max_mtu",
        "gro_max_size",
        "gso_max_size",
        "gso_max_segs",
        "tso_max_size",
        "tso_max_segs",
        "num_tx_queues",
        "num_rx_queues",
        "inet6_addr_gen_mode",
    ];
    edit_json(&scratch, "ip-j-d-link.json", |links| {
        for link in objects(links) {
            link.retain(|key, _| !newer.contains(&key.as_str()));
        }
    });

    let run = check("older_iproute2_json", &scratch, &[DUMP, "--format", "short"]);
    assert!(run.input_errors().is_empty(), "{:?}", run.input_errors());
    assert_eq!(run.findings(), original_findings("netns-lab"));
}

#[test]
fn ip_json_of_newer_iproute2_with_extra_keys_and_altnames_reads_cleanly() {
    let scratch = Scratch::example("netns-lab");
    // iproute2 5.5+ prints `altnames`, 5.9+ `parentbus` and `parentdev` for real NICs;
    // `future_key` stands for whatever a later version adds.
    edit_json(&scratch, "ip-j-d-link.json", |links| {
        for link in objects(links) {
            link.insert("altnames".into(), serde_json::json!(["enp0s3", "ens3"]));
            link.insert("parentbus".into(), "pci".into());
            link.insert("parentdev".into(), "0000:00:03.0".into());
            link.insert("future_key".into(), serde_json::json!({"nested": [1, null, true]}));
        }
    });

    let run = run(&scratch, &[DUMP, "--format", "short"]);
    assert!(run.input_errors().is_empty(), "{:?}", run.input_errors());
    assert_eq!(run.findings(), original_findings("netns-lab"));
}

#[test]
fn ip_text_with_altnames_and_none_peers_reads_cleanly() {
    let scratch = Scratch::example("netns-lab");
    // Hand-made after `ip -d link` of iproute2 6.1 on a host with the sit and ip6_tunnel
    // modules loaded: their fallback devices print `@NONE` (IFLA_LINK is 0). `altname`
    // lines follow the details, as iproute2 5.5+ prints them.
    scratch.edit("c1/ip-d-link.txt", |text| {
        let with_altname = text.replace(
            "    veth addrgenmode",
            "    altname enp0s3\n    veth addrgenmode",
        );
        format!(
            "{with_altname}\
3: sit0@NONE: <NOARP> mtu 1480 qdisc noop state DOWN mode DEFAULT group default qlen 1000
    link/sit 0.0.0.0 brd 0.0.0.0 promiscuity 0  allmulti 0 minmtu 1280 maxmtu 65555 
    sit ip6ip remote any local any ttl 64 tos inherit nopmtudisc 6rd-prefix 2002::/16 addrgenmode eui64 numtxqueues 1 numrxqueues 1 
    altname sit-fallback
4: ip6tnl0@NONE: <NOARP> mtu 1452 qdisc noop state DOWN mode DEFAULT group default qlen 1000
    link/tunnel6 :: brd :: permaddr 1a2b:3c4d:: promiscuity 0  allmulti 0 minmtu 68 maxmtu 65407 
    ip6tnl ip6ip6 remote any local any hoplimit inherit encaplimit 0 tclass 0x00 flowlabel 0x00000 (flowinfo 0x00000000) addrgenmode eui64 numtxqueues 1 numrxqueues 1 
"
        )
    });

    let run = run(&scratch, &[DUMP, "--format", "short", "-v"]);
    assert!(run.input_errors().is_empty(), "{:?}", run.input_errors());
    assert_eq!(run.findings(), original_findings("netns-lab"));
    assert!(!run.stdout.contains("sit0"), "a @NONE device has no peer to miss:\n{}", run.stdout);
}

#[test]
fn iptables_save_flavours_read_like_the_original() {
    let scratch = Scratch::example("netns-lab");
    // The warning is real output of iptables-nft-save (see the captured fixture
    // `iptables-nft-save-with-legacy-warning.txt`); the `incompatible` comment is what
    // iptables-nft prints for a table it cannot show; `# Completed on` is optional.
    let warning =
        std::fs::read_to_string(common::root().join(
            "tests/fixtures/captured/netns-lab/host/iptables-nft-save-with-legacy-warning.txt",
        ))
        .unwrap();
    let warning = warning.lines().next().unwrap();
    assert!(warning.starts_with("# Warning: iptables-legacy tables present"));
    scratch.edit("iptables-save.txt", |text| {
        let kept: Vec<&str> = text.lines().filter(|l| !l.starts_with("# Completed on")).collect();
        format!(
            "{warning}\n# Table `mangle' is incompatible, use 'nft' tool.\n{}\n",
            kept.join("\n")
        )
    });

    let run = run(&scratch, &[DUMP, "--format", "short", "-v"]);
    assert!(run.input_errors().is_empty(), "{:?}", run.input_errors());
    assert_eq!(run.findings(), original_findings("netns-lab"));
}

#[test]
fn docker_inspect_of_single_objects_reads_like_the_array() {
    let scratch = Scratch::example("docker-lab");
    // `docker inspect --format '{{json .}}' c1` prints one object, not an array.
    let containers: Vec<serde_json::Value> =
        serde_json::from_str(&scratch.read("docker-inspect.json")).unwrap();
    std::fs::remove_file(scratch.path("docker-inspect.json")).unwrap();
    for (i, container) in containers.iter().enumerate() {
        scratch
            .write(&format!("docker-inspect-{i}.json"), serde_json::to_string(container).unwrap());
    }

    let run = run(&scratch, &[DUMP, "--format", "short"]);
    assert!(run.input_errors().is_empty(), "{:?}", run.input_errors());
    assert_eq!(run.findings(), original_findings("docker-lab"));
}

#[test]
fn docker_inspect_of_an_older_api_with_null_ports_and_networks_reads_cleanly() {
    let scratch = Scratch::example("docker-lab");
    // Docker before API 1.24 printed `null` for an empty `Ports`, `Networks` and
    // `PortBindings`, and lacked keys such as `Platform` and `GraphDriver`.
    edit_json(&scratch, "docker-inspect.json", |containers| {
        for container in objects(containers) {
            container.remove("Platform");
            container.remove("GraphDriver");
            let name = container["Name"].as_str().unwrap().to_string();
            if name == "/c3" {
                container["NetworkSettings"]["Ports"] = serde_json::Value::Null;
                container["NetworkSettings"]["Networks"] = serde_json::Value::Null;
                container["HostConfig"]["PortBindings"] = serde_json::Value::Null;
            }
        }
    });

    let run = check("older_docker_api", &scratch, &[DUMP, "--format", "short", "-v"]);
    assert!(run.input_errors().is_empty(), "{:?}", run.input_errors());
    let findings = run.findings();
    let original = original_findings("docker-lab");
    assert!(findings.is_subset(&original), "nothing new is made up: {findings:#?}");
    assert!(
        original.difference(&findings).all(|f| f.contains("isonet")),
        "only the finding about c3's published port into `isonet` goes: {findings:#?}"
    );
}

#[test]
fn libvirt_xml_with_namespaces_comments_and_unknown_elements_reads_like_the_original() {
    let scratch = Scratch::example("libvirt-double-nat");
    // The comment is the one libvirtd writes atop /etc/libvirt/qemu/*.xml; the qemu
    // namespace and <qemu:commandline> follow libvirt's domain XML documentation; the
    // rest stands for elements and attributes of a later libvirt.
    scratch.edit("virsh-dumpxml-vm1.xml", |text| {
        let text = text
            .replacen(
                "<domain type='test' id='1'>",
                "<!--\nWARNING: THIS IS AN AUTO-GENERATED FILE. CHANGES TO IT ARE LIKELY TO BE\n\
                 OVERWRITTEN AND LOST. Changes to this xml configuration should be made using:\n  \
                 virsh edit vm1\nor other application using the libvirt API.\n-->\n\n\
                 <domain type='test' id='1' xmlns:qemu='http://libvirt.org/schemas/domain/qemu/1.0'>",
                1,
            )
            .replace("<interface type='network'>", "<interface type='network' trustGuestRxFilters='yes' future='1'>")
            .replace(
                "</devices>",
                "  <futurething mode='x'><inner/></futurething>\n  </devices>\n  \
                 <qemu:commandline>\n    <qemu:arg value='-no-reboot'/>\n  </qemu:commandline>",
            );
        assert!(text.contains("future='1'") && text.contains("qemu:commandline"));
        text
    });
    for rel in ["virsh-net-dumpxml-default.xml", "virsh-net-dumpxml-isolated.xml"] {
        scratch.edit(rel, |text| {
            text.replace("</network>", "  <!-- edited -->\n  <futurething/>\n</network>")
        });
    }

    let run = run(&scratch, &[DUMP, "--format", "short", "-v"]);
    assert!(run.input_errors().is_empty(), "{:?}", run.input_errors());
    assert_eq!(run.findings(), original_findings("libvirt-double-nat"));
}

// ---------------------------------------------------------------------------------------
// Mixed-up dumps: netlint says what is ambiguous instead of guessing.

#[test]
fn two_hosts_in_one_folder_give_a_note_for_each_interface_defined_twice() {
    let scratch = Scratch::example("netns-lab");
    let other = std::fs::read(common::root().join("examples/docker-lab/ip-j-d-link.json")).unwrap();
    scratch.write("other-host-ip-j-d-link.json", other);

    let run = check("two_hosts", &scratch, &[DUMP, "--format", "short", "-v", "--select", "NL031"]);
    assert!(
        run.stdout.contains("note: interface `lo` is defined again in this namespace"),
        "{}",
        run.stdout
    );
}

#[test]
fn container_folder_without_a_matching_inspect_gives_a_note() {
    let scratch = Scratch::example("docker-lab");
    std::fs::rename(scratch.path("c3"), scratch.path("c3-old")).unwrap();

    let run = check(
        "unmatched_container_folder",
        &scratch,
        &[DUMP, "--format", "short", "-v", "--select", "NL001"],
    );
    assert!(
        run.stdout.contains(
            "note: folder `c3-old` matches no container of `docker inspect`; it is read as a bare network namespace"
        ),
        "{}",
        run.stdout
    );
    assert_eq!(run.stdout.matches("note: folder").count(), 1, "c1 and c2 match their containers");
}

#[test]
fn veth_whose_peer_namespace_was_not_captured_gives_a_note() {
    let scratch = Scratch::example("netns-lab");
    std::fs::remove_dir_all(scratch.path("c2")).unwrap();

    let run =
        check("uncaptured_peer", &scratch, &[DUMP, "--format", "short", "-v", "--select", "NL031"]);
    assert!(
        run.stdout.contains(
            "note: the peer of veth `veth-c2` (its ifindex 2 in the other namespace) is not in the \
             dump; that namespace was not captured"
        ),
        "{}",
        run.stdout
    );
}

#[test]
fn duplicate_interface_names_across_namespaces_are_not_paired_by_guess() {
    let scratch = Scratch::example("netns-lab");
    // A second copy of c1's capture: its `eth0` has the same ifindex and peer index, so
    // the host's `veth-c1` could pair with either.
    common::copy_dir(&scratch.path("c1"), &scratch.path("c1-copy"));

    let run = check(
        "ambiguous_veth_peer",
        &scratch,
        &[DUMP, "--format", "short", "-v", "--select", "NL031"],
    );
    assert!(
        run.stdout.contains("veth `veth-c1` could pair with `eth0` in `c1` or `eth0` in `c1-copy`; it is left unpaired"),
        "{}",
        run.stdout
    );

    let dump = netlint::discover::discover(&scratch.root(), Default::default()).unwrap();
    let report = netlint::lint(&dump, &common::rules());
    let model = &report.model;
    let peer_ns = |ns: &str, ifname: &str| {
        let ns = model.namespaces.iter().position(|n| n.name.as_deref() == Some(ns)).unwrap();
        let iface = model.iface(ns, ifname).unwrap();
        model.interfaces[iface].peer.map(|p| model.namespaces[model.interfaces[p].ns].display())
    };
    assert_eq!(peer_ns("c1", "eth0"), None, "neither copy claims veth-c1");
    assert_eq!(peer_ns("c1-copy", "eth0"), None);
    assert_eq!(peer_ns("c2", "eth0").as_deref(), Some("host"), "unambiguous pairs still pair");
}

// ---------------------------------------------------------------------------------------
// The file system: links, loops, special files, unreadable and huge files, many files.

#[test]
fn symlink_loops_and_dangling_links_are_listed_as_skipped() {
    use std::os::unix::fs::symlink;

    let scratch = Scratch::example("netns-lab");
    symlink(".", scratch.path("loop")).unwrap();
    symlink("..", scratch.path("c1/up")).unwrap();
    symlink("nowhere.json", scratch.path("dangling.json")).unwrap();
    // A link that stays inside the dump is followed: the same file read twice.
    symlink("../c2/ss-lntupH.txt", scratch.path("c3/ss-again.txt")).unwrap();

    let run = check("symlink_loops", &scratch, &[DUMP, "--select", "NL031"]);
    assert_eq!(run.code, 0);
    for skipped in [
        "loop: symbolic link loop",
        "c1/up: symbolic link loop",
        "dangling.json: broken symbolic link: No such file or directory",
    ] {
        assert!(
            run.stdout.contains(&format!("  {skipped}")),
            "{skipped} not listed:\n{}",
            run.stdout
        );
    }
    let n_ss = walkdir::WalkDir::new(common::root().join("examples/netns-lab"))
        .into_iter()
        .filter_map(Result::ok)
        .filter(|e| e.file_name().to_string_lossy().starts_with("ss-"))
        .count();
    let read_twice = format!("{} × ss", n_ss + 1);
    assert!(run.stdout.contains(&read_twice), "the inside link was read:\n{}", run.stdout);
}

#[test]
fn symlinks_out_of_the_dump_are_not_followed() {
    use std::os::unix::fs::symlink;

    let scratch = Scratch::example("netns-lab");
    // Followed, `/etc` would read the host's own files and `/proc/kmsg` block the read.
    symlink("/etc", scratch.path("etc")).unwrap();
    symlink("/proc/kmsg", scratch.path("c1/kmsg")).unwrap();
    symlink(
        common::root().join("examples/docker-lab/iptables-save.txt"),
        scratch.path("c2/fw.txt"),
    )
    .unwrap();

    let run = check("symlinks_out_of_the_dump", &scratch, &[DUMP, "--select", "NL031"]);
    assert_eq!(run.code, 0);
    for link in ["etc", "c1/kmsg", "c2/fw.txt"] {
        let line = format!("  {link}: symbolic link to outside the dump, not followed");
        assert!(run.stdout.contains(&line), "{link} not listed:\n{}", run.stdout);
    }
}

#[test]
fn fifo_in_the_dump_is_listed_not_read() {
    let scratch = Scratch::example("netns-lab");
    // Reading a FIFO that nobody writes blocks forever; `run` fails the test if it hangs.
    let status = Command::new("mkfifo").arg(scratch.path("c1/capture.pipe")).status().unwrap();
    assert!(status.success());

    let run = check("fifo", &scratch, &[DUMP, "--select", "NL031"]);
    assert_eq!(run.code, 0);
    assert!(run.stdout.contains("c1/capture.pipe: not a regular file"), "{}", run.stdout);
}

#[test]
fn unreadable_file_is_an_input_error_and_the_rest_is_linted() {
    use std::os::unix::fs::PermissionsExt as _;

    let scratch = Scratch::example("netns-lab");
    let path = scratch.path("c2/ip-j-route.json");
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o000)).unwrap();
    // Root reads any file whatever its mode; then netlint runs without the capabilities
    // that let it (setpriv is in util-linux), so the file is unreadable to it too.
    let prefix: &[&str] = if std::fs::read(&path).is_ok() {
        &["setpriv", "--bounding-set=-dac_override,-dac_read_search", "--"]
    } else {
        &[]
    };

    let run = run_with(&scratch, prefix, &[DUMP, "--select", "NL031"]);
    snapshot("unreadable_file", &scratch, &run);
    assert_eq!(run.code, 3);
    assert!(
        run.stdout.contains("c2/ip-j-route.json: cannot read: Permission denied"),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("NL031"), "the finding is still printed");
}

#[test]
fn dump_that_is_a_single_file_is_read_as_the_host() {
    let scratch = Scratch::example("netns-lab");
    let run = check("single_file", &scratch, &["dump/iptables-save.txt"]);
    assert_eq!(run.code, 0);
    assert!(run.stdout.contains("read 1 file in 1 namespace (host):"), "{}", run.stdout);

    let text = scratch.read("c2/ip-j-addr.json");
    scratch.write("cut.json", &text[..text.len() / 2]);
    let run = check("single_file_cut", &scratch, &["dump/cut.json", "--format", "short"]);
    assert_eq!(run.code, 3);
    assert_eq!(run.input_errors().len(), 1, "{}", run.stdout);
}

#[test]
fn dump_path_that_does_not_exist_exits_two_with_the_path_escaped() {
    let scratch = Scratch::empty();
    let run = check("missing_hostile_path", &scratch, &["no-such-dump\u{1b}[2J\u{7}"]);
    assert_eq!(run.code, 2);
    assert_no_terminal_controls(&run);
    assert!(run.stderr.contains("no-such-dump\\u{1b}[2J\\u{7}"), "{}", run.stderr);
}

#[test]
fn file_over_the_size_limit_is_refused_before_reading() {
    let scratch = Scratch::example("netns-lab");
    // A sparse 2 GiB file: no disk used, and reading it would take seconds and 2 GiB.
    let huge = std::fs::File::create(scratch.path("c1/ip-j-d-link.json")).unwrap();
    huge.set_len(2 << 30).unwrap();

    let started = Instant::now();
    let run = check("huge_file", &scratch, &[DUMP, "--select", "NL031"]);
    assert!(started.elapsed() < Duration::from_secs(20), "refused before reading");
    assert_eq!(run.code, 3);
    assert!(run.stdout.contains("NL031"), "the finding is still printed");
    let short = self::run(&scratch, &[DUMP, "--format", "short"]);
    assert_eq!(
        short.input_errors(),
        [
            "c1/ip-j-d-link.json:1:1: error: file is 2147483648 bytes, above the limit of 268435456 bytes [netlint::discover::too-large]"
        ]
    );
}

#[test]
fn file_whose_size_metadata_lies_is_cut_at_the_limit() {
    let scratch = Scratch::empty();
    // procfs files report size 0 and hold more: the read itself must stop at the limit.
    let run =
        check("size_metadata_lies", &scratch, &["/proc/self/status", "--max-file-size", "16"]);
    assert_eq!(run.code, 3);
    assert!(run.stdout.contains("file holds more, above the limit of 16 bytes"), "{}", run.stdout);
}

// ---------------------------------------------------------------------------------------
// Hostile values.

#[test]
fn terminal_escapes_and_newlines_in_names_are_never_echoed_raw() {
    let scratch = Scratch::example("netns-lab");
    // Linux allows any byte but `/`, `:` and whitespace in an interface name, and `ip`
    // prints it raw; JSON escapes it. Comments and process names are free text.
    for rel in ["ip-j-d-link.json", "ip-j-addr.json"] {
        scratch.edit(rel, |text| {
            text.replace("\"veth-c2\"", "\"veth-c2\\u001b[31m\\u0007\\n\\u009b2J\\u202e\"")
        });
    }
    for rel in ["c1/ip-d-link.txt", "c1/ip-addr.txt"] {
        scratch.edit(rel, |text| text.replace("eth0@if4", "eth0\u{1b}]0;pwned\u{7}@if4"));
    }
    scratch.edit("c1/ip-d-link.txt", |text| text + "3: broken\u{1b}[2J line\rover\u{9b}written\n");
    scratch.edit("iptables-save.txt", |text| {
        text.replace("\"publish c1 http\"", "\"publish \u{1b}[8m\u{202e}c1\u{85} http\"")
    });
    scratch.edit("c1/ss-lntupH.txt", |text| text.replace("python3", "py\u{1b}[2Jthon"));

    for format in ["human", "short", "json"] {
        let run = run(&scratch, &[DUMP, "--format", format, "-v"]);
        assert_eq!(run.code, 3, "the broken header line is an input error");
        assert_no_terminal_controls(&run);
    }
    let run = check("hostile_names", &scratch, &[DUMP, "--select", "NL001,NL031", "-v"]);
    assert!(
        run.stdout.contains("veth-c2\\u{1b}[31m\\u{7}\\u{a}\\u{9b}2J\\u{202e}"),
        "{}",
        run.stdout
    );
}

/// The `file:line` of each input error, from `--format short`.
fn error_lines(run: &Run) -> BTreeSet<String> {
    run.input_errors()
        .iter()
        .map(|l| l.splitn(3, ':').take(2).collect::<Vec<_>>().join(":"))
        .collect()
}

/// The `file:line` of every line of `rel` that holds one of `planted`.
fn planted_lines(scratch: &Scratch, rel: &str, planted: &[&str]) -> BTreeSet<String> {
    let text = scratch.read(rel);
    let lines = text.lines().enumerate().filter(|(_, l)| planted.iter().any(|p| l.contains(p)));
    lines.map(|(i, _)| format!("{rel}:{}", i + 1)).collect()
}

#[test]
fn out_of_range_numbers_in_ip_ss_and_iptables_are_errors_where_they_stand() {
    let scratch = Scratch::example("netns-lab");
    // Hand-made, after iproute2 6.1 (`ip -d link`, `ip -j -p addr`, `ip route`,
    // `ss -lntuH`) and iptables-save 1.8.9, each carrying numbers out of range.
    scratch.write(
        "odd/ip-d-link.txt",
        "1: lo: <LOOPBACK,UP,LOWER_UP> mtu -1 qdisc noqueue state UNKNOWN mode DEFAULT group default qlen 1000
    link/loopback 00:00:00:00:00:00 brd 00:00:00:00:00:00
2: eth0@if99: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 99999999999999999999 qdisc noqueue state UP mode DEFAULT group default qlen 1000
    link/ether 16:48:29:20:e2:79 brd ff:ff:ff:ff:ff:ff link-netnsid 0
",
    );
    scratch.write(
        "odd/ip-j-addr.json",
        r#"[ {
        "ifindex": 2,
        "ifname": "eth0",
        "mtu": -5,
        "addr_info": [ {
                "family": "inet",
                "local": "10.0.0.1",
                "prefixlen": 33
            },{
                "family": "inet6",
                "local": "fd00::1",
                "prefixlen": 129
            },{
                "family": "inet",
                "local": "10.0.0.2",
                "prefixlen": 300
            },{
                "family": "inet",
                "local": "10.0.0.300",
                "prefixlen": 24
            } ]
    } ]
"#,
    );
    scratch.write(
        "odd/ip-route.txt",
        "default via 10.0.0.254 dev eth0
10.0.0.0/33 dev eth0 proto kernel scope link src 10.0.0.1
fd00::/129 dev eth0 proto kernel metric 256 pref medium
",
    );
    scratch.write(
        "odd/ss.txt",
        "tcp   LISTEN 0      5      0.0.0.0:70000      0.0.0.0:*
tcp   LISTEN 0      5      [::]:99999999999      [::]:*
udp   UNCONN 0      0      10.0.0.1:-53      0.0.0.0:*
",
    );
    scratch.write(
        "odd/iptables-save.txt",
        "*filter
:INPUT ACCEPT [0:0]
-A INPUT -s 10.0.0.0/33 -j ACCEPT
-A INPUT -p tcp -m tcp --dport 70000 -j ACCEPT
-A INPUT -p tcp -m multiport --dports 80,443,8000:99999 -j ACCEPT
COMMIT
",
    );

    let run =
        check("out_of_range_numbers", &scratch, &[DUMP, "--format", "short", "--select", "NL031"]);
    assert_eq!(run.code, 3);
    let mut planted = planted_lines(&scratch, "odd/ip-d-link.txt", &["mtu -1", "mtu 999"]);
    planted.extend(planted_lines(&scratch, "odd/ip-j-addr.json", &["-5", "33", "129", "300"]));
    planted.extend(planted_lines(&scratch, "odd/ip-route.txt", &["/33", "/129"]));
    planted.extend(planted_lines(&scratch, "odd/ss.txt", &["70000", "999", ":-53"]));
    planted.extend(planted_lines(&scratch, "odd/iptables-save.txt", &["/33", "70000", "99999"]));
    assert_eq!(error_lines(&run), planted, "one error on each line with a bad number");
    assert_eq!(run.input_errors().len(), planted.len(), "{:#?}", run.input_errors());
    assert!(run.findings().iter().any(|f| f.contains("NL031")), "the finding is still printed");
}

#[test]
fn out_of_range_numbers_in_docker_and_libvirt_are_errors_where_they_stand() {
    let scratch = Scratch::example("docker-lab");
    scratch.edit("docker-inspect.json", |text| {
        text.replace("\"HostPort\": \"9090\"", "\"HostPort\": \"99999\"")
            .replace("\"IPPrefixLen\": 24", "\"IPPrefixLen\": 40")
            // c1's `-p 8080:80`, as asked for and as set up.
            .replacen("\"80/tcp\": [", "\"80000/tcp\": [", 2)
    });
    scratch.edit("docker-network-inspect.json", |text| {
        text.replace("\"Subnet\": \"172.30.6.0/24\"", "\"Subnet\": \"172.30.6.0/33\"")
    });
    // Hand-made, after `virsh net-dumpxml` of libvirt 9 (see the libvirt-double-nat example).
    scratch.write(
        "virsh-net-dumpxml-odd.xml",
        "<network>
  <name>odd</name>
  <forward mode='nat'/>
  <bridge name='virbr9' stp='on' delay='0'/>
  <mtu size='-1'/>
  <ip address='192.168.200.1' prefix='33'>
  </ip>
</network>
",
    );

    let run = check(
        "out_of_range_numbers_docker_libvirt",
        &scratch,
        &[DUMP, "--format", "short", "--select", "NL001"],
    );
    assert_eq!(run.code, 3);
    let mut planted =
        planted_lines(&scratch, "docker-inspect.json", &["99999", "\"IPPrefixLen\": 40", "80000"]);
    planted.extend(planted_lines(&scratch, "docker-network-inspect.json", &["/33"]));
    planted.extend(planted_lines(&scratch, "virsh-net-dumpxml-odd.xml", &["'-1'", "'33'"]));
    assert!(planted.len() >= 6, "every planted value is in the files: {planted:#?}");
    assert_eq!(error_lines(&run), planted, "one error on each line with a bad number");
    assert_eq!(run.input_errors().len(), planted.len(), "{:#?}", run.input_errors());
    assert!(run.findings().iter().any(|f| f.contains("NL001")), "the finding is still printed");
}

#[test]
fn deeply_nested_json_and_xml_neither_overflow_nor_hang() {
    use netlint::parse::{docker, libvirt};
    use netlint::source::FileId;

    // Parsers run on a test thread's small stack here: recursion per level would overflow.
    let deep = 100_000;
    let json = format!("[{{\"Name\":\"/c1\",\"x\":{}{}}}]", "[".repeat(deep), "]".repeat(deep));
    let parsed = docker::parse_containers(FileId(0), &json);
    assert!(parsed.value.is_empty());
    let [problem] = parsed.problems.as_slice() else { panic!("{:#?}", parsed.problems) };
    assert!(problem.message.contains("maximum nesting depth exceeded"), "{}", problem.message);
    assert!(problem.span.end as usize <= json.len());

    let xml =
        format!("<domain><name>vm</name>{}{}</domain>", "<a>".repeat(deep), "</a>".repeat(deep));
    let parsed = libvirt::parse_domain(FileId(0), &xml);
    assert!(parsed.problems.is_empty(), "{:#?}", parsed.problems);
    assert_eq!(parsed.value.map(|d| d.name).as_deref(), Some("vm"));

    // The "billion laughs": entities that would expand to gigabytes.
    let mut laughs =
        String::from("<?xml version=\"1.0\"?>\n<!DOCTYPE lolz [\n <!ENTITY lol0 \"lol\">\n");
    for i in 1..10 {
        let refs = format!("&lol{};", i - 1).repeat(10);
        laughs.push_str(&format!(" <!ENTITY lol{i} \"{refs}\">\n"));
    }
    laughs.push_str("]>\n<network><name>&lol9;</name></network>\n");
    let started = Instant::now();
    let parsed = libvirt::parse_network(FileId(0), &laughs);
    assert!(started.elapsed() < Duration::from_secs(2), "entities are not expanded");
    assert!(parsed.value.is_none());
    assert_eq!(parsed.problems.len(), 1, "{:#?}", parsed.problems);
}

#[test]
fn deeply_nested_json_in_a_dump_is_one_input_error() {
    let scratch = Scratch::example("netns-lab");
    let deep = 100_000;
    scratch.write(
        "c3/ip-j-route.json",
        format!(
            "[{{\"dst\":\"default\",\"dev\":\"eth0\",\"x\":{}{}}}]",
            "[".repeat(deep),
            "]".repeat(deep)
        ),
    );

    let run = check("deeply_nested_json", &scratch, &[DUMP, "--select", "NL031"]);
    assert_eq!(run.code, 3);
    assert!(run.stdout.contains("maximum nesting depth exceeded"), "{}", run.stdout);
}

/// How many files the many-files case writes: the issue's count. Writing them takes about
/// 5 s on a 2-core machine (the file system's cost, not netlint's), reading them about 2 s
/// in a debug build; the run's hang guard is the only time bound.
const MANY_FILES: usize = 100_000;

#[test]
fn a_hundred_thousand_small_files_are_all_read_and_listed() {
    let scratch = Scratch::example("netns-lab");
    let junk = scratch.path("junk");
    std::fs::create_dir(&junk).unwrap();
    for i in 0..MANY_FILES {
        std::fs::write(junk.join(format!("n{i:06}.txt")), "x\n").unwrap();
    }

    let run = run(&scratch, &[DUMP, "--select", "NL031", "--format", "json"]);
    assert_eq!(run.code, 0);
    let json: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    let skipped = json["coverage"]["skipped_files"].as_array().unwrap();
    assert_eq!(skipped.len(), MANY_FILES, "each unrecognised file is listed");
    assert_eq!(json["summary"]["warnings"], 1, "the NL031 finding is still there");
}

// ---------------------------------------------------------------------------------------
// Regressions found by a hostile-input trial (issue 3): each was a panic, a leak, a hang
// or a wrong location before it was fixed.

#[test]
fn issue_3_labels_far_apart_on_one_json_line_do_not_panic() {
    let scratch = Scratch::example("netns-lab");
    // 120 interfaces between vxlan42 and its bridge put their labels 100 KB apart.
    edit_json(&scratch, "ip-j-d-link.json", |links| {
        let list = links.as_array_mut().unwrap();
        let at = list.iter().position(|l| l["ifname"] == "vxlan42").unwrap();
        let uplink = list.iter().find(|l| l["ifname"] == "uplink0").unwrap().clone();
        for k in 0..120 {
            let mut copy = uplink.clone();
            copy["ifname"] = format!("pad{k}").into();
            copy["ifindex"] = (1000 + k).into();
            copy.as_object_mut().unwrap().remove("link_index");
            list.insert(at + 1, copy);
        }
    });
    let run = run(&scratch, &[DUMP, "--select", "NL030"]);
    assert_eq!(run.code, 0, "{}", run.all());
    assert!(run.stdout.contains("vxlan `vxlan42` has MTU 1450"), "{}", run.stdout);
    assert!(run.stdout.lines().all(|l| l.chars().count() < 400), "no line is printed whole");
}

#[test]
fn issue_3_compact_docker_inspect_never_shows_an_env_value() {
    let scratch = Scratch::example("docker-lab");
    edit_json(&scratch, "docker-inspect.json", |containers| {
        for container in containers.as_array_mut().unwrap() {
            container["Config"]["Env"] = serde_json::json!(["DB_PASSWORD=hunter2"]);
        }
    });
    for args in [&[DUMP][..], &[DUMP, "-v"], &[DUMP, "--format", "json"]] {
        let run = run(&scratch, args);
        assert!(
            run.stdout.contains("docker-inspect.json"),
            "an excerpt of the file:\n{}",
            run.stdout
        );
        assert!(!run.all().contains("hunter2"), "{args:?} leaked:\n{}", run.all());
    }
}

#[test]
fn issue_3_a_report_of_many_bad_lines_is_capped_and_fast() {
    let scratch = Scratch::example("netns-lab");
    let lines = "not a rule\n".repeat(40_000);
    scratch.write("extra-iptables-save.txt", format!("*nat\n{lines}COMMIT\n"));
    let started = Instant::now();
    let run = run(&scratch, &[DUMP, "--select", "NL031"]);
    // A debug build renders 101 problems in well under a second; quadratic was minutes.
    assert!(started.elapsed() < Duration::from_secs(30), "took {:?}", started.elapsed());
    assert_eq!(run.code, 3);
    assert_eq!(run.stdout.matches("cannot read `not a rule`").count(), 100);
    assert!(run.stdout.contains("39900 more problems in this file are not shown"));
    assert!(run.stdout.contains("NL031"), "the findings of the rest still show");
}

#[test]
fn issue_3_header_columns_count_characters() {
    let scratch = Scratch::example("netns-lab");
    // Hand-written: an iptables-save rule with a comment in UTF-8, as `-m comment` keeps it.
    scratch.write(
        "extra-iptables-save.txt",
        "*nat\n-A PREROUTING -m comment --comment \"héllo ☃\" -s 10.0.0.0/33 -j ACCEPT\nCOMMIT\n",
    );
    let short = run(&scratch, &[DUMP, "--format", "short", "--select", "NL031"]);
    let human = run(&scratch, &[DUMP, "--select", "NL031"]);
    assert!(short.stdout.contains("extra-iptables-save.txt:2:46: error"), "{}", short.stdout);
    assert!(human.stdout.contains("[extra-iptables-save.txt:2:46]"), "{}", human.stdout);
}

#[test]
fn issue_3_out_of_range_nat_targets_and_host_ips_are_errors() {
    let scratch = Scratch::example("docker-lab");
    scratch.edit("iptables-save.txt", |t| t.replacen("172.17.0.2:80", "172.17.0.2:80000", 1));
    scratch.edit("docker-inspect.json", |t| {
        t.replacen("\"HostIp\": \"\"", "\"HostIp\": \"127.0.0.999\"", 1)
    });
    let run = run(&scratch, &[DUMP, "--format", "short"]);
    assert_eq!(run.code, 3);
    let errors = run.input_errors().join("\n");
    assert!(errors.contains("invalid port in `--to-destination 172.17.0.2:80000`"), "{errors}");
    assert!(errors.contains("invalid host address `127.0.0.999`"), "{errors}");
}

#[test]
fn issue_3_ipv4_mapped_loopback_listener_is_loopback() {
    let scratch = Scratch::example("netns-lab");
    scratch.edit("c1/ss-lntupH.txt", |t| t.replace("127.0.0.1:80 ", "[::ffff:127.0.0.1]:80 "));
    let run = run(&scratch, &[DUMP, "--format", "short", "--select", "loopback-bind"]);
    let findings = run.findings().into_iter().collect::<Vec<_>>().join("\n");
    assert!(
        findings
            .contains("10.88.0.11:80, but the service there listens only on [::ffff:127.0.0.1]:80"),
        "{findings}"
    );
    assert!(findings.contains("[NL001"), "an error, not a missing listener: {findings}");
}

#[test]
fn issue_3_xml_cut_inside_a_tag_points_at_the_cut() {
    let scratch = Scratch::example("libvirt-double-nat");
    scratch.edit("virsh-net-dumpxml-routed.xml", |t| {
        let cut = t.find("netmask").unwrap();
        t[..cut + 7].to_string()
    });
    let run = run(&scratch, &[DUMP, "--format", "short"]);
    let error = run.input_errors().join("\n");
    assert!(error.contains("unexpected end of stream, at the end of the file"), "{error}");
    assert!(!error.contains("virsh-net-dumpxml-routed.xml:1:1:"), "{error}");
}

#[test]
fn issue_3_long_paths_are_never_cut_in_locations() {
    let scratch = Scratch::example("netns-lab");
    let long = format!("c1/{}/ip-route-extra.txt", "d".repeat(250));
    scratch.write(&long, "10.2.0.0/33 dev eth0\n");
    let run = run(&scratch, &[DUMP, "--format", "json", "--select", "NL031"]);
    assert!(run.stdout.contains(&format!("\"file\": \"{long}\"")), "{}", run.stdout);
}

#[test]
fn issue_3_links_that_read_a_file_twice_are_skipped() {
    use std::os::unix::fs::symlink;

    let scratch = Scratch::example("netns-lab");
    symlink("iptables-save.txt", scratch.path("ipt-alias")).unwrap();
    symlink("c1", scratch.path("c1alias")).unwrap();
    let run = run(&scratch, &[DUMP, "--select", "NL010,NL001"]);
    assert!(run.stdout.contains("ipt-alias: a link to `iptables-save.txt`, which is read itself"));
    assert!(run.stdout.contains("c1alias: a link to `c1`, which is read itself"));
    let reference = self::run(&Scratch::example("netns-lab"), &[DUMP, "--format", "short"]);
    let aliased = self::run(&scratch, &[DUMP, "--format", "short"]);
    assert_eq!(aliased.findings(), reference.findings(), "the same findings, none twice");
}

/// Writes a user rule beside the scratch dump, in `my-rules/`: a shipped rule under id
/// NL900 and name `my-rule`, with `edit` applied to its text.
fn write_user_rule(scratch: &Scratch, shipped: &str, edit: impl FnOnce(String) -> String) {
    let path = common::root().join("rules").join(shipped);
    let text = std::fs::read_to_string(path).unwrap();
    let id = text.lines().find_map(|l| l.strip_prefix("id = ")).unwrap().to_string();
    let name = text.lines().find_map(|l| l.strip_prefix("name = ")).unwrap().to_string();
    let text = text.replacen(&format!("id = {id}"), "id = \"NL900\"", 1).replacen(
        &format!("name = {name}"),
        "name = \"my-rule\"",
        1,
    );
    scratch.write("../my-rules/my-rule.toml", edit(text));
}

#[test]
fn issue_3_a_typo_in_a_user_rule_is_an_error_when_it_loads() {
    let scratch = Scratch::example("clean");
    write_user_rule(&scratch, "loopback-bind/published-port-to-loopback-listener.toml", |t| {
        t.replace("{host.port}", "{host.prot}")
    });
    // The clean dump has no fact the rule would fire on: only a load-time check sees it.
    let run = run(&scratch, &[DUMP, "--rules", "my-rules", "--format", "short"]);
    assert_eq!(run.code, 2, "{}", run.all());
    assert!(run.stderr.contains("reads `host.prot`"), "{}", run.stderr);
}

// ---------------------------------------------------------------------------------------
// Regressions from the second trials (issue 3): valid input that gave wrong findings, or
// was rejected.

/// The findings of a run with `--format short`, one string.
fn short_findings(scratch: &Scratch, args: &[&str]) -> String {
    let mut all = vec![DUMP, "--format", "short"];
    all.extend_from_slice(args);
    run(scratch, &all).findings().into_iter().collect::<Vec<_>>().join("\n")
}

#[test]
fn issue_3_a_container_on_an_internal_and_a_routed_network_publishes_on_the_routed_one() {
    let scratch = Scratch::example("clean");
    // The Compose frontend/backend layout; the `backend` network is written after what
    // `docker network inspect` prints for an `internal: true` network.
    edit_json(&scratch, "docker-inspect.json", |containers| {
        containers[0]["NetworkSettings"]["Networks"]["backend"] = serde_json::json!({
            "NetworkID": "b".repeat(64), "IPAddress": "172.30.9.2", "IPPrefixLen": 24,
            "Gateway": ""
        });
    });
    edit_json(&scratch, "docker-network-inspect.json", |networks| {
        networks.as_array_mut().unwrap().push(serde_json::json!({
            "Name": "backend", "Id": "b".repeat(64), "Driver": "bridge", "Internal": true,
            "IPAM": {"Config": [{"Subnet": "172.30.9.0/24"}]}, "Options": {}
        }));
    });
    assert_eq!(short_findings(&scratch, &[]), "", "nothing is published into `backend`");
}

#[test]
fn issue_3_an_ipv6_only_listener_does_not_take_an_ipv4_forward() {
    let scratch = Scratch::example("netns-lab");
    // Today's ss prints a v6-only wildcard as `[::]` and a dual-stack one as `*`.
    scratch.edit("c2/ss-lntupH.txt", |t| t.replace("0.0.0.0:80 ", "[::]:80 "));
    let findings = short_findings(&scratch, &["--select", "NL002"]);
    assert!(
        findings.contains("10.88.0.12:80, but the service listens only on [::]:80"),
        "{findings}"
    );
    scratch.edit("c2/ss-lntupH.txt", |t| t.replace("[::]:80 ", "*:80 "));
    let findings = short_findings(&scratch, &["--select", "NL002"]);
    assert!(!findings.contains("10.88.0.12:80,"), "a dual-stack socket takes it: {findings}");
}

#[test]
fn issue_3_docker_host_port_ranges_are_read() {
    let scratch = Scratch::example("clean");
    scratch.edit("docker-inspect.json", |t| {
        t.replacen("\"HostPort\": \"8090\"", "\"HostPort\": \"8090-8099\"", 1)
    });
    let run = run(&scratch, &[DUMP, "--format", "short"]);
    assert_eq!(run.code, 0, "{}", run.all());
}

#[test]
fn issue_3_a_multipath_route_file_is_recognised() {
    let scratch = Scratch::example("netns-lab");
    // `ip route` prints an ECMP route as a first line without a device, then its hops.
    scratch.write(
        "c3/ip-route-ecmp.txt",
        "default proto static metric 100\n\tnexthop via 10.88.0.1 dev eth0 weight 1\n\tnexthop via 10.88.0.2 dev eth0 weight 1\n10.88.0.0/24 dev eth0 scope link\n",
    );
    let run = run(&scratch, &[DUMP, "--select", "NL031"]);
    assert!(!run.stdout.contains("c3/ip-route-ecmp.txt: content not recognised"), "{}", run.stdout);
}

#[test]
fn issue_3_forwards_that_never_fire_are_not_publications() {
    let scratch = Scratch::example("netns-lab");
    // The c1 forward moved into a user chain that nothing jumps to.
    scratch.edit("iptables-save.txt", |t| {
        t.replacen(
            "-A PREROUTING -p tcp -m tcp --dport 8080",
            "-A OLD_FWD -p tcp -m tcp --dport 8080",
            1,
        )
        .replacen(":POSTROUTING ACCEPT", ":OLD_FWD - [0:0]\n:POSTROUTING ACCEPT", 1)
    });
    let findings = short_findings(&scratch, &["--select", "NL001"]);
    assert!(!findings.contains("10.88.0.11:80"), "{findings}");
    assert!(findings.contains("[fd00:88::11]:80"), "the IPv6 forward still fires: {findings}");
}

#[test]
fn issue_3_sctp_forwards_are_not_checked_against_ss_lntu() {
    let scratch = Scratch::example("netns-lab");
    scratch.edit("iptables-save.txt", |t| {
        t.replacen("-p tcp -m tcp --dport 8082", "-p sctp -m sctp --dport 8082", 1)
    });
    let findings = short_findings(&scratch, &["--select", "NL002"]);
    assert!(!findings.contains("8082"), "ss -lntu never lists SCTP: {findings}");
}

#[test]
fn issue_3_a_gateway_behind_a_link_route_is_on_the_segment() {
    let scratch = Scratch::example("netns-lab");
    // Calico-style: a /32 address and a link-scope route to the gateway itself.
    edit_json(&scratch, "c3/ip-j-route.json", |routes| {
        routes.as_array_mut().unwrap().push(serde_json::json!(
            {"dst": "10.77.0.1", "dev": "eth0", "scope": "link", "flags": []}
        ));
    });
    assert_eq!(short_findings(&scratch, &["--select", "NL023"]), "");
}

#[test]
fn issue_3_env_of_another_shape_is_never_shown() {
    let scratch = Scratch::example("docker-lab");
    edit_json(&scratch, "docker-inspect.json", |containers| {
        containers[0]["Config"]["Env"] = "DB_PASSWORD=hunter2".into();
        containers[1]["Config"]["Env"] = serde_json::json!({"DB_PASSWORD": "hunter2"});
    });
    for args in [&[DUMP][..], &[DUMP, "-v", "--format", "short"], &[DUMP, "--format", "json"]] {
        let run = run(&scratch, args);
        assert_eq!(run.code, 3, "a wrong shape is an input error");
        assert!(!run.all().contains("hunter2"), "{args:?} leaked:\n{}", run.all());
    }
}

#[test]
fn issue_3_escapes_in_a_user_rule_file_are_shown_escaped() {
    let scratch = Scratch::example("netns-lab");
    write_user_rule(&scratch, "mtu-mismatch/veth-peers-disagree-on-mtu.toml", |t| {
        t.replace("message = \"veth", "message = \"\\u001b[31m\\u202e veth")
    });
    let run = run(&scratch, &[DUMP, "--rules", "my-rules", "--select", "NL900"]);
    assert!(run.stdout.contains("\\u{1b}[31m\\u{202e} veth"), "{}", run.stdout);
    assert!(!run.all().contains('\u{1b}'), "no raw escape reaches the terminal");
}

#[test]
fn issue_3_a_multiport_forward_is_one_publication_per_port() {
    let scratch = Scratch::example("netns-lab");
    scratch.edit("iptables-save.txt", |t| {
        t.replacen(
            "-p tcp -m tcp --dport 8080 -m comment --comment \"publish c1 http\" -j DNAT --to-destination 10.88.0.11:80",
            "-p tcp -m multiport --dports 80,443 -j DNAT --to-destination 10.88.0.11",
            1,
        )
    });
    scratch.edit("c1/ss-lntupH.txt", |t| {
        format!("{t}{}", t.replace("127.0.0.1:80 ", "127.0.0.1:443 "))
    });
    let findings = short_findings(&scratch, &["--select", "NL001"]);
    assert!(findings.contains("tcp port 80 is forwarded to `c1` at 10.88.0.11:80"), "{findings}");
    assert!(findings.contains("tcp port 443 is forwarded to `c1` at 10.88.0.11:443"), "{findings}");
}

#[test]
fn issue_3_a_typo_through_a_string_field_is_caught_at_load() {
    let scratch = Scratch::example("clean");
    write_user_rule(&scratch, "mtu-mismatch/veth-peers-disagree-on-mtu.toml", |t| {
        t.replace("when = \"a.mtu != b.mtu\"", "when = 'a.name.x == \"x\"'")
    });
    let run = run(&scratch, &[DUMP, "--rules", "my-rules", "--format", "short"]);
    assert_eq!(run.code, 2, "{}", run.all());
    assert!(run.stderr.contains("reads `a.name.x`"), "{}", run.stderr);
}

// ---------------------------------------------------------------------------------------
// Regressions from the third trial (issue 3).

#[test]
fn issue_3_a_stray_first_line_does_not_hide_the_file() {
    let scratch = Scratch::example("netns-lab");
    let stray = "sudo: unable to resolve host box: Name or service not known\n";
    scratch.edit("c1/ip-addr.txt", |t| format!("{stray}{t}"));
    scratch.edit("ip-j-addr.json", |t| format!("{stray}{t}"));
    let run = run(&scratch, &[DUMP, "--format", "short"]);
    assert_eq!(run.code, 3, "a stray line is bad input");
    let errors = run.input_errors().join("\n");
    assert!(errors.contains("c1/ip-addr.txt:1:1: error: cannot read interface header"), "{errors}");
    assert!(errors.contains("ip-j-addr.json:1:1: error: stray text before the output"), "{errors}");
    let reference = self::run(&Scratch::example("netns-lab"), &[DUMP, "--format", "short"]);
    assert_eq!(run.findings(), reference.findings(), "the rest of both files is still read");
}

#[test]
fn issue_3_a_forward_of_a_small_port_range_is_checked_port_by_port() {
    let scratch = Scratch::example("netns-lab");
    scratch.edit("iptables-save.txt", |t| {
        t.replacen(
            "-p tcp -m tcp --dport 8082 -m comment --comment \"publish c2 admin\" -j DNAT --to-destination 10.88.0.12:81",
            "-p tcp -m tcp --dport 79:81 -j DNAT --to-destination 10.88.0.12",
            1,
        )
    });
    let findings = short_findings(&scratch, &["--select", "NL002"]);
    assert!(findings.contains("tcp port 79 is forwarded to `c2` at 10.88.0.12:79"), "{findings}");
    assert!(findings.contains("tcp port 81 is forwarded to `c2` at 10.88.0.12:81"), "{findings}");
    assert!(!findings.contains("10.88.0.12:80,"), "c2 listens on 80: {findings}");
}

#[test]
fn issue_3_an_empty_ip6tables_save_is_read() {
    let scratch = Scratch::example("netns-lab");
    scratch.write("ip6tables-save.txt", "");
    let run = run(&scratch, &[DUMP, "--select", "NL001"]);
    assert!(!run.stdout.contains("ip6tables-save.txt: empty file"), "{}", run.stdout);
    assert!(run.stdout.contains("2 × iptables-save"), "{}", run.stdout);
}

#[test]
fn issue_3_an_ipv6_gateway_off_its_segment_is_reported() {
    let scratch = Scratch::example("netns-lab");
    scratch.edit("c1/ip-6-route.txt", |t| {
        let default = t.lines().find(|l| l.starts_with("default")).unwrap().to_string();
        t.replace(&default, "default via fd00:77::1 dev eth0 onlink metric 1024 pref medium")
    });
    let findings = short_findings(&scratch, &["--select", "NL023"]);
    assert!(findings.contains("`c1` routes everything via fd00:77::1 on `eth0`"), "{findings}");
}
