//! Containers and networks, from `docker inspect CONTAINER…` and `docker network inspect`.
//!
//! Both print a JSON array; a single object is accepted too. Older API versions print
//! `null` for empty `Ports`, `Networks` or `PortBindings`, which read as empty here.
//! `Config.Env` values can hold secrets: only the variable names are kept, the values are
//! dropped here, at the first layer, so nothing later can print them.

use std::net::IpAddr;

use ipnet::IpNet;
use jsonc_parser::ast::Value;

use super::Spanned;
use super::json::{self, Obj, span_of};
use crate::problem::{Parsed, Problem};
use crate::source::{FileId, Span, printable};

const CODE: &str = "netlint::parse::docker";

/// One container of `docker inspect`.
#[derive(Debug, Clone, Default)]
pub struct RawContainer {
    /// `Id`.
    pub id: String,
    /// `Name` without the leading `/`.
    pub name: String,
    /// The `Name` property.
    pub span: Span,
    /// `State.Pid` (0 when stopped).
    pub pid: Option<u32>,
    /// `State.Running`.
    pub running: Option<bool>,
    /// `HostConfig.NetworkMode` (`default`, `bridge`, `host`, `none`, `container:ID`, a name).
    pub network_mode: Option<Spanned<String>>,
    /// Names of `Config.Env` variables; values are never kept.
    pub env_keys: Vec<String>,
    /// `HostConfig.PortBindings`: what was asked for with `-p`.
    pub port_bindings: Vec<RawPortBinding>,
    /// `NetworkSettings.Ports`: what Docker set up.
    pub ports: Vec<RawPortBinding>,
    /// `NetworkSettings.Networks`.
    pub networks: Vec<RawEndpoint>,
}

/// One `-p` publication.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawPortBinding {
    /// Container port.
    pub container_port: u16,
    /// `tcp`, `udp` or `sctp`.
    pub proto: String,
    /// `HostIp`; empty means every address.
    pub host_ip: Option<IpAddr>,
    /// `HostPort`; `None` when Docker picks one.
    pub host_port: Option<u16>,
    /// The binding object (or the `"80/tcp"` key when it has no binding).
    pub span: Span,
}

/// A container's endpoint on one network.
#[derive(Debug, Clone, Default)]
pub struct RawEndpoint {
    /// Network name (the key under `Networks`).
    pub network: String,
    /// `NetworkID`.
    pub network_id: Option<String>,
    /// `IPAddress` with `IPPrefixLen`.
    pub ipv4: Option<IpNet>,
    /// `Gateway`.
    pub gateway: Option<IpAddr>,
    /// `GlobalIPv6Address` with `GlobalIPv6PrefixLen`.
    pub ipv6: Option<IpNet>,
    /// `MacAddress`.
    pub mac: Option<String>,
    /// The endpoint's key and object.
    pub span: Span,
}

/// One network of `docker network inspect`.
#[derive(Debug, Clone, Default)]
pub struct RawNetwork {
    /// `Name`.
    pub name: String,
    /// `Id`.
    pub id: String,
    /// The `Name` property.
    pub span: Span,
    /// `Driver`.
    pub driver: Option<String>,
    /// `Internal`, with its span.
    pub internal: Option<Spanned<bool>>,
    /// `IPAM.Config[].Subnet`.
    pub subnets: Vec<Spanned<IpNet>>,
    /// `IPAM.Config[].Gateway`.
    pub gateways: Vec<IpAddr>,
    /// `Options`, with the span of each property.
    pub options: Vec<(String, Spanned<String>)>,
}

/// Reads `docker inspect` of containers.
pub fn parse_containers(file: FileId, text: &str) -> Parsed<Vec<RawContainer>> {
    let mut problems = Vec::new();
    let value = match json::parse(file, text, CODE, "docker inspect") {
        Ok(Some(value)) => value,
        Ok(None) => return Parsed { value: Vec::new(), problems },
        Err(problem) => return Parsed { value: Vec::new(), problems: vec![problem] },
    };
    let containers = json::top_level_objects(&value, file, CODE, &mut problems)
        .iter()
        .filter_map(|obj| container(obj, &mut problems))
        .collect();
    Parsed { value: containers, problems }
}

