//! Inbound packets no well-formed segment can describe: option bytes with illegal lengths
//! (`raw HEX`), IPv4 options (`[ip_options HEX]`) and addresses other than the peer's and
//! the stack's (`[src ADDR]`, `[dst ADDR]`). See corpus/scenarios/EXTENSIONS.md.
//!
//! The codec emits only well-formed options, so a `raw` option is emitted as a placeholder
//! of the same size and its bytes written over it afterwards, the checksum made again. The
//! model is then told what a receiver makes of those bytes
//! ([`tcpcheck_model::wire::options_as_received`]).

use std::net::IpAddr;

use tcpcheck_model::wire::{
    checksum_finish, checksum_sum, IpRepr, PseudoHeader, SegmentRepr, TcpOption,
};

use super::packet::BuildError;
use crate::scenario::{self, IpFields};

/// A kind no option the codec knows uses, for the placeholder (its bytes are overwritten).
const PLACEHOLDER_KIND: u8 = 253;

/// Bytes of `hex`, which the parser has checked are hex digits; an odd count is refused
/// here, as the parser lets a name through for definitions (`-D`).
pub fn raw_bytes(hex: &str) -> Result<Vec<u8>, BuildError> {
    if hex.is_empty() || hex.len() % 2 != 0 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(format!(
            "`raw {hex}`: option bytes are a non-empty, even number of hex digits"
        ));
    }
    Ok((0..hex.len() / 2)
        .map(|i| u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).expect("hex digits"))
        .collect())
}

/// An option the codec emits in the place of `raw HEX`: as many bytes, overwritten later.
pub fn raw_placeholder(hex: &str) -> Result<TcpOption<'static>, BuildError> {
    let bytes = raw_bytes(hex)?;
    Ok(match bytes.len() {
        1 => TcpOption::Nop,
        n => TcpOption::Unknown {
            kind: PLACEHOLDER_KIND,
            data: vec![0; n - 2].into(),
        },
    })
}

/// Whether a line's `[src]`, `[dst]` and `[ip_options]` fit the run, known before it starts:
/// a script using them names its family (`--ip_version`), so that `check` refuses what
/// `run` would.
pub fn check_family(ip: &IpFields, version: Option<super::IpVersion>) -> Result<(), String> {
    if ip.src.is_none() && ip.dst.is_none() && ip.ip_options.is_none() {
        return Ok(());
    }
    let Some(version) = version else {
        return Err(
            "a line with `[src ...]`, `[dst ...]` or `[ip_options ...]` needs the \
                    script's family: add `--ip_version=ipv4` or `--ip_version=ipv6`"
                .into(),
        );
    };
    let v6 = version == super::IpVersion::V6;
    for (a, what) in [(ip.src, "src"), (ip.dst, "dst")] {
        if let Some(a) = a.filter(|a| a.is_ipv6() != v6) {
            return Err(format!(
                "`[{what} {a}]` is not an address of the script's family ({})",
                if v6 { "IPv6" } else { "IPv4" }
            ));
        }
    }
    if v6 && ip.ip_options.is_some() {
        return Err("`[ip_options ...]` are IPv4 header options, in an IPv6 script".into());
    }
    Ok(())
}

/// The line's addresses and IPv4 options on `seg`, built for the peer and the stack.
pub fn apply_ip_fields(seg: &mut SegmentRepr, ip: &IpFields) -> Result<(), BuildError> {
    match &mut seg.ip {
        IpRepr::V4(h) => {
            for (slot, given, what) in [(&mut h.src, ip.src, "src"), (&mut h.dst, ip.dst, "dst")] {
                match given {
                    Some(IpAddr::V4(a)) => *slot = a,
                    Some(IpAddr::V6(a)) => {
                        return Err(format!("`[{what} {a}]` is an IPv6 address in an IPv4 run (give the script `--ip_version=ipv6`, or an IPv4 address)"))
                    }
                    None => {}
                }
            }
            if let Some(o) = &ip.ip_options {
                h.options = o.as_slice().to_vec();
            }
        }
        IpRepr::V6(h) => {
            for (slot, given, what) in [(&mut h.src, ip.src, "src"), (&mut h.dst, ip.dst, "dst")] {
                match given {
                    Some(IpAddr::V6(a)) => *slot = a,
                    Some(IpAddr::V4(a)) => {
                        return Err(format!("`[{what} {a}]` is an IPv4 address in an IPv6 run (give the script `--ip_version=ipv4`, or an IPv6 address)"))
                    }
                    None => {}
                }
            }
            if ip.ip_options.is_some() {
                return Err(
                    "`[ip_options ...]` are IPv4 header options: give the script \
                            `--ip_version=ipv4`"
                        .into(),
                );
            }
        }
    }
    Ok(())
}

