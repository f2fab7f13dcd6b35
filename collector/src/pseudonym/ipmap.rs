//! Keyed, prefix-preserving IP address mapping (the Crypto-PAn construction, with HMAC-SHA256
//! as its pseudo-random function).
//!
//! Bit `i` of the output is bit `i` of the input, flipped or not by a keyed function of the
//! input's first `i` bits. Two addresses sharing their first `n` bits therefore map to two
//! addresses sharing their first `n` bits: subnet membership survives (a pod IP stays in the
//! mapped pod CIDR, the DNS Service IP in the mapped service range), and the mapping is a
//! bijection, so distinct addresses never collide.
//!
//! Address *classes* survive too, so the analyzer's notion of private, loopback or link-local
//! still holds: a bit is never flipped where flipping it could move an address into or out of
//! one of the [`V4_BLOCKS`] / [`V6_BLOCKS`]. Inside a private block the remaining bits are
//! mapped; addresses in the blocks marked `keep` (loopback, link-local, unspecified, multicast)
//! are not mapped at all: they name no customer and rules compare them literally
//! (169.254.169.254, 127.0.0.1, 0.0.0.0).

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::sync::Mutex;

use hmac::{Hmac, Mac};
use sha2::Sha256;

/// A special block: its first `len` bits (as a number of the family's width), and whether
/// its addresses stay as they are.
struct Block {
    net: u128,
    len: u32,
    keep: bool,
}

const fn v4(a: u8, b: u8, len: u32, keep: bool) -> Block {
    Block {
        net: ((a as u128) << 24) | ((b as u128) << 16),
        len,
        keep,
    }
}

/// IPv4 blocks whose membership the mapping preserves.
const V4_BLOCKS: &[Block] = &[
    v4(0, 0, 8, true),       // "this network", 0.0.0.0
    v4(10, 0, 8, false),     // private
    v4(100, 64, 10, false),  // carrier-grade NAT
    v4(127, 0, 8, true),     // loopback
    v4(169, 254, 16, true),  // link-local, cloud metadata (169.254.169.254), NodeLocal DNS
    v4(172, 16, 12, false),  // private
    v4(192, 168, 16, false), // private
    v4(224, 0, 3, true),     // multicast, reserved, broadcast
];

const fn v6(first: u16, len: u32, keep: bool) -> Block {
    Block {
        net: (first as u128) << 112,
        len,
        keep,
    }
}

/// IPv6 blocks whose membership the mapping preserves. `::/8` holds `::`, `::1` and the
/// IPv4-mapped and NAT64 forms (the mapped form is handled through the IPv4 mapping).
const V6_BLOCKS: &[Block] = &[
    v6(0x0000, 8, true),  // unspecified, loopback, embedded IPv4
    v6(0xfc00, 7, false), // unique local
    v6(0xfe80, 10, true), // link-local
    v6(0xff00, 8, true),  // multicast
];

/// The first `len` bits of `x`, a `width`-bit number, the rest zero.
fn prefix(x: u128, len: u32, width: u32) -> u128 {
    if len == 0 {
        0
    } else {
        x & ((u128::MAX << (128 - len)) >> (128 - width))
    }
}

/// Maps addresses under one key; remembers what it mapped.
pub struct IpMapper {
    mac: Hmac<Sha256>,
    seen: Mutex<HashMap<IpAddr, IpAddr>>,
}

impl IpMapper {
    pub fn new(key: &[u8]) -> Self {
        IpMapper {
            mac: Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes a key of any length"),
            seen: Mutex::new(HashMap::new()),
        }
    }

    /// The pseudonym of `addr` (the same every time).
    pub fn map(&self, addr: IpAddr) -> IpAddr {
        if let Some(&m) = self.seen.lock().expect("ip map lock").get(&addr) {
            return m;
        }
        let mapped = match addr {
            IpAddr::V4(a) => IpAddr::V4(self.map_v4(a)),
            IpAddr::V6(a) => IpAddr::V6(self.map_v6(a)),
        };
        self.seen.lock().expect("ip map lock").insert(addr, mapped);
        mapped
    }

