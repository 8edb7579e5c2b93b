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
//!
//! Whatever the folder holds, discovery stays bounded: it reads at most the size limit of
//! any file, lists FIFOs, sockets and devices instead of reading them (a FIFO would block),
//! and follows symbolic links only while they stay inside the dump. What it does not read
//! is listed in [`Dump::skipped`] with the reason; what it cannot read is a [`Problem`].

use std::fs;
use std::io::Read as _;
use std::path::{Path, PathBuf};

use tracing::debug;

use crate::problem::Problem;
use crate::source::{FileId, SourceFile, Sources, Span, printable, printable_path};

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
    #[error("cannot read the dump at `{path}`: {reason}")]
    #[diagnostic(
        code(netlint::discover::path),
        help("give the folder that holds the captured files (see README, \"Making a dump\")")
    )]
    Path {
        /// The path as given.
        path: String,
        /// What the OS said, see [`io_reason`].
        reason: String,
    },
}

/// What an IO error says, for a user: the OS's sentence without its ` (os error N)` tail.
pub fn io_reason(err: &std::io::Error) -> String {
    let text = err.to_string();
    let sentence = text.find(" (os error").map_or(text.as_str(), |end| &text[..end]);
    printable(sentence)
}

/// Reads and classifies every file of the dump at `root`.
pub fn discover(root: &Path, limits: Limits) -> Result<Dump, DiscoverError> {
    let meta = fs::metadata(root).map_err(|err| DiscoverError::Path {
        path: printable(&root.to_string_lossy()),
        reason: io_reason(&err),
    })?;
    let mut dump = Dump { root: root.to_path_buf(), ..Dump::default() };

    if meta.is_file() {
        let name = root.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        read_one(&mut dump, root, name, None, limits);
        return Ok(dump);
    }

    // Links are followed only while they stay inside the dump: one to `/` would walk the
    // whole machine, and reading one to `/proc/kmsg` blocks forever.
    let inside = fs::canonicalize(root).unwrap_or_else(|_| root.to_path_buf());
    let mut walker = walkdir::WalkDir::new(root)
        .follow_links(true)
        .sort_by_file_name()
        .into_iter()
        .filter_entry(|entry| entry.depth() == 0 || !is_hidden(entry.file_name()));
    let mut seen: std::collections::HashMap<(Option<String>, u64, u64), String> =
        Default::default();
    while let Some(entry) = walker.next() {
        let entry = match entry {
            Ok(entry) => entry,
            Err(err) => {
                let path = err.path().unwrap_or(root).to_path_buf();
                let rel = rel_path(root, &path);
                match walk_error(&err) {
                    WalkError::Skip(reason) => skip(&mut dump, &rel, reason),
                    WalkError::Unreadable(reason) => unreadable(&mut dump, &path, &rel, &reason),
                }
                continue;
            }
        };
        let rel = rel_path(root, entry.path());
        let file_type = entry.file_type();
        if entry.path_is_symlink() && !points_inside(entry.path(), &inside) {
            if file_type.is_dir() {
                walker.skip_current_dir();
            }
            skip(&mut dump, &rel, "symbolic link to outside the dump, not followed".into());
            continue;
        }
        if entry.path_is_symlink()
            && let Some(target) = linked_part_of_dump(entry.path(), &inside)
        {
            let own_ns = |rel: &str| rel.split_once('/').map(|(top, _)| top.to_string());
            let alias_of_ns = file_type.is_dir() && entry.depth() == 1 && !target.contains('/');
            let same_ns_file = !file_type.is_dir() && own_ns(&target) == own_ns(&rel);
            if alias_of_ns || same_ns_file {
                if file_type.is_dir() {
                    walker.skip_current_dir();
                }
                let reason =
                    format!("a link to `{}`, which is read itself", printable_path(&target));
                skip(&mut dump, &rel, reason);
                continue;
            }
        }
        if file_type.is_dir() {
            continue;
        }
        if !file_type.is_file() {
            skip(&mut dump, &rel, "not a regular file (a FIFO, socket or device)".into());
            continue;
        }
        if dump.sources.len() + dump.skipped.len() >= limits.max_files {
            let reason =
                format!("more than {} files in the dump; the rest are not read", limits.max_files);
            skip(&mut dump, &rel, reason);
            break;
        }
        // A file reached twice in one namespace (a hard link, a link to a link) is read once.
        // The same file in two namespaces is read in both: containers can share one.
        let ns = rel.split_once('/').map(|(top, _)| top.to_string());
        if let Ok(meta) = entry.metadata() {
            use std::os::unix::fs::MetadataExt as _;
            let key = (ns.clone(), meta.dev(), meta.ino());
            if let Some(first) = seen.get(&key) {
                let reason = format!("the same file as `{first}`, reached again through a link");
                skip(&mut dump, &rel, reason);
                continue;
            }
            seen.insert(key, printable_path(&rel));
        }
        let nested = rel.matches('/').count() >= 2;
        let n_sources = dump.sources.len();
        read_one(&mut dump, entry.path(), rel, ns.clone(), limits);
        if nested && dump.sources.len() > n_sources {
            // Only the top folder names a namespace; say so rather than merge in silence.
            let id = FileId(u32::try_from(n_sources).unwrap_or(u32::MAX));
            let ns = printable_path(ns.as_deref().unwrap_or_default());
            dump.problems.push(Problem::note(
                "netlint::discover::nested",
                Span::file_start(id),
                format!("a file in a nested folder is read as part of namespace `{ns}`"),
            ));
        }
    }
    Ok(dump)
}

