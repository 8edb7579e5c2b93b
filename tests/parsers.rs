//! Parser tests on real captured output (`tests/fixtures/captured/`, written by
//! `tools/lab/capture-all.sh`). Every fixture must parse without a problem; the text and
//! JSON forms captured from the same namespace at the same moment must give the same
//! records; and a compact summary of each parse is snapshotted.

mod common;

use std::collections::BTreeSet;
use std::fmt::Write as _;

use netlint::discover::{Format, classify};
use netlint::parse::{Content, parse_file};
use netlint::source::FileId;

fn fixture(rel: &str) -> String {
    std::fs::read_to_string(common::root().join("tests/fixtures/captured").join(rel))
        .expect("fixture exists")
}

/// Classifies and parses a fixture, asserting it parses cleanly.
fn parse(rel: &str) -> (Format, Content) {
    let text = fixture(rel);
    let format = classify(&text).unwrap_or_else(|| panic!("{rel} was not recognised"));
    let parsed = parse_file(FileId(0), format, &text);
    assert!(parsed.problems.is_empty(), "{rel}: {:#?}", parsed.problems);
    (format, parsed.value.unwrap_or_else(|| panic!("{rel} gave no content")))
}

fn links(rel: &str) -> Vec<netlint::parse::ip_link::RawLink> {
    match parse(rel) {
        (_, Content::Links(links)) => links,
        (format, _) => panic!("{rel} read as {format:?}"),
    }
}

fn link_keys(rel: &str, with_kind: bool) -> BTreeSet<String> {
    links(rel)
        .iter()
        .map(|l| {
            let addrs: BTreeSet<String> = l.addrs.iter().map(|a| a.value.to_string()).collect();
            format!(
                "{} idx={:?} mtu={:?} master={:?} peer={:?} kind={:?} addrs={addrs:?}",
                l.ifname,
                l.ifindex,
                l.mtu.as_ref().map(|m| m.value),
                l.master.as_ref().map(|m| &m.value),
                l.link_index,
                if with_kind { l.kind.clone() } else { None },
            )
        })
        .collect()
}

#[test]
fn ip_link_text_and_json_agree() {
    for ns in ["host", "c1"] {
        let json = link_keys(&format!("netns-lab/{ns}/ip-j-d-link.json"), true);
        let text = link_keys(&format!("netns-lab/{ns}/ip-d-link.txt"), true);
        assert_eq!(json, text, "{ns}: ip -j -d link and ip -d link differ");
        assert!(json.len() >= 2, "{ns}: expected several interfaces");
    }
}

#[test]
fn ip_addr_text_and_json_agree_with_ipv6() {
    for ns in ["host", "c1"] {
        let json = link_keys(&format!("netns-lab/{ns}/ip-j-addr.json"), false);
        let text = link_keys(&format!("netns-lab/{ns}/ip-addr.txt"), false);
        assert_eq!(json, text, "{ns}: ip -j addr and ip addr differ");
        assert!(json.iter().any(|k| k.contains("fd00:")), "{ns}: expected an IPv6 ULA address");
    }
}

fn route_keys(rel: &str) -> BTreeSet<String> {
    match parse(rel) {
        (_, Content::Routes(routes)) => routes
            .iter()
            .map(|r| {
                format!(
                    "{} {:?} via={:?} dev={:?} table={:?} onlink={}",
                    r.route_type, r.dst, r.gateway, r.ifname, r.table, r.onlink
                )
            })
            .collect(),
        (format, _) => panic!("{rel} read as {format:?}"),
    }
}

#[test]
fn ip_route_text_and_json_agree_for_both_families() {
    for ns in ["host", "c1"] {
        for (json, text) in
            [("ip-j-route.json", "ip-route.txt"), ("ip-j-6-route.json", "ip-6-route.txt")]
        {
            let j = route_keys(&format!("netns-lab/{ns}/{json}"));
            let t = route_keys(&format!("netns-lab/{ns}/{text}"));
            assert_eq!(j, t, "{ns}: {json} and {text} differ");
        }
        let v6 = route_keys(&format!("netns-lab/{ns}/ip-j-6-route.json"));
        assert!(v6.iter().any(|r| r.contains("fd00:")), "{ns}: expected an IPv6 route");
    }
}