fn container(obj: &Obj<'_, '_>, p: &mut Vec<Problem>) -> Option<RawContainer> {
    let Some(name) = obj.str("Name", p) else {
        p.push(
            Problem::error(CODE, obj.span(), "container without `Name`")
                .with_help("expected `docker inspect` objects, which all have a `Name`"),
        );
        return None;
    };
    let state = obj.obj("State", p);
    let host_config = obj.obj("HostConfig", p);
    let config = obj.obj("Config", p);
    let settings = obj.obj("NetworkSettings", p);
    let env_keys = config
        .as_ref()
        .and_then(|c| c.array("Env", p))
        .map(|env| {
            env.elements
                .iter()
                .filter_map(json::as_str)
                .map(|kv| kv.split_once('=').map(|(k, _)| k).unwrap_or(kv).to_string())
                .collect()
        })
        .unwrap_or_default();
    let network_mode = host_config.as_ref().and_then(|hc| {
        hc.str("NetworkMode", p).map(|m| Spanned::new(m, hc.key_span("NetworkMode")))
    });
    let port_bindings = host_config
        .as_ref()
        .and_then(|hc| hc.obj("PortBindings", p))
        .map(|o| port_map(&o, p))
        .unwrap_or_default();
    let ports = settings
        .as_ref()
        .and_then(|s| s.obj("Ports", p))
        .map(|o| port_map(&o, p))
        .unwrap_or_default();
    let networks = settings
        .as_ref()
        .and_then(|s| s.obj("Networks", p))
        .map(|nets| {
            nets.entries()
                .filter_map(|(name, value, span)| match value {
                    Value::Object(o) => Some(endpoint(name, &Obj::new(o, obj.file, CODE), span, p)),
                    _ => None,
                })
                .collect()
        })
        .unwrap_or_default();
    Some(RawContainer {
        id: obj.str("Id", p).unwrap_or_default(),
        name: name.trim_start_matches('/').to_string(),
        span: obj.key_span("Name"),
        pid: state.as_ref().and_then(|s| s.uint("Pid", p)),
        running: state.as_ref().and_then(|s| s.bool("Running", p)),
        network_mode,
        env_keys,
        port_bindings,
        ports,
        networks,
    })
}

/// `{"80/tcp": [{"HostIp": "", "HostPort": "8080"}], "90/udp": null}`
fn port_map(obj: &Obj<'_, '_>, p: &mut Vec<Problem>) -> Vec<RawPortBinding> {
    let mut bindings = Vec::new();
    for (key, value, key_span) in obj.entries() {
        let (port, proto) = key.split_once('/').unwrap_or((key, "tcp"));
        let Ok(container_port) = port.parse::<u16>() else {
            p.push(
                Problem::error(CODE, key_span, format!("invalid port `{}`", printable(key)))
                    .with_help("expected PORT/PROTO with a port from 0 to 65535, such as `80/tcp`"),
            );
            continue;
        };
        let Value::Array(list) = value else { continue };
        for binding in &list.elements {
            let Value::Object(o) = binding else { continue };
            let b = Obj::new(o, obj.file, CODE);
            // An empty value means "every address" or "Docker picks the port"; a bad one is
            // an error, never read as either: it would publish what Docker did not.
            let port_help = "expected a port from 1 to 65535, or a range FIRST-LAST";
            let ip_help = "expected an IPv4 or IPv6 address, or \"\" for every address";
            let host_port = parse_field::<HostPort>(&b, "HostPort", "host port", port_help, p)
                .map(|port| port.and_then(|HostPort(port)| port));
            let host_ip = parse_field::<IpAddr>(&b, "HostIp", "host address", ip_help, p);
            let (Ok(host_port), Ok(host_ip)) = (host_port, host_ip) else { continue };
            bindings.push(RawPortBinding {
                container_port,
                proto: proto.to_string(),
                host_ip,
                host_port,
                span: span_of(obj.file, binding),
            });
        }
    }
    bindings
}

const ADDRESS_HELP: &str = "expected an IPv4 or IPv6 address, or \"\"";

/// The Docker network option that sets the MTU of its interfaces.
pub const MTU_OPTION: &str = "com.docker.network.driver.mtu";

/// `HostPort`: one port, or a range (`-p 8090-8099:80`) of which Docker picked one, which
/// only the DNAT rule tells (`None`).
struct HostPort(Option<u16>);

impl std::str::FromStr for HostPort {
    type Err = ();

    fn from_str(text: &str) -> Result<Self, ()> {
        match text.split_once('-') {
            None => text.parse().map(|port| HostPort(Some(port))).map_err(|_| ()),
            Some((first, last)) => {
                let (first, last): (u16, u16) =
                    (first.parse().map_err(|_| ())?, last.parse().map_err(|_| ())?);
                if first <= last { Ok(HostPort(None)) } else { Err(()) }
            }
        }
    }
}

/// A string field that is empty (`None`) or parses as `T`; otherwise an error on the key,
/// quoting the value, is pushed and `Err` returned.
fn parse_field<T: std::str::FromStr>(
    obj: &Obj<'_, '_>,
    key: &str,
    what: &str,
    help: &str,
    p: &mut Vec<Problem>,
) -> Result<Option<T>, ()> {
    let Some(text) = obj.str(key, p).filter(|s| !s.is_empty()) else { return Ok(None) };
    text.parse().map(Some).map_err(|_| {
        let message = format!("invalid {what} `{}`", printable(&text));
        p.push(Problem::error(CODE, obj.key_span(key), message).with_help(help));
    })
}

