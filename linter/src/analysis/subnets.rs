//! Facts `network`, `subnet_overlap` and `default_gateway`: can the LAN and the
//! workloads reach each other.
//!
//! Inputs: libvirt and Docker networks with their forward mode and subnets; published ports;
//! the host's routes and addresses; each captured workload namespace's routes and addresses.
//!
//! Overlaps are found with an index, not by comparing every pair: two prefixes overlap only
//! when one contains the other, so each subnet looks up its own supernets (at most 33 or
//! 129 prefixes) in a map, and its subnets in a sorted list by a range query.
//!
//! Ignored on purpose: default routes (they cover everything by design), the `local` table
//! and non-unicast routes, routes out of the network's own bridge (its own subnet), and the
//! default gateway of a namespace whose addresses were not captured.

use std::collections::HashMap;
use std::net::IpAddr;

use ipnet::IpNet;
use serde::Serialize;

use super::published_ports::{PortChain, kind_name};
use super::{Anchor, Fact};
use crate::model::{Forward, HOST_NS, Input, Model, NetIdx, Network, Origin};
use crate::source::Span;

#[derive(Serialize, Default)]
pub(super) struct NetworkFields {
    name: String,
    origin: &'static str,
    forward: &'static str,
    subnets: Vec<String>,
    bridge: String,
    n_published: u32,
    published: Vec<String>,
}

fn origin_name(origin: Origin) -> &'static str {
    match origin {
        Origin::Libvirt => "libvirt",
        Origin::Docker => "docker",
        Origin::Host => "host",
    }
}

fn forward_name(forward: Forward) -> &'static str {
    match forward {
        Forward::Nat => "nat",
        Forward::Route => "route",
        Forward::Open => "open",
        Forward::Bridge => "bridge",
        Forward::Isolated => "isolated",
        Forward::Host => "host",
        Forward::Null => "null",
        Forward::Other => "other",
    }
}

/// One fact per libvirt or Docker network, with the ports published into it.
pub fn networks(model: &Model, chains: &[PortChain]) -> Vec<Fact> {
    let mut facts = Vec::new();
    for (net_idx, net) in model.networks.iter().enumerate() {
        // A port is published into this network when it is forwarded to an address on it:
        // a container on an internal and a routed network publishes on the routed one only.
        let nic_on_net = |c: &PortChain| {
            c.workload.and_then(|w| model.workloads.get(w)).is_some_and(|w| {
                w.nics.iter().any(|n| {
                    n.network == Some(net_idx) && n.addrs.iter().any(|a| a.addr() == c.target_addr)
                })
            })
        };
        let published: Vec<&PortChain> = chains
            .iter()
            .filter(|c| {
                nic_on_net(c) || net.subnets.iter().any(|(s, _)| s.contains(&c.target_addr))
            })
            .collect();
        let fields = NetworkFields {
            name: net.name.clone(),
            origin: origin_name(net.origin),
            forward: forward_name(net.forward),
            subnets: net.subnets.iter().map(|(s, _)| s.to_string()).collect(),
            bridge: net.bridge.clone().unwrap_or_default(),
            n_published: u32::try_from(published.len()).unwrap_or(u32::MAX),
            published: published
                .iter()
                .map(|c| {
                    format!(
                        "{} {} → {}:{}",
                        c.proto.name(),
                        c.host_port.unwrap_or(0),
                        c.target_addr,
                        c.target_port
                    )
                })
                .collect(),
        };
        let mut anchors = vec![
            Anchor { name: "network", span: net.span },
            Anchor { name: "forward", span: net.forward_span },
        ];
        anchors.extend(net.subnets.iter().map(|(_, span)| Anchor { name: "subnet", span: *span }));
        anchors.extend(
            published
                .iter()
                .filter_map(|c| c.binding.or(c.dnat))
                .map(|span| Anchor { name: "published", span }),
        );
        facts.push(Fact::new(format!("{}/{}", fields.origin, net.name), &fields, anchors));
    }
    facts
}

#[derive(Serialize, Default)]
pub(super) struct OverlapFields {
    network: OverlapNetwork,
    other: Other,
}

