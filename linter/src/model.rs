//! The one model of a host, whatever files it was read from.
//!
//! Every source format is lowered into these types, so analyses never see a file format.
//! Entities live in flat vectors and refer to each other by index (`*_idx`); `Index` maps
//! names and addresses to those indexes so analyses look things up instead of scanning.
//! Every entity keeps the [`Span`] of the text that proves it.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::net::IpAddr;

use ipnet::IpNet;
use serde::Serialize;

use crate::source::{Span, printable};

/// Index into [`Model::namespaces`]; 0 is the host's own namespace.
pub type NsIdx = usize;
/// Index into [`Model::interfaces`].
pub type IfIdx = usize;
/// Index into [`Model::networks`].
pub type NetIdx = usize;
/// Index into [`Model::workloads`].
pub type WorkloadIdx = usize;

/// The host namespace's index.
pub const HOST_NS: NsIdx = 0;

/// A kind of input, as the rules name what they need.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Input {
    /// `ip link` / `ip addr`: interfaces.
    Links,
    /// `ip addr`: addresses.
    Addresses,
    /// `ip route`.
    Routes,
    /// `ss`: listening sockets.
    Sockets,
    /// `iptables-save` / `ip6tables-save`.
    Firewall,
    /// `docker inspect` / `docker network inspect`.
    Docker,
    /// `virsh dumpxml` / `virsh net-dumpxml`.
    Libvirt,
}

impl Input {
    /// The rule-file spelling.
    pub fn name(self) -> &'static str {
        match self {
            Input::Links => "links",
            Input::Addresses => "addresses",
            Input::Routes => "routes",
            Input::Sockets => "sockets",
            Input::Firewall => "firewall",
            Input::Docker => "docker",
            Input::Libvirt => "libvirt",
        }
    }

    /// The command whose output provides it, for messages.
    pub fn command(self) -> &'static str {
        match self {
            Input::Links => "ip -j -d link",
            Input::Addresses => "ip -j addr",
            Input::Routes => "ip -j route show table all",
            Input::Sockets => "ss -lntupH",
            Input::Firewall => "iptables-save",
            Input::Docker => "docker inspect",
            Input::Libvirt => "virsh dumpxml",
        }
    }

    /// Parses the rule-file spelling.
    pub fn from_name(name: &str) -> Option<Input> {
        [
            Input::Links,
            Input::Addresses,
            Input::Routes,
            Input::Sockets,
            Input::Firewall,
            Input::Docker,
            Input::Libvirt,
        ]
        .into_iter()
        .find(|i| i.name() == name)
    }
}

/// What a namespace belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum NsKind {
    /// The host's own namespace.
    Host,
    /// A Docker container's.
    Container,
    /// Captured inside a VM.
    Vm,
    /// A plain network namespace.
    Netns,
}

/// A network namespace of the dump.
#[derive(Clone, Debug)]
pub struct Namespace {
    /// Folder name; `None` for the host.
    pub name: Option<String>,
    /// Who it belongs to.
    pub kind: NsKind,
    /// What was captured in it.
    pub captured: BTreeSet<Input>,
}

impl Namespace {
    /// A name for messages, made printable: folder names come from the dump.
    pub fn display(&self) -> String {
        match &self.name {
            Some(name) => printable(name),
            None => "host".to_string(),
        }
    }
}

/// A network interface.
#[derive(Clone, Debug)]
pub struct Interface {
    /// Its namespace.
    pub ns: NsIdx,
    /// Name.
    pub ifname: String,
    /// `ifindex` in its namespace.
    pub ifindex: Option<u32>,
    /// Kind: bridge, veth, vxlan, geneve, wireguard, gre, tun, loopback, … or `None`.
    pub kind: Option<String>,
    /// MTU with the span of `mtu N`.
    pub mtu: Option<(u32, Span)>,
    /// The bridge or bond it is enslaved to.
    pub master: Option<IfIdx>,
    /// The other end of a veth pair, wherever it was captured.
    pub peer: Option<IfIdx>,
    /// vxlan details.
    pub vxlan: Option<Vxlan>,
    /// Addresses.
    pub addrs: Vec<(IpNet, Span)>,
    /// `operstate`.
    pub state: Option<String>,
    /// MAC address, lowercase.
    pub mac: Option<String>,
    /// Where the interface is named.
    pub span: Span,
    /// What lowering needs to pair veths: peer index, netnsid, netns name.
    pub link: LinkHint,
}

