//! Lowering: the raw records of every file into the one [`Model`].
//!
//! Order matters and is fixed: namespaces, interfaces (then masters, vxlan underlays and
//! veth peers), routes, sockets, firewall rules, networks, then workloads, which refer to
//! all of the above, and last the indexes. What cannot be resolved with certainty (a veth
//! whose peer was not captured or could be one of several, one interface name defined twice
//! in one namespace, a folder that no container or VM of the dump claims) becomes a note
//! rather than a guess.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::net::IpAddr;

use ipnet::IpNet;

use crate::discover::{Dump, Format};
use crate::model::*;
use crate::parse::{Content, ParsedFile, docker, ip_link, ip_route, iptables, libvirt, ss};
use crate::problem::{Parsed, Problem};
use crate::source::{FileId, Span, printable};

const CODE: &str = "netlint::lower";

/// Builds the model from the parsed files, returning it with every problem met so far.
pub fn lower(dump: &Dump, parsed: Vec<Parsed<ParsedFile>>) -> (Model, Vec<Problem>) {
    let mut lw = Lowering { problems: dump.problems.clone(), ..Lowering::default() };
    lw.model.namespaces.push(Namespace {
        name: None,
        kind: NsKind::Host,
        captured: BTreeSet::new(),
    });

    let mut files = Vec::new();
    for p in parsed {
        lw.problems.extend(p.problems);
        let ns = lw.namespace(p.value.ns.as_deref());
        lw.first_file.entry(ns).or_insert(p.value.file);
        lw.model.coverage.n_files += 1;
        *lw.model.coverage.files_by_kind.entry(p.value.format.describe()).or_default() += 1;
        if let Some(content) = p.value.content {
            files.push((ns, p.value.format, content));
        }
    }
    // `ip link` before `ip addr`, so link data comes from the fuller dump where both exist.
    files.sort_by_key(|(_, format, _)| !matches!(format, Format::IpLinkJson | Format::IpLinkText));

    let (mut docker_nets, mut containers, mut domains) = (Vec::new(), Vec::new(), Vec::new());
    for (ns, format, content) in files {
        match content {
            Content::Links(links) => lw.links(ns, format, links),
            Content::Routes(routes) => lw.routes(ns, routes),
            Content::Sockets(sockets) => lw.sockets(ns, sockets),
            Content::Firewall(ruleset) => lw.firewall(ns, ruleset),
            Content::DockerNetworks(nets) => docker_nets.extend(nets),
            Content::DockerContainers(cs) => containers.extend(cs),
            Content::LibvirtDomain(domain) => domains.push(domain),
            Content::LibvirtNetwork(net) => lw.libvirt_network(net),
        }
    }
    lw.resolve_links();
    for net in docker_nets {
        lw.docker_network(net);
    }
    lw.resolve_bridges();
    lw.index_addresses();
    for container in containers {
        lw.container(container);
    }
    for domain in domains {
        lw.domain(domain);
    }
    lw.netns_workloads();
    lw.index();
    (lw.model, lw.problems)
}

type RouteKey = (NsIdx, IpNet, String, Option<IpAddr>, Option<String>, String);

#[derive(Default)]
struct Lowering {
    model: Model,
    problems: Vec<Problem>,
    /// Per interface: the master and vxlan underlay names, resolved after all links are in.
    names: HashMap<IfIdx, (Option<String>, Option<String>)>,
    /// (ns, ifname) → the format that defined its link data, to spot two dumps of one kind.
    link_source: HashMap<(NsIdx, String), Format>,
    /// Routes already lowered: (ns, dst, type, gateway, dev, table).
    seen_routes: HashSet<RouteKey>,
    /// Namespace folders named after a container id prefix, built on first need.
    ns_by_id_prefix: Option<HashMap<String, NsIdx>>,
    /// The first file read in each namespace, where notes about its folder point.
    first_file: HashMap<NsIdx, FileId>,
    /// The sources that name workloads and were in the dump (`docker inspect`, `virsh
    /// dumpxml`), for the note on a folder that none of them claims.
    claimants: BTreeSet<&'static str>,
}

