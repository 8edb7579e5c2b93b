//! Routes, from `ip -j route show [table all]`, `ip -j -6 route …` and their text forms.
//!
//! `dst` is `default`, a prefix, or a bare address (a host route, /32 or /128). Routes of
//! the `local` table and types such as `broadcast` or `unreachable` are kept with their type;
//! the analyses decide which ones matter. Multipath routes print their hops under
//! `nexthops` (JSON) or as indented `nexthop via …` lines (text); each hop is kept.

use std::net::IpAddr;

use ipnet::IpNet;
use jsonc_parser::ast::Value;

use super::json::{self, Obj, span_of};
use crate::discover::ROUTE_TYPES;
use crate::problem::{Parsed, Problem};
use crate::source::{FileId, Span, lines_with_offsets, printable};

const CODE: &str = "netlint::parse::ip-route";

/// One route as `ip route` printed it.
#[derive(Debug, Clone)]
pub struct RawRoute {
    /// Destination; `None` for `default` when the family is not known from the line.
    pub dst: RouteDst,
    /// Route type: unicast (the default), local, broadcast, unreachable, …
    pub route_type: String,
    /// `via` / `gateway`.
    pub gateway: Option<IpAddr>,
    /// `dev`.
    pub ifname: Option<String>,
    /// `table`; `None` means main.
    pub table: Option<String>,
    /// `src` / `prefsrc`.
    pub prefsrc: Option<IpAddr>,
    /// Whether the `onlink` flag is set.
    pub onlink: bool,
    /// `metric`.
    pub metric: Option<u32>,
    /// The route's line (text) or object (JSON).
    pub span: Span,
}

/// A route's destination.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RouteDst {
    /// A prefix.
    Net(IpNet),
    /// `default` of a family that the line does not show (no gateway, no address).
    DefaultUnknownFamily,
}

/// Reads the JSON of `ip -j [-6] route show [table all]`.
pub fn parse_json(file: FileId, text: &str) -> Parsed<Vec<RawRoute>> {
    let mut problems = Vec::new();
    let value = match json::parse(file, text, CODE, "ip -j route show table all") {
        Ok(Some(value)) => value,
        Ok(None) => return Parsed { value: Vec::new(), problems },
        Err(problem) => return Parsed { value: Vec::new(), problems: vec![problem] },
    };
    let mut routes = Vec::new();
    for obj in json::top_level_objects(&value, file, CODE, &mut problems) {
        let p = &mut problems;
        let Some(dst) = obj.str("dst", p) else {
            p.push(
                Problem::error(CODE, obj.span(), "route without `dst`")
                    .with_help("every route object has a `dst`"),
            );
            continue;
        };
        let gateway = ip_field(&obj, "gateway", p);
        let Some(dst) = parse_dst(&dst, gateway) else {
            p.push(bad_dst(obj.key_span("dst"), &dst));
            continue;
        };
        let flags = obj.array("flags", p);
        let onlink =
            flags.is_some_and(|f| f.elements.iter().any(|v| json::as_str(v) == Some("onlink")));
        let base = RawRoute {
            dst,
            route_type: obj.str("type", p).unwrap_or_else(|| "unicast".into()),
            gateway,
            ifname: obj.str("dev", p),
            table: obj.str("table", p),
            prefsrc: ip_field(&obj, "prefsrc", p),
            onlink,
            metric: obj.uint("metric", p),
            span: obj.span(),
        };
        match obj.array("nexthops", p) {
            Some(hops) => {
                for hop in &hops.elements {
                    let Value::Object(o) = hop else { continue };
                    let hop_obj = Obj::new(o, file, CODE);
                    routes.push(RawRoute {
                        gateway: ip_field(&hop_obj, "gateway", p),
                        ifname: hop_obj.str("dev", p),
                        span: span_of(file, hop),
                        ..base.clone()
                    });
                }
            }
            None => routes.push(base),
        }
    }
    Parsed { value: routes, problems }
}

fn ip_field(obj: &Obj<'_, '_>, key: &str, problems: &mut Vec<Problem>) -> Option<IpAddr> {
    let text = obj.str(key, problems)?;
    let parsed = text.parse().ok();
    if parsed.is_none() {
        problems.push(
            Problem::error(
                CODE,
                obj.key_span(key),
                format!("invalid address `{}` in `{key}`", printable(&text)),
            )
            .with_help("expected an IPv4 or IPv6 address"),
        );
    }
    parsed
}

fn bad_dst(span: Span, dst: &str) -> Problem {
    Problem::error(CODE, span, format!("invalid route destination `{}`", printable(dst))).with_help(
        "expected `default`, an address, or ADDRESS/PREFIX with a prefix of at most 32 or 128",
    )
}

fn parse_dst(dst: &str, gateway: Option<IpAddr>) -> Option<RouteDst> {
    if dst == "default" {
        return Some(match gateway {
            Some(IpAddr::V4(_)) => RouteDst::Net(IpNet::V4(Default::default())),
            Some(IpAddr::V6(_)) => RouteDst::Net(IpNet::V6(Default::default())),
            None => RouteDst::DefaultUnknownFamily,
        });
    }
    if let Ok(net) = dst.parse::<IpNet>() {
        return Some(RouteDst::Net(net));
    }
    dst.parse::<IpAddr>().ok().map(|addr| RouteDst::Net(IpNet::from(addr)))
}

