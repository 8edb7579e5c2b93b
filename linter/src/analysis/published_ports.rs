//! Fact `published_port`: every published port, resolved end to end.
//!
//! Inputs: DNAT rules of the host's `nat` table, Docker `-p` bindings, workload addresses
//! and the listening sockets of the workload's namespace. A chain is: host address:port →
//! DNAT line → workload address:port → the listeners on that port in the namespace that
//! owns the address. A Docker binding joins the DNAT rule that implements it; a binding with
//! no DNAT rule (for instance on an internal network) is a chain of its own.
//!
//! Ignored on purpose: a DNAT rule after one with the same matches in its chain, or in a
//! chain that no jump from `PREROUTING` or `OUTPUT` reaches (it never fires); DNAT to a port
//! range, or keeping more than `MAX_EXPANDED_PORTS` ports (no single listener to check);
//! REDIRECT (the target is the host itself, whose sockets are checked like any namespace's
//! only when the DNAT address is one of the host's); rules in other namespaces than the host's.

use std::collections::HashMap;
use std::net::IpAddr;

use serde::Serialize;

use super::{Anchor, Fact};
use crate::model::{HOST_NS, Input, Model, NsIdx, Proto, WorkloadIdx};
use crate::source::Span;

/// A published port from the host to a workload.
#[derive(Clone, Debug)]
pub struct PortChain {
    /// Protocol.
    pub proto: Proto,
    /// Host address it is published on; `None` for every address.
    pub host_addr: Option<IpAddr>,
    /// Host port.
    pub host_port: Option<u16>,
    /// Address the traffic is sent to.
    pub target_addr: IpAddr,
    /// Port the traffic is sent to.
    pub target_port: u16,
    /// The workload that owns the target address.
    pub workload: Option<WorkloadIdx>,
    /// The namespace that owns the target address.
    pub ns: Option<NsIdx>,
    /// The DNAT line.
    pub dnat: Option<Span>,
    /// The Docker binding.
    pub binding: Option<Span>,
    /// Listening sockets on the target port in the target namespace.
    pub listeners: Vec<usize>,
    /// What the listeners say: open, loopback-only, other-address, none, unknown.
    pub state: &'static str,
}

#[derive(Serialize, Default)]
pub(super) struct Fields {
    proto: &'static str,
    via: &'static str,
    host: Endpoint,
    target: Target,
    listener: ListenerFields,
}

#[derive(Serialize, Default)]
struct Endpoint {
    addr: String,
    port: u32,
    socket: String,
}

#[derive(Serialize, Default)]
struct Target {
    addr: String,
    port: u32,
    socket: String,
    workload: String,
    kind: String,
    ns: String,
}

#[derive(Serialize, Default)]
struct ListenerFields {
    state: &'static str,
    addrs: Vec<String>,
}

/// Ports of one DNAT rule checked one by one at the most.
const MAX_EXPANDED_PORTS: usize = 256;