impl Lowering {
    fn namespace(&mut self, name: Option<&str>) -> NsIdx {
        let Some(name) = name else { return HOST_NS };
        if let Some(&idx) = self.model.index.ns_by_name.get(name) {
            return idx;
        }
        let ns = Namespace {
            name: Some(name.to_string()),
            kind: NsKind::Netns,
            captured: BTreeSet::new(),
        };
        self.model.namespaces.push(ns);
        let idx = self.model.namespaces.len() - 1;
        self.model.index.ns_by_name.insert(name.to_string(), idx);
        idx
    }

    fn capture(&mut self, ns: NsIdx, input: Input) {
        if let Some(n) = self.model.namespaces.get_mut(ns) {
            n.captured.insert(input);
        }
        self.model.coverage.inputs.insert(input);
    }

    fn links(&mut self, ns: NsIdx, format: Format, links: Vec<ip_link::RawLink>) {
        self.capture(ns, Input::Links);
        for raw in links {
            if raw.has_addr_info {
                self.capture(ns, Input::Addresses);
            }
            let key = (ns, raw.ifname.clone());
            if let Some(&idx) = self.model.index.iface_by_name.get(&key) {
                self.merge_link(idx, format, raw);
                continue;
            }
            self.link_source.insert(key.clone(), format);
            let idx = self.model.interfaces.len();
            self.names.insert(
                idx,
                (raw.master.map(|m| m.value), raw.vxlan.as_ref().and_then(|v| v.dev.clone())),
            );
            let kind = raw.kind.or_else(|| {
                (raw.link_type.as_deref() == Some("loopback")).then(|| "loopback".into())
            });
            self.model.interfaces.push(Interface {
                ns,
                ifname: raw.ifname,
                ifindex: raw.ifindex,
                kind,
                mtu: raw.mtu.map(|m| (m.value, m.span)),
                master: None,
                peer: None,
                vxlan: raw.vxlan.map(|v| Vxlan { id: v.id, underlay: None, port: v.port }),
                addrs: raw.addrs.into_iter().map(|a| (a.value, a.span)).collect(),
                state: raw.state,
                mac: raw.mac.map(|m| m.to_ascii_lowercase()),
                span: raw.span,
                link: LinkHint {
                    index: raw.link_index,
                    netnsid: raw.link_netnsid,
                    netns: raw.link_netns,
                    none: raw.peer_none,
                },
            });
            self.model.index.iface_by_name.insert(key, idx);
        }
    }

    /// A second record of an interface: `ip addr` adds addresses to an `ip link` record; a
    /// second dump of the same kind in one namespace means the folder mixes captures.
    fn merge_link(&mut self, idx: IfIdx, format: Format, raw: ip_link::RawLink) {
        let Some(iface) = self.model.interfaces.get_mut(idx) else { return };
        let first = self.link_source.get(&(iface.ns, iface.ifname.clone())).copied();
        let same_kind = first.is_some_and(|f| is_addr_format(f) == is_addr_format(format));
        if same_kind {
            self.problems.push(
                Problem::note(CODE, raw.span, format!("interface `{}` is defined again in this namespace", printable(&raw.ifname)))
                    .with_help("the folder seems to hold captures of two hosts or two moments; netlint keeps the first"),
            );
            return;
        }
        if iface.addrs.is_empty() {
            iface.addrs = raw.addrs.into_iter().map(|a| (a.value, a.span)).collect();
        }
        if iface.mtu.is_none() {
            iface.mtu = raw.mtu.map(|m| (m.value, m.span));
        }
    }