/// Writes each `raw` option of `script` over its placeholder in `bytes` (an emitted packet
/// whose options are `wire`, in the same order) and makes the TCP checksum again. Returns
/// the options a receiver acts on, for the model, when there was a `raw` one.
pub fn patch_raw(
    bytes: &mut [u8],
    script: &[scenario::TcpOption],
    wire: &[TcpOption<'_>],
) -> Result<Option<Vec<TcpOption<'static>>>, BuildError> {
    if !script
        .iter()
        .any(|o| matches!(o, scenario::TcpOption::Raw(_)))
    {
        return Ok(None);
    }
    let v6 = bytes[0] >> 4 == 6;
    let ip_len = if v6 {
        40
    } else {
        usize::from(bytes[0] & 0x0f) * 4
    };
    let tcp = ip_len;
    let data_offset = usize::from(bytes[tcp + 12] >> 4) * 4;
    let mut at = tcp + 20;
    for (s, w) in script.iter().zip(wire) {
        if let scenario::TcpOption::Raw(hex) = s {
            let raw = raw_bytes(hex)?;
            bytes[at..at + raw.len()].copy_from_slice(&raw);
        }
        at += w.encoded_len();
    }
    let pseudo = if v6 {
        let a = |i: usize| <[u8; 16]>::try_from(&bytes[i..i + 16]).expect("16 bytes");
        PseudoHeader::V6 {
            src: a(8).into(),
            dst: a(24).into(),
        }
    } else {
        let a = |i: usize| <[u8; 4]>::try_from(&bytes[i..i + 4]).expect("4 bytes");
        PseudoHeader::V4 {
            src: a(12).into(),
            dst: a(16).into(),
        }
    };
    let tcp_len = bytes.len() - tcp;
    bytes[tcp + 16..tcp + 18].fill(0);
    let sum = checksum_finish(pseudo.sum(tcp_len as u32) + checksum_sum(&bytes[tcp..]));
    bytes[tcp + 16..tcp + 18].copy_from_slice(&sum.to_be_bytes());
    Ok(Some(tcpcheck_model::wire::options_as_received(
        &bytes[tcp + 20..tcp + data_offset],
    )))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::Ipv4Addr;
    use tcpcheck_model::wire::{ChecksumPolicy, Ipv4Repr, TcpRepr};

    #[test]
    fn raw_bytes_replace_the_placeholder_and_the_checksum_holds() {
        let script = vec![
            scenario::TcpOption::Mss(1460),
            scenario::TcpOption::Raw("6300".into()),
            scenario::TcpOption::SackOk,
        ];
        let wire = vec![
            TcpOption::Mss(1460),
            raw_placeholder("6300").unwrap(),
            TcpOption::SackPermitted,
        ];
        let seg = SegmentRepr {
            ip: IpRepr::V4(Ipv4Repr::new(
                Ipv4Addr::new(192, 0, 2, 2),
                Ipv4Addr::new(192, 0, 2, 1),
            )),
            tcp: TcpRepr {
                src_port: 40000,
                dst_port: 8080,
                options: wire.clone(),
                ..TcpRepr::default()
            },
        };
        let mut bytes = seg.emit().unwrap();
        let seen = patch_raw(&mut bytes, &script, &wire).unwrap();
        assert_eq!(seen, Some(vec![TcpOption::Mss(1460)]));
        assert_eq!(&bytes[20 + 24..20 + 28], &[99, 0, 4, 2]);
        // The strict parser refuses the option list, and only for it: the checksum is right.
        let err = SegmentRepr::parse_with(&bytes, ChecksumPolicy::Verify).unwrap_err();
        assert!(!err.to_string().contains("checksum"), "{err}");
    }

    #[test]
    fn placeholder_is_as_long_as_the_bytes() {
        assert_eq!(raw_placeholder("63").unwrap().encoded_len(), 1);
        assert_eq!(raw_placeholder("6328").unwrap().encoded_len(), 2);
        assert_eq!(raw_placeholder("63280101").unwrap().encoded_len(), 4);
        assert!(raw_placeholder("632").is_err());
        assert!(raw_placeholder("COOKIE").is_err());
    }
}
