//! Interfaces, from `ip -j [-d] link show`, `ip [-d] link show`, `ip -j addr show` and
//! `ip addr show` (iproute2).
//!
//! The four outputs share one record: `ip addr` prints the link header too, and `-d` adds
//! the kind (`veth`, `vxlan id 42 … dev eth0`, `bridge …`) on the line after `link/…`.
//! Older iproute2 omits keys such as `link_netnsid` or `linkinfo`; they stay `None`. In
//! text, a peer shows as `name@ifN` (`@NONE` when the peer is gone) and its namespace as
//! `link-netnsid N` or, when the namespace is named, `link-netns NAME`.

use std::net::IpAddr;

use ipnet::IpNet;
use jsonc_parser::ast::Value;

use super::Spanned;
use super::json::{self, Obj};
use crate::problem::{Parsed, Problem};
use crate::source::{FileId, Span, lines_with_offsets, printable};

const CODE: &str = "netlint::parse::ip-link";

/// One interface as `ip` printed it.
#[derive(Debug, Clone, Default)]
pub struct RawLink {
    /// `ifindex`.
    pub ifindex: Option<u32>,
    /// Interface name, without the `@peer` suffix.
    pub ifname: String,
    /// The header line (text) or the `ifname` property (JSON): where the interface is named.
    pub span: Span,
    /// MTU and the span of `mtu N`.
    pub mtu: Option<Spanned<u32>>,
    /// Name of the bridge or bond it is enslaved to.
    pub master: Option<Spanned<String>>,
    /// `operstate`.
    pub state: Option<String>,
    /// `link_type` (ether, loopback, none, …).
    pub link_type: Option<String>,
    /// `linkinfo.info_kind` (bridge, veth, vxlan, …), only with `-d`.
    pub kind: Option<String>,
    /// Index of the peer or lower device (`link_index`, `@ifN`).
    pub link_index: Option<u32>,
    /// Name of the lower device where `ip` resolved it (`link`, `@eth0`).
    pub link_name: Option<String>,
    /// Whether the peer was printed as `@NONE` (it no longer exists).
    pub peer_none: bool,
    /// `link_netnsid` / `link-netnsid`: the peer's namespace, as seen from this one.
    pub link_netnsid: Option<i64>,
    /// `link-netns NAME`: the peer's namespace by name.
    pub link_netns: Option<String>,
    /// MAC address.
    pub mac: Option<String>,
    /// vxlan details, only with `-d`.
    pub vxlan: Option<RawVxlan>,
    /// Addresses, from `ip addr`.
    pub addrs: Vec<Spanned<IpNet>>,
    /// Whether the output had address data (ip addr), even if the list is empty.
    pub has_addr_info: bool,
}

/// The vxlan details of `ip -d link`.
#[derive(Debug, Clone, Default)]
pub struct RawVxlan {
    /// VNI.
    pub id: Option<u32>,
    /// Underlay device name (`dev`).
    pub dev: Option<String>,
    /// UDP destination port.
    pub port: Option<u16>,
    /// Local tunnel address.
    pub local: Option<IpAddr>,
    /// Remote tunnel address.
    pub remote: Option<IpAddr>,
}

/// Reads the JSON of `ip -j [-d] link show` or `ip -j addr show`.
pub fn parse_json(file: FileId, text: &str) -> Parsed<Vec<RawLink>> {
    let mut problems = Vec::new();
    let value = match json::parse(file, text, CODE, "ip -j -d link show") {
        Ok(Some(value)) => value,
        Ok(None) => return Parsed { value: Vec::new(), problems },
        Err(problem) => return Parsed { value: Vec::new(), problems: vec![problem] },
    };
    let links = json::top_level_objects(&value, file, CODE, &mut problems)
        .iter()
        .filter_map(|obj| link_from_json(obj, &mut problems))
        .collect();
    Parsed { value: links, problems }
}

fn link_from_json(obj: &Obj<'_, '_>, problems: &mut Vec<Problem>) -> Option<RawLink> {
    let Some(ifname) = obj.str("ifname", problems) else {
        problems.push(
            Problem::error(CODE, obj.span(), "interface without `ifname`")
                .with_help("every object printed by `ip -j link` has an `ifname` string"),
        );
        return None;
    };
    let p = &mut *problems;
    let linkinfo = obj.obj("linkinfo", p);
    let kind = linkinfo.as_ref().and_then(|li| li.str("info_kind", p));
    let vxlan = match (kind.as_deref(), linkinfo.as_ref().and_then(|li| li.obj("info_data", p))) {
        (Some("vxlan"), Some(data)) => Some(RawVxlan {
            id: data.uint("id", p),
            dev: data.str("link", p),
            port: data.uint("port", p),
            local: data.str("local", p).and_then(|s| s.parse().ok()),
            remote: data.str("remote", p).and_then(|s| s.parse().ok()),
        }),
        _ => None,
    };
    let addr_info = obj.array("addr_info", p);
    let addrs = addr_info
        .map(|array| array.elements.iter().filter_map(|a| addr_from_json(a, obj.file, p)).collect())
        .unwrap_or_default();
    let mut link = RawLink {
        ifindex: obj.uint("ifindex", p),
        span: obj.key_span("ifname"),
        mtu: obj.uint("mtu", p).map(|m| Spanned::new(m, obj.key_span("mtu"))),
        master: obj.str("master", p).map(|m| Spanned::new(m, obj.key_span("master"))),
        state: obj.str("operstate", p),
        link_type: obj.str("link_type", p),
        kind,
        link_index: obj.uint("link_index", p),
        link_name: obj.str("link", p),
        link_netnsid: obj.int("link_netnsid", p),
        mac: obj.str("address", p),
        vxlan,
        addrs,
        has_addr_info: addr_info.is_some(),
        ..RawLink::default()
    };
    link.peer_none = link.link_name.as_deref() == Some("NONE");
    link.ifname = ifname;
    Some(link)
}