    /// Masters, vxlan underlays and veth peers, once every interface is known.
    fn resolve_links(&mut self) {
        for (idx, (master, dev)) in std::mem::take(&mut self.names) {
            let Some(ns) = self.model.interfaces.get(idx).map(|i| i.ns) else { continue };
            let master = master.and_then(|m| self.model.iface(ns, &m));
            let underlay = dev.and_then(|d| self.model.iface(ns, &d));
            if let Some(iface) = self.model.interfaces.get_mut(idx) {
                iface.master = master;
                if let Some(vxlan) = iface.vxlan.as_mut() {
                    vxlan.underlay = underlay;
                }
            }
        }
        self.pair_veths();
    }

    /// Pairs veth ends: A's `link_index` is B's `ifindex` and B's is A's. Indexes repeat
    /// across namespaces, so the pair must agree both ways; a named `link-netns` decides
    /// between several candidates, and anything still ambiguous is reported, not guessed.
    fn pair_veths(&mut self) {
        let mut by_pair: HashMap<(u32, u32), Vec<IfIdx>> = HashMap::new();
        for (idx, iface) in self.model.interfaces.iter().enumerate() {
            if let (Some(ifindex), Some(link)) = (iface.ifindex, iface.link.index) {
                by_pair.entry((ifindex, link)).or_default().push(idx);
            }
        }
        let mut pairs = Vec::new();
        let mut chosen: HashMap<IfIdx, Option<IfIdx>> = HashMap::new();
        for (idx, iface) in self.model.interfaces.iter().enumerate() {
            let is_veth_like = iface.kind.as_deref().is_none_or(|k| k == "veth");
            let (Some(ifindex), Some(link)) = (iface.ifindex, iface.link.index) else { continue };
            if !is_veth_like || iface.link.none {
                continue;
            }
            let same_ns_allowed = iface.link.netnsid.is_none() && iface.link.netns.is_none();
            let mut candidates: Vec<IfIdx> = by_pair
                .get(&(link, ifindex))
                .into_iter()
                .flatten()
                .copied()
                .filter(|&c| c != idx)
                .filter(|&c| {
                    self.model
                        .interfaces
                        .get(c)
                        .is_some_and(|o| (o.ns != iface.ns) || same_ns_allowed)
                })
                .collect();
            if let Some(netns) = &iface.link.netns {
                let named: Vec<IfIdx> = candidates
                    .iter()
                    .copied()
                    .filter(|&c| {
                        self.model.interfaces.get(c).is_some_and(|o| {
                            self.model.namespaces.get(o.ns).and_then(|n| n.name.as_ref())
                                == Some(netns)
                        })
                    })
                    .collect();
                if !named.is_empty() {
                    candidates = named;
                }
            }
            chosen.insert(idx, candidates.first().copied().filter(|_| candidates.len() == 1));
            match candidates.as_slice() {
                [peer] => pairs.push((idx, *peer)),
                [] => {
                    if iface.kind.as_deref() == Some("veth") {
                        self.problems.push(Problem::note(
                            CODE,
                            iface.span,
                            format!(
                                "the peer of veth `{}` (its ifindex {link} in the other namespace) is not in the dump; that namespace was not captured",
                                printable(&iface.ifname)
                            ),
                        ));
                    }
                }
                many => self.problems.push(
                    Problem::note(
                        CODE,
                        iface.span,
                        format!(
                            "veth `{}` could pair with {}; it is left unpaired",
                            printable(&iface.ifname),
                            self.describe_ifaces(many)
                        ),
                    )
                    .with_help("capture `ip -j -d link` so the peer's namespace is named, or one host per dump"),
                ),
            }
        }
        // A pair holds only if the other end, when it looked, found this one alone: an end
        // that saw several candidates pairs with none of them, from either side.
        pairs.retain(|(a, b)| chosen.get(b).is_none_or(|peer| *peer == Some(*a)));
        for (a, b) in pairs {
            if let Some(iface) = self.model.interfaces.get_mut(a) {
                iface.peer = Some(b);
            }
        }
    }

