//! The script-space numbers of a packet no script line matched.
//!
//! The runner keeps a connection's ISNs only while it runs. A packet it never matched still
//! has to be shown relative to them, or the diagram would carry the kernel's random ISN. The
//! scripted packets of the same four-tuple give them back: each pairs a live number with
//! its script number, and their difference is the base the runner used.

use std::collections::{BTreeMap, HashMap};

use tcpcheck_model::wire::SegmentRepr;

use crate::runner::packet::{self, Actual, Conn, ConnState};
use crate::scenario::{self, Direction};

/// Peer number, peer port, kernel port.
type Tuple = (u16, u16, u16);

#[derive(Clone, Copy, Default)]
struct Known {
    live_local_isn: Option<u32>,
    script_local_isn: u32,
    remote_isn: Option<u32>,
}

#[derive(Default)]
pub struct Bases {
    known: BTreeMap<Tuple, Known>,
}

impl Bases {
    /// Takes what a matched packet says: `script` is how the runner showed `seg`.
    pub fn learn(&mut self, script: &scenario::Packet, seg: &SegmentRepr) {
        let t = &seg.tcp;
        let (tuple, ours) = match script.direction {
            Direction::Outbound => ((script.peer, t.dst_port, t.src_port), true),
            Direction::Inbound => ((script.peer, t.src_port, t.dst_port), false),
        };
        let k = self.known.entry(tuple).or_default();
        let syn = t.flags.syn();
        let ack = script.ack.filter(|_| t.flags.ack());
        match (ours, syn) {
            // A SYN is shown with the script's ISN; later segments count from the live one.
            (true, true) => {
                k.live_local_isn = Some(t.seq.0);
                k.script_local_isn = script.seq;
            }
            (true, false) => {
                k.live_local_isn = Some(t.seq.0.wrapping_sub(script.seq));
                if let Some(a) = ack {
                    k.remote_isn = Some(t.ack.0.wrapping_sub(a));
                }
            }
            // The peer's numbers are the script's own: its SYN goes out as written.
            (false, true) => k.remote_isn = Some(t.seq.0),
            (false, false) => {
                k.remote_isn = Some(t.seq.0.wrapping_sub(script.seq));
                if let Some(a) = ack {
                    k.live_local_isn = Some(t.ack.0.wrapping_sub(a));
                }
            }
        }
    }

    /// A segment the kernel sent to peer `peer`, in the script's terms, when the scripted
    /// packets of its four-tuple told both ISNs.
    pub fn outbound(&self, peer: u16, seg: &SegmentRepr) -> Option<Actual> {
        let t = &seg.tcp;
        let k = self.known.get(&(peer, t.dst_port, t.src_port))?;
        let conn = Conn {
            peer,
            peer_port: t.dst_port,
            kernel_port: Some(t.src_port),
            state: ConnState::PassiveSynAckAcked,
            remote_isn: k.remote_isn?,
            script_local_isn: k.script_local_isn,
            live_local_isn: k.live_local_isn?,
            ts_vals: HashMap::new(),
            epoch: 0,
        };
        Some(packet::to_script_space(&conn, seg))
    }
}