#[derive(Serialize, Default)]
struct OverlapNetwork {
    name: String,
    origin: &'static str,
    forward: &'static str,
    subnet: String,
}

#[derive(Serialize, Default)]
struct Other {
    what: &'static str,
    prefix: String,
    ifname: String,
    table: String,
}

/// Something of the host that claims an address range.
struct Claim {
    net: IpNet,
    what: &'static str,
    ifname: String,
    table: String,
    span: Span,
    network: Option<NetIdx>,
}

/// One fact per workload subnet and host route, address or other network that overlaps it.
pub fn subnet_overlaps(model: &Model) -> Vec<Fact> {
    let claims = host_claims(model);
    let mut by_prefix: HashMap<IpNet, Vec<usize>> = HashMap::new();
    let mut sorted: Vec<(IpAddr, usize)> = Vec::with_capacity(claims.len());
    for (i, claim) in claims.iter().enumerate() {
        by_prefix.entry(claim.net).or_default().push(i);
        sorted.push((claim.net.network(), i));
    }
    sorted.sort();

    let mut facts = Vec::new();
    for (net_idx, net) in model.networks.iter().enumerate() {
        if !matches!(net.forward, Forward::Nat | Forward::Isolated | Forward::Route | Forward::Open)
        {
            continue;
        }
        for &(subnet, subnet_span) in &net.subnets {
            let supernets = supernets(subnet).filter_map(|p| by_prefix.get(&p)).flatten().copied();
            let lo = sorted.partition_point(|(a, _)| *a < subnet.network());
            let hi = sorted.partition_point(|(a, _)| *a <= subnet.broadcast());
            let contained = sorted.get(lo..hi).unwrap_or(&[]).iter().map(|(_, i)| *i);
            let mut hits: Vec<usize> = supernets.chain(contained).collect();
            hits.sort_unstable();
            hits.dedup();
            for claim in hits.iter().filter_map(|&i| claims.get(i)) {
                if claim.net.family_differs(subnet) || is_own(model, net, net_idx, claim) {
                    continue;
                }
                let fields = OverlapFields {
                    network: OverlapNetwork {
                        name: net.name.clone(),
                        origin: origin_name(net.origin),
                        forward: forward_name(net.forward),
                        subnet: subnet.to_string(),
                    },
                    other: Other {
                        what: claim.what,
                        prefix: claim.net.to_string(),
                        ifname: claim.ifname.clone(),
                        table: claim.table.clone(),
                    },
                };
                let key = format!("{}/{}~{}/{}", net.name, subnet, claim.what, claim.net);
                let anchors = vec![
                    Anchor { name: "network", span: subnet_span },
                    Anchor { name: "other", span: claim.span },
                ];
                facts.push(Fact::new(key, &fields, anchors));
            }
        }
    }
    facts
}

trait Family {
    fn family_differs(&self, other: IpNet) -> bool;
}

impl Family for IpNet {
    fn family_differs(&self, other: IpNet) -> bool {
        self.addr().is_ipv4() != other.addr().is_ipv4()
    }
}

/// Whether a claim is the network's own: a route or address on its bridge, or itself.
fn is_own(model: &Model, net: &Network, net_idx: NetIdx, claim: &Claim) -> bool {
    claim.network == Some(net_idx) || net.bridge.as_deref().is_some_and(|b| b == claim.ifname)
        // A libvirt network whose bridge was not captured still owns routes to its subnet
        // from any bridge named like it.
        || (net.bridge_if.is_none() && claim.what == "address" && model.iface(HOST_NS, &claim.ifname).is_none())
}

fn supernets(net: IpNet) -> impl Iterator<Item = IpNet> {
    (0..=net.prefix_len())
        .filter_map(move |len| IpNet::new(net.addr(), len).ok().map(|n| n.trunc()))
}