    /// Every address mapped so far, pseudonym → original.
    pub fn originals(&self) -> Vec<(IpAddr, IpAddr)> {
        let seen = self.seen.lock().expect("ip map lock");
        seen.iter()
            .filter(|(a, m)| a != m)
            .map(|(&a, &m)| (m, a))
            .collect()
    }

    fn map_v4(&self, a: Ipv4Addr) -> Ipv4Addr {
        Ipv4Addr::from(self.map_bits(u32::from(a) as u128, 32, V4_BLOCKS) as u32)
    }

    fn map_v6(&self, a: Ipv6Addr) -> Ipv6Addr {
        if let Some(inner) = a.to_ipv4_mapped() {
            return self.map_v4(inner).to_ipv6_mapped();
        }
        Ipv6Addr::from(self.map_bits(u128::from(a), 128, V6_BLOCKS))
    }

    /// The prefix-preserving walk over the `width` bits of `x`.
    fn map_bits(&self, x: u128, width: u32, blocks: &[Block]) -> u128 {
        if blocks
            .iter()
            .any(|b| b.keep && prefix(x, b.len, width) == b.net)
        {
            return x;
        }
        let mut out = x;
        for i in 0..width {
            let head = prefix(x, i, width);
            // A block lying strictly below this prefix: flipping bit i could cross its edge.
            let fixed = blocks
                .iter()
                .any(|b| b.len > i && prefix(b.net, i, width) == head);
            if !fixed && self.flip(width, i, head) {
                out ^= 1u128 << (width - 1 - i);
            }
        }
        out
    }

    /// The keyed coin for bit `i` after the prefix `head`.
    fn flip(&self, width: u32, i: u32, head: u128) -> bool {
        let mut mac = self.mac.clone();
        mac.update(b"ip\0");
        mac.update(&[width as u8, i as u8]);
        mac.update(&head.to_be_bytes());
        mac.finalize().into_bytes()[0] & 0x80 != 0
    }
}

