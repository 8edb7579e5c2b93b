//! Fact `nat_path`: the NAT layers between a workload and the outside.
//!
//! Inputs: each workload NIC's network (libvirt `nat`, a Docker bridge that masquerades)
//! or, for plain namespaces, a host MASQUERADE/SNAT rule whose source covers the NIC's
//! address; the host's main default route and the address of its interface, classed as
//! private, CGNAT or public; and the published ports that lead to the workload.
//!
//! A published port is counted for a VM when its DNAT target lies in the VM's network and
//! the VM is the only workload on it: libvirt's XML has no guest addresses, and guessing
//! among several VMs would be wrong more often than right.
//!
//! Ignored on purpose: IPv6 (NAT66 is rare and its uplink test would differ), and what lies
//! beyond the host's gateway, which no file of the dump shows.

use std::collections::{BTreeSet, HashMap};
use std::net::IpAddr;

use serde::Serialize;

use super::published_ports::{PortChain, kind_name, socket_text};
use super::{Anchor, Fact, address_class};
use crate::model::{Forward, FwRule, HOST_NS, Model, NetIdx, Nic, Origin};

#[derive(Serialize, Default)]
pub(super) struct Fields {
    workload: Named,
    inner: Inner,
    outer: Outer,
    published: Vec<String>,
    n_published: u32,
}

#[derive(Serialize, Default)]
struct Named {
    name: String,
    kind: String,
}

#[derive(Serialize, Default)]
struct Inner {
    kind: &'static str,
    network: String,
    subnet: String,
}

#[derive(Serialize, Default)]
struct Outer {
    ifname: String,
    addr: String,
    class: &'static str,
}

/// One fact per workload NIC that sits behind a NAT of this host.
pub fn nat_paths(model: &Model, chains: &[PortChain]) -> Vec<Fact> {
    let Some(route) = model.default_route(HOST_NS).filter(|r| r.dst.addr().is_ipv4()) else {
        return Vec::new();
    };
    let Some(uplink) = route.iface.and_then(|i| model.interfaces.get(i)) else { return Vec::new() };
    let Some((uplink_addr, uplink_span)) = uplink.addrs.iter().find(|(a, _)| a.addr().is_ipv4())
    else {
        return Vec::new();
    };
    let outer = Outer {
        ifname: uplink.ifname.clone(),
        addr: uplink_addr.addr().to_string(),
        class: address_class(uplink_addr.addr()),
    };

    // Gathered once, so each NIC looks things up instead of scanning every rule and chain.
    let masquerades: Vec<&FwRule> = model
        .fw_rules
        .iter()
        .filter(|r| r.ns == HOST_NS && r.table == "nat")
        .filter(|r| matches!(r.target.as_deref(), Some("MASQUERADE" | "SNAT")) && r.src.is_some())
        .collect();
    let mut members: HashMap<NetIdx, usize> = HashMap::new();
    for workload in &model.workloads {
        let nets: BTreeSet<NetIdx> = workload.nics.iter().filter_map(|n| n.network).collect();
        for net in nets {
            *members.entry(net).or_default() += 1;
        }
    }
    let mut by_workload: HashMap<usize, Vec<&PortChain>> = HashMap::new();
    let mut by_addr: HashMap<IpAddr, Vec<&PortChain>> = HashMap::new();
    let mut unowned: Vec<&PortChain> = Vec::new();
    for chain in chains {
        match chain.workload {
            Some(w) => by_workload.entry(w).or_default().push(chain),
            None => unowned.push(chain),
        }
        by_addr.entry(chain.target_addr).or_default().push(chain);
    }

    let mut facts = Vec::new();
    for (w_idx, workload) in model.workloads.iter().enumerate() {
        for nic in &workload.nics {
            let Some((inner, mut anchors)) = inner_layer(&masquerades, model, nic) else {
                continue;
            };
            let network_members = nic.network.and_then(|n| members.get(&n).copied());
            let subnets: Vec<_> = nic
                .network
                .and_then(|n| model.networks.get(n))
                .map(|n| n.subnets.iter().map(|s| s.0).collect())
                .unwrap_or_default();
            // Only IPv4 publications reachable from beyond the host need the upstream NAT's
            // forward: a port bound to the host's loopback never leaves it.
            let leads_here = |c: &&PortChain| {
                let reachable =
                    c.target_addr.is_ipv4() && !c.host_addr.is_some_and(|a| a.is_loopback());
                reachable
                    && (c.workload == Some(w_idx)
                        || nic.addrs.iter().any(|a| a.addr() == c.target_addr)
                        || (c.workload.is_none()
                            && network_members == Some(1)
                            && subnets.iter().any(|s| s.contains(&c.target_addr))))
            };
            let mut candidates: Vec<&PortChain> =
                by_workload.get(&w_idx).cloned().unwrap_or_default();
            candidates.extend(nic.addrs.iter().filter_map(|a| by_addr.get(&a.addr())).flatten());
            if network_members == Some(1) {
                candidates.extend(unowned.iter().copied());
            }
            candidates
                .sort_by_key(|c| (c.target_addr, c.target_port, c.host_port, c.dnat, c.binding));
            candidates
                .dedup_by_key(|c| (c.target_addr, c.target_port, c.host_port, c.dnat, c.binding));
            let published: Vec<&PortChain> = candidates.into_iter().filter(leads_here).collect();
            anchors.push(Anchor { name: "outer", span: *uplink_span });
            anchors.push(Anchor { name: "uplink_route", span: route.span });
            anchors.extend(
                published
                    .iter()
                    .filter_map(|c| c.dnat.or(c.binding))
                    .map(|span| Anchor { name: "published", span }),
            );
            anchors.push(Anchor { name: "workload", span: workload.span });
            let fields = Fields {
                workload: Named { name: workload.name.clone(), kind: kind_name(workload.kind) },
                inner,
                outer: Outer {
                    ifname: outer.ifname.clone(),
                    addr: outer.addr.clone(),
                    class: outer.class,
                },
                published: published.iter().map(|c| describe(c)).collect(),
                n_published: u32::try_from(published.len()).unwrap_or(u32::MAX),
            };
            let key = format!("{}/{}", fields.workload.name, fields.inner.network);
            facts.push(Fact::new(key, &fields, anchors));
        }
    }
    facts
}

