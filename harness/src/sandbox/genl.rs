//! `ip tcp_metrics flush all` without `ip`: two generic netlink requests in the calling
//! thread's namespace (resolve the `tcp_metrics` family, then `TCP_METRICS_CMD_DEL` with no
//! address, which the kernel takes as "flush all": `tcp_nl_cmd_del()`).
//!
//! Written by hand: generic netlink's header is four bytes, and no crate here speaks it.

use std::io;
use std::time::Duration;

use netlink_sys::{protocols::NETLINK_GENERIC, Socket, SocketAddr};

const NLMSG_ERROR: u16 = 2;
const NLM_F_REQUEST: u16 = 1;
const NLM_F_ACK: u16 = 4;
const GENL_ID_CTRL: u16 = 0x10;
const CTRL_CMD_GETFAMILY: u8 = 3;
const CTRL_ATTR_FAMILY_ID: u16 = 1;
const CTRL_ATTR_FAMILY_NAME: u16 = 2;
const TCP_METRICS_CMD_DEL: u8 = 2;
const TCP_METRICS_GENL_VERSION: u8 = 1;

/// Flushes the namespace's TCP metrics cache (what `ip tcp_metrics flush all` does).
pub fn flush_tcp_metrics() -> io::Result<()> {
    let mut socket = Socket::new(NETLINK_GENERIC)?;
    socket.bind_auto()?;
    socket.connect(&SocketAddr::new(0, 0))?;
    super::rtnl::set_recv_timeout(&socket, Duration::from_secs(2))?;
    let mut name = b"tcp_metrics\0".to_vec();
    let family = {
        let attr = attribute(CTRL_ATTR_FAMILY_NAME, &mut name);
        let reply = request(
            &mut socket,
            GENL_ID_CTRL,
            CTRL_CMD_GETFAMILY,
            1,
            1,
            &attr,
            false,
        )?;
        family_id(&reply).ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::InvalidData,
                "no tcp_metrics family id in the reply",
            )
        })?
    };
    request(
        &mut socket,
        family,
        TCP_METRICS_CMD_DEL,
        TCP_METRICS_GENL_VERSION,
        2,
        &[],
        true,
    )
    .map(drop)
}

fn attribute(kind: u16, value: &mut Vec<u8>) -> Vec<u8> {
    let len = 4 + value.len();
    let mut out = Vec::with_capacity(len.next_multiple_of(4));
    out.extend_from_slice(&(len as u16).to_ne_bytes());
    out.extend_from_slice(&kind.to_ne_bytes());
    out.append(value);
    out.resize(len.next_multiple_of(4), 0);
    out
}

/// Sends one request and returns the first reply of its sequence number that is not an
/// acknowledgement; an error reply becomes the error. With `ack`, waits for the ack alone.
fn request(
    socket: &mut Socket,
    family: u16,
    cmd: u8,
    version: u8,
    seq: u32,
    attrs: &[u8],
    ack: bool,
) -> io::Result<Vec<u8>> {
    let len = 16 + 4 + attrs.len();
    let mut buf = Vec::with_capacity(len);
    buf.extend_from_slice(&(len as u32).to_ne_bytes());
    buf.extend_from_slice(&family.to_ne_bytes());
    let flags = NLM_F_REQUEST | if ack { NLM_F_ACK } else { 0 };
    buf.extend_from_slice(&flags.to_ne_bytes());
    buf.extend_from_slice(&seq.to_ne_bytes());
    buf.extend_from_slice(&0u32.to_ne_bytes());
    buf.extend_from_slice(&[cmd, version, 0, 0]);
    buf.extend_from_slice(attrs);
    socket.send(&buf, 0)?;
    loop {
        let mut reply = Vec::with_capacity(8192);
        socket.recv(&mut reply, 0)?;
        let mut at = 0;
        while at + 16 <= reply.len() {
            let h = &reply[at..];
            let msg_len = u32::from_ne_bytes(h[0..4].try_into().expect("4 bytes")) as usize;
            let kind = u16::from_ne_bytes(h[4..6].try_into().expect("2 bytes"));
            let msg_seq = u32::from_ne_bytes(h[8..12].try_into().expect("4 bytes"));
            if msg_len < 16 || at + msg_len > reply.len() {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    "truncated netlink reply",
                ));
            }
            if msg_seq == seq {
                if kind == NLMSG_ERROR && msg_len >= 20 {
                    let code = i32::from_ne_bytes(h[16..20].try_into().expect("4 bytes"));
                    if code != 0 {
                        return Err(io::Error::from_raw_os_error(-code));
                    }
                    return Ok(Vec::new());
                }
                if !ack {
                    return Ok(h[..msg_len].to_vec());
                }
            }
            at += msg_len.next_multiple_of(4);
        }
    }
}

/// `CTRL_ATTR_FAMILY_ID` of a `CTRL_CMD_NEWFAMILY` reply.
fn family_id(msg: &[u8]) -> Option<u16> {
    let mut at = 20;
    while at + 4 <= msg.len() {
        let len = u16::from_ne_bytes(msg[at..at + 2].try_into().ok()?) as usize;
        let kind = u16::from_ne_bytes(msg[at + 2..at + 4].try_into().ok()?) & 0x3fff;
        if len < 4 {
            return None;
        }
        if kind == CTRL_ATTR_FAMILY_ID && len >= 6 {
            return Some(u16::from_ne_bytes(msg[at + 4..at + 6].try_into().ok()?));
        }
        at += len.next_multiple_of(4);
    }
    None
}
