//! TCP options (RFC 9293 §3.1 and §3.2, RFC 7323 for window scale and timestamps, RFC 2018
//! for SACK, RFC 7413 for Fast Open).

use std::borrow::Cow;

use super::WireError;
use crate::seq::SeqNumber;

pub const KIND_EOL: u8 = 0;
pub const KIND_NOP: u8 = 1;
pub const KIND_MSS: u8 = 2;
pub const KIND_WINDOW_SCALE: u8 = 3;
pub const KIND_SACK_PERMITTED: u8 = 4;
pub const KIND_SACK: u8 = 5;
pub const KIND_TIMESTAMPS: u8 = 8;
/// RFC 7413 4.1.1: the TCP Fast Open cookie option.
pub const KIND_FAST_OPEN: u8 = 34;
/// RFC 6994: the shared experimental kind, which Fast Open used before kind 34 was assigned
/// (with the magic [`FAST_OPEN_EXP_MAGIC`] after the length byte).
pub const KIND_EXPERIMENT: u8 = 254;
/// RFC 7413 4.1.1 (and its draft's experimental form): the 16-bit ExID that marks a kind-254
/// option as Fast Open.
pub const FAST_OPEN_EXP_MAGIC: u16 = 0xF989;
const FAST_OPEN_EXP_MAGIC_BYTES: [u8; 2] = FAST_OPEN_EXP_MAGIC.to_be_bytes();

/// The most option bytes a TCP header can carry (data offset 15 words, less 20 fixed bytes).
pub const MAX_OPTIONS_LEN: usize = 40;

/// One SACK block: the first sequence number in it and the one just past it (RFC 2018 §3).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub struct SackBlock {
    pub left: SeqNumber,
    pub right: SeqNumber,
}

impl SackBlock {
    pub const fn new(left: u32, right: u32) -> SackBlock {
        SackBlock {
            left: SeqNumber(left),
            right: SeqNumber(right),
        }
    }
}

/// One to four SACK blocks, stored inline so parsing a SACK option never allocates.
///
/// Four is the most a 40-byte option space can carry (2 + 4 × 8 = 34 bytes).
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct SackBlocks {
    blocks: [SackBlock; 4],
    len: u8,
}

impl SackBlocks {
    pub const MAX: usize = 4;

    /// `None` unless there are between 1 and 4 blocks.
    pub fn new(blocks: &[SackBlock]) -> Option<SackBlocks> {
        if blocks.is_empty() || blocks.len() > Self::MAX {
            return None;
        }
        let mut out = SackBlocks {
            blocks: [SackBlock::default(); 4],
            len: blocks.len() as u8,
        };
        out.blocks[..blocks.len()].copy_from_slice(blocks);
        Some(out)
    }

    pub fn as_slice(&self) -> &[SackBlock] {
        &self.blocks[..usize::from(self.len)]
    }
}

impl core::fmt::Debug for SackBlocks {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_list().entries(self.as_slice()).finish()
    }
}