/// The mapped form of a network `addr/len`: the mapped address with its host bits cleared, so
/// `10.244.0.0/16` maps to the network holding the mapped pod IPs.
pub fn map_network(mapper: &IpMapper, addr: IpAddr, len: u8) -> IpAddr {
    match mapper.map(addr) {
        IpAddr::V4(m) => {
            let bits = prefix(u32::from(m) as u128, u32::from(len).min(32), 32);
            IpAddr::V4(Ipv4Addr::from(bits as u32))
        }
        IpAddr::V6(m) => IpAddr::V6(Ipv6Addr::from(prefix(
            u128::from(m),
            u32::from(len).min(128),
            128,
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().expect("address")
    }

    fn common_prefix(a: IpAddr, b: IpAddr) -> u32 {
        match (a, b) {
            (IpAddr::V4(a), IpAddr::V4(b)) => (u32::from(a) ^ u32::from(b)).leading_zeros(),
            (IpAddr::V6(a), IpAddr::V6(b)) => (u128::from(a) ^ u128::from(b)).leading_zeros(),
            _ => panic!("mixed families"),
        }
    }

    #[test]
    fn same_key_same_pseudonym_other_key_other_pseudonym() {
        let a = IpMapper::new(b"key one");
        let b = IpMapper::new(b"key one");
        let c = IpMapper::new(b"key two");
        for s in ["10.244.1.7", "203.0.113.9", "2001:db8::42", "fd00:10:96::a"] {
            assert_eq!(a.map(ip(s)), b.map(ip(s)), "{s}");
            assert_eq!(a.map(ip(s)), a.map(ip(s)), "{s}");
        }
        let moved = ["10.244.1.7", "203.0.113.9", "2001:db8::42"]
            .iter()
            .filter(|s| a.map(ip(s)) != c.map(ip(s)))
            .count();
        assert!(moved >= 2, "another key gives other pseudonyms");
    }

    #[test]
    fn addresses_are_replaced() {
        let m = IpMapper::new(b"k");
        for s in [
            "10.244.1.7",
            "172.18.0.2",
            "192.168.1.10",
            "8.8.8.8",
            "2600:1f18::5",
        ] {
            assert_ne!(m.map(ip(s)), ip(s), "{s}");
        }
    }

    #[test]
    fn prefixes_are_preserved_exactly() {
        let m = IpMapper::new(b"prefix key");
        let addrs: Vec<IpAddr> = [
            "10.244.0.1",
            "10.244.0.200",
            "10.244.1.5",
            "10.244.200.5",
            "10.96.0.1",
            "10.96.0.10",
            "192.168.10.4",
            "203.0.113.1",
            "198.51.100.77",
        ]
        .iter()
        .map(|s| ip(s))
        .collect();
        for &a in &addrs {
            for &b in &addrs {
                assert_eq!(
                    common_prefix(a, b),
                    common_prefix(m.map(a), m.map(b)),
                    "{a} {b}"
                );
            }
        }
        let v6: Vec<IpAddr> = [
            "fd00:10:244::1",
            "fd00:10:244::2",
            "fd00:10:96::a",
            "2001:db8:1::1",
        ]
        .iter()
        .map(|s| ip(s))
        .collect();
        for &a in &v6 {
            for &b in &v6 {
                assert_eq!(common_prefix(a, b), common_prefix(m.map(a), m.map(b)));
            }
        }
    }

    #[test]
    fn classes_survive_and_special_addresses_stay() {
        let m = IpMapper::new(b"class key");
        for s in [
            "127.0.0.1",
            "0.0.0.0",
            "169.254.169.254",
            "169.254.20.10",
            "224.0.0.251",
            "255.255.255.255",
            "::",
            "::1",
            "fe80::1",
        ] {
            assert_eq!(m.map(ip(s)), ip(s), "{s} stays");
        }
        for n in 0..2000u32 {
            let private = IpAddr::V4(Ipv4Addr::from(0x0a00_0000 | (n * 7919)));
            let IpAddr::V4(p) = m.map(private) else {
                panic!()
            };
            assert!(p.is_private() && p.octets()[0] == 10, "{private} -> {p}");
            let any = IpAddr::V4(Ipv4Addr::from(
                0x0800_0000u32.wrapping_add(n.wrapping_mul(2_654_435_761)),
            ));
            let IpAddr::V4(q) = m.map(any) else { panic!() };
            let was = match any {
                IpAddr::V4(a) => a,
                _ => unreachable!(),
            };
            let special = |a: Ipv4Addr| {
                a.is_private()
                    || a.is_loopback()
                    || a.is_link_local()
                    || a.is_multicast()
                    || a.octets()[0] == 0
                    || a.octets()[0] >= 224
                    || (a.octets()[0] == 100 && a.octets()[1] & 0xc0 == 64)
            };
            assert_eq!(special(was), special(q), "{was} -> {q}");
        }
        let IpAddr::V6(u) = m.map(ip("fd12:3456::1")) else {
            panic!()
        };
        assert_eq!(
            u.segments()[0] & 0xfe00,
            0xfc00,
            "unique local stays unique local"
        );
    }

    #[test]
    fn ipv4_mapped_ipv6_follows_the_ipv4_mapping() {
        let m = IpMapper::new(b"k");
        let IpAddr::V4(four) = m.map(ip("10.1.2.3")) else {
            panic!()
        };
        assert_eq!(
            m.map(ip("::ffff:10.1.2.3")),
            IpAddr::V6(four.to_ipv6_mapped())
        );
    }

    #[test]
    fn networks_hold_their_mapped_members() {
        let m = IpMapper::new(b"net key");
        let net = map_network(&m, ip("10.244.0.0"), 16);
        let IpAddr::V4(net) = net else { panic!() };
        assert_eq!(u32::from(net) & 0xffff, 0, "host bits cleared");
        for s in ["10.244.0.1", "10.244.3.9", "10.244.255.254"] {
            let IpAddr::V4(a) = m.map(ip(s)) else {
                panic!()
            };
            assert_eq!(u32::from(a) >> 16, u32::from(net) >> 16, "{s}");
        }
        let IpAddr::V4(outside) = m.map(ip("10.245.0.1")) else {
            panic!()
        };
        assert_ne!(u32::from(outside) >> 16, u32::from(net) >> 16);
        assert_eq!(map_network(&m, ip("0.0.0.0"), 0), ip("0.0.0.0"));
    }
}
