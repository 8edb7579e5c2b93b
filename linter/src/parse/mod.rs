//! Parsers: the text of one file in, raw records that mirror the tool's output out.
//!
//! Each format has its own module with a `parse_*` entry point that returns
//! [`Parsed`]: the records it could read plus the problems it met. A parser never fails as a
//! whole on bad content; `Result` is not used here. Every record keeps the [`Span`] of the
//! text that proves it. Lowering into the common model is `lower`'s job.

pub mod docker;
pub mod ip_link;
pub mod ip_route;
pub mod iptables;
pub mod json;
pub mod libvirt;
pub mod ss;

use rayon::prelude::*;

use crate::discover::{Dump, Format};
use crate::problem::{Parsed, Problem, cap_per_file};
use crate::source::{FileId, Span};

/// The records read from one file.
#[derive(Debug)]
pub enum Content {
    /// Interfaces, from `ip link` or `ip addr` (JSON or text).
    Links(Vec<ip_link::RawLink>),
    /// Routes, from `ip route` (JSON or text).
    Routes(Vec<ip_route::RawRoute>),
    /// Listening sockets, from `ss`.
    Sockets(Vec<ss::RawSocket>),
    /// Firewall rules, from `iptables-save` / `ip6tables-save`.
    Firewall(iptables::RawRuleset),
    /// Containers, from `docker inspect`.
    DockerContainers(Vec<docker::RawContainer>),
    /// Networks, from `docker network inspect`.
    DockerNetworks(Vec<docker::RawNetwork>),
    /// A domain, from `virsh dumpxml`.
    LibvirtDomain(libvirt::RawDomain),
    /// A network, from `virsh net-dumpxml`.
    LibvirtNetwork(libvirt::RawNetwork),
}

/// One parsed file.
#[derive(Debug)]
pub struct ParsedFile {
    /// The file.
    pub file: FileId,
    /// Namespace folder it sits in (`None`: the host).
    pub ns: Option<String>,
    /// Its format.
    pub format: Format,
    /// What was read; `None` when nothing could be.
    pub content: Option<Content>,
}

/// Parses every classified file of the dump.
pub fn parse_dump(dump: &Dump) -> Vec<Parsed<ParsedFile>> {
    // Files parse independently; rayon keeps the order of `dump.files` in the result.
    dump.files
        .par_iter()
        .map(|file| {
            let text = &dump.sources.get(file.id).text;
            let _span =
                tracing::trace_span!("parse", file = %dump.sources.get(file.id).rel_path).entered();
            let mut parsed = parse_file(file.id, file.format, text);
            cap_per_file(&mut parsed.problems);
            if let Some(note) = last_line_open(file.id, file.format, text) {
                parsed.problems.push(note);
            }
            Parsed {
                value: ParsedFile {
                    file: file.id,
                    ns: file.ns.clone(),
                    format: file.format,
                    content: parsed.value,
                },
                problems: parsed.problems,
            }
        })
        .collect()
}

/// A note when a text file's last line has no line end: every tool ends its lines with one,
/// so the file may have been cut there, and its last record read short (`:80` of `:8080`).
fn last_line_open(file: FileId, format: Format, text: &str) -> Option<Problem> {
    let is_text = matches!(
        format,
        Format::IpLinkText
            | Format::IpAddrText
            | Format::IpRouteText
            | Format::Ss
            | Format::IptablesSave
    );
    (is_text && !text.is_empty() && !text.ends_with('\n')).then(|| {
        Problem::note(
            "netlint::parse::cut",
            Span::at_end(file, text),
            "the last line has no line end: was the file cut short here?",
        )
        .with_help("capture the output again if this line is incomplete")
    })
}