fn socket_keys(rel: &str) -> (BTreeSet<String>, usize) {
    match parse(rel) {
        (_, Content::Sockets(sockets)) => {
            let with_process = sockets.iter().filter(|s| s.process.is_some()).count();
            let keys = sockets
                .iter()
                .map(|s| format!("{:?} {} {:?}:{}", s.proto, s.state, s.addr, s.port))
                .collect();
            (keys, with_process)
        }
        (format, _) => panic!("{rel} read as {format:?}"),
    }
}

#[test]
fn ss_with_and_without_processes_agree() {
    for ns in ["host", "c1"] {
        let (plain, plain_p) = socket_keys(&format!("netns-lab/{ns}/ss-lntuH.txt"));
        let (with_p, n_p) = socket_keys(&format!("netns-lab/{ns}/ss-lntupH.txt"));
        assert_eq!(plain, with_p, "{ns}: ss -lntuH and ss -lntupH list different sockets");
        assert_eq!(plain_p, 0);
        assert!(n_p > 0, "{ns}: -p output names processes");
    }
}

fn firewall_keys(rel: &str) -> (BTreeSet<String>, Option<bool>) {
    match parse(rel) {
        (_, Content::Firewall(rs)) => (
            rs.rules
                .iter()
                .map(|r| {
                    format!(
                        "{} {} {:?} dport={:?} to={:?} comment={:?}",
                        r.table,
                        r.chain,
                        r.target.as_ref().map(|t| &t.value),
                        r.dport.as_ref().map(|d| &d.value),
                        r.to.as_ref().map(|t| &t.value),
                        r.comment
                    )
                })
                .collect(),
            rs.ipv6,
        ),
        (format, _) => panic!("{rel} read as {format:?}"),
    }
}

#[test]
fn iptables_nft_and_legacy_flavours_agree() {
    let (nft, nft_v6) = firewall_keys("netns-lab/host/iptables-nft-save.txt");
    let (legacy, _) = firewall_keys("netns-lab/host/iptables-legacy-save.txt");
    let (warned, _) = firewall_keys("netns-lab/host/iptables-nft-save-with-legacy-warning.txt");
    assert_eq!(nft, legacy, "the nft and legacy flavours hold the same rules");
    assert_eq!(nft, warned, "the legacy-tables warning line changes nothing");
    assert_eq!(nft_v6, Some(false));
    let (v6, is_v6) = firewall_keys("netns-lab/host/ip6tables-save.txt");
    assert_eq!(is_v6, Some(true));
    assert!(v6.iter().any(|r| r.contains("[fd00:88::11]:80")), "{v6:#?}");
}

#[test]
fn captured_fixtures_snapshot() {
    let mut files: Vec<String> = walkdir_files(&common::root().join("tests/fixtures/captured"));
    files.retain(|f| !f.ends_with(".md") && !f.ends_with("versions.txt"));
    common::with_snapshots(|| {
        for rel in files {
            let (format, content) = parse(&rel);
            let name = format!("parse_{}", rel.replace('/', "__"));
            insta::assert_snapshot!(name, summary(format, &content));
        }
    });
}

fn walkdir_files(root: &std::path::Path) -> Vec<String> {
    let mut out = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).expect("fixture dir").flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else {
                out.push(
                    path.strip_prefix(root).expect("under root").to_string_lossy().into_owned(),
                );
            }
        }
    }
    out.sort();
    out
}

