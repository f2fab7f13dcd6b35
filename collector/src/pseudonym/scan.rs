//! Finds IP addresses and networks (`10.244.0.0/16`, `fd00::/64`) in text and replaces them.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::sync::LazyLock;

use regex::bytes::Regex;

use super::words::starts_word;

/// An IPv6 candidate (at least two colons, maybe a dotted IPv4 tail) or a dotted IPv4
/// address; each candidate is parsed before it is believed.
static CANDIDATE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?i-u)[0-9a-f:]*:[0-9a-f:]*:[0-9a-f:.]*|[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}",
    )
    .expect("candidate regex")
});

static V4: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?-u)[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}").expect("IPv4 regex")
});

/// A found address: where it is, and the prefix length when it is written as a network.
struct Found {
    start: usize,
    end: usize,
    addr: IpAddr,
    prefix: Option<u8>,
}

/// `hay` with every address replaced by `map(addr, prefix_len)`, or `None` when it holds
/// none.
pub fn replace_ips(hay: &[u8], map: &dyn Fn(IpAddr, Option<u8>) -> IpAddr) -> Option<Vec<u8>> {
    let mut out: Option<Vec<u8>> = None;
    let mut copied = 0;
    for found in find_all(hay) {
        let mapped = map(found.addr, found.prefix);
        let buf = out.get_or_insert_with(|| Vec::with_capacity(hay.len()));
        buf.extend_from_slice(&hay[copied..found.start]);
        match found.prefix {
            Some(len) => buf.extend_from_slice(format!("{mapped}/{len}").as_bytes()),
            None => buf.extend_from_slice(mapped.to_string().as_bytes()),
        }
        copied = found.end;
    }
    let mut buf = out?;
    buf.extend_from_slice(&hay[copied..]);
    Some(buf)
}

fn find_all(hay: &[u8]) -> Vec<Found> {
    let mut found = Vec::new();
    for m in CANDIDATE.find_iter(hay) {
        let text = m.as_bytes();
        if text.contains(&b':') {
            match v6_at(hay, m.start(), m.end()) {
                Some(f) => found.push(f),
                // Not an address as a whole (a time, a MAC address): an IPv4 address may still
                // sit inside (`at=10.0.0.1:443` never gets here, `x:y:10.0.0.1` does).
                None => {
                    for v in V4.find_iter(text) {
                        if let Some(f) = v4_at(hay, m.start() + v.start(), m.start() + v.end()) {
                            found.push(f);
                        }
                    }
                }
            }
        } else if let Some(f) = v4_at(hay, m.start(), m.end()) {
            found.push(f);
        }
    }
    found
}

fn v4_at(hay: &[u8], start: usize, end: usize) -> Option<Found> {
    if !starts_word(hay, start) || (start > 0 && hay[start - 1] == b'.') {
        return None;
    }
    // A fifth number (`1.3.6.1.4`, a version) or letters right after: not an address.
    match (hay.get(end), hay.get(end + 1)) {
        (Some(b'.'), Some(d)) if d.is_ascii_digit() => return None,
        (Some(b), _) if b.is_ascii_alphanumeric() || *b == b'_' => return None,
        _ => {}
    }
    let addr: Ipv4Addr = std::str::from_utf8(&hay[start..end]).ok()?.parse().ok()?;
    Some(with_prefix(hay, start, end, IpAddr::V4(addr), 32))
}

fn v6_at(hay: &[u8], start: usize, mut end: usize) -> Option<Found> {
    if start > 0 && !starts_word(hay, start) {
        return None;
    }
    if hay
        .get(end)
        .is_some_and(|b| b.is_ascii_alphanumeric() || *b == b'_')
    {
        return None;
    }
    // A sentence's full stop or a `key:` colon after the address is not part of it.
    loop {
        let text = std::str::from_utf8(&hay[start..end]).ok()?;
        if let Ok(addr) = text.parse::<Ipv6Addr>() {
            return Some(with_prefix(hay, start, end, IpAddr::V6(addr), 128));
        }
        match text.as_bytes().last() {
            Some(b'.' | b':') if end - start > 2 => end -= 1,
            _ => return None,
        }
    }
}