/// What `ip` says about an interface's peer or lower device.
#[derive(Clone, Debug, Default)]
pub struct LinkHint {
    /// `link_index` / `@ifN`.
    pub index: Option<u32>,
    /// `link_netnsid`.
    pub netnsid: Option<i64>,
    /// `link-netns NAME`.
    pub netns: Option<String>,
    /// `@NONE`: the peer is gone.
    pub none: bool,
}

/// A vxlan device's tunnel.
#[derive(Clone, Debug)]
pub struct Vxlan {
    /// VNI.
    pub id: Option<u32>,
    /// The underlay device, resolved in the same namespace.
    pub underlay: Option<IfIdx>,
    /// UDP port.
    pub port: Option<u16>,
}

/// A route.
#[derive(Clone, Debug)]
pub struct Route {
    /// Its namespace.
    pub ns: NsIdx,
    /// Destination (`0.0.0.0/0` for default).
    pub dst: IpNet,
    /// unicast, local, broadcast, unreachable, …
    pub route_type: String,
    /// Next hop.
    pub gateway: Option<IpAddr>,
    /// Outgoing interface name and, where it was captured, the interface.
    pub ifname: Option<String>,
    /// Outgoing interface.
    pub iface: Option<IfIdx>,
    /// Table name (`main` when not printed).
    pub table: String,
    /// Whether `onlink` is set.
    pub onlink: bool,
    /// The route's line or object.
    pub span: Span,
}

impl Route {
    /// Whether this is a default route of the main table.
    pub fn is_main_default(&self) -> bool {
        self.dst.prefix_len() == 0 && self.table == "main" && self.route_type == "unicast"
    }
}

/// Transport protocol.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Proto {
    /// TCP.
    Tcp,
    /// UDP.
    Udp,
    /// SCTP.
    Sctp,
}

impl Proto {
    /// Parses `tcp`, `udp`, `sctp` (any case).
    pub fn parse(text: &str) -> Option<Proto> {
        match text.to_ascii_lowercase().as_str() {
            "tcp" | "6" => Some(Proto::Tcp),
            "udp" | "17" => Some(Proto::Udp),
            "sctp" | "132" => Some(Proto::Sctp),
            _ => None,
        }
    }

    /// Lowercase name.
    pub fn name(self) -> &'static str {
        match self {
            Proto::Tcp => "tcp",
            Proto::Udp => "udp",
            Proto::Sctp => "sctp",
        }
    }
}

/// A listening socket.
#[derive(Clone, Debug)]
pub struct Listener {
    /// Its namespace.
    pub ns: NsIdx,
    /// Protocol.
    pub proto: Proto,
    /// Bound address; `None` for every address.
    pub addr: Option<IpAddr>,
    /// Port.
    pub port: u16,
    /// The interface it is bound to (`%lo` in `ss`), if any.
    pub device: Option<String>,
    /// Process name, with `ss -p`.
    pub process: Option<String>,
    /// The `ss` line.
    pub span: Span,
}

impl Listener {
    /// Whether the socket accepts traffic addressed to `target`: `*` (no address) takes
    /// both families, `0.0.0.0` IPv4 and `[::]` IPv6 only, else the same address.
    /// An IPv4-mapped IPv6 address (`[::ffff:10.0.0.2]`) is the IPv4 address it maps.
    pub fn accepts(&self, target: IpAddr) -> bool {
        // Bound to `lo` (SO_BINDTODEVICE), a socket sees only what arrives on loopback.
        if self.device.as_deref() == Some("lo") && !target.to_canonical().is_loopback() {
            return false;
        }
        match self.addr.map(|a| a.to_canonical()) {
            None => true,
            // `[::]` in today's ss is an IPv6-only socket (a dual-stack one prints as `*`).
            Some(addr) if addr.is_unspecified() => addr.is_ipv6() == target.is_ipv6(),
            Some(addr) => addr == target.to_canonical(),
        }
    }

    /// Whether the socket is bound to a loopback address only (`[::ffff:127.0.0.1]` too),
    /// or to the loopback interface (`0.0.0.0%lo`).
    pub fn is_loopback(&self) -> bool {
        self.addr.is_some_and(|a| a.to_canonical().is_loopback())
            || self.device.as_deref() == Some("lo")
    }
}

/// A condition of a firewall rule, possibly negated with `!`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Cond<T> {
    /// `!` was given.
    pub negated: bool,
    /// The value.
    pub value: T,
}

impl<T> Cond<T> {
    /// Whether `test` matches this condition, honouring negation.
    pub fn holds(&self, test: impl FnOnce(&T) -> bool) -> bool {
        test(&self.value) != self.negated
    }
}

