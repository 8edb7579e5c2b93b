//! Facts `bridge_port`, `veth_pair`, `mtu_path` and `declared_mtu`: MTUs along L2 paths.
//!
//! Inputs: interfaces with their MTU, master, veth peer and vxlan underlay; workload NICs
//! with their host-side device; the host's default route; the MTU that libvirt and Docker
//! configuration asks for.
//!
//! A workload's path is: its own interface → the host-side veth or tap → the bridge →
//! every tunnel port of that bridge (vxlan, geneve), whose capacity is the underlay's MTU
//! minus the encapsulation → and, when the workload's traffic is forwarded out, the host's
//! uplink. The path MTU is the smallest capacity on it.
//!
//! Ignored on purpose: interfaces whose MTU was not captured, and PMTU discovery, which can
//! hide a mismatch for TCP when ICMP gets through (and fails when it does not).

use std::collections::HashMap;

use serde::Serialize;

use super::published_ports::kind_name;
use super::{Anchor, Fact, IfaceRef};
use crate::model::{Forward, HOST_NS, IfIdx, Interface, Model, Origin};

/// Bytes of encapsulation that a tunnel kind adds, for an IPv4 and an IPv6 underlay.
pub fn overhead(kind: &str) -> Option<(u32, u32)> {
    match kind {
        "vxlan" | "geneve" => Some((50, 70)),
        "wireguard" => Some((60, 80)),
        "gretap" => Some((38, 58)),
        "gre" => Some((24, 44)),
        "ipip" | "sit" => Some((20, 40)),
        _ => None,
    }
}

#[derive(Serialize, Default)]
pub(super) struct PairFields {
    a: IfaceRef,
    b: IfaceRef,
}

#[derive(Serialize, Default)]
pub(super) struct PortFields {
    bridge: IfaceRef,
    port: IfaceRef,
}

/// One fact per bridge port whose MTU and the bridge's are both known.
pub fn bridge_ports(model: &Model) -> Vec<Fact> {
    let mut facts = Vec::new();
    for (idx, iface) in model.interfaces.iter().enumerate() {
        let Some(bridge_idx) = iface.master else { continue };
        let Some(bridge) =
            model.interfaces.get(bridge_idx).filter(|b| b.kind.as_deref() == Some("bridge"))
        else {
            continue;
        };
        let (Some((_, port_span)), Some((_, bridge_span))) = (iface.mtu, bridge.mtu) else {
            continue;
        };
        let fields =
            PortFields { bridge: IfaceRef::of(model, bridge_idx), port: IfaceRef::of(model, idx) };
        let key = format!("{}/{}/{}", fields.port.ns, fields.bridge.name, fields.port.name);
        let anchors = vec![
            Anchor { name: "bridge", span: bridge_span },
            Anchor { name: "port", span: port_span },
        ];
        facts.push(Fact::new(key, &fields, anchors));
    }
    facts
}

/// One fact per veth pair whose ends were both captured; `a` is the host-side end.
pub fn veth_pairs(model: &Model) -> Vec<Fact> {
    let mut facts = Vec::new();
    for (idx, iface) in model.interfaces.iter().enumerate() {
        let Some(peer_idx) = iface.peer else { continue };
        let Some(peer) = model.interfaces.get(peer_idx) else { continue };
        // Each pair once: from the host side, or from the lower index when neither is.
        let first = if (iface.ns == HOST_NS) != (peer.ns == HOST_NS) {
            iface.ns == HOST_NS
        } else {
            idx < peer_idx
        };
        if !first {
            continue;
        }
        let (Some((_, a_span)), Some((_, b_span))) = (iface.mtu, peer.mtu) else { continue };
        let fields = PairFields { a: IfaceRef::of(model, idx), b: IfaceRef::of(model, peer_idx) };
        let key = format!("{}/{}<->{}/{}", fields.a.ns, fields.a.name, fields.b.ns, fields.b.name);
        facts.push(Fact::new(
            key,
            &fields,
            vec![Anchor { name: "a", span: a_span }, Anchor { name: "b", span: b_span }],
        ));
    }
    facts
}

#[derive(Serialize, Default)]
pub(super) struct PathFields {
    workload: Named,
    ifname: String,
    mtu: u32,
    path_mtu: u32,
    limit: Limit,
    hops: Vec<String>,
    path: String,
}