    /// "`eth0` in `c1` or `eth0` in `c1-copy`", for notes.
    fn describe_ifaces(&self, ifaces: &[IfIdx]) -> String {
        let names: Vec<String> = ifaces
            .iter()
            .filter_map(|&idx| self.model.interfaces.get(idx))
            .map(|iface| {
                let ns = self.model.namespaces.get(iface.ns).map(Namespace::display);
                format!("`{}` in `{}`", printable(&iface.ifname), ns.unwrap_or_default())
            })
            .collect();
        names.join(" or ")
    }

    fn routes(&mut self, ns: NsIdx, routes: Vec<ip_route::RawRoute>) {
        self.capture(ns, Input::Routes);
        let has_v4 = routes.iter().any(|r| matches!(r.dst, ip_route::RouteDst::Net(IpNet::V4(_))));
        for raw in routes {
            let dst = match raw.dst {
                ip_route::RouteDst::Net(net) => net,
                // `default dev tun0` shows no family; the rest of the file tells which it is.
                ip_route::RouteDst::DefaultUnknownFamily if has_v4 => IpNet::V4(Default::default()),
                ip_route::RouteDst::DefaultUnknownFamily => IpNet::V6(Default::default()),
            };
            let table = raw.table.unwrap_or_else(|| "main".into());
            // `ip route show table all` prints IPv6 routes too, so a dump that also holds
            // `ip -6 route` has them twice: keep the first.
            let seen =
                (ns, dst, raw.route_type.clone(), raw.gateway, raw.ifname.clone(), table.clone());
            if !self.seen_routes.insert(seen) {
                continue;
            }
            let iface = raw.ifname.as_deref().and_then(|d| self.model.iface(ns, d));
            self.model.routes.push(Route {
                ns,
                dst,
                route_type: raw.route_type,
                gateway: raw.gateway,
                ifname: raw.ifname,
                iface,
                table,
                onlink: raw.onlink,
                span: raw.span,
            });
        }
    }

    fn sockets(&mut self, ns: NsIdx, sockets: Vec<ss::RawSocket>) {
        self.capture(ns, Input::Sockets);
        for raw in sockets {
            let proto = match raw.proto.as_deref() {
                Some(p) => Proto::parse(p),
                None if raw.state == "LISTEN" => Some(Proto::Tcp),
                None if raw.state == "UNCONN" => Some(Proto::Udp),
                None => None,
            };
            let Some(proto) = proto else { continue };
            let listening = matches!(raw.state.as_str(), "LISTEN" | "UNCONN");
            if listening {
                let addr = raw.addr;
                self.model.listeners.push(Listener {
                    ns,
                    proto,
                    addr,
                    port: raw.port,
                    device: raw.ifname,
                    process: raw.process,
                    span: raw.span,
                });
            }
        }
    }

    fn firewall(&mut self, ns: NsIdx, ruleset: iptables::RawRuleset) {
        self.capture(ns, Input::Firewall);
        let ipv6 = ruleset.ipv6.unwrap_or(false);
        for raw in ruleset.rules {
            for unsupported in &raw.unsupported {
                self.problems.push(Problem::note(
                    "netlint::unsupported",
                    unsupported.span,
                    format!(
                        "iptables option `{}` is not modelled; the rule is read without it",
                        printable(&unsupported.value)
                    ),
                ));
            }
            let cond = |m: Option<iptables::Match<String>>| {
                m.map(|m| Cond { negated: m.negated, value: m.value })
            };
            let (to_addr, to_ports) = raw
                .to
                .as_ref()
                .and_then(|t| iptables::split_nat_target(&t.value).ok())
                .unwrap_or((None, None));
            let dports = raw.dport.map(|m| Cond { negated: m.negated, value: port_list(&m.value) });
            self.model.fw_rules.push(FwRule {
                ns,
                ipv6,
                table: raw.table,
                chain: raw.chain,
                proto: cond(raw.proto),
                src: raw.src.map(|m| Cond { negated: m.negated, value: m.value }),
                dst: raw.dst.map(|m| Cond { negated: m.negated, value: m.value }),
                in_if: cond(raw.in_if),
                out_if: cond(raw.out_if),
                dports,
                dst_type: cond(raw.dst_type),
                target: raw.target.map(|t| t.value),
                to_addr,
                to_ports,
                comment: raw.comment,
                has_unmodelled: !raw.unsupported.is_empty(),
                span: raw.span,
            });
        }
    }

