//! Finds the files of a host dump, decodes them and classifies each one by its content.
//!
//! Layout of a dump: files at the top level of the folder were captured in the host's own
//! network namespace; each sub-folder holds what was captured inside one other namespace (a
//! container, VM or netns), named after it. Deeper folders belong to their top-level
//! sub-folder. Files and folders whose name starts with `.` are capture metadata and are
//! skipped. A dump may also be a single file, read as the host namespace.
//!
//! Classification looks at content only, never at names: a file name says nothing certain
//! about which command wrote it. This module and the binary are the only ones doing IO.

use std::fs;
use std::path::{Path, PathBuf};

use tracing::debug;

use crate::problem::Problem;
use crate::source::{FileId, SourceFile, Sources, Span, printable};

/// What a file was recognised as: the command whose output it holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Format {
    /// `ip -j [-d] link show`.
    IpLinkJson,
    /// `ip [-d] link show`.
    IpLinkText,
    /// `ip -j addr show`.
    IpAddrJson,
    /// `ip addr show`.
    IpAddrText,
    /// `ip -j [-6] route show [table all]`.
    IpRouteJson,
    /// `ip [-6] route show [table all]`.
    IpRouteText,
    /// `ss -lntu[p][H]`.
    Ss,
    /// `iptables-save` or `ip6tables-save`, legacy or nft flavour.
    IptablesSave,
    /// `docker inspect` of containers.
    DockerContainers,
    /// `docker network inspect`.
    DockerNetworks,
    /// `virsh dumpxml`.
    LibvirtDomain,
    /// `virsh net-dumpxml`.
    LibvirtNetwork,
}

impl Format {
    /// The command that prints this format, for coverage lines and messages.
    pub fn describe(self) -> &'static str {
        match self {
            Format::IpLinkJson => "ip -j link",
            Format::IpLinkText => "ip link",
            Format::IpAddrJson => "ip -j addr",
            Format::IpAddrText => "ip addr",
            Format::IpRouteJson => "ip -j route",
            Format::IpRouteText => "ip route",
            Format::Ss => "ss",
            Format::IptablesSave => "iptables-save",
            Format::DockerContainers => "docker inspect",
            Format::DockerNetworks => "docker network inspect",
            Format::LibvirtDomain => "virsh dumpxml",
            Format::LibvirtNetwork => "virsh net-dumpxml",
        }
    }
}

/// A classified file of the dump.
#[derive(Debug)]
pub struct DumpFile {
    /// The file's text in [`Dump::sources`].
    pub id: FileId,
    /// Namespace it was captured in: `None` for the host's own.
    pub ns: Option<String>,
    /// What it holds.
    pub format: Format,
}

/// A file that was not read, and why.
#[derive(Debug, Clone)]
pub struct Skipped {
    /// Path relative to the dump root.
    pub rel_path: String,
    /// Why it was skipped.
    pub reason: String,
}

/// A dump read from disk.
#[derive(Debug, Default)]
pub struct Dump {
    /// The folder (or the file) that was given.
    pub root: PathBuf,
    /// Decoded texts of every file that was read.
    pub sources: Sources,
    /// Files that were recognised.
    pub files: Vec<DumpFile>,
    /// Files that were not read or not recognised.
    pub skipped: Vec<Skipped>,
    /// Files that could not be read at all.
    pub problems: Vec<Problem>,
}

/// Limits on what discovery reads.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// Files larger than this are refused, so memory stays bounded.
    pub max_file_bytes: u64,
    /// At most this many files are read.
    pub max_files: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits { max_file_bytes: 256 * 1024 * 1024, max_files: 200_000 }
    }
}

/// Errors that stop discovery as a whole.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum DiscoverError {
    /// The path given on the command line does not exist or cannot be opened.
    #[error("cannot read the dump at `{path}`: {source}")]
    #[diagnostic(
        code(netlint::discover::path),
        help("give the folder that holds the captured files (see README: dump layout)")
    )]
    Path {
        /// The path as given.
        path: String,
        /// The OS error.
        source: std::io::Error,
    },
}

/// Reads and classifies every file of the dump at `root`.
pub fn discover(root: &Path, limits: Limits) -> Result<Dump, DiscoverError> {
    let meta = fs::metadata(root).map_err(|source| DiscoverError::Path {
        path: printable(&root.to_string_lossy()),
        source,
    })?;
    let mut dump = Dump { root: root.to_path_buf(), ..Dump::default() };

    if meta.is_file() {
        let name = root.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        read_one(&mut dump, root, name, None, limits);
        return Ok(dump);
    }

    let walker = walkdir::WalkDir::new(root)
        .follow_links(true)
        .sort_by_file_name()
        .into_iter()
        .filter_entry(|entry| entry.depth() == 0 || !is_hidden(entry.file_name()));
    for entry in walker {
        let entry = match entry {
            Ok(entry) => entry,
            Err(err) => {
                let rel = err.path().map(|p| rel_path(root, p)).unwrap_or_default();
                dump.skipped.push(Skipped { rel_path: rel, reason: printable(&err.to_string()) });
                continue;
            }
        };
        if !entry.file_type().is_file() {
            continue;
        }
        if dump.sources.len() + dump.skipped.len() >= limits.max_files {
            dump.skipped.push(Skipped {
                rel_path: rel_path(root, entry.path()),
                reason: format!(
                    "more than {} files in the dump; the rest are not read",
                    limits.max_files
                ),
            });
            break;
        }
        let rel = rel_path(root, entry.path());
        let ns = rel.split_once('/').map(|(top, _)| top.to_string());
        read_one(&mut dump, entry.path(), rel, ns, limits);
    }
    Ok(dump)
}