fn host_claims(model: &Model) -> Vec<Claim> {
    let mut claims = Vec::new();
    for route in model.routes.iter().filter(|r| r.ns == HOST_NS) {
        if route.route_type != "unicast" || route.dst.prefix_len() == 0 || route.table == "local" {
            continue;
        }
        let ifname = route.ifname.clone().unwrap_or_default();
        claims.push(Claim {
            net: route.dst.trunc(),
            what: "route",
            ifname,
            table: route.table.clone(),
            span: route.span,
            network: None,
        });
    }
    for iface in
        model.interfaces.iter().filter(|i| i.ns == HOST_NS && i.kind.as_deref() != Some("loopback"))
    {
        for (addr, span) in &iface.addrs {
            if addr.addr().is_loopback() || super::address_class(addr.addr()) == "local" {
                continue;
            }
            let (net, what, ifname) = (addr.trunc(), "address", iface.ifname.clone());
            claims.push(Claim {
                net,
                what,
                ifname,
                table: String::new(),
                span: *span,
                network: None,
            });
        }
    }
    for (idx, net) in model.networks.iter().enumerate() {
        for &(subnet, span) in &net.subnets {
            let ifname = net.bridge.clone().unwrap_or_default();
            claims.push(Claim {
                net: subnet,
                what: "network",
                ifname,
                table: net.name.clone(),
                span,
                network: Some(idx),
            });
        }
    }
    claims
}

#[derive(Serialize, Default)]
pub(super) struct GatewayFields {
    workload: Named,
    ns: String,
    gateway: String,
    ifname: String,
    onlink: bool,
    on_segment: bool,
    subnets: Vec<String>,
}

#[derive(Serialize, Default)]
struct Named {
    name: String,
    kind: String,
}

/// One fact per workload namespace with a default route.
pub fn default_gateways(model: &Model) -> Vec<Fact> {
    let mut facts = Vec::new();
    for ns in 1..model.namespaces.len() {
        // Without the namespace's addresses every gateway would look off-segment.
        if !model.captured(ns, Input::Addresses) {
            continue;
        }
        for ipv4 in [true, false] {
            let Some(route) = model.default_route_of(ns, ipv4) else { continue };
            let Some(gateway) = route.gateway else { continue };
            let iface = route.iface.and_then(|i| model.interfaces.get(i));
            let same_family = |net: &IpNet| net.addr().is_ipv4() == gateway.is_ipv4();
            let subnets: Vec<(IpNet, Span)> = iface
                .map(|i| i.addrs.iter().filter(|(n, _)| same_family(n)).cloned().collect())
                .unwrap_or_default();
            // A link-scope route to the gateway itself (`169.254.1.1 dev eth0 scope link`, as
            // Calico sets up, answered by proxy ARP) puts it on the segment as well.
            let linked_route = model.index.routes_by_ns.get(&ns).is_some_and(|idxs| {
                idxs.iter().filter_map(|&i| model.routes.get(i)).any(|r| {
                    r.gateway.is_none()
                        && r.route_type == "unicast"
                        && r.dst.prefix_len() > 0
                        && r.dst.contains(&gateway)
                        && r.ifname == route.ifname
                })
            });
            let on_segment =
                linked_route || subnets.iter().any(|(net, _)| net.trunc().contains(&gateway));
            let workload =
                model.index.workload_by_ns.get(&ns).and_then(|&w| model.workloads.get(w));
            let fields = GatewayFields {
                workload: Named {
                    name: workload.map(|w| w.name.clone()).unwrap_or_else(|| model.ns_name(ns)),
                    kind: workload.map(|w| kind_name(w.kind)).unwrap_or_else(|| "netns".into()),
                },
                ns: model.ns_name(ns),
                gateway: gateway.to_string(),
                ifname: route.ifname.clone().unwrap_or_default(),
                onlink: route.onlink,
                on_segment,
                subnets: subnets.iter().map(|(n, _)| n.trunc().to_string()).collect(),
            };
            let mut anchors = vec![Anchor { name: "route", span: route.span }];
            anchors.extend(subnets.iter().map(|(_, span)| Anchor { name: "addrs", span: *span }));
            let family = if ipv4 { "" } else { "6" };
            facts.push(Fact::new(format!("{}/default{family}", fields.ns), &fields, anchors));
        }
    }
    facts
}