/// Parses one file of a known format. Stray lines before a JSON or XML document (a shell's
/// warning pasted along) are reported, and the document after them is still read.
pub fn parse_file(file: FileId, format: Format, text: &str) -> Parsed<Option<Content>> {
    let Some((stray, blanked)) = strip_stray_lines(format, text) else {
        return parse_document(file, format, text);
    };
    let mut parsed = parse_document(file, format, &blanked);
    let span = Span::new(file, 0, stray);
    let found = text.get(..stray).unwrap_or("").trim();
    parsed.problems.insert(
        0,
        Problem::error(
            CODE_STRAY,
            span,
            format!("stray text before the output: `{}`", crate::source::printable(found)),
        )
        .with_help(format!(
            "expected the output of `{}` alone; the rest is read",
            format.describe()
        )),
    );
    parsed
}

const CODE_STRAY: &str = "netlint::parse::stray";

/// For a JSON or XML format whose text does not start with its document: the length of the
/// lines before the document (at most 5 lines), and the text with those bytes made spaces, so
/// that every span stays true.
fn strip_stray_lines(format: Format, text: &str) -> Option<(usize, String)> {
    let opens: &[u8] = match format {
        Format::IpLinkJson
        | Format::IpAddrJson
        | Format::IpRouteJson
        | Format::DockerContainers
        | Format::DockerNetworks => b"[{",
        Format::LibvirtDomain | Format::LibvirtNetwork => b"<",
        _ => return None,
    };
    let starts = |t: &str| t.trim_start().as_bytes().first().is_some_and(|b| opens.contains(b));
    if starts(text) {
        return None;
    }
    let mut offset = 0;
    for line in text.split_inclusive('\n').take(5) {
        if starts(line) {
            // Spaces byte for byte: the document after them starts at a line start, so the
            // bytes stay UTF-8 and every offset stays where it was.
            let bytes: Vec<u8> = text
                .bytes()
                .enumerate()
                .map(|(i, b)| if i < offset && b != b'\n' { b' ' } else { b })
                .collect();
            let blanked = String::from_utf8_lossy(&bytes).into_owned();
            return Some((offset, blanked));
        }
        offset += line.len();
    }
    None
}

fn parse_document(file: FileId, format: Format, text: &str) -> Parsed<Option<Content>> {
    fn wrap<T>(parsed: Parsed<T>, f: impl FnOnce(T) -> Content) -> Parsed<Option<Content>> {
        Parsed { value: Some(f(parsed.value)), problems: parsed.problems }
    }
    fn wrap_opt<T>(
        parsed: Parsed<Option<T>>,
        f: impl FnOnce(T) -> Content,
    ) -> Parsed<Option<Content>> {
        Parsed { value: parsed.value.map(f), problems: parsed.problems }
    }
    match format {
        Format::IpLinkJson | Format::IpAddrJson => {
            wrap(ip_link::parse_json(file, text), Content::Links)
        }
        Format::IpLinkText | Format::IpAddrText => {
            wrap(ip_link::parse_text(file, text), Content::Links)
        }
        Format::IpRouteJson => wrap(ip_route::parse_json(file, text), Content::Routes),
        Format::IpRouteText => wrap(ip_route::parse_text(file, text), Content::Routes),
        Format::Ss => wrap(ss::parse(file, text), Content::Sockets),
        Format::IptablesSave => wrap(iptables::parse(file, text), Content::Firewall),
        Format::DockerContainers => {
            wrap(docker::parse_containers(file, text), Content::DockerContainers)
        }
        Format::DockerNetworks => wrap(docker::parse_networks(file, text), Content::DockerNetworks),
        Format::LibvirtDomain => {
            wrap_opt(libvirt::parse_domain(file, text), Content::LibvirtDomain)
        }
        Format::LibvirtNetwork => {
            wrap_opt(libvirt::parse_network(file, text), Content::LibvirtNetwork)
        }
    }
}

/// A value read from input with the span that proves it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Spanned<T> {
    /// The value.
    pub value: T,
    /// Where it was read.
    pub span: Span,
}

impl<T> Spanned<T> {
    /// Pairs a value with its span.
    pub fn new(value: T, span: Span) -> Self {
        Spanned { value, span }
    }
}
