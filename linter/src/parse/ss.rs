//! Listening sockets, from `ss -lntu[p]H` (iproute2), with or without the header line.
//!
//! With both `-t` and `-u` the first column is `Netid` (tcp, udp); with one protocol only it
//! is absent and lines start with the state. The local address prints as `0.0.0.0:80`,
//! `*:80`, `[::]:80`, `[::1]:80`, `127.0.0.53%lo:53` or, on older ss, `:::80`. With `-p` a
//! `users:(("name",pid=N,fd=N))` column follows.

use std::net::IpAddr;

use crate::problem::{Parsed, Problem};
use crate::source::{FileId, Span, lines_with_offsets, printable};

const CODE: &str = "netlint::parse::ss";

/// One listening socket.
#[derive(Debug, Clone)]
pub struct RawSocket {
    /// `tcp` or `udp`; `None` when the output has no Netid column.
    pub proto: Option<String>,
    /// `LISTEN`, `UNCONN`, …
    pub state: String,
    /// Bound address; `None` for the wildcard `*`.
    pub addr: Option<IpAddr>,
    /// Interface from `addr%ifname`, if bound to one.
    pub ifname: Option<String>,
    /// Port.
    pub port: u16,
    /// Process name from `users:((…))`, with `-p`.
    pub process: Option<String>,
    /// The whole line.
    pub span: Span,
    /// The local address column.
    pub addr_span: Span,
}

/// Reads the output of `ss -lntu[p][H]`.
pub fn parse(file: FileId, text: &str) -> Parsed<Vec<RawSocket>> {
    let mut problems = Vec::new();
    let mut sockets = Vec::new();
    for (offset, line) in lines_with_offsets(text) {
        let words = words_with_offsets(line);
        let Some((_, first)) = words.first() else { continue };
        if *first == "Netid" || *first == "State" {
            continue;
        }
        let span = Span::new(file, offset, offset + line.len());
        let has_netid = !is_state(first);
        let local_idx = if has_netid { 4 } else { 3 };
        let (Some((local_off, local)), true) = (words.get(local_idx), words.len() > local_idx)
        else {
            problems.push(
                Problem::error(CODE, span, format!("cannot read socket line `{}`", printable(line)))
                    .with_help("expected `[NETID] STATE RECV-Q SEND-Q LOCAL:PORT PEER:PORT` as `ss -lntuH` prints it"),
            );
            continue;
        };
        let addr_span = Span::new(file, offset + local_off, offset + local_off + local.len());
        let Some((addr, ifname, port)) = split_local(local) else {
            problems.push(
                Problem::error(CODE, addr_span, format!("cannot read local address `{}`", printable(local)))
                    .with_help("expected ADDRESS:PORT with a port from 0 to 65535, such as `0.0.0.0:80` or `[::1]:80`"),
            );
            continue;
        };
        let state_idx = usize::from(has_netid);
        sockets.push(RawSocket {
            proto: has_netid.then(|| first.to_string()),
            state: words.get(state_idx).map(|(_, w)| w.to_string()).unwrap_or_default(),
            addr,
            ifname,
            port,
            process: line
                .split_once("((\"")
                .and_then(|(_, rest)| rest.split_once('"'))
                .map(|(name, _)| name.to_string()),
            span,
            addr_span,
        });
    }
    Parsed { value: sockets, problems }
}

fn is_state(word: &str) -> bool {
    matches!(
        word,
        "LISTEN"
            | "UNCONN"
            | "ESTAB"
            | "SYN-SENT"
            | "SYN-RECV"
            | "CLOSE-WAIT"
            | "TIME-WAIT"
            | "CLOSING"
    )
}

fn words_with_offsets(line: &str) -> Vec<(usize, &str)> {
    let mut words = Vec::new();
    let mut start = None;
    for (i, c) in line.char_indices() {
        match (c.is_whitespace(), start) {
            (true, Some(s)) => {
                words.push((s, &line[s..i]));
                start = None;
            }
            (false, None) => start = Some(i),
            _ => {}
        }
    }
    if let Some(s) = start {
        words.push((s, &line[s..]));
    }
    words
}

/// Splits `ADDR[%IF]:PORT`; `*` and an empty address mean every address.
fn split_local(local: &str) -> Option<(Option<IpAddr>, Option<String>, u16)> {
    let (addr, port) = local.rsplit_once(':')?;
    let port = port.parse().ok()?;
    // The interface of a socket bound to one follows a `%`, after the brackets of an IPv6
    // address (`[::1]%lo:53`, `[fe80::1]%eth0:546`) or inside them on some versions.
    let (addr, ifname) = match addr.rsplit_once('%') {
        Some((a, i)) => (a, Some(i.trim_end_matches(']').to_string())),
        None => (addr, None),
    };
    let bracketed = addr.starts_with('[');
    let addr = addr.strip_prefix('[').unwrap_or(addr);
    let addr = addr.strip_suffix(']').unwrap_or(addr);
    // Today's ss prints a dual-stack wildcard as `*` and an IPv6-only one as `[::]`. Old ss
    // printed both as `:::80`, which leaves `::` unbracketed here: taken as dual-stack.
    let addr = match addr {
        "*" | "" => None,
        "::" if !bracketed => None,
        other => Some(other.parse().ok()?),
    };
    Some((addr, ifname, port))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_both_column_layouts_and_every_address_form() {
        let text = "tcp   LISTEN 0      5          127.0.0.1:80        0.0.0.0:*    users:((\"python3\",pid=7,fd=3))\n\
                    LISTEN 0 4096 [::]:8080 [::]:*\n\
                    udp   UNCONN 0 0 127.0.0.53%lo:53 0.0.0.0:*\n\
                    tcp LISTEN 0 128 *:22 *:*\n";
        let parsed = parse(FileId(0), text);
        assert!(parsed.problems.is_empty(), "{:?}", parsed.problems);
        let s = &parsed.value;
        assert_eq!(s[0].addr, Some("127.0.0.1".parse().unwrap()));
        assert_eq!(s[0].process.as_deref(), Some("python3"));
        assert_eq!(s[1].proto, None);
        assert_eq!(s[1].port, 8080);
        assert_eq!(s[2].ifname.as_deref(), Some("lo"));
        for (local, addr, ifname) in [
            ("[::1]%lo:18080", "::1", "lo"),
            ("[fe80::1]%eth0:546", "fe80::1", "eth0"),
            ("[fe80::1%eth0]:546", "fe80::1", "eth0"),
        ] {
            let (a, i, _) = split_local(local).unwrap();
            assert_eq!((a, i.as_deref()), (Some(addr.parse().unwrap()), Some(ifname)), "{local}");
        }
        assert_eq!(s[3].addr, None);
    }

    #[test]
    fn port_above_65535_is_a_problem() {
        let parsed = parse(FileId(0), "tcp LISTEN 0 5 0.0.0.0:70000 0.0.0.0:*\n");
        assert_eq!(parsed.problems.len(), 1);
    }
}
