//! The wire codec: IPv4 and IPv6 packets carrying TCP.
//!
//! Laid out like smoltcp's `wire`: each header has a zero-copy view (`*Packet<T>`) that reads
//! and writes fields in place, and a plain owned `*Repr` with `parse` and `emit`. The parser is
//! strict, because its job is to say exactly how a stack's output departs from the standard:
//! every malformation is a [`WireError`] naming the field. It never panics, on any bytes.

mod checksum;
mod display;
mod error;
mod flags;
pub mod icmp;
pub mod ipv4;
pub mod ipv6;
pub mod options;
mod received;
mod segment;
pub mod tcp;

pub use checksum::{
    finish as checksum_finish, sum as checksum_sum, Checksum, ChecksumPolicy, PseudoHeader,
};
pub use error::{Header, WireError};
pub use flags::TcpFlags;
pub use icmp::{IcmpRepr, QuotedTcp};
pub use ipv4::{Ipv4Packet, Ipv4Repr};
pub use ipv6::{Extensions, Ipv6ExtHeader, Ipv6Packet, Ipv6Repr};
pub use options::{SackBlock, SackBlocks, TcpOption, TcpOptions};
pub use received::options_as_received;
pub use segment::{IpHeader, IpRepr, Segment, SegmentRepr};
pub use tcp::{TcpPacket, TcpRepr};

/// IP protocol number of TCP.
pub const IPPROTO_TCP: u8 = 6;