/// Resolves every published port of the host.
pub fn published_ports(model: &Model) -> Vec<PortChain> {
    let mut chains: Vec<PortChain> = Vec::new();
    // iptables applies the first DNAT whose matches hold: a later rule with the same matches
    // in the same chain never fires, and is no publication.
    let mut seen_matches = std::collections::HashSet::new();
    let reachable = reachable_nat_chains(model);
    for rule in model.fw_rules.iter().filter(|r| r.ns == HOST_NS && r.table == "nat") {
        if rule.target.as_deref() != Some("DNAT") {
            continue;
        }
        if !reachable.contains(&(rule.ipv6, rule.chain.as_str())) {
            tracing::debug!(chain = %rule.chain, "DNAT in a chain no packet reaches, skipped");
            continue;
        }
        let matches = format!(
            "{} {} {:?} {:?} {:?} {:?} {:?} {:?} {:?}",
            rule.ipv6,
            rule.chain,
            rule.proto,
            rule.src,
            rule.dst,
            rule.in_if,
            rule.out_if,
            rule.dports,
            rule.dst_type
        );
        if !rule.has_unmodelled && !seen_matches.insert(matches) {
            tracing::debug!(line = rule.span.start, "DNAT shadowed by an earlier one, skipped");
            continue;
        }
        let Some(target_addr) = rule.to_addr else { continue };
        // Each forwarded port: `--dport 8080 --to-destination A:80` is one; a DNAT that keeps
        // the ports (`--dports 80,443` or `--dport 79:81`, no port after the address) is one
        // per port, up to `MAX_EXPANDED_PORTS`: past that it is left out, as a port range is.
        let dports: Vec<(u16, u16)> = rule
            .dports
            .as_ref()
            .filter(|c| !c.negated)
            .map(|c| c.value.clone())
            .unwrap_or_default();
        let n_ports: usize =
            dports.iter().map(|(a, b)| usize::from(b.saturating_sub(*a)) + 1).sum();
        let ports: Vec<(Option<u16>, u16)> = match (rule.to_ports, dports.as_slice()) {
            (Some((a, b)), [(p, q)]) if a == b && p == q => vec![(Some(*p), a)],
            (Some((a, b)), _) if a == b => vec![(None, a)],
            (Some(_), _) => Vec::new(),
            (None, []) => Vec::new(),
            (None, ranges) if n_ports <= MAX_EXPANDED_PORTS => {
                ranges.iter().flat_map(|&(a, b)| a..=b).map(|port| (Some(port), port)).collect()
            }
            (None, _) => {
                tracing::debug!(n_ports, "DNAT over too many ports to check each, skipped");
                Vec::new()
            }
        };
        let Some(proto) = rule.proto.as_ref().and_then(|p| Proto::parse(&p.value)) else {
            continue;
        };
        let host_addr = rule
            .dst
            .as_ref()
            .filter(|d| !d.negated && d.value.prefix_len() == d.value.max_prefix_len())
            .map(|d| d.value.addr());
        for (dport, target_port) in ports {
            chains.push(new_chain(
                model,
                proto,
                host_addr,
                dport,
                target_addr,
                target_port,
                Some(rule.span),
                None,
            ));
        }
    }

    // DNAT chains by what they forward to, so each binding finds its rule without a scan.
    let mut by_target: HashMap<(Proto, IpAddr, u16), Vec<usize>> = HashMap::new();
    for (idx, chain) in chains.iter().enumerate() {
        by_target.entry((chain.proto, chain.target_addr, chain.target_port)).or_default().push(idx);
    }
    for binding in &model.port_bindings {
        let Some(workload) = model.workloads.get(binding.workload) else { continue };
        let addrs: Vec<IpAddr> =
            workload.nics.iter().flat_map(|n| n.addrs.iter().map(|a| a.addr())).collect();
        // One binding can be implemented by several DNAT rules (IPv4 and IPv6 for a
        // binding on every address); it joins each of them.
        let joined: Vec<usize> = addrs
            .iter()
            .filter_map(|&addr| by_target.get(&(binding.proto, addr, binding.container_port)))
            .flatten()
            .copied()
            .filter(|&idx| {
                chains.get(idx).is_some_and(|c| {
                    c.binding.is_none()
                        && (binding.host_port.is_none() || c.host_port == binding.host_port)
                        && binding.host_ip.is_none_or(|ip| ip.is_ipv4() == c.target_addr.is_ipv4())
                })
            })
            .collect();
        // Docker implements every binding with an IPv4 DNAT rule; a binding joined only by
        // its IPv6 rule (the IPv4 one gone) still publishes on IPv4, as a chain of its own.
        let ipv4_joined =
            joined.iter().any(|&i| chains.get(i).is_some_and(|c| c.target_addr.is_ipv4()));
        for &idx in &joined {
            if let Some(chain) = chains.get_mut(idx) {
                chain.binding = Some(binding.span);
            }
        }
        let target = if joined.is_empty() {
            addrs.iter().find(|a| a.is_ipv4()).or(addrs.first())
        } else if !ipv4_joined && binding.host_ip.is_none_or(|ip| ip.is_ipv4()) {
            addrs.iter().find(|a| a.is_ipv4())
        } else {
            None
        };
        let Some(&target_addr) = target else { continue };
        let chain = new_chain(
            model,
            binding.proto,
            binding.host_ip,
            binding.host_port,
            target_addr,
            binding.container_port,
            None,
            Some(binding.span),
        );
        chains.push(chain);
    }
    chains
}

