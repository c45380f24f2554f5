//! The wire between the harness and smoltcp: raw IP packets (`Medium::Ip`, no link layer)
//! queued in memory both ways. No namespace, no TUN, no root: what the harness injects is
//! what smoltcp reads, byte for byte, and what smoltcp emits is what the harness captures.

use std::collections::VecDeque;

use smoltcp::phy::{self, Device, DeviceCapabilities, Medium};
use smoltcp::time::Instant;

/// The IP MTU, as the Linux sandbox's `tun0` has it, so both stacks size segments alike.
pub(crate) const MTU: usize = 1500;

#[derive(Default)]
pub(crate) struct Wire {
    /// Injected by the harness, not yet read by smoltcp.
    pub(crate) inbound: VecDeque<Vec<u8>>,
    /// Emitted by smoltcp, not yet taken by the harness.
    pub(crate) outbound: VecDeque<Vec<u8>>,
}

pub(crate) struct Rx(Vec<u8>);

pub(crate) struct Tx<'a>(&'a mut VecDeque<Vec<u8>>);

impl phy::RxToken for Rx {
    fn consume<R, F>(self, f: F) -> R
    where
        F: FnOnce(&[u8]) -> R,
    {
        f(&self.0)
    }
}

impl phy::TxToken for Tx<'_> {
    fn consume<R, F>(self, len: usize, f: F) -> R
    where
        F: FnOnce(&mut [u8]) -> R,
    {
        let mut buf = vec![0; len];
        let r = f(&mut buf);
        self.0.push_back(buf);
        r
    }
}

impl Device for Wire {
    type RxToken<'a> = Rx;
    type TxToken<'a> = Tx<'a>;

    fn receive(&mut self, _: Instant) -> Option<(Rx, Tx<'_>)> {
        let p = self.inbound.pop_front()?;
        Some((Rx(p), Tx(&mut self.outbound)))
    }

    fn transmit(&mut self, _: Instant) -> Option<Tx<'_>> {
        Some(Tx(&mut self.outbound))
    }

    fn capabilities(&self) -> DeviceCapabilities {
        let mut caps = DeviceCapabilities::default();
        caps.medium = Medium::Ip;
        caps.max_transmission_unit = MTU;
        caps
    }
}