/// A compact, stable summary of what a parser read (no per-run values such as MACs or
/// counters, so a recapture changes only what really changed).
fn summary(format: Format, content: &Content) -> String {
    let mut out = format!("format: {}\n", format.describe());
    match content {
        Content::Links(links) => {
            for l in links {
                let addrs: Vec<String> = l.addrs.iter().map(|a| a.value.to_string()).collect();
                let _ = writeln!(
                    out,
                    "{} mtu={:?} master={:?} kind={:?} peer={:?} netnsid={:?} vxlan={:?} addrs={addrs:?}",
                    l.ifname,
                    l.mtu.as_ref().map(|m| m.value),
                    l.master.as_ref().map(|m| &m.value),
                    l.kind,
                    l.link_index,
                    l.link_netnsid,
                    l.vxlan.as_ref().map(|v| (v.id, v.dev.clone(), v.port)),
                );
            }
        }
        Content::Routes(routes) => {
            for r in routes {
                let _ = writeln!(
                    out,
                    "{} {:?} via={:?} dev={:?} table={:?}",
                    r.route_type, r.dst, r.gateway, r.ifname, r.table
                );
            }
        }
        Content::Sockets(sockets) => {
            for s in sockets {
                let _ = writeln!(
                    out,
                    "{:?} {} {:?}%{:?}:{} process={:?}",
                    s.proto, s.state, s.addr, s.ifname, s.port, s.process
                );
            }
        }
        Content::Firewall(rs) => {
            let _ = writeln!(out, "ipv6={:?} chains={}", rs.ipv6, rs.chains.len());
            for r in &rs.rules {
                let _ = writeln!(
                    out,
                    "{}/{} proto={:?} src={:?} dst={:?} in={:?} out={:?} dport={:?} target={:?} to={:?} unsupported={:?}",
                    r.table,
                    r.chain,
                    r.proto.as_ref().map(|m| (&m.value, m.negated)),
                    r.src.as_ref().map(|m| (m.value.to_string(), m.negated)),
                    r.dst.as_ref().map(|m| (m.value.to_string(), m.negated)),
                    r.in_if.as_ref().map(|m| (&m.value, m.negated)),
                    r.out_if.as_ref().map(|m| (&m.value, m.negated)),
                    r.dport.as_ref().map(|m| &m.value),
                    r.target.as_ref().map(|t| &t.value),
                    r.to.as_ref().map(|t| &t.value),
                    r.unsupported.iter().map(|u| &u.value).collect::<Vec<_>>(),
                );
            }
        }
        Content::DockerContainers(cs) => {
            for c in cs {
                let nets: Vec<String> = c
                    .networks
                    .iter()
                    .map(|n| {
                        format!(
                            "{}: {:?} gw={:?} v6={:?}",
                            n.network,
                            n.ipv4.map(|a| a.to_string()),
                            n.gateway,
                            n.ipv6.map(|a| a.to_string())
                        )
                    })
                    .collect();
                let _ = writeln!(
                    out,
                    "{} mode={:?} env_keys={:?}",
                    c.name,
                    c.network_mode.as_ref().map(|m| &m.value),
                    c.env_keys
                );
                let _ = writeln!(
                    out,
                    "  asked={:?}",
                    c.port_bindings
                        .iter()
                        .map(|b| (b.proto.as_str(), b.host_ip, b.host_port, b.container_port))
                        .collect::<Vec<_>>()
                );
                let _ = writeln!(
                    out,
                    "  active={:?}",
                    c.ports
                        .iter()
                        .map(|b| (b.proto.as_str(), b.host_ip, b.host_port, b.container_port))
                        .collect::<Vec<_>>()
                );
                let _ = writeln!(out, "  networks={nets:?}");
            }
        }
        Content::DockerNetworks(ns) => {
            for n in ns {
                let subnets: Vec<String> = n.subnets.iter().map(|s| s.value.to_string()).collect();
                let options: Vec<String> =
                    n.options.iter().map(|(k, v)| format!("{k}={}", v.value)).collect();
                let _ = writeln!(
                    out,
                    "{} driver={:?} internal={:?} subnets={subnets:?} options={options:?}",
                    n.name,
                    n.driver,
                    n.internal.as_ref().map(|i| i.value)
                );
            }
        }
        Content::LibvirtDomain(d) => {
            let _ = writeln!(out, "{} {:?}", d.name, d.interfaces);
        }
        Content::LibvirtNetwork(n) => {
            let _ = writeln!(out, "{} {:?}", n.name, n.forward.as_ref().map(|f| &f.value));
        }
    }
    out
}

