//! Fact `return_path`: which way a workload's replies to a published port leave.
//!
//! Inputs: the published ports (see `published_ports`), and the addresses and routes of the
//! captured namespace that owns each port's target address. A forward arrives on the
//! interface that holds the target address; the reply to a client beyond the workload's own
//! subnets follows the workload's default route of the same address family. When that route
//! leaves by another interface, or there is none, the reply does not come back the way the
//! request went.
//!
//! Ignored on purpose: ports whose target is in the host's own namespace or on a loopback
//! interface (a VIP: the request arrives where the route to it leads), namespaces whose
//! routes of that family were not captured (no route at all of the family is taken to mean
//! "not captured", since the kernel always holds the connected route of an address), and
//! namespaces with unicast routes in tables other than `main` and `local`: those hint at
//! source-based policy routing (`ip rule`, which the dump does not hold) that may well send
//! replies back the way they came.

use serde::Serialize;

use super::published_ports::{PortChain, kind_name, socket_text};
use super::{Anchor, Fact};
use crate::model::{HOST_NS, Model, NsIdx, Route};

#[derive(Serialize, Default)]
pub(super) struct Fields {
    proto: &'static str,
    host_port: u32,
    target: Target,
    arrives_on: String,
    has_route: bool,
    leaves_by: String,
    gateway: String,
}

#[derive(Serialize, Default)]
struct Target {
    addr: String,
    socket: String,
    workload: String,
    kind: String,
    ns: String,
}

/// One fact per published port whose target namespace's routes were captured.
pub fn return_paths(model: &Model, chains: &[PortChain]) -> Vec<Fact> {
    let mut facts = Vec::new();
    for chain in chains {
        let Some(ns) = chain.ns.filter(|&ns| ns != HOST_NS) else { continue };
        let v4 = chain.target_addr.is_ipv4();
        let routes = routes_of(model, ns, v4);
        let family_captured = !routes.is_empty();
        let policy_routing = routes
            .iter()
            .any(|r| r.route_type == "unicast" && r.table != "main" && r.table != "local");
        if !family_captured || policy_routing {
            continue;
        }
        let Some(arrives_on) = model.index.iface_by_addr.get(&chain.target_addr).and_then(|ifs| {
            ifs.iter().filter_map(|&i| model.interfaces.get(i)).find(|i| i.ns == ns)
        }) else {
            continue;
        };
        // An address on `lo` (a service VIP) is reached through whichever interface routes
        // to it: where the request arrives is not in the dump.
        if arrives_on.kind.as_deref() == Some("loopback") || arrives_on.ifname == "lo" {
            continue;
        }
        let addr_span = arrives_on.addrs.iter().find(|(net, _)| net.addr() == chain.target_addr);
        let default = routes.iter().copied().find(|r| r.is_main_default());

        let workload = chain.workload.and_then(|w| model.workloads.get(w));
        let fields = Fields {
            proto: chain.proto.name(),
            host_port: chain.host_port.map(u32::from).unwrap_or(0),
            target: Target {
                addr: chain.target_addr.to_string(),
                socket: socket_text(Some(chain.target_addr), chain.target_port),
                workload: workload.map(|w| w.name.clone()).unwrap_or_else(|| model.ns_name(ns)),
                kind: workload.map(|w| kind_name(w.kind)).unwrap_or_else(|| "netns".into()),
                ns: model.ns_name(ns),
            },
            arrives_on: arrives_on.ifname.clone(),
            has_route: default.is_some(),
            leaves_by: default.and_then(|r| r.ifname.clone()).unwrap_or_default(),
            gateway: default.and_then(|r| r.gateway).map(|g| g.to_string()).unwrap_or_default(),
        };

        let mut anchors = Vec::new();
        anchors.extend(chain.dnat.map(|span| Anchor { name: "published", span }));
        anchors.extend(chain.binding.map(|span| Anchor { name: "published", span }));
        anchors.extend(addr_span.map(|(_, span)| Anchor { name: "arrives_on", span: *span }));
        anchors.extend(default.map(|r| Anchor { name: "route", span: r.span }));
        let key = format!("{}/{}:{}", fields.target.ns, fields.proto, fields.target.socket);
        facts.push(Fact::new(key, &fields, anchors));
    }
    facts
}

/// The routes of one address family in a namespace.
fn routes_of(model: &Model, ns: NsIdx, v4: bool) -> Vec<&Route> {
    let Some(idxs) = model.index.routes_by_ns.get(&ns) else { return Vec::new() };
    idxs.iter()
        .filter_map(|&i| model.routes.get(i))
        .filter(|r| r.dst.addr().is_ipv4() == v4)
        .collect()
}
