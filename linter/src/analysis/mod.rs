//! Analyses: pure functions of the [`Model`] that derive the facts rules ask about.
//!
//! One module per kind of fact. Each fact is a plain serde struct, which the engine turns
//! into the variables of a rule's expression, plus named [`Anchor`]s: the spans a rule's
//! labels may point at. Analyses do no IO and never render text for users beyond the
//! values in a fact.

pub mod mtu;
pub mod nat_layers;
pub mod published_ports;
pub mod return_path;
pub mod subnets;

use std::collections::BTreeMap;
use std::net::IpAddr;

use serde::Serialize;

use crate::model::{IfIdx, Model};
use crate::source::Span;

/// A span that a rule's label can point at, by name.
#[derive(Clone, Debug)]
pub struct Anchor {
    /// Name used in a rule's `labels.at`.
    pub name: &'static str,
    /// Where.
    pub span: Span,
}

/// One derived fact.
#[derive(Clone, Debug)]
pub struct Fact {
    /// The stable identity of what the fact is about (for fingerprints and sorting).
    pub key: String,
    /// The fact's fields, as the rule expression sees them.
    pub value: serde_json::Value,
    /// Spans labels can point at.
    pub anchors: Vec<Anchor>,
}

impl Fact {
    /// Builds a fact from a serializable struct.
    pub fn new(key: String, fields: &impl Serialize, anchors: Vec<Anchor>) -> Fact {
        // A plain struct of strings, numbers, bools and lists always serializes.
        let value = serde_json::to_value(fields).unwrap_or(serde_json::Value::Null);
        // The key quotes names from the dump; machine formats print it as it is.
        Fact { key: crate::source::printable_path(&key), value, anchors }
    }
}

/// A kind of fact: its name in rule files, the anchors its labels may point at, and a
/// sample that holds every field (with empty values), against which a rule's expressions
/// are checked when it loads.
pub struct FactKind {
    /// The name rule files use in `fact`.
    pub name: &'static str,
    /// The anchors a label's `at` may name.
    pub anchors: &'static [&'static str],
    /// Every field of the fact, with empty values.
    pub sample: fn() -> serde_json::Value,
}

/// The kinds of fact.
pub const FACT_KINDS: [FactKind; 10] = [
    FactKind {
        name: "published_port",
        anchors: &["dnat", "binding", "listener", "workload"],
        sample: sample::<published_ports::Fields>,
    },
    FactKind {
        name: "return_path",
        anchors: &["published", "arrives_on", "route"],
        sample: sample::<return_path::Fields>,
    },
    FactKind {
        name: "nat_path",
        anchors: &["inner", "masquerade", "outer", "uplink_route", "published", "workload"],
        sample: sample::<nat_layers::Fields>,
    },
    FactKind {
        name: "bridge_port",
        anchors: &["bridge", "port"],
        sample: sample::<mtu::PortFields>,
    },
    FactKind { name: "veth_pair", anchors: &["a", "b"], sample: sample::<mtu::PairFields> },
    FactKind {
        name: "mtu_path",
        anchors: &["nic", "limit", "hops"],
        sample: sample::<mtu::PathFields>,
    },
    FactKind {
        name: "declared_mtu",
        anchors: &["declared", "actual"],
        sample: sample::<mtu::DeclaredFields>,
    },
    FactKind {
        name: "network",
        anchors: &["network", "forward", "subnet", "published"],
        sample: sample::<subnets::NetworkFields>,
    },
    FactKind {
        name: "subnet_overlap",
        anchors: &["network", "other"],
        sample: sample::<subnets::OverlapFields>,
    },
    FactKind {
        name: "default_gateway",
        anchors: &["route", "addrs"],
        sample: sample::<subnets::GatewayFields>,
    },
];

/// The kind of fact with this name.
pub fn fact_kind(name: &str) -> Option<&'static FactKind> {
    FACT_KINDS.iter().find(|k| k.name == name)
}

fn sample<T: Serialize + Default>() -> serde_json::Value {
    serde_json::to_value(T::default()).unwrap_or(serde_json::Value::Null)
}

/// All facts of a model, by kind.
pub type Facts = BTreeMap<&'static str, Vec<Fact>>;

/// Derives every kind of fact.
pub fn derive_all(model: &Model) -> Facts {
    let mut facts = Facts::new();
    let chains = published_ports::published_ports(model);
    facts.insert("nat_path", nat_layers::nat_paths(model, &chains));
    facts.insert("network", subnets::networks(model, &chains));
    facts.insert("return_path", return_path::return_paths(model, &chains));
    facts.insert("published_port", chains.iter().map(|c| c.to_fact(model)).collect());
    facts.insert("bridge_port", mtu::bridge_ports(model));
    facts.insert("veth_pair", mtu::veth_pairs(model));
    facts.insert("mtu_path", mtu::mtu_paths(model));
    facts.insert("declared_mtu", mtu::declared_mtus(model));
    facts.insert("subnet_overlap", subnets::subnet_overlaps(model));
    facts.insert("default_gateway", subnets::default_gateways(model));
    facts
}

/// An interface as facts show it.
#[derive(Clone, Debug, Default, Serialize)]
pub struct IfaceRef {
    /// Name.
    pub name: String,
    /// Namespace name (`host` for the host).
    pub ns: String,
    /// Kind, or "" when unknown.
    pub kind: String,
    /// MTU, or 0 when unknown.
    pub mtu: u32,
}

impl IfaceRef {
    /// Describes interface `idx` of `model`.
    pub fn of(model: &Model, idx: IfIdx) -> IfaceRef {
        let iface = model.interfaces.get(idx);
        IfaceRef {
            name: iface.map(|i| i.ifname.clone()).unwrap_or_default(),
            ns: iface.map(|i| model.ns_name(i.ns)).unwrap_or_default(),
            kind: iface.and_then(|i| i.kind.clone()).unwrap_or_default(),
            mtu: iface.and_then(|i| i.mtu).map(|m| m.0).unwrap_or(0),
        }
    }
}

/// How an address is reachable from the Internet.
pub fn address_class(addr: IpAddr) -> &'static str {
    match addr {
        IpAddr::V4(v4) => {
            let [a, b, ..] = v4.octets();
            if v4.is_private() {
                "private"
            } else if a == 100 && (64..128).contains(&b) {
                "cgnat"
            } else if v4.is_loopback() || v4.is_link_local() {
                "local"
            } else {
                "public"
            }
        }
        IpAddr::V6(v6) => {
            let first = v6.segments().first().copied().unwrap_or(0);
            if first & 0xfe00 == 0xfc00 {
                "private"
            } else if v6.is_loopback() || first & 0xffc0 == 0xfe80 {
                "local"
            } else {
                "public"
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classes_of_addresses() {
        assert_eq!(address_class("192.168.1.50".parse().unwrap()), "private");
        assert_eq!(address_class("100.72.0.1".parse().unwrap()), "cgnat");
        assert_eq!(address_class("198.51.100.10".parse().unwrap()), "public");
        assert_eq!(address_class("fd00::1".parse().unwrap()), "private");
    }
}