    fn libvirt_network(&mut self, raw: libvirt::RawNetwork) {
        self.model.coverage.inputs.insert(Input::Libvirt);
        let (forward, forward_span) = match &raw.forward {
            Some(f) => (
                match f.value.as_str() {
                    "nat" => Forward::Nat,
                    "route" => Forward::Route,
                    "open" => Forward::Open,
                    "bridge" | "passthrough" | "private" | "vepa" => Forward::Bridge,
                    _ => Forward::Other,
                },
                f.span,
            ),
            None => (Forward::Isolated, raw.span),
        };
        self.model.networks.push(Network {
            origin: Origin::Libvirt,
            name: raw.name,
            id: String::new(),
            forward,
            forward_span,
            bridge: raw.bridge.map(|b| b.value),
            bridge_if: None,
            subnets: raw.ips.into_iter().map(|ip| (ip.value.trunc(), ip.span)).collect(),
            declared_mtu: raw.mtu.map(|m| (m.value, m.span)),
            leases: raw.dhcp_hosts.into_iter().map(|(mac, ip, _)| (mac, ip)).collect(),
            span: raw.span,
        });
    }

    fn docker_network(&mut self, raw: docker::RawNetwork) {
        self.model.coverage.inputs.insert(Input::Docker);
        let option = |key: &str| raw.options.iter().find(|(k, _)| k == key).map(|(_, v)| v);
        let internal = raw.internal.as_ref().is_some_and(|i| i.value);
        let masquerade = option("com.docker.network.bridge.enable_ip_masquerade")
            .is_none_or(|v| v.value != "false");
        let forward = match raw.driver.as_deref() {
            _ if internal => Forward::Isolated,
            Some("bridge") if masquerade => Forward::Nat,
            Some("bridge") => Forward::Route,
            Some("host") => Forward::Host,
            Some("null") => Forward::Null,
            Some("macvlan") => Forward::Bridge,
            _ => Forward::Other,
        };
        let forward_span =
            raw.internal.as_ref().filter(|i| i.value).map(|i| i.span).unwrap_or(raw.span);
        // Docker names user bridges `br-` and the first 12 characters of the network id.
        let bridge = match (raw.driver.as_deref(), option("com.docker.network.bridge.name")) {
            (_, Some(name)) => Some(name.value.clone()),
            (Some("bridge"), None) => raw.id.get(..12).map(|id| format!("br-{id}")),
            _ => None,
        };
        let declared_mtu =
            option(docker::MTU_OPTION).and_then(|m| m.value.parse().ok().map(|v| (v, m.span)));
        self.model.networks.push(Network {
            origin: Origin::Docker,
            name: raw.name,
            id: raw.id,
            forward,
            forward_span,
            bridge,
            bridge_if: None,
            subnets: raw.subnets.into_iter().map(|s| (s.value, s.span)).collect(),
            declared_mtu,
            leases: Vec::new(),
            span: raw.span,
        });
    }

    fn resolve_bridges(&mut self) {
        for i in 0..self.model.networks.len() {
            let bridge_if = self
                .model
                .networks
                .get(i)
                .and_then(|n| n.bridge.as_deref())
                .and_then(|b| self.model.iface(HOST_NS, b));
            if let Some(net) = self.model.networks.get_mut(i) {
                net.bridge_if = bridge_if;
            }
        }
    }