/// One iptables rule (an `-A` line).
#[derive(Clone, Debug)]
pub struct FwRule {
    /// Its namespace.
    pub ns: NsIdx,
    /// From `ip6tables-save`.
    pub ipv6: bool,
    /// Table.
    pub table: String,
    /// Chain.
    pub chain: String,
    /// Protocol match.
    pub proto: Option<Cond<String>>,
    /// Source match.
    pub src: Option<Cond<IpNet>>,
    /// Destination match.
    pub dst: Option<Cond<IpNet>>,
    /// Input interface match.
    pub in_if: Option<Cond<String>>,
    /// Output interface match.
    pub out_if: Option<Cond<String>>,
    /// Destination ports (inclusive ranges).
    pub dports: Option<Cond<Vec<(u16, u16)>>>,
    /// `--dst-type`.
    pub dst_type: Option<Cond<String>>,
    /// Target (DNAT, MASQUERADE, ACCEPT, a chain, …).
    pub target: Option<String>,
    /// DNAT/SNAT destination address.
    pub to_addr: Option<IpAddr>,
    /// DNAT destination port range.
    pub to_ports: Option<(u16, u16)>,
    /// `--comment`.
    pub comment: Option<String>,
    /// Whether the line has options netlint does not model (they may narrow its matches).
    pub has_unmodelled: bool,
    /// The line.
    pub span: Span,
}

impl FwRule {
    /// Whether the rule's destination-port match covers `port`.
    pub fn matches_dport(&self, port: u16) -> bool {
        self.dports
            .as_ref()
            .is_none_or(|c| c.holds(|ranges| ranges.iter().any(|(a, b)| (*a..=*b).contains(&port))))
    }
}

/// Who runs a network.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Origin {
    /// A libvirt network.
    Libvirt,
    /// A Docker network.
    Docker,
    /// A bridge seen only in the host's interfaces and firewall.
    Host,
}

/// How a network reaches the outside.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Forward {
    /// Masqueraded behind the host's address (libvirt nat, Docker bridge).
    Nat,
    /// Routed without NAT: the LAN needs a route back (libvirt route).
    Route,
    /// Routed with no firewall rules at all (libvirt open).
    Open,
    /// Bridged straight onto a host interface (libvirt bridge, macvlan, macvtap).
    Bridge,
    /// No forwarding: the workloads see only each other and the host.
    Isolated,
    /// Shares the host's namespace (Docker host).
    Host,
    /// No network at all (Docker none).
    Null,
    /// Anything else (overlay, ipvlan, hostdev, …).
    Other,
}

/// A virtual network: libvirt's, Docker's, or a host bridge.
#[derive(Clone, Debug)]
pub struct Network {
    /// Who runs it.
    pub origin: Origin,
    /// Name.
    pub name: String,
    /// Id (Docker), empty otherwise.
    pub id: String,
    /// Forward mode, with the span that says so.
    pub forward: Forward,
    /// Span of the forward mode (libvirt `<forward>`, Docker `Internal`/`Driver`).
    pub forward_span: Span,
    /// Bridge device name, if it has one.
    pub bridge: Option<String>,
    /// The bridge device in the host namespace, when captured.
    pub bridge_if: Option<IfIdx>,
    /// Subnets.
    pub subnets: Vec<(IpNet, Span)>,
    /// MTU the network's configuration asks for.
    pub declared_mtu: Option<(u32, Span)>,
    /// Static leases: MAC (lowercase) → address.
    pub leases: Vec<(String, IpAddr)>,
    /// Where the network is named.
    pub span: Span,
}

/// What a workload is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum WorkloadKind {
    /// A libvirt domain.
    Vm,
    /// A Docker container.
    Container,
    /// A network namespace captured on its own.
    Netns,
}

/// A VM, container or namespace that has network interfaces.
#[derive(Clone, Debug)]
pub struct Workload {
    /// What it is.
    pub kind: WorkloadKind,
    /// Name.
    pub name: String,
    /// Its captured namespace, if any.
    pub ns: Option<NsIdx>,
    /// Its network interfaces.
    pub nics: Vec<Nic>,
    /// Names (never values) of its environment variables.
    pub env_keys: Vec<String>,
    /// Where it is named.
    pub span: Span,
}