/// The chains of the host's `nat` table that a packet can reach: `PREROUTING` and `OUTPUT`
/// (where DNAT applies), and every chain a reachable one jumps or goes to.
fn reachable_nat_chains(model: &Model) -> std::collections::HashSet<(bool, &str)> {
    let mut jumps: HashMap<(bool, &str), Vec<&str>> = HashMap::new();
    for rule in model.fw_rules.iter().filter(|r| r.ns == HOST_NS && r.table == "nat") {
        if let Some(target) = rule.target.as_deref() {
            jumps.entry((rule.ipv6, rule.chain.as_str())).or_default().push(target);
        }
    }
    let mut reachable = std::collections::HashSet::new();
    let mut todo: Vec<(bool, &str)> =
        [false, true].into_iter().flat_map(|v6| [(v6, "PREROUTING"), (v6, "OUTPUT")]).collect();
    while let Some(chain) = todo.pop() {
        if reachable.insert(chain) {
            let targets = jumps.get(&chain).map(Vec::as_slice).unwrap_or_default();
            todo.extend(targets.iter().map(|&t| (chain.0, t)));
        }
    }
    reachable
}

#[allow(
    clippy::too_many_arguments,
    reason = "one call site per source of chains; a struct would only rename them"
)]
fn new_chain(
    model: &Model,
    proto: Proto,
    host_addr: Option<IpAddr>,
    host_port: Option<u16>,
    target_addr: IpAddr,
    target_port: u16,
    dnat: Option<Span>,
    binding: Option<Span>,
) -> PortChain {
    // The namespace that owns the address: a captured interface first, then a workload
    // whose configuration names the address (its namespace may not be captured).
    let iface_ns = model.index.iface_by_addr.get(&target_addr).and_then(|ifs| {
        let mut owners: Vec<NsIdx> =
            ifs.iter().filter_map(|&i| model.interfaces.get(i).map(|x| x.ns)).collect();
        owners.sort_by_key(|&ns| ns == HOST_NS);
        owners.first().copied()
    });
    let nic_workload =
        model.index.nic_by_addr.get(&target_addr).and_then(|v| v.first()).map(|(w, _)| *w);
    let ns = iface_ns.or_else(|| nic_workload.and_then(|w| model.workloads.get(w)?.ns));
    // The workload is the namespace's own when the address was found there: the same address
    // in another namespace's configuration must not lend this chain its name.
    let ns_workload = ns.and_then(|n| model.index.workload_by_ns.get(&n).copied());
    let workload = if iface_ns.is_some() { ns_workload } else { nic_workload.or(ns_workload) };

    let listeners: Vec<usize> = ns
        .and_then(|ns| model.index.listeners_by_port.get(&(ns, proto, target_port)))
        .cloned()
        .unwrap_or_default();
    // `ss -lntu` lists TCP and UDP sockets only: an SCTP listener is never in the dump.
    let sockets_known =
        proto != Proto::Sctp && ns.is_some_and(|ns| model.captured(ns, Input::Sockets));
    let state = classify(model, &listeners, target_addr, sockets_known);
    PortChain {
        proto,
        host_addr,
        host_port,
        target_addr,
        target_port,
        workload,
        ns,
        dnat,
        binding,
        listeners,
        state,
    }
}