    fn index_addresses(&mut self) {
        for (idx, iface) in self.model.interfaces.iter().enumerate() {
            for (addr, _) in &iface.addrs {
                self.model.index.iface_by_addr.entry(addr.addr()).or_default().push(idx);
            }
        }
    }

    fn network_by_name_or_id(&self, name: &str, id: Option<&str>) -> Option<NetIdx> {
        self.model.networks.iter().position(|n| {
            n.origin == Origin::Docker
                && (n.name == name || id.is_some_and(|id| !id.is_empty() && n.id == id))
        })
    }

    /// The namespace captured for a workload: a folder named after it, or after a prefix
    /// of its id as `docker ps` prints it.
    fn ns_for(&mut self, name: &str, id: &str, kind: NsKind) -> Option<NsIdx> {
        let idx = match self.model.index.ns_by_name.get(name) {
            Some(&idx) => idx,
            None => {
                // Folders named after an id prefix (12 characters or more, as `docker ps`
                // prints ids): a map built once, then each longer prefix of the id looked up.
                let by_prefix = self.ns_by_id_prefix.get_or_insert_with(|| {
                    let index = &self.model.index.ns_by_name;
                    index
                        .iter()
                        .filter(|(f, _)| f.len() >= 12)
                        .map(|(f, &i)| (f.clone(), i))
                        .collect()
                });
                (12..=id.len()).rev().find_map(|n| by_prefix.get(id.get(..n)?).copied())?
            }
        };
        if let Some(ns) = self.model.namespaces.get_mut(idx) {
            ns.kind = kind;
        }
        Some(idx)
    }

    /// The interface inside `ns` that holds `addr`, and its host-side veth peer.
    fn inner_and_host(
        &self,
        ns: Option<NsIdx>,
        addr: Option<IpAddr>,
    ) -> (Option<IfIdx>, Option<IfIdx>) {
        let (Some(ns), Some(addr)) = (ns, addr) else { return (None, None) };
        let inner = self.model.index.iface_by_addr.get(&addr).and_then(|ifs| {
            ifs.iter().copied().find(|&i| self.model.interfaces.get(i).is_some_and(|x| x.ns == ns))
        });
        let host = inner
            .and_then(|i| self.model.interfaces.get(i)?.peer)
            .filter(|&p| self.model.interfaces.get(p).is_some_and(|x| x.ns == HOST_NS));
        (inner, host)
    }

    fn container(&mut self, raw: docker::RawContainer) {
        self.model.coverage.inputs.insert(Input::Docker);
        self.claimants.insert("container of `docker inspect`");
        let mode = raw.network_mode.as_ref().map(|m| m.value.as_str()).unwrap_or("default");
        let ns = if mode == "host" {
            Some(HOST_NS)
        } else {
            self.ns_for(&raw.name, &raw.id, NsKind::Container)
        };
        let mut nics = Vec::new();
        for ep in &raw.networks {
            let network = self.network_by_name_or_id(&ep.network, ep.network_id.as_deref());
            let (inner_if, host_if) =
                self.inner_and_host(ns.filter(|&n| n != HOST_NS), ep.ipv4.map(|a| a.addr()));
            let inner_mtu = inner_if.and_then(|i| self.model.interfaces.get(i)?.mtu);
            nics.push(Nic {
                network,
                bridge: network.and_then(|n| self.model.networks.get(n)?.bridge.clone()),
                host_if,
                inner_if,
                addrs: ep.ipv4.into_iter().chain(ep.ipv6).collect(),
                gateway: ep.gateway,
                declared_mtu: inner_mtu.and(None),
                span: ep.span,
            });
        }
        let idx = self.model.workloads.len();
        let first_binding = self.model.port_bindings.len();
        for list in [&raw.port_bindings, &raw.ports] {
            let active = std::ptr::eq(list, &raw.ports);
            for b in list {
                let Some(proto) = Proto::parse(&b.proto) else { continue };
                let own = self.model.port_bindings.get_mut(first_binding..).unwrap_or_default();
                let existing = own.iter_mut().find(|p| {
                    p.workload == idx
                        && p.proto == proto
                        && p.container_port == b.container_port
                        && (p.host_port == b.host_port || p.host_port.is_none())
                });
                match existing {
                    Some(p) if active => {
                        p.active = true;
                        p.host_port = p.host_port.or(b.host_port);
                    }
                    Some(_) => {}
                    None => self.model.port_bindings.push(PortBinding {
                        workload: idx,
                        proto,
                        host_ip: b.host_ip,
                        host_port: b.host_port,
                        container_port: b.container_port,
                        active,
                        span: b.span,
                    }),
                }
            }
        }
        self.model.workloads.push(Workload {
            kind: WorkloadKind::Container,
            name: raw.name,
            ns,
            nics,
            env_keys: raw.env_keys,
            span: raw.span,
        });
    }

