//! libvirt domains (`virsh dumpxml NAME`) and networks (`virsh net-dumpxml NAME`).
//!
//! Elements are matched by local name, so XML namespaces (as in `<qemu:commandline>`) and
//! unknown elements are harmless. Per libvirt's network format, a `<forward>` without
//! `mode` means `nat`, and a network with no `<forward>` is isolated. An `<ip>` gives its
//! size as `netmask` or as `prefix`; IPv6 uses `family='ipv6'`.

use std::net::IpAddr;

use ipnet::IpNet;
use roxmltree::{Document, Node};

use super::Spanned;
use crate::problem::{Parsed, Problem};
use crate::source::{FileId, Span, printable};

const CODE: &str = "netlint::parse::libvirt";

/// A domain (VM).
#[derive(Debug, Clone, Default)]
pub struct RawDomain {
    /// `<name>`.
    pub name: String,
    /// The `<name>` element.
    pub span: Span,
    /// `<devices><interface>` elements.
    pub interfaces: Vec<RawInterface>,
}

/// A VM's `<interface>`.
#[derive(Debug, Clone, Default)]
pub struct RawInterface {
    /// `type`: network, bridge, direct, user, …
    pub if_type: String,
    /// `<source network=…>`.
    pub network: Option<String>,
    /// `<source bridge=…>`.
    pub bridge: Option<String>,
    /// `<source dev=…>` (direct / macvtap).
    pub source_dev: Option<String>,
    /// `<target dev=…>`: the host-side tap.
    pub target_dev: Option<String>,
    /// `<mac address=…>`.
    pub mac: Option<String>,
    /// `<model type=…>`.
    pub model: Option<String>,
    /// `<mtu size=…>`.
    pub mtu: Option<Spanned<u32>>,
    /// The `<interface …>` start tag.
    pub span: Span,
}

/// A libvirt network.
#[derive(Debug, Clone, Default)]
pub struct RawNetwork {
    /// `<name>`.
    pub name: String,
    /// The `<name>` element.
    pub span: Span,
    /// Forward mode: nat, route, open, bridge, … ; `None` when there is no `<forward>`.
    pub forward: Option<Spanned<String>>,
    /// `<nat><port start end>`.
    pub nat_ports: Option<(u16, u16)>,
    /// `<bridge name=…>`.
    pub bridge: Option<Spanned<String>>,
    /// `<mtu size=…>`.
    pub mtu: Option<Spanned<u32>>,
    /// `<ip>` subnets (the address with its prefix) and their spans.
    pub ips: Vec<Spanned<IpNet>>,
    /// Static DHCP leases `<dhcp><host mac ip>`: the guest addresses libvirt hands out.
    pub dhcp_hosts: Vec<(String, IpAddr, Span)>,
}

/// Reads `virsh dumpxml` output.
pub fn parse_domain(file: FileId, text: &str) -> Parsed<Option<RawDomain>> {
    let mut problems = Vec::new();
    let doc = match parse_xml(file, text, "virsh dumpxml") {
        Ok(doc) => doc,
        Err(problem) => return Parsed { value: None, problems: vec![problem] },
    };
    let root = doc.root_element();
    let (name, span) = name_of(file, root, &mut problems);
    let interfaces = root
        .children()
        .filter(|n| n.has_tag_name_local("devices"))
        .flat_map(|devices| devices.children().filter(|n| n.has_tag_name_local("interface")))
        .map(|node| {
            let source = child(node, "source");
            RawInterface {
                if_type: node.attribute("type").unwrap_or("").to_string(),
                network: source.and_then(|s| s.attribute("network")).map(str::to_string),
                bridge: source.and_then(|s| s.attribute("bridge")).map(str::to_string),
                source_dev: source.and_then(|s| s.attribute("dev")).map(str::to_string),
                target_dev: child(node, "target")
                    .and_then(|t| t.attribute("dev"))
                    .map(str::to_string),
                mac: child(node, "mac").and_then(|m| m.attribute("address")).map(str::to_string),
                model: child(node, "model").and_then(|m| m.attribute("type")).map(str::to_string),
                mtu: mtu_of(file, node, &mut problems),
                span: start_tag(file, text, node),
            }
        })
        .collect();
    Parsed { value: Some(RawDomain { name, span, interfaces }), problems }
}

/// Reads `virsh net-dumpxml` output.
pub fn parse_network(file: FileId, text: &str) -> Parsed<Option<RawNetwork>> {
    let mut problems = Vec::new();
    let doc = match parse_xml(file, text, "virsh net-dumpxml") {
        Ok(doc) => doc,
        Err(problem) => return Parsed { value: None, problems: vec![problem] },
    };
    let root = doc.root_element();
    let (name, span) = name_of(file, root, &mut problems);
    let forward = child(root, "forward").map(|f| {
        let mode = f.attribute("mode").unwrap_or("nat").to_string();
        Spanned::new(mode, start_tag(file, text, f))
    });
    let nat_ports = child(root, "forward")
        .and_then(|f| child(f, "nat"))
        .and_then(|nat| child(nat, "port"))
        .and_then(|port| {
            Some((port.attribute("start")?.parse().ok()?, port.attribute("end")?.parse().ok()?))
        });
    let bridge = child(root, "bridge").and_then(|b| {
        b.attribute("name").map(|name| Spanned::new(name.to_string(), start_tag(file, text, b)))
    });
    let ips = root
        .children()
        .filter(|n| n.has_tag_name_local("ip"))
        .filter_map(|ip| ip_of(file, text, ip, &mut problems))
        .collect();
    let mtu = mtu_of(file, root, &mut problems);
    let dhcp_hosts = root
        .descendants()
        .filter(|n| {
            n.has_tag_name_local("host") && n.parent().is_some_and(|p| p.has_tag_name_local("dhcp"))
        })
        .filter_map(|h| {
            Some((
                h.attribute("mac")?.to_ascii_lowercase(),
                h.attribute("ip")?.parse().ok()?,
                start_tag(file, text, h),
            ))
        })
        .collect();
    Parsed {
        value: Some(RawNetwork { name, span, forward, nat_ports, bridge, mtu, ips, dhcp_hosts }),
        problems,
    }
}