fn example(rel: &str) -> (Format, Content) {
    let text =
        std::fs::read_to_string(common::root().join("examples").join(rel)).expect("example exists");
    let format = classify(&text).unwrap_or_else(|| panic!("{rel} was not recognised"));
    let parsed = parse_file(FileId(0), format, &text);
    assert!(parsed.problems.is_empty(), "{rel}: {:#?}", parsed.problems);
    (format, parsed.value.unwrap_or_else(|| panic!("{rel} gave no content")))
}

#[test]
fn libvirt_network_xml_from_virsh() {
    let Content::LibvirtNetwork(default) =
        example("libvirt-double-nat/virsh-net-dumpxml-default.xml").1
    else {
        panic!("not a network")
    };
    assert_eq!(default.name, "default");
    assert_eq!(default.forward.as_ref().map(|f| f.value.as_str()), Some("nat"));
    assert_eq!(default.nat_ports, Some((1024, 65535)));
    assert_eq!(default.bridge.as_ref().map(|b| b.value.as_str()), Some("virbr0"));
    assert_eq!(default.mtu.as_ref().map(|m| m.value), Some(9000));
    let ips: Vec<String> = default.ips.iter().map(|ip| ip.value.to_string()).collect();
    assert_eq!(ips, ["192.168.122.1/24", "fd00:122::1/64"], "netmask and IPv6 prefix forms");
    assert_eq!(default.dhcp_hosts.len(), 1);

    let Content::LibvirtNetwork(isolated) =
        example("libvirt-double-nat/virsh-net-dumpxml-isolated.xml").1
    else {
        panic!("not a network")
    };
    assert!(isolated.forward.is_none(), "no <forward> means isolated");
    let Content::LibvirtNetwork(routed) =
        example("libvirt-double-nat/virsh-net-dumpxml-routed.xml").1
    else {
        panic!("not a network")
    };
    assert_eq!(routed.forward.as_ref().map(|f| f.value.as_str()), Some("route"));
}

#[test]
fn libvirt_domain_xml_from_virsh() {
    let Content::LibvirtDomain(vm1) = example("libvirt-double-nat/virsh-dumpxml-vm1.xml").1 else {
        panic!("not a domain")
    };
    assert_eq!(vm1.name, "vm1");
    let [nic] = vm1.interfaces.as_slice() else {
        panic!("vm1 has one interface: {:?}", vm1.interfaces)
    };
    assert_eq!(nic.if_type, "network");
    assert_eq!(nic.network.as_deref(), Some("default"));
    assert_eq!(nic.model.as_deref(), Some("virtio"));
    assert_eq!(nic.mtu.as_ref().map(|m| m.value), Some(1500));
    // The test driver renames vnetN targets; the host tap is found by MAC instead (lower.rs).
    assert_eq!(nic.target_dev.as_deref(), Some("testnet0"));

    let Content::LibvirtDomain(vm2) = example("libvirt-double-nat/virsh-dumpxml-vm2.xml").1 else {
        panic!("not a domain")
    };
    let kinds: Vec<_> = vm2
        .interfaces
        .iter()
        .map(|i| (i.if_type.as_str(), i.network.clone(), i.bridge.clone()))
        .collect();
    assert_eq!(
        kinds,
        [("network", Some("isolated".into()), None), ("bridge", None, Some("virbr1".into()))]
    );
}