/// Takes a `/N` after the address as its prefix length when it is one.
fn with_prefix(hay: &[u8], start: usize, end: usize, addr: IpAddr, max: u8) -> Found {
    let plain = Found {
        start,
        end,
        addr,
        prefix: None,
    };
    if hay.get(end) != Some(&b'/') {
        return plain;
    }
    let digits = hay[end + 1..]
        .iter()
        .take(4)
        .take_while(|b| b.is_ascii_digit())
        .count();
    if digits == 0 || digits > 3 {
        return plain;
    }
    let after = end + 1 + digits;
    if hay
        .get(after)
        .is_some_and(|b| b.is_ascii_alphanumeric() || *b == b'.')
    {
        return plain;
    }
    let len: u8 = match std::str::from_utf8(&hay[end + 1..after])
        .ok()
        .and_then(|s| s.parse().ok())
    {
        Some(n) if n <= max => n,
        _ => return plain,
    };
    Found {
        start,
        end: after,
        addr,
        prefix: Some(len),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Marks each address found: `<addr>` or `<addr|len>`.
    fn marks(s: &str) -> String {
        let out = replace_ips(s.as_bytes(), &|a, _| a).map(|_| ());
        let mut text = String::new();
        let mut copied = 0;
        for f in find_all(s.as_bytes()) {
            text.push_str(&s[copied..f.start]);
            match f.prefix {
                Some(p) => text.push_str(&format!("<{}|{p}>", f.addr)),
                None => text.push_str(&format!("<{}>", f.addr)),
            }
            copied = f.end;
        }
        text.push_str(&s[copied..]);
        assert_eq!(out.is_some(), text != s);
        text
    }

    #[test]
    fn finds_addresses_and_networks() {
        assert_eq!(marks("ip 10.0.0.1:6443 ok"), "ip <10.0.0.1>:6443 ok");
        assert_eq!(
            marks("\"podCIDR\":\"10.244.1.0/24\""),
            "\"podCIDR\":\"<10.244.1.0|24>\""
        );
        assert_eq!(marks("nameserver 10.96.0.10."), "nameserver <10.96.0.10>.");
        assert_eq!(
            marks("[2001:db8::1]:443 fe80::1%eth0"),
            "[<2001:db8::1>]:443 <fe80::1>%eth0"
        );
        assert_eq!(marks("fd00:10:244::/56,"), "<fd00:10:244::|56>,");
        assert_eq!(
            marks("from ::ffff:10.1.2.3 at 2001:db8::7: refused"),
            "from <::ffff:10.1.2.3> at <2001:db8::7>: refused"
        );
        assert_eq!(marks("x:y:10.0.0.1"), "x:y:<10.0.0.1>");
        assert_eq!(marks("a\\n10.0.0.1"), "a\\n<10.0.0.1>");
        assert_eq!(marks("10.0.0.1/33"), "<10.0.0.1>/33");
    }

    #[test]
    fn networks_keep_their_length() {
        let out = replace_ips(b"cidr 10.244.0.0/16 ip 10.0.0.1", &|a, p| match (a, p) {
            (IpAddr::V4(_), Some(_)) => "192.168.0.0".parse().expect("ip"),
            _ => "192.168.9.9".parse().expect("ip"),
        })
        .expect("replaced");
        assert_eq!(out, b"cidr 192.168.0.0/16 ip 192.168.9.9");
    }

    #[test]
    fn leaves_what_is_not_an_address() {
        for s in [
            "version 1.2.3.4.5",
            "oid 1.3.6.1.4.1",
            "v10.0.0.1",
            "999.1.1.1",
            "at 12:34:56.789",
            "mac 52:54:00:12:34:56",
            "std::fmt::Debug",
            "1.2.3.4a",
            "sha 0a:1b:2c",
        ] {
            assert_eq!(marks(s), s);
        }
    }
}