/// Reads the text of `ip [-6] route show [table all]`.
pub fn parse_text(file: FileId, text: &str) -> Parsed<Vec<RawRoute>> {
    let mut problems = Vec::new();
    let mut routes: Vec<RawRoute> = Vec::new();
    let mut multipath_base: Option<RawRoute> = None;
    for (offset, line) in lines_with_offsets(text) {
        if line.trim().is_empty() {
            continue;
        }
        let span = Span::new(file, offset, offset + line.len());
        let at = Line { text: line, offset, span };
        let words: Vec<&str> = line.split_whitespace().collect();
        if line.starts_with(char::is_whitespace) && words.first() == Some(&"nexthop") {
            if let Some(base) = &multipath_base {
                let hop = read_attrs(base.clone(), &words, at, &mut problems);
                routes.push(hop);
            }
            continue;
        }
        let (route_type, rest) = match words.first() {
            Some(first) if ROUTE_TYPES.contains(first) => {
                (first.to_string(), words.get(1..).unwrap_or(&[]))
            }
            _ => ("unicast".to_string(), &words[..]),
        };
        let Some(dst_word) = rest.first() else {
            problems.push(bad_dst(span, line));
            continue;
        };
        let gateway = rest
            .windows(2)
            .find(|w| w.first() == Some(&"via"))
            .and_then(|w| w.get(1)?.parse().ok());
        let Some(dst) = parse_dst(dst_word, gateway) else {
            problems.push(bad_dst(at.token(dst_word), dst_word));
            continue;
        };
        let base = RawRoute {
            dst,
            route_type,
            gateway: None,
            ifname: None,
            table: None,
            prefsrc: None,
            onlink: false,
            metric: None,
            span,
        };
        let route = read_attrs(base, rest.get(1..).unwrap_or(&[]), at, &mut problems);
        // A multipath route prints no `dev` on its first line; its hops follow.
        if route.ifname.is_none() && route.gateway.is_none() && route.route_type == "unicast" {
            multipath_base = Some(route);
        } else {
            multipath_base = None;
            routes.push(route);
        }
    }
    Parsed { value: routes, problems }
}

/// The attributes after a route's destination. A value that cannot be read is an error on
/// its token, and is not used: a route `via 10.0.0.999` is not a route with no gateway.
fn read_attrs(
    mut route: RawRoute,
    words: &[&str],
    line: Line<'_>,
    problems: &mut Vec<Problem>,
) -> RawRoute {
    route.span = line.span;
    let mut i = 0;
    while let Some(&word) = words.get(i) {
        let mut value = words.get(i + 1).copied();
        // `via inet6 fe80::1` names the family first.
        if word == "via" && matches!(value, Some("inet" | "inet6")) {
            i += 1;
            value = words.get(i + 1).copied();
        }
        let takes_value = matches!(word, "via" | "dev" | "table" | "src" | "metric");
        if takes_value && value.is_none() {
            problems.push(
                Problem::error(CODE, line.token(word), format!("`{word}` has no value"))
                    .with_help("expected a value after it, as `ip route` prints it"),
            );
        }
        let bad = |what: &str, v: &str| {
            Problem::error(CODE, line.token(v), format!("invalid {what} `{}`", printable(v)))
        };
        match (word, value) {
            ("via", Some(v)) => match v.parse() {
                Ok(gateway) => route.gateway = Some(gateway),
                Err(_) => {
                    problems.push(bad("gateway", v).with_help("expected an IPv4 or IPv6 address"))
                }
            },
            ("dev", Some(v)) => route.ifname = Some(v.to_string()),
            ("table", Some(v)) => route.table = Some(v.to_string()),
            ("src", Some(v)) => match v.parse() {
                Ok(src) => route.prefsrc = Some(src),
                Err(_) => {
                    problems.push(bad("source", v).with_help("expected an IPv4 or IPv6 address"))
                }
            },
            ("metric", Some(v)) => match v.parse() {
                Ok(metric) => route.metric = Some(metric),
                Err(_) => problems
                    .push(bad("metric", v).with_help("expected a number from 0 to 4294967295")),
            },
            ("onlink", _) => route.onlink = true,
            _ => {}
        }
        i += if takes_value { 2 } else { 1 };
    }
    route
}

/// One line of the text, to point at its tokens.
#[derive(Clone, Copy)]
struct Line<'a> {
    text: &'a str,
    offset: usize,
    span: Span,
}

impl Line<'_> {
    /// The span of `token`, a slice of this line (from `split_whitespace`).
    fn token(&self, token: &str) -> Span {
        let start = (token.as_ptr() as usize).saturating_sub(self.text.as_ptr() as usize);
        let start = start.min(self.text.len());
        Span::new(self.span.file, self.offset + start, self.offset + start + token.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_reads_default_onlink_and_local_table() {
        let text = "default via 10.77.0.1 dev eth0 onlink \nlocal 10.88.0.1 dev lab0 table local proto kernel scope host src 10.88.0.1 \n";
        let parsed = parse_text(FileId(0), text);
        assert!(parsed.problems.is_empty());
        let default = &parsed.value[0];
        assert_eq!(default.dst, RouteDst::Net("0.0.0.0/0".parse().unwrap()));
        assert!(default.onlink);
        assert_eq!(parsed.value[1].route_type, "local");
        assert_eq!(parsed.value[1].table.as_deref(), Some("local"));
    }
}