fn is_hidden(name: &std::ffi::OsStr) -> bool {
    name.to_string_lossy().starts_with('.')
}

fn rel_path(root: &Path, path: &Path) -> String {
    let rel = path.strip_prefix(root).unwrap_or(path);
    rel.components().map(|c| c.as_os_str().to_string_lossy()).collect::<Vec<_>>().join("/")
}

/// Reads, decodes and classifies one file, recording whatever goes wrong.
fn read_one(dump: &mut Dump, path: &Path, rel: String, ns: Option<String>, limits: Limits) {
    let skip = |dump: &mut Dump, reason: String| {
        debug!(file = %rel, %reason, "skipped");
        dump.skipped.push(Skipped { rel_path: printable(&rel), reason });
    };
    let size = fs::metadata(path).map(|m| m.len()).unwrap_or(0);
    if size > limits.max_file_bytes {
        let id = dump.sources.add(SourceFile::new(printable(&rel), path.into(), String::new()));
        dump.problems.push(
            Problem::error(
                "netlint::discover::too-large",
                Span::file_start(id),
                format!("file is {size} bytes, above the limit of {} bytes", limits.max_file_bytes),
            )
            .with_help("a host dump file is normally far smaller; raise --max-file-size if this one is real"),
        );
        return;
    }
    let bytes = match fs::read(path) {
        Ok(bytes) => bytes,
        Err(err) => {
            let id = dump.sources.add(SourceFile::new(printable(&rel), path.into(), String::new()));
            dump.problems.push(Problem::error(
                "netlint::discover::read",
                Span::file_start(id),
                format!("cannot read file: {err}"),
            ));
            return;
        }
    };
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return skip(dump, "empty file".into());
    }
    let decoded = decode(&bytes);
    let Some(text) = decoded.text else {
        return skip(dump, "binary content, not the text output of a network tool".into());
    };
    let Some(format) = classify(&text) else {
        return skip(dump, "content not recognised as the output of a supported tool".into());
    };
    debug!(file = %rel, format = format.describe(), "classified");
    let id = dump.sources.add(SourceFile::new(printable(&rel), path.into(), text));
    if let Some(encoding) = decoded.note {
        dump.problems.push(Problem::note(
            "netlint::discover::encoding",
            Span::file_start(id),
            format!("file was decoded as {encoding}"),
        ));
    }
    dump.files.push(DumpFile { id, ns, format });
}

struct Decoded {
    text: Option<String>,
    note: Option<&'static str>,
}

/// Decodes a file: a BOM (UTF-8, UTF-16 LE/BE as PowerShell writes them) wins; otherwise
/// UTF-8, and bytes that are not UTF-8 are read as Windows-1252 (a superset of Latin-1).
fn decode(bytes: &[u8]) -> Decoded {
    if let Some((encoding, bom_len)) = encoding_rs::Encoding::for_bom(bytes) {
        let (text, _) = encoding.decode_without_bom_handling(bytes.get(bom_len..).unwrap_or(&[]));
        let note = (encoding != encoding_rs::UTF_8).then_some(encoding.name());
        return Decoded { text: Some(text.into_owned()), note };
    }
    let head = bytes.get(..8192).unwrap_or(bytes);
    if head.contains(&0) {
        return Decoded { text: None, note: None };
    }
    match std::str::from_utf8(bytes) {
        Ok(text) => Decoded { text: Some(text.to_string()), note: None },
        Err(_) => {
            let (text, _) = encoding_rs::WINDOWS_1252.decode_without_bom_handling(bytes);
            Decoded { text: Some(text.into_owned()), note: Some("Windows-1252 (it is not UTF-8)") }
        }
    }
}

/// Recognises the tool that printed `text`, from its content alone.
pub fn classify(text: &str) -> Option<Format> {
    let trimmed = text.trim_start();
    let head = trimmed.get(..trimmed.len().min(64 * 1024)).unwrap_or(trimmed);
    match trimmed.as_bytes().first()? {
        b'[' | b'{' => classify_json(head),
        b'<' => classify_xml(head),
        _ => classify_text(head),
    }
}

/// JSON is recognised by the keys each tool prints; a truncated file still shows them, so
/// its parse error can be reported against the right format.
fn classify_json(head: &str) -> Option<Format> {
    let has = |key: &str| head.contains(&format!("\"{key}\""));
    if has("NetworkSettings") || (has("HostConfig") && has("State")) {
        Some(Format::DockerContainers)
    } else if has("IPAM") && has("Driver") {
        Some(Format::DockerNetworks)
    } else if has("ifname") && has("addr_info") {
        Some(Format::IpAddrJson)
    } else if has("ifname") && (has("link_type") || has("mtu")) {
        Some(Format::IpLinkJson)
    } else if has("dst") && (has("dev") || has("type") || has("gateway") || has("nexthops")) {
        Some(Format::IpRouteJson)
    } else {
        None
    }
}