/// Why the walk could not enter an entry, in the dump's terms rather than walkdir's: links
/// that lead nowhere are skipped, anything else that cannot be read is an input error.
enum WalkError {
    Skip(String),
    Unreadable(String),
}

fn walk_error(err: &walkdir::Error) -> WalkError {
    let is_link =
        err.path().and_then(|p| fs::symlink_metadata(p).ok()).is_some_and(|m| m.is_symlink());
    match (err.loop_ancestor(), err.io_error()) {
        (Some(_), _) => {
            WalkError::Skip("symbolic link loop: it points to a folder that holds it".into())
        }
        (None, Some(io)) if is_link => {
            WalkError::Skip(format!("broken symbolic link: {}", io_reason(io)))
        }
        (None, Some(io)) => WalkError::Unreadable(io_reason(io)),
        (None, None) => WalkError::Unreadable(printable(&err.to_string())),
    }
}

fn is_hidden(name: &std::ffi::OsStr) -> bool {
    name.to_string_lossy().starts_with('.')
}

/// Where a link inside the dump leads, relative to the dump, when that place is itself read
/// (not hidden). A link to a file of its own namespace, or a top-level folder linked to
/// another namespace's folder, would only read the same thing twice: it is skipped for it.
fn linked_part_of_dump(link: &Path, inside: &Path) -> Option<String> {
    let target = fs::canonicalize(link).ok()?;
    let rel = target.strip_prefix(inside).ok()?;
    if rel.components().any(|c| is_hidden(c.as_os_str())) || rel.as_os_str().is_empty() {
        return None;
    }
    Some(rel_path(Path::new(""), rel))
}

fn points_inside(link: &Path, inside: &Path) -> bool {
    fs::canonicalize(link).is_ok_and(|target| target.starts_with(inside))
}

fn rel_path(root: &Path, path: &Path) -> String {
    let rel = path.strip_prefix(root).unwrap_or(path);
    rel.components().map(|c| c.as_os_str().to_string_lossy()).collect::<Vec<_>>().join("/")
}

/// Records a file that is not read; its name is made printable, as it comes from the dump.
fn skip(dump: &mut Dump, rel: &str, reason: String) {
    let rel_path = printable_path(rel);
    debug!(file = %rel_path, %reason, "skipped");
    dump.skipped.push(Skipped { rel_path, reason });
}