    fn domain(&mut self, raw: libvirt::RawDomain) {
        self.model.coverage.inputs.insert(Input::Libvirt);
        self.claimants.insert("domain of `virsh dumpxml`");
        let ns = self.ns_for(&raw.name, "", NsKind::Vm);
        let nics =
            raw.interfaces
                .iter()
                .map(|vif| {
                    let network = vif.network.as_deref().and_then(|name| {
                        self.model
                            .networks
                            .iter()
                            .position(|n| n.origin == Origin::Libvirt && n.name == name)
                    });
                    let bridge = vif.bridge.clone().or_else(|| {
                        network.and_then(|n| self.model.networks.get(n)?.bridge.clone())
                    });
                    let mac = vif.mac.as_deref().map(str::to_ascii_lowercase);
                    let addrs = network
                        .and_then(|n| self.model.networks.get(n))
                        .and_then(|n| n.leases.iter().find(|(m, _)| Some(m) == mac.as_ref()))
                        .map(|(_, ip)| vec![IpNet::from(*ip)])
                        .unwrap_or_default();
                    Nic {
                        network,
                        bridge,
                        host_if: self.tap_of(vif.target_dev.as_deref(), mac.as_deref()),
                        inner_if: None,
                        addrs,
                        gateway: None,
                        declared_mtu: vif.mtu.as_ref().map(|m| (m.value, m.span)),
                        span: vif.span,
                    }
                })
                .collect();
        self.model.workloads.push(Workload {
            kind: WorkloadKind::Vm,
            name: raw.name,
            ns,
            nics,
            env_keys: Vec::new(),
            span: raw.span,
        });
    }

    /// The host-side tap of a VM interface: by `<target dev>`, or else by MAC, since
    /// libvirt gives the tap the guest's MAC with the first byte set to `fe`.
    fn tap_of(&self, target_dev: Option<&str>, mac: Option<&str>) -> Option<IfIdx> {
        if let Some(idx) = target_dev.and_then(|d| self.model.iface(HOST_NS, d)) {
            return Some(idx);
        }
        let tap_mac = format!("fe{}", mac?.get(2..)?);
        self.model
            .interfaces
            .iter()
            .position(|i| i.ns == HOST_NS && i.mac.as_deref() == Some(tap_mac.as_str()))
    }