fn addr_from_json(
    value: &Value<'_>,
    file: FileId,
    problems: &mut Vec<Problem>,
) -> Option<Spanned<IpNet>> {
    let Value::Object(o) = value else { return None };
    let obj = Obj::new(o, file, CODE);
    let local = obj.str("local", problems)?;
    let prefix: u8 = obj.uint("prefixlen", problems)?;
    match make_net(&local, prefix) {
        Some(net) => Some(Spanned::new(net, obj.key_span("local"))),
        None => {
            // Point at what is wrong: the prefix when the address itself reads.
            let key = if local.parse::<IpAddr>().is_ok() { "prefixlen" } else { "local" };
            problems.push(
                Problem::error(
                    CODE,
                    obj.key_span(key),
                    format!("invalid address `{}/{prefix}`", printable(&local)),
                )
                .with_help(
                    "expected an IPv4 or IPv6 address and a prefix length of at most 32 or 128",
                ),
            );
            None
        }
    }
}

fn make_net(addr: &str, prefix: u8) -> Option<IpNet> {
    IpNet::new(addr.parse().ok()?, prefix).ok()
}

/// Reads the text of `ip [-d] link show` or `ip addr show`.
pub fn parse_text(file: FileId, text: &str) -> Parsed<Vec<RawLink>> {
    let mut problems = Vec::new();
    let mut links: Vec<RawLink> = Vec::new();
    let mut line_no_in_block = 0;
    for (offset, line) in lines_with_offsets(text) {
        if line.trim().is_empty() {
            continue;
        }
        let span = Span::new(file, offset, offset + line.len());
        if !line.starts_with(char::is_whitespace) {
            match header(file, offset, line, &mut problems) {
                Some(link) => {
                    links.push(link);
                    line_no_in_block = 0;
                }
                None => problems.push(
                    Problem::error(
                        CODE,
                        span,
                        format!("cannot read interface header `{}`", printable(line)),
                    )
                    .with_help(
                        "expected `INDEX: NAME[@PEER]: <FLAGS> mtu N …` as `ip link` prints it",
                    ),
                ),
            }
            continue;
        }
        let Some(link) = links.last_mut() else {
            problems.push(
                Problem::error(CODE, span, "detail line before any interface header")
                    .with_help("expected the output to start with `1: lo: <LOOPBACK,…>`"),
            );
            continue;
        };
        line_no_in_block += 1;
        detail(link, line, span, line_no_in_block, &mut problems);
    }
    Parsed { value: links, problems }
}

/// `5: veth-c1@if2: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc noqueue master lab0 …`
fn header(file: FileId, offset: usize, line: &str, problems: &mut Vec<Problem>) -> Option<RawLink> {
    let (index, rest) = line.split_once(": ")?;
    let (name_part, rest) = rest.split_once(": ")?;
    let rest = rest.strip_prefix('<')?;
    let (_flags, attrs) = rest.split_once('>')?;
    let (ifname, peer) = match name_part.split_once('@') {
        Some((name, peer)) => (name, Some(peer)),
        None => (name_part, None),
    };
    let mut link = RawLink {
        ifindex: index.trim().parse().ok(),
        ifname: ifname.to_string(),
        span: Span::new(file, offset, offset + line.len()),
        peer_none: peer == Some("NONE"),
        ..RawLink::default()
    };
    match peer.and_then(|p| p.strip_prefix("if")).and_then(|n| n.parse().ok()) {
        Some(n) => link.link_index = Some(n),
        None => link.link_name = peer.filter(|p| *p != "NONE").map(str::to_string),
    }
    let attrs_offset = offset + line.len() - attrs.len();
    for (key, value, start, end) in pairs(attrs) {
        let span = Span::new(file, attrs_offset + start, attrs_offset + end);
        match key {
            "mtu" => match value.parse() {
                Ok(mtu) => link.mtu = Some(Spanned::new(mtu, span)),
                Err(_) => problems.push(
                    Problem::error(CODE, span, format!("invalid MTU `{}`", printable(value)))
                        .with_help("expected `mtu N` with N a whole number from 0 to 4294967295"),
                ),
            },
            "master" => link.master = Some(Spanned::new(value.to_string(), span)),
            "state" => link.state = Some(value.to_string()),
            _ => {}
        }
    }
    Some(link)
}