/// The tool whose empty output an empty file holds, by the names the README's capture
/// commands give: `ss…`, `…iptables-save…` and `…ip6tables-save…`.
fn empty_output_of(rel: &str) -> Option<Format> {
    let name = rel.rsplit('/').next().unwrap_or(rel).to_ascii_lowercase();
    if name.starts_with("ss") {
        Some(Format::Ss)
    } else if name.contains("tables-save") {
        Some(Format::IptablesSave)
    } else {
        None
    }
}

/// Records a file or folder that exists but cannot be read: an input error, since what it
/// holds is missing from the lint.
fn unreadable(dump: &mut Dump, path: &Path, rel: &str, reason: &str) {
    let id = dump.sources.add(SourceFile::new(printable_path(rel), path.into(), String::new()));
    dump.problems.push(Problem::error(
        "netlint::discover::read",
        Span::file_start(id),
        format!("cannot read: {reason}"),
    ));
}

/// Reads, decodes and classifies one file, recording whatever goes wrong.
fn read_one(dump: &mut Dump, path: &Path, rel: String, ns: Option<String>, limits: Limits) {
    let shown = printable_path(&rel);
    let max = limits.max_file_bytes;
    // Metadata refuses a big file before any byte is read; the bounded read still stops at
    // the limit when metadata does not tell the size (procfs) or the file grows meanwhile.
    let size = fs::metadata(path).map(|m| m.len()).unwrap_or(0);
    let bytes = if size > max { Ok(None) } else { read_at_most(path, max) };
    let bytes = match bytes {
        Ok(Some(bytes)) => bytes,
        Ok(None) => {
            let found =
                if size > max { format!("file is {size} bytes") } else { "file holds more".into() };
            let id = dump.sources.add(SourceFile::new(shown, path.into(), String::new()));
            dump.problems.push(
                Problem::error(
                    "netlint::discover::too-large",
                    Span::file_start(id),
                    format!("{found}, above the limit of {max} bytes"),
                )
                .with_help("a host dump file is normally far smaller; raise --max-file-size if this one is real"),
            );
            return;
        }
        Err(err) => return unreadable(dump, path, &rel, &io_reason(&err)),
    };
    let decoded = decode(&bytes);
    let Some(text) = decoded.text else {
        return skip(dump, &rel, "binary content, not the text output of a network tool".into());
    };
    if text.trim().is_empty() {
        // Empty output is an answer from `ss` (nothing listens) and `iptables-save` (no
        // rules), but has no content to recognise: the capture's file name tells.
        let Some(format) = empty_output_of(&rel) else {
            return skip(dump, &rel, "empty file".into());
        };
        debug!(file = %shown, format = format.describe(), "empty output, recognised by name");
        let id = dump.sources.add(SourceFile::new(shown, path.into(), text));
        dump.files.push(DumpFile { id, ns, format });
        return;
    }
    // `ip -j` prints `[]` when there is nothing to list, which names no tool.
    if text.split_whitespace().eq(["[]"]) || text.split_whitespace().eq(["[", "]"]) {
        return skip(dump, &rel, "empty JSON array: no records, and no sign of the tool".into());
    }
    let Some(format) = classify(&text) else {
        return skip(dump, &rel, "content not recognised as the output of a supported tool".into());
    };
    debug!(file = %shown, format = format.describe(), "classified");
    let id = dump.sources.add(SourceFile::new(shown, path.into(), text));
    if let Some(encoding) = decoded.note {
        dump.problems.push(Problem::note(
            "netlint::discover::encoding",
            Span::file_start(id),
            format!("file was decoded as {encoding}"),
        ));
    }
    dump.files.push(DumpFile { id, ns, format });
}

