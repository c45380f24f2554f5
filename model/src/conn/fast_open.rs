//! TCP Fast Open on the server side (RFC 7413), as a listener decides what a SYN carrying a
//! Fast Open option gets: a cookie in the SYN-ACK, or a connection opened at once with the
//! SYN's data accepted.
//!
//! RFC 7413 leaves the cookie's algorithm to the server (4.1.2). Linux's is SipHash-2-4 of
//! the SYN's source and destination addresses, keyed with `net.ipv4.tcp_fastopen_key`
//! (net/ipv4/tcp_fastopen.c `__tcp_fastopen_cookie_gen_cipher()`), so on the `linux` profile
//! with the key known the model predicts the cookie byte for byte. Without a key (a
//! namespace that has not set one gets a random key when its first listener needs it) the
//! cookie is a free value: bound the first time the stack sends it to a peer, and checked
//! against after.

use std::collections::BTreeMap;
use std::net::IpAddr;

/// `net.ipv4.tcp_fastopen` bits (include/net/tcp.h `TFO_*`).
pub mod flags {
    /// Fast Open on active connections (the kernel's default).
    pub const CLIENT_ENABLE: u32 = 0x1;
    /// Fast Open on passive connections.
    pub const SERVER_ENABLE: u32 = 0x2;
    /// Data on an active open's SYN without any cookie (`TFO_CLIENT_NO_COOKIE`).
    pub const CLIENT_NO_COOKIE: u32 = 0x4;
    /// Accept data on a SYN without a cookie.
    pub const SERVER_COOKIE_NOT_REQD: u32 = 0x200;
    /// Every listener does Fast Open, with its backlog as the queue length, without the
    /// TCP_FASTOPEN socket option.
    pub const SERVER_WO_SOCKOPT1: u32 = 0x400;
}

/// The server's Fast Open settings as the profile read them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FastOpenSettings {
    /// `net.ipv4.tcp_fastopen`; `None` when the profile does not know it (rfc9293).
    pub sysctl: Option<u32>,
    /// `net.ipv4.tcp_fastopen_key`'s primary key as its four 32-bit words; `None` when
    /// unknown or all zero (not set: the kernel picks a random one).
    pub key: Option<[u32; 4]>,
    /// `net.ipv4.tcp_fastopen_blackhole_timeout_sec`: Linux pauses active Fast Open for the
    /// whole namespace after Fast Open connections time out while it is not 0 (off since
    /// 5.14, tcp_fastopen_active_should_disable()).
    pub blackhole_timeout: u32,
}

impl FastOpenSettings {
    /// Reads `tcp_fastopen_key` as /proc shows it: `xxxxxxxx-xxxxxxxx-xxxxxxxx-xxxxxxxx`,
    /// maybe followed by `,` and a backup key (which the model does not use).
    pub fn parse_key(text: &str) -> Result<Option<[u32; 4]>, String> {
        let primary = text.trim().split(',').next().unwrap_or_default();
        let words: Vec<&str> = primary.split('-').collect();
        if words.len() != 4 {
            return Err(format!(
                "a Fast Open key is four hex words joined by `-`, not {text:?}"
            ));
        }
        let mut key = [0u32; 4];
        for (k, w) in key.iter_mut().zip(&words) {
            *k =
                u32::from_str_radix(w, 16).map_err(|e| format!("Fast Open key word {w:?}: {e}"))?;
        }
        Ok((key != [0; 4]).then_some(key))
    }
}

/// A cookie as Linux parses it out of a SYN (tcp_parse_fastopen_option()): 4 to 16 bytes
/// and even, or empty (a request); any other length is no option at all.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Cookie {
    bytes: [u8; 16],
    len: u8,
    /// Sent as the experimental kind 254 (the SYN-ACK answers in the same form).
    pub exp: bool,
}

impl Cookie {
    /// `None` for a length RFC 7413 4.1.1 does not allow.
    pub fn new(bytes: &[u8], exp: bool) -> Option<Cookie> {
        if !crate::wire::TcpOption::fast_open_cookie_valid(bytes) {
            return None;
        }
        let mut c = Cookie {
            bytes: [0; 16],
            len: bytes.len() as u8,
            exp,
        };
        c.bytes[..bytes.len()].copy_from_slice(bytes);
        Some(c)
    }