/// Key/value pairs of a space-separated attribute list with their byte offsets.
fn pairs(attrs: &str) -> impl Iterator<Item = (&str, &str, usize, usize)> {
    let words: Vec<(usize, &str)> = attrs
        .split(' ')
        .scan(0usize, |pos, w| {
            let start = *pos;
            *pos += w.len() + 1;
            Some((start, w))
        })
        .filter(|(_, w)| !w.is_empty())
        .collect();
    (0..words.len().saturating_sub(1)).filter_map(move |i| {
        let (start, key) = *words.get(i)?;
        let (vstart, value) = *words.get(i + 1)?;
        Some((key, value, start, vstart + value.len()))
    })
}

fn detail(link: &mut RawLink, line: &str, span: Span, n: usize, problems: &mut Vec<Problem>) {
    let trimmed = line.trim_start();
    let words: Vec<&str> = trimmed.split_whitespace().collect();
    let after = |key: &str| {
        words.windows(2).find(|w| w.first() == Some(&key)).and_then(|w| w.get(1)).copied()
    };
    let Some(&first) = words.first() else { return };
    if let Some(link_type) = first.strip_prefix("link/") {
        link.link_type = Some(link_type.to_string());
        link.mac = words.get(1).map(|s| s.to_string());
        link.link_netnsid = after("link-netnsid").and_then(|s| s.parse().ok());
        link.link_netns = after("link-netns").map(str::to_string);
        return;
    }
    if first == "inet" || first == "inet6" {
        link.has_addr_info = true;
        let Some(cidr) = words.get(1) else { return };
        // Point-to-point addresses print as `inet 10.0.0.1 peer 10.0.0.2/32`.
        let cidr = if words.get(2) == Some(&"peer") { words.get(3).unwrap_or(cidr) } else { cidr };
        let local = words.get(1).copied().unwrap_or_default();
        let addr = local.split_once('/').map(|(a, _)| a).unwrap_or(local);
        // `ip` prints no prefix for a host address; a prefix that is not a number is bad.
        let prefix = match cidr.split_once('/') {
            Some((_, prefix)) => prefix.parse::<u8>().ok(),
            None => Some(if first == "inet" { 32 } else { 128 }),
        };
        match prefix.and_then(|prefix| make_net(addr, prefix)) {
            Some(net) => link.addrs.push(Spanned::new(net, span)),
            None => problems.push(
                Problem::error(CODE, span, format!("invalid address `{}`", printable(cidr)))
                    .with_help(
                        "expected ADDRESS/PREFIX with a prefix of at most 32 (IPv4) or 128 (IPv6)",
                    ),
            ),
        }
        return;
    }
    // With -d, the line after `link/…` starts with the kind: `veth`, `vxlan id 42 …`, `bridge …`.
    if n == 2
        && !matches!(first, "altname" | "valid_lft" | "bridge_slave" | "prop")
        && link.kind.is_none()
    {
        link.kind = Some(first.to_string());
        if first == "vxlan" {
            link.vxlan = Some(RawVxlan {
                id: after("id").and_then(|s| s.parse().ok()),
                dev: after("dev").map(str::to_string),
                port: after("dstport").and_then(|s| s.parse().ok()),
                local: after("local").and_then(|s| s.parse().ok()),
                remote: after("remote").and_then(|s| s.parse().ok()),
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_header_reads_peer_mtu_and_master() {
        let text = "5: veth-c1@if2: <BROADCAST,UP> mtu 1450 qdisc noqueue master lab0 state UP mode DEFAULT\n    link/ether 9a:00:00:00:00:01 brd ff:ff:ff:ff:ff:ff link-netnsid 1\n    veth \n";
        let parsed = parse_text(FileId(0), text);
        assert!(parsed.problems.is_empty(), "{:?}", parsed.problems);
        let link = &parsed.value[0];
        assert_eq!(link.ifname, "veth-c1");
        assert_eq!(link.link_index, Some(2));
        assert_eq!(link.mtu.as_ref().map(|m| m.value), Some(1450));
        assert_eq!(&text[link.mtu.as_ref().unwrap().span.range()], "mtu 1450");
        assert_eq!(link.master.as_ref().map(|m| m.value.as_str()), Some("lab0"));
        assert_eq!(link.link_netnsid, Some(1));
        assert_eq!(link.kind.as_deref(), Some("veth"));
    }

    #[test]
    fn bad_header_is_a_problem_with_a_span() {
        let parsed = parse_text(FileId(0), "2: eth0: mtu\n");
        assert_eq!(parsed.problems.len(), 1);
        assert!(parsed.value.is_empty());
    }
}