/// The NAT that the NIC's traffic meets first on this host, with its anchors.
fn inner_layer(masquerades: &[&FwRule], model: &Model, nic: &Nic) -> Option<(Inner, Vec<Anchor>)> {
    let addr = nic.addrs.iter().find(|a| a.addr().is_ipv4()).map(|a| a.addr());
    let network = nic.network.and_then(|n| model.networks.get(n));
    if let Some(net) = network.filter(|n| n.forward == Forward::Nat) {
        let subnet_entry = net.subnets.iter().find(|s| s.0.addr().is_ipv4());
        let subnet = subnet_entry.map(|s| s.0);
        let masquerade = subnet.and_then(|s| masquerade_rule(masquerades, s.addr()));
        let kind = if net.origin == Origin::Libvirt { "libvirt-nat" } else { "docker-masquerade" };
        // libvirt says `<forward mode='nat'>`; Docker's network names no forward mode, so its
        // subnet is what the masquerading (labelled on its own) translates.
        let inner_span = match (net.origin, subnet_entry) {
            (Origin::Docker, Some((_, span))) => *span,
            _ => net.forward_span,
        };
        let mut anchors = vec![Anchor { name: "inner", span: inner_span }];
        anchors.extend(masquerade.map(|r| Anchor { name: "masquerade", span: r.span }));
        let inner = Inner {
            kind,
            network: net.name.clone(),
            subnet: subnet.map(|s| s.to_string()).unwrap_or_default(),
        };
        return Some((inner, anchors));
    }
    if network.is_some() {
        return None;
    }
    let rule = masquerade_rule(masquerades, addr?)?;
    let subnet = rule.src.as_ref().map(|s| s.value.to_string()).unwrap_or_default();
    let inner = Inner {
        kind: "iptables-masquerade",
        network: nic.bridge.clone().unwrap_or_default(),
        subnet,
    };
    Some((inner, vec![Anchor { name: "inner", span: rule.span }]))
}

/// A POSTROUTING MASQUERADE or SNAT rule of the host whose source covers `addr`.
fn masquerade_rule<'m>(masquerades: &[&'m FwRule], addr: IpAddr) -> Option<&'m FwRule> {
    masquerades
        .iter()
        .copied()
        .find(|r| r.src.as_ref().is_some_and(|s| s.holds(|net| net.contains(&addr))))
}

fn describe(chain: &PortChain) -> String {
    format!(
        "{} {} → {}",
        chain.proto.name(),
        socket_text(chain.host_addr, chain.host_port.unwrap_or(0)),
        socket_text(Some(chain.target_addr), chain.target_port)
    )
}