/// A TCP option as it appears on the wire.
///
/// `EndOfList` and `Nop` are kept as options so that a packet's exact layout survives a
/// parse/emit round trip: stacks differ in how they pad, and a conformance report must be able
/// to show that. Kinds this codec does not interpret (TCP-AO, MPTCP, Fast Open, experiments)
/// are kept verbatim as `Unknown`.
///
/// Fast Open's cookie is kept whatever its length: RFC 7413 4.1.1 bounds a valid cookie (0, or
/// 4 to 16 bytes and even), and a stack that sends another length has sent a well-formed
/// option carrying a cookie the receiver must ignore, which is the model's call, not the
/// codec's ([`TcpOption::fast_open_cookie_valid`]).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum TcpOption<'a> {
    /// Kind 0. Ends the list; what follows in the header is padding.
    EndOfList,
    /// Kind 1.
    Nop,
    /// Kind 2, length 4.
    Mss(u16),
    /// Kind 3, length 3: the shift count, as sent (RFC 7323 §2.3 caps its *use* at 14).
    WindowScale(u8),
    /// Kind 4, length 2.
    SackPermitted,
    /// Kind 5, length 2 + 8n for n in 1..=4.
    Sack(SackBlocks),
    /// Kind 8, length 10.
    Timestamps { val: u32, ecr: u32 },
    /// Kind 34, length 2 + the cookie (RFC 7413 4.1.1); an empty cookie is a cookie request.
    FastOpen(Cow<'a, [u8]>),
    /// Kind 254 with the magic 0xF989 (RFC 6994 ExID), length 4 + the cookie: the
    /// experimental form of Fast Open, which Linux still sends when asked to.
    FastOpenExp(Cow<'a, [u8]>),
    /// Any other kind, with the bytes after its length byte.
    Unknown { kind: u8, data: Cow<'a, [u8]> },
}

impl TcpOption<'_> {
    pub fn kind(&self) -> u8 {
        match self {
            TcpOption::EndOfList => KIND_EOL,
            TcpOption::Nop => KIND_NOP,
            TcpOption::Mss(_) => KIND_MSS,
            TcpOption::WindowScale(_) => KIND_WINDOW_SCALE,
            TcpOption::SackPermitted => KIND_SACK_PERMITTED,
            TcpOption::Sack(_) => KIND_SACK,
            TcpOption::Timestamps { .. } => KIND_TIMESTAMPS,
            TcpOption::FastOpen(_) => KIND_FAST_OPEN,
            TcpOption::FastOpenExp(_) => KIND_EXPERIMENT,
            TcpOption::Unknown { kind, .. } => *kind,
        }
    }

    /// The Fast Open cookie this option carries, in either form.
    pub fn fast_open_cookie(&self) -> Option<&[u8]> {
        match self {
            TcpOption::FastOpen(c) | TcpOption::FastOpenExp(c) => Some(c),
            _ => None,
        }
    }

    /// RFC 7413 4.1.1: a cookie is empty (a request) or 4 to 16 bytes, an even number.
    pub fn fast_open_cookie_valid(cookie: &[u8]) -> bool {
        cookie.is_empty() || ((4..=16).contains(&cookie.len()) && cookie.len() % 2 == 0)
    }

    /// Bytes this option takes on the wire.
    pub fn encoded_len(&self) -> usize {
        match self {
            TcpOption::EndOfList | TcpOption::Nop => 1,
            TcpOption::Mss(_) => 4,
            TcpOption::WindowScale(_) => 3,
            TcpOption::SackPermitted => 2,
            TcpOption::Sack(blocks) => 2 + 8 * blocks.as_slice().len(),
            TcpOption::Timestamps { .. } => 10,
            TcpOption::FastOpen(c) => 2 + c.len(),
            TcpOption::FastOpenExp(c) => 4 + c.len(),
            TcpOption::Unknown { data, .. } => 2 + data.len(),
        }
    }

    pub fn into_owned(self) -> TcpOption<'static> {
        match self {
            TcpOption::EndOfList => TcpOption::EndOfList,
            TcpOption::Nop => TcpOption::Nop,
            TcpOption::Mss(v) => TcpOption::Mss(v),
            TcpOption::WindowScale(v) => TcpOption::WindowScale(v),
            TcpOption::SackPermitted => TcpOption::SackPermitted,
            TcpOption::Sack(b) => TcpOption::Sack(b),
            TcpOption::Timestamps { val, ecr } => TcpOption::Timestamps { val, ecr },
            TcpOption::FastOpen(c) => TcpOption::FastOpen(Cow::Owned(c.into_owned())),
            TcpOption::FastOpenExp(c) => TcpOption::FastOpenExp(Cow::Owned(c.into_owned())),
            TcpOption::Unknown { kind, data } => TcpOption::Unknown {
                kind,
                data: Cow::Owned(data.into_owned()),
            },
        }
    }

    /// Writes the option at the start of `buf` (which must hold [`Self::encoded_len`] bytes).
    fn emit(&self, buf: &mut [u8]) {
        let len = self.encoded_len();
        buf[0] = self.kind();
        if len > 1 {
            buf[1] = len as u8;
        }
        match self {
            TcpOption::EndOfList | TcpOption::Nop | TcpOption::SackPermitted => {}
            TcpOption::Mss(v) => buf[2..4].copy_from_slice(&v.to_be_bytes()),
            TcpOption::WindowScale(v) => buf[2] = *v,
            TcpOption::Sack(blocks) => {
                for (i, b) in blocks.as_slice().iter().enumerate() {
                    let at = 2 + 8 * i;
                    buf[at..at + 4].copy_from_slice(&b.left.0.to_be_bytes());
                    buf[at + 4..at + 8].copy_from_slice(&b.right.0.to_be_bytes());
                }
            }
            TcpOption::Timestamps { val, ecr } => {
                buf[2..6].copy_from_slice(&val.to_be_bytes());
                buf[6..10].copy_from_slice(&ecr.to_be_bytes());
            }
            TcpOption::FastOpen(c) => buf[2..len].copy_from_slice(c),
            TcpOption::FastOpenExp(c) => {
                buf[2..4].copy_from_slice(&FAST_OPEN_EXP_MAGIC.to_be_bytes());
                buf[4..len].copy_from_slice(c);
            }
            TcpOption::Unknown { data, .. } => buf[2..len].copy_from_slice(data),
        }
    }
}