    pub fn as_slice(&self) -> &[u8] {
        &self.bytes[..usize::from(self.len)]
    }

    pub fn is_request(&self) -> bool {
        self.len == 0
    }
}

impl core::fmt::Debug for Cookie {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(if self.exp { "FOEXP" } else { "FO" })?;
        for b in self.as_slice() {
            write!(f, "{b:02x}")?;
        }
        Ok(())
    }
}

/// What the server does with a SYN.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SynFastOpen {
    /// Not Fast Open: the ordinary handshake; data on the SYN is not accepted.
    No,
    /// RFC 7413 4.2.1: the SYN-ACK carries the server's cookie (this one, or any when the
    /// model does not know it), in the SYN's form; data on the SYN is not accepted.
    SendCookie { cookie: Option<Vec<u8>>, exp: bool },
    /// RFC 7413 4.2.2: a valid cookie (or none needed): the connection opens at once and
    /// the SYN's data is accepted.
    Accept,
    /// The model cannot tell (the cookie's validity rests on a key it does not know).
    Unknown(&'static str),
}

/// The cookies a server gave, by (client, server) address, for a key the model does not
/// know: RFC 7413 4.1.2 lets the server pick them, so the first one sent binds.
#[derive(Clone, Debug, Default)]
pub struct FastOpenServer {
    given: BTreeMap<(IpAddr, IpAddr), Vec<u8>>,
}

impl FastOpenServer {
    /// The decision for a SYN from `client` to `server` carrying `cookie` (None: no valid
    /// Fast Open option) and `data` payload bytes, at a listener that does Fast Open
    /// (`listener_tfo`), on a profile whose settings are `settings`.
    pub fn on_syn(
        &self,
        settings: FastOpenSettings,
        listener_tfo: bool,
        (client, server): (IpAddr, IpAddr),
        cookie: Option<Cookie>,
        data: u32,
    ) -> SynFastOpen {
        let Some(sysctl) = settings.sysctl else {
            return match cookie {
                None => SynFastOpen::No,
                Some(_) => SynFastOpen::Unknown(
                    "whether the stack does Fast Open (RFC 7413) is its own configuration",
                ),
            };
        };
        // tcp_try_fastopen(): the server is on and the listener has a Fast Open queue
        // (TCP_FASTOPEN, or tcp_fastopen's WO_SOCKOPT1 bit at listen()).
        let on = sysctl & flags::SERVER_ENABLE != 0
            && (listener_tfo || sysctl & flags::SERVER_WO_SOCKOPT1 != 0);
        if !on || (cookie.is_none() && data == 0) {
            return SynFastOpen::No;
        }
        if sysctl & flags::SERVER_COOKIE_NOT_REQD != 0 {
            // RFC 7413 4.2.2 (server policy): data accepted without a cookie.
            return SynFastOpen::Accept;
        }
        let Some(cookie) = cookie else {
            // Data without a cookie option: the ordinary handshake.
            return SynFastOpen::No;
        };
        let exp = cookie.exp;
        let valid = match settings.key {
            Some(key) => Some(linux_cookie(key, client, server).to_vec()),
            None => self.given.get(&(client, server)).cloned(),
        };
        if cookie.is_request() {
            // RFC 7413 4.1.2: a cookie request is answered with the server's cookie.
            return SynFastOpen::SendCookie { cookie: valid, exp };
        }
        match valid {
            // RFC 7413 4.1.2: a valid cookie lets the SYN's data in.
            Some(v) if v == cookie.as_slice() => SynFastOpen::Accept,
            // RFC 7413 4.2.1: an invalid cookie gets the ordinary handshake and a valid one.
            Some(v) => SynFastOpen::SendCookie {
                cookie: Some(v),
                exp,
            },
            None => SynFastOpen::Unknown(
                "a Fast Open cookie from before any the stack gave, under a key the model does \
                 not know (net.ipv4.tcp_fastopen_key not set)",
            ),
        }
    }