fn classify(
    model: &Model,
    listeners: &[usize],
    target: IpAddr,
    sockets_known: bool,
) -> &'static str {
    let found: Vec<_> = listeners.iter().filter_map(|&i| model.listeners.get(i)).collect();
    if !sockets_known {
        "unknown"
    } else if found.iter().any(|l| l.accepts(target)) {
        "open"
    } else if found.is_empty() {
        "none"
    } else if found.iter().all(|l| l.is_loopback()) {
        "loopback-only"
    } else {
        "other-address"
    }
}

impl PortChain {
    /// The chain as a fact.
    pub fn to_fact(&self, model: &Model) -> Fact {
        let workload = self.workload.and_then(|w| model.workloads.get(w));
        let ns = self.ns.map(|ns| model.ns_name(ns)).unwrap_or_default();
        let listener_lines: Vec<_> =
            self.listeners.iter().filter_map(|&i| model.listeners.get(i)).collect();
        let fields = Fields {
            proto: self.proto.name(),
            via: if self.dnat.is_some() { "dnat" } else { "docker" },
            host: Endpoint {
                addr: self.host_addr.map(|a| a.to_string()).unwrap_or_else(|| "*".into()),
                port: self.host_port.map(u32::from).unwrap_or(0),
                socket: socket_text(self.host_addr, self.host_port.unwrap_or(0)),
            },
            target: Target {
                addr: self.target_addr.to_string(),
                port: u32::from(self.target_port),
                socket: socket_text(Some(self.target_addr), self.target_port),
                // A DNAT to an address of the host itself targets the host's own services.
                workload: workload
                    .map(|w| w.name.clone())
                    .or_else(|| self.ns.map(|n| model.ns_name(n)))
                    .unwrap_or_else(|| "an unknown workload".into()),
                kind: workload.map(|w| kind_name(w.kind)).unwrap_or_default(),
                ns,
            },
            listener: ListenerFields {
                state: self.state,
                // `ss -lntuH` and `ss -lntupH` of one namespace list each socket twice.
                addrs: listener_lines.iter().map(|l| listener_text(l)).fold(
                    Vec::new(),
                    |mut v, a| {
                        if !v.contains(&a) {
                            v.push(a);
                        }
                        v
                    },
                ),
            },
        };
        let mut anchors = Vec::new();
        anchors.extend(self.dnat.map(|span| Anchor { name: "dnat", span }));
        anchors.extend(self.binding.map(|span| Anchor { name: "binding", span }));
        anchors.extend(listener_lines.iter().map(|l| Anchor { name: "listener", span: l.span }));
        anchors.extend(workload.map(|w| Anchor { name: "workload", span: w.span }));
        let key = format!(
            "{}:{}:{}->{}:{}",
            self.proto.name(),
            fields.host.addr,
            fields.host.port,
            fields.target.addr,
            fields.target.port
        );
        Fact::new(key, &fields, anchors)
    }
}

/// A listener as `ss` shows it: `127.0.0.1:80`, `0.0.0.0%lo:80`, `[::1]%lo:53`.
fn listener_text(listener: &crate::model::Listener) -> String {
    let Some(device) = &listener.device else { return socket_text(listener.addr, listener.port) };
    let addr = match listener.addr {
        Some(IpAddr::V6(v6)) => format!("[{v6}]"),
        Some(v4) => v4.to_string(),
        None => "*".into(),
    };
    format!("{addr}%{device}:{}", listener.port)
}

/// `127.0.0.1:80`, `[::1]:80`, `*:80`.
pub fn socket_text(addr: Option<IpAddr>, port: u16) -> String {
    match addr {
        Some(IpAddr::V6(v6)) => format!("[{v6}]:{port}"),
        Some(v4) => format!("{v4}:{port}"),
        None => format!("*:{port}"),
    }
}

/// The kebab-case name of a workload kind.
pub fn kind_name(kind: crate::model::WorkloadKind) -> String {
    match kind {
        crate::model::WorkloadKind::Vm => "vm",
        crate::model::WorkloadKind::Container => "container",
        crate::model::WorkloadKind::Netns => "netns",
    }
    .to_string()
}