fn endpoint(name: &str, obj: &Obj<'_, '_>, span: Span, p: &mut Vec<Problem>) -> RawEndpoint {
    RawEndpoint {
        network: name.to_string(),
        network_id: obj.str("NetworkID", p),
        ipv4: endpoint_net(obj, "IPAddress", "IPPrefixLen", p),
        gateway: parse_field::<IpAddr>(obj, "Gateway", "gateway", ADDRESS_HELP, p).ok().flatten(),
        ipv6: endpoint_net(obj, "GlobalIPv6Address", "GlobalIPv6PrefixLen", p),
        mac: obj.str("MacAddress", p).filter(|m| !m.is_empty()),
        span,
    }
}

/// An endpoint address with its prefix length; Docker prints `""` when there is none.
fn endpoint_net(
    obj: &Obj<'_, '_>,
    addr_key: &str,
    prefix_key: &str,
    p: &mut Vec<Problem>,
) -> Option<IpNet> {
    let addr = obj.str(addr_key, p).filter(|a| !a.is_empty())?;
    let prefix: Option<u8> = obj.uint(prefix_key, p);
    let net = addr
        .parse::<IpAddr>()
        .ok()
        .and_then(|ip| IpNet::new(ip, prefix.unwrap_or(if ip.is_ipv4() { 32 } else { 128 })).ok());
    if net.is_none() {
        // Point at what is wrong: the prefix length when the address itself reads.
        let problem = match (addr.parse::<IpAddr>(), prefix) {
            (Ok(_), Some(prefix)) => Problem::error(
                CODE,
                obj.key_span(prefix_key),
                format!("`{prefix_key}` {prefix} is too long for `{}`", printable(&addr)),
            )
            .with_help("expected a prefix length of at most 32 (IPv4) or 128 (IPv6)"),
            _ => Problem::error(
                CODE,
                obj.key_span(addr_key),
                format!("invalid address `{}` in `{addr_key}`", printable(&addr)),
            )
            .with_help("expected an IPv4 or IPv6 address"),
        };
        p.push(problem);
    }
    net
}

/// Reads `docker network inspect`.
pub fn parse_networks(file: FileId, text: &str) -> Parsed<Vec<RawNetwork>> {
    let mut problems = Vec::new();
    let value = match json::parse(file, text, CODE, "docker network inspect") {
        Ok(Some(value)) => value,
        Ok(None) => return Parsed { value: Vec::new(), problems },
        Err(problem) => return Parsed { value: Vec::new(), problems: vec![problem] },
    };
    let mut networks = Vec::new();
    for obj in json::top_level_objects(&value, file, CODE, &mut problems) {
        let p = &mut problems;
        let Some(name) = obj.str("Name", p) else {
            p.push(
                Problem::error(CODE, obj.span(), "network without `Name`")
                    .with_help("expected `docker network inspect` objects"),
            );
            continue;
        };
        let mut subnets = Vec::new();
        let mut gateways = Vec::new();
        let configs =
            obj.obj("IPAM", p).and_then(|ipam| ipam.array("Config", p).map(|a| (a, ipam.file)));
        for config in configs.map(|(a, _)| a.elements.as_slice()).unwrap_or_default() {
            let Value::Object(o) = config else { continue };
            let c = Obj::new(o, file, CODE);
            if let Some(subnet) = c.str("Subnet", p) {
                match subnet.parse::<IpNet>() {
                    Ok(net) => subnets.push(Spanned::new(net, c.key_span("Subnet"))),
                    Err(_) => p.push(
                        Problem::error(
                            CODE,
                            c.key_span("Subnet"),
                            format!("invalid subnet `{}`", printable(&subnet)),
                        )
                        .with_help("expected ADDRESS/PREFIX with a prefix of at most 32 or 128"),
                    ),
                }
            }
            if let Ok(Some(gateway)) =
                parse_field::<IpAddr>(&c, "Gateway", "gateway", ADDRESS_HELP, p)
            {
                gateways.push(gateway);
            }
        }
        // An MTU option Docker would refuse must not pass as no option at all.
        if let Some(o) = obj.obj("Options", p) {
            let _ =
                parse_field::<u32>(&o, MTU_OPTION, "MTU", "expected a number, such as \"1450\"", p);
        }
        let options = obj
            .obj("Options", p)
            .map(|o| {
                o.entries()
                    .filter_map(|(k, v, span)| {
                        json::as_str(v).map(|v| (k.to_string(), Spanned::new(v.to_string(), span)))
                    })
                    .collect()
            })
            .unwrap_or_default();
        networks.push(RawNetwork {
            name,
            id: obj.str("Id", p).unwrap_or_default(),
            span: obj.key_span("Name"),
            driver: obj.str("Driver", p),
            internal: obj.bool("Internal", p).map(|b| Spanned::new(b, obj.key_span("Internal"))),
            subnets,
            gateways,
            options,
        });
    }
    Parsed { value: networks, problems }
}
