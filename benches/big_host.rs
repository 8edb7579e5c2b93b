//! Benchmark: a synthetic host with 10 000 containers, each with a published port, a veth
//! on one bridge and a captured namespace, and 100 000 iptables rules. It measures the
//! whole run (discover, parse, lower, analyse, evaluate) and the run without disk IO.
//!
//! The dump is generated (no host has 10 000 containers to capture here), in the shapes of
//! the real captured output in `examples/docker-lab`: the same keys, the same iptables
//! layout Docker 20.10 writes. Run with `cargo bench --bench big_host`.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use criterion::{Criterion, criterion_group, criterion_main};
use serde_json::json;

const CONTAINERS: usize = 10_000;
const FILLER_RULES: usize = 90_000;

fn ip(i: usize) -> String {
    format!("172.{}.{}.{}", 16 + (i + 2) / 65536, ((i + 2) / 256) % 256, (i + 2) % 256)
}

fn write(dir: &Path, name: &str, text: &str) {
    std::fs::write(dir.join(name), text).expect("temp dir is writable");
}

fn generate(root: &Path) {
    std::fs::create_dir_all(root).expect("temp dir");
    let mut containers = Vec::new();
    let mut links = vec![
        json!({"ifindex": 1, "ifname": "lo", "mtu": 65536, "link_type": "loopback"}),
        json!({"ifindex": 2, "ifname": "eth0", "mtu": 1500, "link_type": "ether"}),
        json!({"ifindex": 3, "ifname": "docker0", "mtu": 1500, "link_type": "ether", "linkinfo": {"info_kind": "bridge"}}),
    ];
    let mut addrs = vec![
        json!({"ifindex": 2, "ifname": "eth0", "mtu": 1500, "addr_info": [{"family": "inet", "local": "203.0.113.10", "prefixlen": 24}]}),
        json!({"ifindex": 3, "ifname": "docker0", "mtu": 1500, "addr_info": [{"family": "inet", "local": "172.16.0.1", "prefixlen": 12}]}),
    ];
    let mut nat = String::from(
        "*nat\n:PREROUTING ACCEPT [0:0]\n:POSTROUTING ACCEPT [0:0]\n:DOCKER - [0:0]\n",
    );
    nat.push_str("-A PREROUTING -m addrtype --dst-type LOCAL -j DOCKER\n-A POSTROUTING -s 172.16.0.0/12 ! -o docker0 -j MASQUERADE\n");
    for i in 0..CONTAINERS {
        let name = format!("c{i}");
        let host_index = 10 + i;
        let addr = ip(i);
        containers.push(json!({
            "Id": format!("{i:064x}"),
            "Name": format!("/{name}"),
            "State": {"Running": true, "Pid": 1000 + i},
            "Config": {"Env": ["PATH=/bin", "SECRET=do-not-print"]},
            "HostConfig": {"NetworkMode": "default", "PortBindings": {"80/tcp": [{"HostIp": "", "HostPort": (20000 + i).to_string()}]}},
            "NetworkSettings": {
                "Ports": {"80/tcp": [{"HostIp": "0.0.0.0", "HostPort": (20000 + i).to_string()}]},
                "Networks": {"bridge": {"NetworkID": "b".repeat(64), "IPAddress": addr, "IPPrefixLen": 12, "Gateway": "172.16.0.1"}}
            }
        }));
        links.push(json!({"ifindex": host_index, "link_index": 2, "ifname": format!("veth{i:07x}"), "mtu": 1500, "master": "docker0", "link_netnsid": i, "linkinfo": {"info_kind": "veth"}}));
        let _ = writeln!(
            nat,
            "-A DOCKER ! -i docker0 -p tcp -m tcp --dport {} -j DNAT --to-destination {addr}:80",
            20000 + i
        );

        let dir = root.join(&name);
        std::fs::create_dir_all(&dir).expect("temp dir");
        let inner = json!([
            {"ifindex": 1, "ifname": "lo", "mtu": 65536, "link_type": "loopback", "addr_info": [{"family": "inet", "local": "127.0.0.1", "prefixlen": 8}]},
            {"ifindex": 2, "link_index": host_index, "ifname": "eth0", "mtu": 1500, "link_netnsid": 0, "link_type": "ether",
             "addr_info": [{"family": "inet", "local": addr, "prefixlen": 12}]}
        ]);
        write(&dir, "ip-j-addr.json", &inner.to_string());
        write(
            &dir,
            "ip-j-route.json",
            &json!([{"dst": "default", "gateway": "172.16.0.1", "dev": "eth0", "flags": []}])
                .to_string(),
        );
        // Every tenth service listens on loopback only, so the run has findings to render.
        let bind = if i % 10 == 0 { "127.0.0.1" } else { "0.0.0.0" };
        write(
            &dir,
            "ss-lntuH.txt",
            &format!("tcp   LISTEN 0      4096   {bind}:80      0.0.0.0:*\n"),
        );
    }
    nat.push_str(
        "COMMIT\n*filter\n:INPUT ACCEPT [0:0]\n:FORWARD DROP [0:0]\n:OUTPUT ACCEPT [0:0]\n",
    );
    for i in 0..FILLER_RULES {
        let _ = writeln!(
            nat,
            "-A FORWARD -s 198.18.{}.{}/32 -p tcp -m tcp --dport {} -j ACCEPT",
            (i / 256) % 256,
            i % 256,
            1024 + i % 60000
        );
    }
    nat.push_str("COMMIT\n");
    let network = json!([{"Name": "bridge", "Id": "b".repeat(64), "Driver": "bridge", "Internal": false,
        "IPAM": {"Config": [{"Subnet": "172.16.0.0/12", "Gateway": "172.16.0.1"}]},
        "Options": {"com.docker.network.bridge.name": "docker0"}}]);
    write(root, "docker-inspect.json", &serde_json::Value::Array(containers).to_string());
    write(root, "docker-network-inspect.json", &network.to_string());
    write(root, "ip-j-d-link.json", &serde_json::Value::Array(links).to_string());
    write(
        root,
        "ip-j-addr.json",
        &serde_json::Value::Array(std::mem::take(&mut addrs)).to_string(),
    );
    write(root, "ip-j-route.json", &json!([{"dst": "default", "gateway": "203.0.113.1", "dev": "eth0", "flags": []},
        {"dst": "172.16.0.0/12", "dev": "docker0", "protocol": "kernel", "scope": "link", "flags": []}]).to_string());
    write(root, "iptables-save.txt", &nat);
    write(root, "ss-lntuH.txt", "tcp   LISTEN 0      4096   0.0.0.0:22      0.0.0.0:*\n");
}

fn dump_dir() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("netlint-bench-{CONTAINERS}"));
    if !dir.join("iptables-save.txt").exists() {
        let _ = std::fs::remove_dir_all(&dir);
        generate(&dir);
    }
    dir
}

fn big_host(c: &mut Criterion) {
    let dir = dump_dir();
    let rules = netlint::engine::RuleSet::builtin().expect("shipped rules load");
    let dump = netlint::discover::discover(&dir, netlint::discover::Limits::default())
        .expect("generated dump");
    let report = netlint::lint(&dump, &rules);
    assert!(
        report.findings.len() >= CONTAINERS / 10,
        "expected the loopback findings, got {}",
        report.findings.len()
    );

    let mut group = c.benchmark_group("big_host_10k_containers");
    group.sample_size(10);
    group.bench_function("discover_and_lint", |b| {
        b.iter(|| {
            let dump = netlint::discover::discover(&dir, netlint::discover::Limits::default())
                .expect("generated dump");
            netlint::lint(&dump, &rules).findings.len()
        })
    });
    group.bench_function("lint_only", |b| b.iter(|| netlint::lint(&dump, &rules).findings.len()));
    group.finish();
}

criterion_group!(benches, big_host);
criterion_main!(benches);