#[derive(Serialize, Default)]
struct Named {
    name: String,
    kind: String,
}

#[derive(Serialize, Default)]
struct Limit {
    name: String,
    reason: String,
}

struct Hop {
    text: String,
    name: String,
    capacity: u32,
    reason: String,
    span: crate::source::Span,
}

/// One fact per workload NIC whose path could be followed.
pub fn mtu_paths(model: &Model) -> Vec<Fact> {
    let mut facts = Vec::new();
    let uplink = model.default_route(HOST_NS).and_then(|r| r.iface);
    // Only tunnel ports narrow a bridge's path; a bridge with 10 000 veths has few of them.
    let mut tunnels_of: HashMap<IfIdx, Vec<IfIdx>> = HashMap::new();
    for (idx, iface) in model.interfaces.iter().enumerate() {
        let is_tunnel = iface.kind.as_deref().and_then(overhead).is_some();
        if let (Some(master), true) = (iface.master, is_tunnel) {
            tunnels_of.entry(master).or_default().push(idx);
        }
    }
    for workload in &model.workloads {
        for nic in &workload.nics {
            let inner = nic.inner_if.and_then(|i| model.interfaces.get(i));
            let (mtu, mtu_span, ifname) =
                match (inner.and_then(|i| i.mtu.map(|m| (m, i))), nic.declared_mtu) {
                    (Some(((mtu, span), iface)), _) => (mtu, span, iface.ifname.clone()),
                    (None, Some((mtu, span))) => (mtu, span, "vNIC".to_string()),
                    _ => continue,
                };
            let mut hops = vec![Hop {
                text: format!("{ifname} ({mtu})"),
                name: ifname.clone(),
                capacity: mtu,
                reason: String::new(),
                span: mtu_span,
            }];
            let host = nic.host_if.and_then(|i| Some((i, model.interfaces.get(i)?)));
            if let Some((_, host_if)) = host {
                hops.extend(plain_hop(host_if));
            }
            let bridge_idx = host
                .and_then(|(_, h)| h.master)
                .or_else(|| nic.bridge.as_deref().and_then(|b| model.iface(HOST_NS, b)));
            if let Some(bridge_idx) = bridge_idx {
                if let Some(bridge) = model.interfaces.get(bridge_idx) {
                    hops.extend(plain_hop(bridge));
                }
                for &port_idx in tunnels_of.get(&bridge_idx).map(Vec::as_slice).unwrap_or_default()
                {
                    let Some(port) = model.interfaces.get(port_idx) else { continue };
                    if Some(port_idx) != nic.host_if {
                        hops.extend(tunnel_hop(model, port));
                    }
                }
            }
            let forwarded =
                nic.network.and_then(|n| model.networks.get(n)).map_or(bridge_idx.is_some(), |n| {
                    matches!(n.forward, Forward::Nat | Forward::Route | Forward::Open)
                });
            if let Some(uplink) = uplink.filter(|_| forwarded).and_then(|u| model.interfaces.get(u))
            {
                hops.extend(tunnel_hop(model, uplink).or_else(|| plain_hop(uplink)));
            }
            if hops.len() < 2 {
                continue;
            }
            let Some(limit) = hops.iter().skip(1).min_by_key(|h| h.capacity) else { continue };
            let fields = PathFields {
                workload: Named { name: workload.name.clone(), kind: kind_name(workload.kind) },
                ifname: ifname.clone(),
                mtu,
                path_mtu: limit.capacity,
                limit: Limit { name: limit.name.clone(), reason: limit.reason.clone() },
                path: hops.iter().map(|h| h.text.as_str()).collect::<Vec<_>>().join(" → "),
                hops: hops.iter().map(|h| h.text.clone()).collect(),
            };
            let mut anchors = vec![
                Anchor { name: "nic", span: mtu_span },
                Anchor { name: "limit", span: limit.span },
            ];
            anchors.extend(hops.iter().skip(1).map(|h| Anchor { name: "hops", span: h.span }));
            let key = format!("{}/{}", workload.name, ifname);
            facts.push(Fact::new(key, &fields, anchors));
        }
    }
    facts
}