    /// Every captured namespace that no container or VM claimed is a workload of its own;
    /// its NICs are its veths whose peer sits in the host. Where the dump names containers
    /// or VMs, such a folder may be a misnamed one, so a note says how it was read.
    fn netns_workloads(&mut self) {
        let claimed: BTreeSet<NsIdx> = self.model.workloads.iter().filter_map(|w| w.ns).collect();
        let mut ifaces_by_ns: HashMap<NsIdx, Vec<IfIdx>> = HashMap::new();
        for (idx, iface) in self.model.interfaces.iter().enumerate() {
            ifaces_by_ns.entry(iface.ns).or_default().push(idx);
        }
        for ns in 1..self.model.namespaces.len() {
            if claimed.contains(&ns) {
                continue;
            }
            let Some(name) = self.model.namespaces.get(ns).and_then(|n| n.name.clone()) else {
                continue;
            };
            if !self.claimants.is_empty() {
                let file = self.first_file.get(&ns).copied().unwrap_or_default();
                let claimants: Vec<&str> = self.claimants.iter().copied().collect();
                self.problems.push(
                    Problem::note(
                        CODE,
                        Span::file_start(file),
                        format!(
                            "folder `{}` matches no {}; it is read as a bare network namespace",
                            printable(&name),
                            claimants.join(" and no ")
                        ),
                    )
                    .with_help("name the folder after the container or VM (or, for a container, the first 12 or more characters of its id)"),
                );
            }
            let mut nics = Vec::new();
            let mut span = None;
            let own = ifaces_by_ns.get(&ns).map(Vec::as_slice).unwrap_or_default();
            for (idx, iface) in own.iter().filter_map(|&i| Some((i, self.model.interfaces.get(i)?)))
            {
                let Some(peer) = iface
                    .peer
                    .filter(|&p| self.model.interfaces.get(p).is_some_and(|x| x.ns == HOST_NS))
                else {
                    continue;
                };
                let bridge = self
                    .model
                    .interfaces
                    .get(peer)
                    .and_then(|p| p.master)
                    .and_then(|m| self.model.interfaces.get(m))
                    .map(|b| b.ifname.clone());
                let network = bridge.as_deref().and_then(|b| {
                    self.model.networks.iter().position(|n| n.bridge.as_deref() == Some(b))
                });
                span.get_or_insert(iface.span);
                nics.push(Nic {
                    network,
                    bridge,
                    host_if: Some(peer),
                    inner_if: Some(idx),
                    addrs: iface.addrs.iter().map(|(a, _)| *a).collect(),
                    gateway: None,
                    declared_mtu: None,
                    span: iface.span,
                });
            }
            let span = span.unwrap_or_else(|| {
                own.first()
                    .and_then(|&i| self.model.interfaces.get(i))
                    .map(|i| i.span)
                    .unwrap_or_default()
            });
            self.model.workloads.push(Workload {
                kind: WorkloadKind::Netns,
                name,
                ns: Some(ns),
                nics,
                env_keys: Vec::new(),
                span,
            });
        }
    }

    fn index(&mut self) {
        let m = &mut self.model;
        for (w_idx, w) in m.workloads.iter().enumerate() {
            if let Some(ns) = w.ns.filter(|&n| n != HOST_NS) {
                m.index.workload_by_ns.insert(ns, w_idx);
            }
            for (n_idx, nic) in w.nics.iter().enumerate() {
                for addr in &nic.addrs {
                    m.index.nic_by_addr.entry(addr.addr()).or_default().push((w_idx, n_idx));
                }
            }
        }
        for (idx, l) in m.listeners.iter().enumerate() {
            m.index.listeners_by_port.entry((l.ns, l.proto, l.port)).or_default().push(idx);
        }
        for (idx, r) in m.routes.iter().enumerate() {
            m.index.routes_by_ns.entry(r.ns).or_default().push(idx);
        }
    }
}

fn is_addr_format(format: Format) -> bool {
    matches!(format, Format::IpAddrJson | Format::IpAddrText)
}

/// `10.0.0.2:80`, `10.0.0.2:8000-8100`, `[fd00::2]:80`, `10.0.0.2` → address and ports.
fn port_range(text: &str) -> Option<(u16, u16)> {
    iptables::port_range(text)
}

fn port_list(text: &str) -> Vec<(u16, u16)> {
    text.split(',').filter_map(port_range).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn port_lists_split_into_ranges() {
        assert_eq!(port_list("80,443:445"), vec![(80, 80), (443, 445)]);
    }
}