/// The bytes of a file, or `None` when it holds more than `max` bytes. Of a binary file
/// only the head is read, which is enough to skip it: a core dump costs no more than a
/// line of text.
fn read_at_most(path: &Path, max: u64) -> std::io::Result<Option<Vec<u8>>> {
    let limit = max.saturating_add(1);
    let mut file = fs::File::open(path)?;
    let mut bytes = Vec::new();
    (&mut file).take(limit.min(HEAD as u64)).read_to_end(&mut bytes)?;
    if !is_binary(&bytes) {
        file.take(limit - bytes.len() as u64).read_to_end(&mut bytes)?;
    }
    Ok((bytes.len() as u64 <= max).then_some(bytes))
}

/// How many bytes at the start of a file tell whether it is binary.
const HEAD: usize = 8192;

/// A NUL in the head and no BOM: no network tool prints that (UTF-16 text has a BOM).
fn is_binary(bytes: &[u8]) -> bool {
    encoding_rs::Encoding::for_bom(bytes).is_none()
        && bytes.get(..HEAD).unwrap_or(bytes).contains(&0)
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
    if is_binary(bytes) {
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

/// The route types `ip route` prints before the destination.
pub const ROUTE_TYPES: [&str; 10] = [
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

/// Recognises the tool that printed `text`, from its content alone.
pub fn classify(text: &str) -> Option<Format> {
    let trimmed = text.trim_start();
    let head = trimmed.get(..trimmed.len().min(64 * 1024)).unwrap_or(trimmed);
    let by_start = |head: &str| match head.as_bytes().first() {
        Some(b'[' | b'{') => classify_json(head),
        Some(b'<') => classify_xml(head),
        _ => None,
    };
    if let Some(format) = by_start(head).or_else(|| classify_text(head)) {
        return Some(format);
    }
    // A stray line before the output (a shell's warning pasted along) must not hide the
    // file: classified by what follows, the parser reports the stray line as an error.
    let mut lines = head.split_inclusive('\n').take(5);
    let mut skipped = lines.next()?.len();
    for line in lines {
        if let Some(format) = head.get(skipped..).and_then(|rest| by_start(rest.trim_start())) {
            return Some(format);
        }
        skipped += line.len();
    }
    None
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
    lines.first()?;
    if lines.iter().any(|l| is_iptables_line(l)) {
        return Some(Format::IptablesSave);
    }
    // The first line, or one just after a stray line or two (a warning pasted along).
    if lines.iter().take(3).any(|l| is_ip_link_header(l)) {
        let has_addr = lines.iter().any(|l| {
            let l = l.trim_start();
            l.starts_with("inet ") || l.starts_with("inet6 ") || l.starts_with("valid_lft")
        });
        return Some(if has_addr { Format::IpAddrText } else { Format::IpLinkText });
    }
    // Most lines decide, not all: one stray line (a warning, a prompt) is the parser's to
    // report, and must not make the whole file unrecognised.
    let mostly = |test: fn(&str) -> bool| {
        let n = lines.iter().filter(|l| test(l)).count();
        n >= 1 && n * 2 >= lines.len()
    };
    if mostly(is_ss_line) {
        return Some(Format::Ss);
    }
    if mostly(is_route_line) {
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
    let Some(first) = line.split_whitespace().next() else { return false };
    // The address alone decides, so that a bad prefix (`10.0.0.0/33`) is reported by the
    // parser instead of hiding the whole file.
    let address = first.split_once('/').map_or(first, |(address, _)| address);
    let starts_like_route = first == "default"
        || ROUTE_TYPES.contains(&first)
        || address.parse::<std::net::IpAddr>().is_ok();
    // A multipath route's first line names no device (`default proto static metric 100`);
    // its hops follow on lines of their own.
    let continuation =
        line.starts_with(char::is_whitespace) && line.trim_start().starts_with("nexthop");
    continuation
        || (starts_like_route
            && ([" dev ", " via ", " proto ", " metric ", " scope "]
                .iter()
                .any(|w| line.contains(w))
                || ROUTE_TYPES.contains(&first)))
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