/// A workload's network interface, seen from the workload's configuration and the host.
#[derive(Clone, Debug, Default)]
pub struct Nic {
    /// The network it joins.
    pub network: Option<NetIdx>,
    /// The host bridge it joins, by name.
    pub bridge: Option<String>,
    /// Host-side device (tap or veth end) in the host namespace.
    pub host_if: Option<IfIdx>,
    /// The interface inside the workload's namespace, when captured.
    pub inner_if: Option<IfIdx>,
    /// Addresses.
    pub addrs: Vec<IpNet>,
    /// Gateway the workload's configuration names.
    pub gateway: Option<IpAddr>,
    /// MTU the workload's configuration asks for.
    pub declared_mtu: Option<(u32, Span)>,
    /// Where the NIC is described.
    pub span: Span,
}

/// A port publication asked of Docker (`-p`).
#[derive(Clone, Debug)]
pub struct PortBinding {
    /// The container.
    pub workload: WorkloadIdx,
    /// Protocol.
    pub proto: Proto,
    /// Host address; `None` for every address.
    pub host_ip: Option<IpAddr>,
    /// Host port; `None` when Docker picks one.
    pub host_port: Option<u16>,
    /// Container port.
    pub container_port: u16,
    /// Whether Docker reports it as set up (`NetworkSettings.Ports`).
    pub active: bool,
    /// The binding in `HostConfig.PortBindings`.
    pub span: Span,
}

/// What the dump covers.
#[derive(Clone, Debug, Default)]
pub struct Coverage {
    /// Files read, per command.
    pub files_by_kind: BTreeMap<&'static str, usize>,
    /// Inputs seen anywhere in the dump.
    pub inputs: BTreeSet<Input>,
    /// Number of files read.
    pub n_files: usize,
}

/// Lookups from names and addresses to entities.
#[derive(Clone, Debug, Default)]
pub struct Index {
    /// (namespace, ifname) → interface.
    pub iface_by_name: HashMap<(NsIdx, String), IfIdx>,
    /// Address → the interfaces that hold it.
    pub iface_by_addr: HashMap<IpAddr, Vec<IfIdx>>,
    /// Namespace folder name → namespace.
    pub ns_by_name: HashMap<String, NsIdx>,
    /// Workload address → (workload, nic index).
    pub nic_by_addr: HashMap<IpAddr, Vec<(WorkloadIdx, usize)>>,
    /// Namespace → workload living in it.
    pub workload_by_ns: HashMap<NsIdx, WorkloadIdx>,
    /// Namespace → its listeners, by (proto, port).
    pub listeners_by_port: HashMap<(NsIdx, Proto, u16), Vec<usize>>,
    /// Namespace → its routes.
    pub routes_by_ns: HashMap<NsIdx, Vec<usize>>,
}

/// The whole host.
#[derive(Clone, Debug, Default)]
pub struct Model {
    /// Namespaces; index 0 is the host.
    pub namespaces: Vec<Namespace>,
    /// Interfaces of every namespace.
    pub interfaces: Vec<Interface>,
    /// Routes of every namespace.
    pub routes: Vec<Route>,
    /// Listening sockets of every namespace.
    pub listeners: Vec<Listener>,
    /// iptables rules of every namespace.
    pub fw_rules: Vec<FwRule>,
    /// Virtual networks.
    pub networks: Vec<Network>,
    /// VMs, containers and namespaces.
    pub workloads: Vec<Workload>,
    /// Docker port publications.
    pub port_bindings: Vec<PortBinding>,
    /// What the dump covers.
    pub coverage: Coverage,
    /// Lookups.
    pub index: Index,
}

impl Model {
    /// The interface `ifname` in namespace `ns`.
    pub fn iface(&self, ns: NsIdx, ifname: &str) -> Option<IfIdx> {
        self.index.iface_by_name.get(&(ns, ifname.to_string())).copied()
    }

    /// The namespace's display name.
    pub fn ns_name(&self, ns: NsIdx) -> String {
        self.namespaces.get(ns).map(Namespace::display).unwrap_or_default()
    }

    /// Whether namespace `ns` had `input` captured.
    pub fn captured(&self, ns: NsIdx, input: Input) -> bool {
        self.namespaces.get(ns).is_some_and(|n| n.captured.contains(&input))
    }

    /// The main-table default route of a namespace for one address family.
    pub fn default_route_of(&self, ns: NsIdx, ipv4: bool) -> Option<&Route> {
        let routes = self.index.routes_by_ns.get(&ns)?;
        routes
            .iter()
            .filter_map(|&i| self.routes.get(i))
            .find(|r| r.is_main_default() && r.dst.addr().is_ipv4() == ipv4)
    }

    /// The main-table default route of a namespace, IPv4 first.
    pub fn default_route(&self, ns: NsIdx) -> Option<&Route> {
        self.default_route_of(ns, true).or_else(|| self.default_route_of(ns, false))
    }
}