fn classify_xml(head: &str) -> Option<Format> {
    // Skip the XML declaration and comments; the first element names the document.
    let mut rest = head;
    loop {
        rest = rest.trim_start();
        if let Some(after) = rest.strip_prefix("<?") {
            rest = after.split_once("?>")?.1;
        } else if let Some(after) = rest.strip_prefix("<!--") {
            rest = after.split_once("-->")?.1;
        } else {
            break;
        }
    }
    let name: String =
        rest.strip_prefix('<')?.chars().take_while(|c| c.is_alphanumeric() || *c == ':').collect();
    match name.rsplit(':').next()? {
        "domain" => Some(Format::LibvirtDomain),
        "network" => Some(Format::LibvirtNetwork),
        _ => None,
    }
}

fn classify_text(head: &str) -> Option<Format> {
    let lines: Vec<&str> = head
        .lines()
        .map(|l| l.trim_end_matches('\r'))
        .filter(|l| !l.trim().is_empty())
        .take(40)
        .collect();
    let first = *lines.first()?;
    if lines.iter().any(|l| is_iptables_line(l)) {
        return Some(Format::IptablesSave);
    }
    if is_ip_link_header(first) {
        let has_addr = lines.iter().any(|l| {
            let l = l.trim_start();
            l.starts_with("inet ") || l.starts_with("inet6 ") || l.starts_with("valid_lft")
        });
        return Some(if has_addr { Format::IpAddrText } else { Format::IpLinkText });
    }
    if lines.iter().take(5).all(|l| is_ss_line(l)) {
        return Some(Format::Ss);
    }
    if lines.iter().take(5).all(|l| is_route_line(l)) {
        return Some(Format::IpRouteText);
    }
    None
}

fn is_iptables_line(line: &str) -> bool {
    line.starts_with("# Generated by ip")
        || ["*filter", "*nat", "*mangle", "*raw", "*security"].contains(&line.trim())
}

/// `2: eth0@if5: <BROADCAST,...> mtu 1500 ...` as `ip link` and `ip addr` print it.
fn is_ip_link_header(line: &str) -> bool {
    let Some((index, rest)) = line.split_once(": ") else { return false };
    index.chars().all(|c| c.is_ascii_digit()) && !index.is_empty() && rest.contains(": <")
}

fn is_ss_line(line: &str) -> bool {
    let words: Vec<&str> = line.split_whitespace().collect();
    let header = words.first().is_some_and(|w| *w == "Netid" || *w == "State");
    let has_state = words.iter().take(2).any(|w| matches!(*w, "LISTEN" | "UNCONN" | "ESTAB"));
    header || (has_state && words.len() >= 5)
}

fn is_route_line(line: &str) -> bool {
    const TYPES: [&str; 10] = [
        "unicast",
        "local",
        "broadcast",
        "multicast",
        "unreachable",
        "prohibit",
        "blackhole",
        "throw",
        "nat",
        "anycast",
    ];
    let Some(first) = line.split_whitespace().next() else { return false };
    let starts_like_route = first == "default"
        || TYPES.contains(&first)
        || first.parse::<ipnet::IpNet>().is_ok()
        || first.parse::<std::net::IpAddr>().is_ok();
    let continuation =
        line.starts_with(char::is_whitespace) && line.trim_start().starts_with("nexthop");
    continuation
        || (starts_like_route
            && (line.contains(" dev ") || line.contains(" via ") || TYPES.contains(&first)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies_each_text_format_by_content() {
        assert_eq!(
            classify("*nat\n:PREROUTING ACCEPT [0:0]\nCOMMIT\n"),
            Some(Format::IptablesSave)
        );
        assert_eq!(
            classify(
                "1: lo: <LOOPBACK,UP> mtu 65536 qdisc noqueue state UNKNOWN\n    link/loopback 00:00:00:00:00:00\n"
            ),
            Some(Format::IpLinkText)
        );
        assert_eq!(classify("default via 10.0.0.1 dev eth0\n"), Some(Format::IpRouteText));
        assert_eq!(
            classify("tcp   LISTEN 0      5      127.0.0.1:80      0.0.0.0:*\n"),
            Some(Format::Ss)
        );
        assert_eq!(
            classify("<?xml version='1.0'?>\n<!-- x -->\n<domain type='kvm'>"),
            Some(Format::LibvirtDomain)
        );
        assert_eq!(classify("hello world\n"), None);
    }

    #[test]
    fn decodes_utf16_with_bom() {
        let bytes = [0xFF, 0xFE, b'a', 0, b'\n', 0];
        let decoded = decode(&bytes);
        assert_eq!(decoded.text.as_deref(), Some("a\n"));
        assert!(decoded.note.is_some());
    }
}
