//! The TCP header (RFC 9293 §3.1): a zero-copy view and an owned representation.

use super::checksum::{self, Checksum, ChecksumPolicy, PseudoHeader};
use super::options::{self, TcpOption, TcpOptions};
use super::{Header, TcpFlags, WireError};
use crate::seq::SeqNumber;

/// Length of the fixed part of the TCP header.
pub const HEADER_LEN: usize = 20;

mod field {
    use core::ops::Range;
    pub const SRC_PORT: Range<usize> = 0..2;
    pub const DST_PORT: Range<usize> = 2..4;
    pub const SEQ: Range<usize> = 4..8;
    pub const ACK: Range<usize> = 8..12;
    pub const OFFSET_RESERVED: usize = 12;
    pub const FLAGS: usize = 13;
    pub const WINDOW: Range<usize> = 14..16;
    pub const CHECKSUM: Range<usize> = 16..18;
    pub const URGENT: Range<usize> = 18..20;
}

/// A TCP header and payload in a buffer, read in place.
///
/// [`TcpPacket::new_checked`] guarantees the accessors cannot go out of bounds: the fixed
/// header is present and the data offset lies within the buffer. It does not walk the options
/// or verify the checksum; [`TcpPacket::validate`] does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TcpPacket<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> TcpPacket<T> {
    /// Wraps a buffer without checking it; accessors may panic on a short buffer.
    pub const fn new_unchecked(buffer: T) -> TcpPacket<T> {
        TcpPacket { buffer }
    }

    /// Wraps a buffer holding exactly one TCP segment (header and payload).
    pub fn new_checked(buffer: T) -> Result<TcpPacket<T>, WireError> {
        let packet = TcpPacket { buffer };
        packet.check_len()?;
        Ok(packet)
    }

    fn check_len(&self) -> Result<(), WireError> {
        let data = self.buffer.as_ref();
        if data.len() < HEADER_LEN {
            return Err(WireError::Truncated {
                header: Header::Tcp,
                needed: HEADER_LEN,
                available: data.len(),
            });
        }
        let data_offset = self.data_offset();
        // RFC 9293 3.1: the data offset counts 32-bit words and the fixed header is 5 of them.
        if data_offset < 5 {
            return Err(WireError::TcpDataOffsetTooSmall { data_offset });
        }
        if self.header_len() > data.len() {
            return Err(WireError::TcpDataOffsetPastEnd {
                header_len: self.header_len(),
                segment_len: data.len(),
            });
        }
        Ok(())
    }

    /// Walks the options and, under [`ChecksumPolicy::Verify`], checks the checksum.
    ///
    /// `pseudo` is only evaluated when the checksum is verified.
    #[inline]
    pub fn validate(
        &self,
        pseudo: impl FnOnce() -> PseudoHeader,
        policy: ChecksumPolicy,
    ) -> Result<(), WireError> {
        options::validate(self.options_bytes())?;
        // RFC 9293 3.1: MUST-3, the receiver checks the checksum.
        if policy == ChecksumPolicy::Verify {
            let pseudo = pseudo();
            if !self.checksum_valid(pseudo) {
                return Err(WireError::TcpChecksum {
                    found: self.checksum(),
                    expected: self.expected_checksum(pseudo),
                });
            }
        }
        Ok(())
    }

    pub fn into_inner(self) -> T {
        self.buffer
    }

    /// The fixed header as an array, so field reads after one length check compile to plain
    /// loads.
    #[inline]
    fn fixed(&self) -> &[u8; HEADER_LEN] {
        self.buffer.as_ref()[..HEADER_LEN]
            .try_into()
            .expect("new_checked saw a full header")
    }

    #[inline]
    fn u16_at(&self, r: core::ops::Range<usize>) -> u16 {
        let d = self.fixed();
        u16::from_be_bytes([d[r.start], d[r.start + 1]])
    }

    #[inline]
    fn u32_at(&self, r: core::ops::Range<usize>) -> u32 {
        let d = self.fixed();
        u32::from_be_bytes([d[r.start], d[r.start + 1], d[r.start + 2], d[r.start + 3]])
    }

    #[inline]
    pub fn src_port(&self) -> u16 {
        self.u16_at(field::SRC_PORT)
    }
    #[inline]
    pub fn dst_port(&self) -> u16 {
        self.u16_at(field::DST_PORT)
    }
    #[inline]
    pub fn seq_number(&self) -> SeqNumber {
        SeqNumber(self.u32_at(field::SEQ))
    }
    #[inline]
    pub fn ack_number(&self) -> SeqNumber {
        SeqNumber(self.u32_at(field::ACK))
    }
    /// Header length in 32-bit words.
    #[inline]
    pub fn data_offset(&self) -> u8 {
        self.fixed()[field::OFFSET_RESERVED] >> 4
    }
    #[inline]
    pub fn header_len(&self) -> usize {
        usize::from(self.data_offset()) * 4
    }
    /// The four reserved bits between the data offset and the flags (RFC 9293 §3.1).
    #[inline]
    pub fn reserved(&self) -> u8 {
        self.fixed()[field::OFFSET_RESERVED] & 0x0f
    }
    #[inline]
    pub fn flags(&self) -> TcpFlags {
        TcpFlags(self.fixed()[field::FLAGS])
    }
    #[inline]
    // RFC 9293 3.1: MUST-1, the window is an unsigned number.
    pub fn window(&self) -> u16 {
        self.u16_at(field::WINDOW)
    }
    #[inline]
    pub fn checksum(&self) -> u16 {
        self.u16_at(field::CHECKSUM)
    }
    #[inline]
    pub fn urgent_pointer(&self) -> u16 {
        self.u16_at(field::URGENT)
    }
    /// The option bytes, padding included.
    #[inline]
    pub fn options_bytes(&self) -> &[u8] {
        &self.buffer.as_ref()[HEADER_LEN..self.header_len()]
    }
    #[inline]
    pub fn options(&self) -> TcpOptions<'_> {
        TcpOptions::new(self.options_bytes())
    }
    #[inline]
    pub fn payload(&self) -> &[u8] {
        &self.buffer.as_ref()[self.header_len()..]
    }
    /// The whole segment, header and payload.
    #[inline]
    pub fn as_bytes(&self) -> &[u8] {
        self.buffer.as_ref()
    }

    /// Whether the ones'-complement sum over pseudo-header and segment checks out.
    ///
    /// Summing the whole segment, checksum included, accepts both encodings of zero (0x0000
    /// and 0xffff) as receivers do (RFC 1624 §3), where comparing with
    /// [`Self::expected_checksum`] would reject a valid 0xffff.
    pub fn checksum_valid(&self, pseudo: PseudoHeader) -> bool {
        let data = self.buffer.as_ref();
        checksum::finish(pseudo.sum(data.len() as u32) + checksum::sum(data)) == 0
    }

    /// The checksum a sender computes, with the checksum field taken as zero.
    pub fn expected_checksum(&self, pseudo: PseudoHeader) -> u16 {
        let data = self.buffer.as_ref();
        let acc = pseudo.sum(data.len() as u32) + checksum::sum(data) - u64::from(self.checksum());
        checksum::finish(acc)
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> TcpPacket<T> {
    fn put_u16(&mut self, r: core::ops::Range<usize>, v: u16) {
        self.buffer.as_mut()[r].copy_from_slice(&v.to_be_bytes());
    }
    fn put_u32(&mut self, r: core::ops::Range<usize>, v: u32) {
        self.buffer.as_mut()[r].copy_from_slice(&v.to_be_bytes());
    }
    pub fn set_src_port(&mut self, v: u16) {
        self.put_u16(field::SRC_PORT, v)
    }
    pub fn set_dst_port(&mut self, v: u16) {
        self.put_u16(field::DST_PORT, v)
    }
    pub fn set_seq_number(&mut self, v: SeqNumber) {
        self.put_u32(field::SEQ, v.0)
    }
    pub fn set_ack_number(&mut self, v: SeqNumber) {
        self.put_u32(field::ACK, v.0)
    }
    /// Sets data offset (words) and the reserved bits together: they share a byte.
    pub fn set_data_offset_and_reserved(&mut self, data_offset: u8, reserved: u8) {
        self.buffer.as_mut()[field::OFFSET_RESERVED] = (data_offset << 4) | (reserved & 0x0f);
    }
    pub fn set_flags(&mut self, v: TcpFlags) {
        self.buffer.as_mut()[field::FLAGS] = v.0
    }
    pub fn set_window(&mut self, v: u16) {
        self.put_u16(field::WINDOW, v)
    }
    pub fn set_checksum(&mut self, v: u16) {
        self.put_u16(field::CHECKSUM, v)
    }
    pub fn set_urgent_pointer(&mut self, v: u16) {
        self.put_u16(field::URGENT, v)
    }
    pub fn options_bytes_mut(&mut self) -> &mut [u8] {
        let end = self.header_len();
        &mut self.buffer.as_mut()[HEADER_LEN..end]
    }
    pub fn payload_mut(&mut self) -> &mut [u8] {
        let start = self.header_len();
        &mut self.buffer.as_mut()[start..]
    }
    /// Computes and stores the checksum over the whole buffer.
    pub fn fill_checksum(&mut self, pseudo: PseudoHeader) {
        // RFC 9293 3.1: MUST-2, the sender generates the checksum, pseudo-header included.
        self.set_checksum(0);
        let v = self.expected_checksum(pseudo);
        self.set_checksum(v);
    }
}

/// Everything in a TCP segment, owned, in plain fields.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Default)]
pub struct TcpRepr {
    pub src_port: u16,
    pub dst_port: u16,
    pub seq: SeqNumber,
    pub ack: SeqNumber,
    /// The four reserved header bits (0..=15). Nonzero values are kept so a report can show a
    /// stack that sets them and a test can inject them.
    pub reserved: u8,
    pub flags: TcpFlags,
    pub window: u16,
    pub checksum: Checksum,
    pub urgent_pointer: u16,
    /// In wire order, padding NOPs and EOL included.
    pub options: Vec<TcpOption<'static>>,
    pub payload: Vec<u8>,
}

impl TcpRepr {
    /// Reads a segment that [`TcpPacket::validate`] has accepted.
    pub fn parse<T: AsRef<[u8]>>(
        packet: &TcpPacket<T>,
        pseudo: PseudoHeader,
        policy: ChecksumPolicy,
    ) -> Result<TcpRepr, WireError> {
        packet.validate(|| pseudo, policy)?;
        Ok(Self::from_validated(packet, pseudo))
    }

    pub(crate) fn from_validated<T: AsRef<[u8]>>(
        packet: &TcpPacket<T>,
        pseudo: PseudoHeader,
    ) -> TcpRepr {
        let found = packet.checksum();
        TcpRepr {
            src_port: packet.src_port(),
            dst_port: packet.dst_port(),
            seq: packet.seq_number(),
            ack: packet.ack_number(),
            reserved: packet.reserved(),
            flags: packet.flags(),
            window: packet.window(),
            checksum: if packet.checksum_valid(pseudo) {
                Checksum::Correct
            } else {
                Checksum::Forced(found)
            },
            urgent_pointer: packet.urgent_pointer(),
            options: packet
                .options()
                .map(|o| o.expect("validated").into_owned())
                .collect(),
            payload: packet.payload().to_vec(),
        }
    }

    /// Header length this repr emits, options padded to a word.
    #[inline]
    pub fn header_len(&self) -> Result<usize, WireError> {
        Ok(HEADER_LEN + options::padded_len(&self.options)?)
    }

    /// Header plus payload.
    pub fn buffer_len(&self) -> Result<usize, WireError> {
        Ok(self.header_len()? + self.payload.len())
    }

    /// SEG.LEN: the sequence space the segment occupies, payload plus SYN plus FIN
    /// (RFC 9293 §3.4).
    pub fn segment_len(&self) -> u32 {
        self.payload.len() as u32 + u32::from(self.flags.syn()) + u32::from(self.flags.fin())
    }

    /// Writes the segment into `buf`, which must be exactly [`Self::buffer_len`] bytes.
    pub fn emit(&self, buf: &mut [u8], pseudo: PseudoHeader) -> Result<(), WireError> {
        let header_len = self.header_len()?;
        if self.reserved > 0x0f {
            return Err(WireError::FieldOutOfRange {
                field: "tcp.reserved",
                value: u64::from(self.reserved),
            });
        }
        let needed = header_len + self.payload.len();
        if buf.len() != needed {
            return Err(WireError::BufferTooShort {
                needed,
                available: buf.len(),
            });
        }
        let mut packet = TcpPacket::new_unchecked(buf);
        packet.set_src_port(self.src_port);
        packet.set_dst_port(self.dst_port);
        packet.set_seq_number(self.seq);
        packet.set_ack_number(self.ack);
        packet.set_data_offset_and_reserved((header_len / 4) as u8, self.reserved);
        packet.set_flags(self.flags);
        packet.set_window(self.window);
        packet.set_urgent_pointer(self.urgent_pointer);
        options::emit(&self.options, packet.options_bytes_mut());
        packet.payload_mut().copy_from_slice(&self.payload);
        match self.checksum {
            Checksum::Correct => packet.fill_checksum(pseudo),
            Checksum::Forced(v) => packet.set_checksum(v),
        }
        Ok(())
    }
}
