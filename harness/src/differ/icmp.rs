//! ICMP errors the harness injects (RFC 9293 3.9.2.2): the connection the quoted segment
//! names takes it; one the model does not follow turns the model off, named.

use std::time::Duration;

use tcpcheck_model::conn::icmp::{IcmpEffect, IcmpError};
use tcpcheck_model::wire::IcmpRepr;

use super::{Differ, Key, Trigger};

impl Differ {
    /// An ICMP error written into the stack at `now`, for script line `line`.
    pub fn icmp(&mut self, now: Duration, line: u32, msg: &IcmpRepr) {
        self.arrive_at(now);
        if !self.active() {
            return;
        }
        let (Some(err), Some(quoted)) = (IcmpError::of(msg), msg.quoted_tcp()) else {
            return self.give_up("an ICMP message quoting no TCP segment is not modelled");
        };
        // RFC 9293 3.9.2.2: MUST-54, the quoted header names the connection: the stack's
        // segment, from its port to the peer's.
        let key = Key {
            local_port: quoted.src.port(),
            peer: quoted.dst,
        };
        let Some(t) = self.conns.get_mut(&key) else {
            // No connection the model follows: nothing for the error to reach.
            return;
        };
        t.fed(
            line,
            format!("< icmp type {} code {}", err.icmp_type, err.code),
            Trigger::Icmp,
        );
        if let IcmpEffect::NotFollowed(why) = t.conn.icmp_error(now, &err) {
            self.give_up(format!("ICMP error: {why}"));
        }
    }
}