fn plain_hop(iface: &Interface) -> Option<Hop> {
    let (mtu, span) = iface.mtu?;
    Some(Hop {
        text: format!("{} ({mtu})", iface.ifname),
        name: iface.ifname.clone(),
        capacity: mtu,
        reason: String::new(),
        span,
    })
}

/// A tunnel device's capacity: its own MTU, and the underlay's MTU less the encapsulation.
fn tunnel_hop(model: &Model, iface: &Interface) -> Option<Hop> {
    let kind = iface.kind.as_deref()?;
    let (v4, v6) = overhead(kind)?;
    let (mtu, span) = iface.mtu?;
    let underlay =
        iface.vxlan.as_ref().and_then(|v| v.underlay).and_then(|u| model.interfaces.get(u));
    let Some((under_mtu, _)) = underlay.and_then(|u| u.mtu) else {
        return Some(Hop {
            text: format!("{} ({mtu}, {kind})", iface.ifname),
            name: iface.ifname.clone(),
            capacity: mtu,
            reason: kind.to_string(),
            span,
        });
    };
    let under_name = underlay.map(|u| u.ifname.as_str()).unwrap_or_default();
    let under_span = underlay.and_then(|u| u.mtu).map_or(span, |(_, span)| span);
    let ipv6_underlay = underlay
        .is_some_and(|u| !u.addrs.iter().any(|(a, _)| a.addr().is_ipv4()) && !u.addrs.is_empty());
    let over = if ipv6_underlay { v6 } else { v4 };
    let carried = under_mtu.saturating_sub(over);
    // The hop carries the smaller of its own MTU and what the underlay leaves; the reason and
    // the span name whichever decides, so the label points at the line that proves it.
    let (capacity, reason, span) = if carried <= mtu {
        let span = if carried < mtu { under_span } else { span };
        (carried, format!("{under_name} {under_mtu} − {over} {kind}"), span)
    } else {
        (
            mtu,
            format!("its own MTU; {under_name} {under_mtu} − {over} {kind} leaves {carried}"),
            span,
        )
    };
    Some(Hop {
        text: format!("{} ({capacity}: {reason})", iface.ifname),
        name: iface.ifname.clone(),
        capacity,
        reason,
        span,
    })
}

#[derive(Serialize, Default)]
pub(super) struct DeclaredFields {
    declared_by: String,
    declared: u32,
    iface: IfaceRef,
}

/// One fact per interface whose MTU a network's or a VM's configuration states.
pub fn declared_mtus(model: &Model) -> Vec<Fact> {
    let mut facts = Vec::new();
    let mut push = |declared_by: String,
                    (declared, declared_span): (u32, crate::source::Span),
                    idx: IfIdx| {
        let Some((_, span)) = model.interfaces.get(idx).and_then(|i| i.mtu) else { return };
        let fields = DeclaredFields { declared_by, declared, iface: IfaceRef::of(model, idx) };
        let key = format!("{}/{}", fields.iface.ns, fields.iface.name);
        facts.push(Fact::new(
            key,
            &fields,
            vec![Anchor { name: "declared", span: declared_span }, Anchor { name: "actual", span }],
        ));
    };
    for (net_idx, net) in model.networks.iter().enumerate() {
        let Some(declared) = net.declared_mtu else { continue };
        let what = match net.origin {
            Origin::Libvirt => "libvirt network",
            Origin::Docker => "Docker network",
            Origin::Host => "network",
        };
        let declared_by = format!("{what} `{}`", net.name);
        // libvirt sets the bridge's MTU; Docker sets the MTU of each container's interface.
        match net.origin {
            Origin::Libvirt => {
                if let Some(bridge) = net.bridge_if {
                    push(declared_by, declared, bridge);
                }
            }
            _ => {
                for nic in model
                    .workloads
                    .iter()
                    .flat_map(|w| &w.nics)
                    .filter(|n| n.network == Some(net_idx))
                {
                    if let Some(inner) = nic.inner_if {
                        push(declared_by.clone(), declared, inner);
                    }
                }
            }
        }
    }
    for workload in &model.workloads {
        for nic in &workload.nics {
            if let (Some(declared), Some(host_if)) = (nic.declared_mtu, nic.host_if) {
                push(format!("interface of `{}`", workload.name), declared, host_if);
            }
        }
    }
    facts
}
