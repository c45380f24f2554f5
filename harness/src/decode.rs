//! `tcpcheck decode`: reads files holding one raw IP packet each (the seed corpus format, or
//! bytes dumped from a TUN device) and says what is in them, or exactly what is wrong.

use std::fmt::Write as _;
use std::path::Path;

use tcpcheck_model::wire::{ChecksumPolicy, SegmentRepr, WireError};

/// What decoding one file found.
#[derive(Debug)]
pub enum Decoded {
    /// A well-formed packet, with checksums verified.
    Packet(SegmentRepr),
    /// Malformed: the first problem found. When only a checksum is wrong, `lenient` holds the
    /// packet as read anyway, so the rest of it can still be inspected.
    Malformed {
        error: WireError,
        lenient: Option<SegmentRepr>,
    },
}

pub fn decode_bytes(bytes: &[u8]) -> Decoded {
    match SegmentRepr::parse(bytes) {
        Ok(repr) => Decoded::Packet(repr),
        Err(error) => Decoded::Malformed {
            error,
            lenient: SegmentRepr::parse_with(bytes, ChecksumPolicy::Accept).ok(),
        },
    }
}

/// Decodes a file; `Err` is an I/O error message naming the file.
pub fn decode_file(path: &Path) -> Result<Decoded, String> {
    let bytes = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(decode_bytes(&bytes))
}

/// The report line(s) for one decoded file.
pub fn render(path: &Path, decoded: &Decoded) -> String {
    let mut out = String::new();
    match decoded {
        Decoded::Packet(repr) => {
            let _ = write!(out, "{}: {repr}", path.display());
        }
        Decoded::Malformed { error, lenient } => {
            let _ = write!(out, "{}: malformed: {error}", path.display());
            if let Some(repr) = lenient {
                let _ = write!(out, "\n  read anyway: {repr}");
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_the_field_at_fault() {
        let mut bytes = vec![
            0x45, 0, 0, 20, 0, 0, 0x40, 0, 64, 6, 0, 0, 192, 0, 2, 1, 192, 0, 2, 2,
        ];
        bytes[0] = 0x44;
        let text = render(Path::new("x.bin"), &decode_bytes(&bytes));
        assert_eq!(
            text,
            "x.bin: malformed: IPv4 `IHL` is 4 words, below the minimum of 5"
        );
    }
}