    /// The stack sent `cookie` to `client` from `server`: a free value, bound now.
    pub fn gave(&mut self, (client, server): (IpAddr, IpAddr), cookie: &[u8]) {
        self.given
            .entry((client, server))
            .or_insert_with(|| cookie.to_vec());
    }
}

/// Linux's server cookie: SipHash-2-4 of the SYN's source then destination address, keyed
/// with the Fast Open key's 16 bytes (each 32-bit word little-endian), the 64-bit result
/// little-endian (tcp_fastopen.c `__tcp_fastopen_cookie_gen_cipher()`).
pub fn linux_cookie(key: [u32; 4], client: IpAddr, server: IpAddr) -> [u8; 8] {
    let k0 = u64::from(key[0]) | (u64::from(key[1]) << 32);
    let k1 = u64::from(key[2]) | (u64::from(key[3]) << 32);
    let mut data = Vec::with_capacity(32);
    for a in [client, server] {
        match a {
            IpAddr::V4(a) => data.extend_from_slice(&a.octets()),
            IpAddr::V6(a) => data.extend_from_slice(&a.octets()),
        }
    }
    siphash24(k0, k1, &data).to_le_bytes()
}

/// SipHash-2-4 (Aumasson and Bernstein, 2012), as the kernel's lib/siphash.c computes it.
fn siphash24(k0: u64, k1: u64, data: &[u8]) -> u64 {
    let mut v = [
        k0 ^ 0x736f_6d65_7073_6575,
        k1 ^ 0x646f_7261_6e64_6f6d,
        k0 ^ 0x6c79_6765_6e65_7261,
        k1 ^ 0x7465_6462_7974_6573,
    ];
    let round = |v: &mut [u64; 4]| {
        v[0] = v[0].wrapping_add(v[1]);
        v[1] = v[1].rotate_left(13) ^ v[0];
        v[0] = v[0].rotate_left(32);
        v[2] = v[2].wrapping_add(v[3]);
        v[3] = v[3].rotate_left(16) ^ v[2];
        v[0] = v[0].wrapping_add(v[3]);
        v[3] = v[3].rotate_left(21) ^ v[0];
        v[2] = v[2].wrapping_add(v[1]);
        v[1] = v[1].rotate_left(17) ^ v[2];
        v[2] = v[2].rotate_left(32);
    };
    let mut chunks = data.chunks_exact(8);
    for c in &mut chunks {
        let m = u64::from_le_bytes(c.try_into().expect("8 bytes"));
        v[3] ^= m;
        round(&mut v);
        round(&mut v);
        v[0] ^= m;
    }
    let mut last = (data.len() as u64) << 56;
    for (i, b) in chunks.remainder().iter().enumerate() {
        last |= u64::from(*b) << (8 * i);
    }
    v[3] ^= last;
    round(&mut v);
    round(&mut v);
    v[0] ^= last;
    v[2] ^= 0xff;
    for _ in 0..4 {
        round(&mut v);
    }
    v[0] ^ v[1] ^ v[2] ^ v[3]
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: [u32; 4] = [0xa1a1a1a1, 0xb2b2b2b2, 0xc3c3c3c3, 0xd4d4d4d4];

    fn addrs() -> (IpAddr, IpAddr) {
        ("192.0.2.2".parse().unwrap(), "192.0.2.1".parse().unwrap())
    }

    #[test]
    fn siphash_matches_the_reference_vector() {
        // The SipHash paper's appendix: key 00..0f, message 00..0e, 0xa129ca6149be45e5.
        let k0 = u64::from_le_bytes([0, 1, 2, 3, 4, 5, 6, 7]);
        let k1 = u64::from_le_bytes([8, 9, 10, 11, 12, 13, 14, 15]);
        let msg: Vec<u8> = (0..15).collect();
        assert_eq!(siphash24(k0, k1, &msg), 0xa129_ca61_49be_45e5);
    }

    #[test]
    fn linux_cookie_is_the_one_the_kernel_sent() {
        // Seen on 6.18: key a1a1a1a1-b2b2b2b2-c3c3c3c3-d4d4d4d4, SYN 192.0.2.2 > 192.0.2.1.
        let (c, s) = addrs();
        assert_eq!(
            linux_cookie(KEY, c, s),
            [0xb3, 0xf9, 0x36, 0xa5, 0x1b, 0xae, 0xaf, 0x84]
        );
        // Seen on 6.18 too: 2001:db8::2 > 2001:db8::1 under the same key (the value
        // bench/packetdrill-agreement.py gives tcpcheck's IPv6 runs as TFO_COOKIE).
        let (c6, s6) = (
            "2001:db8::2".parse().unwrap(),
            "2001:db8::1".parse().unwrap(),
        );
        assert_eq!(
            linux_cookie(KEY, c6, s6),
            [0x8b, 0xe6, 0xff, 0x5e, 0x4a, 0xed, 0x4d, 0x6c]
        );
    }

    #[test]
    fn key_text_parses_as_proc_shows_it() {
        assert_eq!(
            FastOpenSettings::parse_key(
                "a1a1a1a1-b2b2b2b2-c3c3c3c3-d4d4d4d4,00000000-00000000-00000000-00000000\n"
            ),
            Ok(Some(KEY))
        );
        assert_eq!(
            FastOpenSettings::parse_key("00000000-00000000-00000000-00000000"),
            Ok(None)
        );
        assert!(FastOpenSettings::parse_key("a1a1").is_err());
    }

    #[test]
    fn decisions_follow_the_settings() {
        let server = FastOpenServer::default();
        let on = FastOpenSettings {
            sysctl: Some(0x403),
            key: Some(KEY),
            blackhole_timeout: 0,
        };
        let valid = linux_cookie(KEY, addrs().0, addrs().1);
        let req = Cookie::new(&[], false);
        assert_eq!(
            server.on_syn(on, false, addrs(), req, 0),
            SynFastOpen::SendCookie {
                cookie: Some(valid.to_vec()),
                exp: false
            }
        );
        let good = Cookie::new(&valid, true);
        assert_eq!(
            server.on_syn(on, false, addrs(), good, 10),
            SynFastOpen::Accept
        );
        let bad = Cookie::new(&[1, 2, 3, 4, 5, 6, 7, 8], false);
        assert!(matches!(
            server.on_syn(on, false, addrs(), bad, 10),
            SynFastOpen::SendCookie { .. }
        ));
        // Server side off, or a listener without a Fast Open queue: no Fast Open at all.
        let client_only = FastOpenSettings {
            sysctl: Some(0x1),
            ..on
        };
        assert_eq!(
            server.on_syn(client_only, true, addrs(), good, 10),
            SynFastOpen::No
        );
        let no_wo = FastOpenSettings {
            sysctl: Some(0x3),
            ..on
        };
        assert_eq!(
            server.on_syn(no_wo, false, addrs(), good, 10),
            SynFastOpen::No
        );
        assert_eq!(
            server.on_syn(no_wo, true, addrs(), good, 10),
            SynFastOpen::Accept
        );
        // No cookie needed: data alone opens the connection.
        let no_cookie = FastOpenSettings {
            sysctl: Some(0x603),
            ..on
        };
        assert_eq!(
            server.on_syn(no_cookie, false, addrs(), None, 10),
            SynFastOpen::Accept
        );
        assert_eq!(
            server.on_syn(no_cookie, false, addrs(), None, 0),
            SynFastOpen::No
        );
    }

    #[test]
    fn without_a_key_the_first_cookie_sent_binds() {
        let mut server = FastOpenServer::default();
        let on = FastOpenSettings {
            sysctl: Some(0x403),
            key: None,
            blackhole_timeout: 0,
        };
        let c = Cookie::new(&[9; 8], false);
        assert!(matches!(
            server.on_syn(on, false, addrs(), c, 10),
            SynFastOpen::Unknown(_)
        ));
        server.gave(addrs(), &[9; 8]);
        assert_eq!(
            server.on_syn(on, false, addrs(), c, 10),
            SynFastOpen::Accept
        );
    }
}