trait LocalName {
    fn has_tag_name_local(&self, name: &str) -> bool;
}

impl LocalName for Node<'_, '_> {
    fn has_tag_name_local(&self, name: &str) -> bool {
        self.is_element() && self.tag_name().name() == name
    }
}

fn child<'a, 'i>(node: Node<'a, 'i>, name: &str) -> Option<Node<'a, 'i>> {
    node.children().find(|n| n.has_tag_name_local(name))
}

fn parse_xml<'a>(file: FileId, text: &'a str, what: &str) -> Result<Document<'a>, Problem> {
    Document::parse(text).map_err(|err| {
        // roxmltree places an unclosed root at 1:1; what was found is the end of the file.
        let (span, found) = match err {
            // roxmltree places an end of input met inside a tag or attribute at 1:1.
            roxmltree::Error::UnclosedRootNode | roxmltree::Error::UnexpectedEndOfStream => {
                (Span::at_end(file, text), ", at the end of the file")
            }
            _ => {
                let offset = offset_of(text, err.pos().row, err.pos().col);
                (Span::new(file, offset, offset), "")
            }
        };
        // roxmltree quotes the character it met, which may be a control character.
        let err = printable(&err.to_string());
        Problem::error(CODE, span, format!("invalid XML: {err}{found}")).with_help(format!(
            "expected the complete XML printed by `{what}`; was the file cut short?"
        ))
    })
}

/// Byte offset of a 1-based row and column (in characters).
fn offset_of(text: &str, row: u32, col: u32) -> usize {
    let line_start: usize =
        text.split_inclusive('\n').take(row.saturating_sub(1) as usize).map(str::len).sum();
    let line = text.get(line_start..).unwrap_or("");
    let in_line: usize =
        line.chars().take(col.saturating_sub(1) as usize).map(char::len_utf8).sum();
    (line_start + in_line).min(text.len())
}

/// The span of an element's start tag: `<interface type='network'>`, not its children.
fn start_tag(file: FileId, text: &str, node: Node<'_, '_>) -> Span {
    let range = node.range();
    let tag = text.get(range.clone()).unwrap_or("");
    let end = tag.find('>').map(|i| range.start + i + 1).unwrap_or(range.end);
    Span::new(file, range.start, end)
}

fn name_of(file: FileId, root: Node<'_, '_>, problems: &mut Vec<Problem>) -> (String, Span) {
    match child(root, "name") {
        Some(node) => {
            let range = node.range();
            (node.text().unwrap_or("").trim().to_string(), Span::new(file, range.start, range.end))
        }
        None => {
            let range = root.range();
            let span = Span::new(file, range.start, range.start);
            problems.push(
                Problem::error(
                    CODE,
                    span,
                    format!("`<{}>` has no `<name>`", root.tag_name().name()),
                )
                .with_help(
                    "libvirt always prints a `<name>` element; expected the full `virsh` output",
                ),
            );
            (String::new(), span)
        }
    }
}

fn mtu_of(file: FileId, node: Node<'_, '_>, problems: &mut Vec<Problem>) -> Option<Spanned<u32>> {
    let mtu = child(node, "mtu")?;
    let range = mtu.range();
    let span = Span::new(file, range.start, range.end);
    let size = mtu.attribute("size").unwrap_or("");
    match size.parse::<u32>() {
        Ok(size) if (68..=65535).contains(&size) => Some(Spanned::new(size, span)),
        _ => {
            problems.push(
                Problem::error(CODE, span, format!("invalid MTU size `{}`", printable(size)))
                    .with_help("expected `<mtu size='N'/>` with N from 68 to 65535"),
            );
            None
        }
    }
}

fn ip_of(
    file: FileId,
    text: &str,
    ip: Node<'_, '_>,
    problems: &mut Vec<Problem>,
) -> Option<Spanned<IpNet>> {
    let span = start_tag(file, text, ip);
    let address: Option<IpAddr> = ip.attribute("address").and_then(|a| a.parse().ok());
    let prefix = match (ip.attribute("prefix"), ip.attribute("netmask")) {
        (Some(prefix), _) => prefix.parse::<u8>().ok(),
        (None, Some(mask)) => {
            mask.parse::<IpAddr>().ok().and_then(|m| ipnet::ip_mask_to_prefix(m).ok())
        }
        (None, None) => address.map(|a| if a.is_ipv4() { 24 } else { 64 }),
    };
    let net = address.zip(prefix).and_then(|(a, p)| IpNet::new(a, p).ok());
    if net.is_none() {
        problems.push(
            Problem::error(CODE, span, "cannot read the address and size of `<ip>`").with_help(
                "expected `address` with a `netmask` (IPv4) or a `prefix` of at most 32 or 128",
            ),
        );
    }
    net.map(|n| Spanned::new(n, span))
}