/// The length an option list takes, padded with zeros to a 4-byte boundary.
///
/// Checks what emit would otherwise trip over: EOL only last, unknown options whose length
/// fits a byte and whose kind is not 0 or 1, and the 40-byte limit.
pub fn padded_len(options: &[TcpOption<'_>]) -> Result<usize, WireError> {
    let mut len = 0;
    for (index, option) in options.iter().enumerate() {
        match option {
            TcpOption::EndOfList if index + 1 != options.len() => {
                return Err(WireError::TcpOptionUnencodable {
                    index,
                    reason: "EOL must be the last option: everything after it is padding",
                })
            }
            TcpOption::Unknown { kind, .. } if *kind <= KIND_NOP => {
                return Err(WireError::TcpOptionUnencodable {
                    index,
                    reason: "kinds 0 and 1 are single bytes and carry no data",
                })
            }
            TcpOption::Unknown { data, .. } | TcpOption::FastOpen(data)
                if data.len() > MAX_OPTIONS_LEN - 2 =>
            {
                return Err(WireError::TcpOptionUnencodable {
                    index,
                    reason: "option data longer than 38 bytes",
                })
            }
            TcpOption::FastOpenExp(data) if data.len() > MAX_OPTIONS_LEN - 4 => {
                return Err(WireError::TcpOptionUnencodable {
                    index,
                    reason: "experimental Fast Open cookie longer than 36 bytes",
                })
            }
            TcpOption::Unknown { kind, data }
                if (*kind == KIND_FAST_OPEN)
                    || (*kind == KIND_EXPERIMENT
                        && data.starts_with(&FAST_OPEN_EXP_MAGIC_BYTES)) =>
            {
                return Err(WireError::TcpOptionUnencodable {
                    index,
                    reason: "a Fast Open option is TcpOption::FastOpen or FastOpenExp, not Unknown",
                })
            }
            _ => {}
        }
        len += option.encoded_len();
    }
    if len > MAX_OPTIONS_LEN {
        return Err(WireError::TcpOptionsTooLong { len });
    }
    Ok(len.div_ceil(4) * 4)
}

/// Writes `options` into `buf` and zero-fills the rest of it (the header padding).
///
/// `buf` must be exactly [`padded_len`] bytes, which the caller has already checked.
pub fn emit(options: &[TcpOption<'_>], buf: &mut [u8]) {
    let mut at = 0;
    for option in options {
        let len = option.encoded_len();
        option.emit(&mut buf[at..at + len]);
        at += len;
    }
    // RFC 9293 3.1: MUST-69, the header beyond the options is zero padding.
    buf[at..].fill(0);
}

/// Checks every option in `data` (a header's option bytes) without decoding any.
///
/// The same rules as [`TcpOptions`], in a loop that builds nothing: the parser runs it on every
/// packet, so it is kept to a handful of instructions per option.
pub fn validate(data: &[u8]) -> Result<(), WireError> {
    let mut pos = 0;
    while let Some(&kind) = data.get(pos) {
        match kind {
            KIND_EOL => return Ok(()),
            KIND_NOP => pos += 1,
            _ => {
                let len = match data.get(pos + 1) {
                    Some(&len) => len,
                    None => return Err(TcpOptions::error_at(data, pos)),
                };
                let fits = usize::from(len) <= data.len() - pos;
                let known_ok = match kind {
                    KIND_MSS => len == 4,
                    KIND_WINDOW_SCALE => len == 3,
                    KIND_SACK_PERMITTED => len == 2,
                    KIND_SACK => matches!(len, 10 | 18 | 26 | 34),
                    KIND_TIMESTAMPS => len == 10,
                    _ => len >= 2,
                };
                if !(fits && known_ok) {
                    return Err(TcpOptions::error_at(data, pos));
                }
                pos += usize::from(len);
            }
        }
    }
    Ok(())
}

/// Iterator over the options in a TCP header's option bytes.
///
/// Yields an error and stops at the first malformed option. `offset` in errors counts from the
/// start of the TCP header, so it matches what Wireshark shows.
#[derive(Clone, Debug)]
pub struct TcpOptions<'a> {
    data: &'a [u8],
    pos: usize,
    done: bool,
}

impl<'a> TcpOptions<'a> {
    pub fn new(data: &'a [u8]) -> TcpOptions<'a> {
        TcpOptions {
            data,
            pos: 0,
            done: false,
        }
    }

    /// The error [`Iterator::next`] gives for the malformed option `pos` bytes into `data`,
    /// kept out of line because errors are rare.
    #[cold]
    #[inline(never)]
    fn error_at(data: &'a [u8], pos: usize) -> WireError {
        let mut at = TcpOptions {
            data,
            pos,
            done: false,
        };
        match at.parse_one() {
            Err(e) => e,
            // validate() only calls this where parse_one() fails; should they ever disagree,
            // report the option rather than panic.
            Ok(option) => WireError::TcpOptionBadLength {
                offset: 20 + pos,
                kind: option.kind(),
                len: data.get(pos + 1).copied().unwrap_or(0),
            },
        }
    }

    #[inline]
    fn parse_one(&mut self) -> Result<TcpOption<'a>, WireError> {
        let rest = &self.data[self.pos..];
        let offset = 20 + self.pos;
        let kind = rest[0];
        match kind {
            KIND_EOL => {
                // RFC 9293 3.1: EOL marks the end of the option list; the rest is padding.
                self.done = true;
                return Ok(TcpOption::EndOfList);
            }
            KIND_NOP => {
                // RFC 9293 3.2: MUST-64, options need not start on a word boundary: NOP is
                // read one byte at a time, whatever the alignment.
                self.pos += 1;
                return Ok(TcpOption::Nop);
            }
            _ => {}
        }
        let Some(&len) = rest.get(1) else {
            // RFC 9293 3.1: MUST-68, every option but EOL and NOP has a length byte.
            return Err(WireError::TcpOptionPastHeader {
                offset,
                kind,
                len: 2,
                remaining: rest.len(),
            });
        };
        // RFC 9293 3.1: MUST-7, an illegal option length must not crash the receiver; a length
        // below 2 cannot even cover the kind and length bytes.
        if len < 2 {
            return Err(WireError::TcpOptionLength { offset, kind, len });
        }
        let Some(option) = rest.get(..usize::from(len)) else {
            return Err(WireError::TcpOptionPastHeader {
                offset,
                kind,
                len: usize::from(len),
                remaining: rest.len(),
            });
        };
        let body = &option[2..];
        let be32 = |b: &[u8]| u32::from_be_bytes([b[0], b[1], b[2], b[3]]);
        let parsed = match (kind, len) {
            // RFC 9293 3.1: MUST-4, MUST-5: EOL, NOP and MSS are read, in any segment.
            // RFC 9293 3.2: MSS is kind 2, length 4.
            (KIND_MSS, 4) => TcpOption::Mss(u16::from_be_bytes([body[0], body[1]])),
            // RFC 7323 2.2: window scale is kind 3, length 3.
            (KIND_WINDOW_SCALE, 3) => TcpOption::WindowScale(body[0]),
            // RFC 2018 2: SACK-permitted is kind 4, length 2.
            (KIND_SACK_PERMITTED, 2) => TcpOption::SackPermitted,
            // RFC 2018 3: SACK is kind 5, length 8n + 2.
            (KIND_SACK, 10 | 18 | 26 | 34) => {
                let mut blocks = [SackBlock::default(); 4];
                let n = body.len() / 8;
                for (i, b) in body.chunks_exact(8).enumerate() {
                    blocks[i] = SackBlock::new(be32(&b[..4]), be32(&b[4..]));
                }
                TcpOption::Sack(SackBlocks::new(&blocks[..n]).expect("1 to 4 blocks"))
            }
            // RFC 7323 3.2: timestamps is kind 8, length 10.
            (KIND_TIMESTAMPS, 10) => TcpOption::Timestamps {
                val: be32(&body[..4]),
                ecr: be32(&body[4..]),
            },
            // RFC 7413 4.1.1: Fast Open is kind 34, the cookie after the length byte.
            (KIND_FAST_OPEN, _) => TcpOption::FastOpen(Cow::Borrowed(body)),
            // RFC 6994 2: a shared experimental option names its experiment by the ExID that
            // opens its data; 0xF989 is Fast Open's.
            (KIND_EXPERIMENT, _) if body.starts_with(&FAST_OPEN_EXP_MAGIC_BYTES) => {
                TcpOption::FastOpenExp(Cow::Borrowed(&body[2..]))
            }
            (
                KIND_MSS | KIND_WINDOW_SCALE | KIND_SACK_PERMITTED | KIND_SACK | KIND_TIMESTAMPS,
                _,
            ) => return Err(WireError::TcpOptionBadLength { offset, kind, len }),
            // RFC 9293 3.1: MUST-6, an option this codec does not implement is kept, not an
            // error; its length field says how far to skip.
            _ => TcpOption::Unknown {
                kind,
                data: Cow::Borrowed(body),
            },
        };
        self.pos += usize::from(len);
        Ok(parsed)
    }
}

impl<'a> Iterator for TcpOptions<'a> {
    type Item = Result<TcpOption<'a>, WireError>;

    #[inline]
    fn next(&mut self) -> Option<Self::Item> {
        if self.done || self.pos >= self.data.len() {
            return None;
        }
        let result = self.parse_one();
        if result.is_err() {
            self.done = true;
        }
        Some(result)
    }
}
