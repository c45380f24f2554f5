//! `setsockopt()` of an option whose value is bytes, written as a C string
//! (`setsockopt(3, SOL_TCP, TCP_FASTOPEN_KEY, "\xf7\x63...", 16)`): the bytes as the C
//! compiler would read the string, and the length as given, which may differ from the
//! string's (the kernel checks it).

use super::{blame, int, on, ranged, Bad, Decoded, LinuxCall};
use crate::scenario::{Expr, Syscall};

/// Options whose value is bytes.
pub fn bytes_option(level: i32, name: i32) -> bool {
    level == libc::IPPROTO_TCP && name == libc::TCP_FASTOPEN_KEY
}

/// The longest option value the runner passes (a Fast Open key pair is 32 bytes).
const MAX_LEN: i64 = 256;

/// `setsockopt(fd, level, name, "bytes", len)`.
pub fn setsockopt_bytes(sc: &Syscall, fd: i64, level: i32, name: i32) -> Result<Decoded, Bad<'_>> {
    let (value, len) = (&sc.args[3], &sc.args[4]);
    let Expr::Str(text) = value else {
        return Err(blame(
            value,
            format!("{} takes a string value, not `{value}`", sc.args[2]),
        ));
    };
    let bytes = on(value, unescape(text))?;
    let len = on(
        len,
        int(len).and_then(|l| ranged(l, 0, MAX_LEN, "option length")),
    )?;
    Ok(Decoded::Linux(LinuxCall::SetBytes {
        fd,
        level,
        name,
        value: bytes,
        len: len as u32,
        what: sc.args[2].to_string(),
    }))
}

/// A C string literal's bytes: `\xHH`, octal `\NNN`, `\n`, `\t`, `\r`, `\\`, `\"`, `\'`,
/// `\0`; anything else is an error naming it.
pub fn unescape(text: &str) -> Result<Vec<u8>, String> {
    let b = text.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] != b'\\' {
            out.push(b[i]);
            i += 1;
            continue;
        }
        let Some(&c) = b.get(i + 1) else {
            return Err("a string ends with a lone `\\`".into());
        };
        i += 2;
        match c {
            b'x' => {
                let digits = b[i..].iter().take_while(|d| d.is_ascii_hexdigit()).count();
                if digits == 0 {
                    return Err("`\\x` without hex digits".into());
                }
                let hex = &text[i..i + digits];
                let v = u32::from_str_radix(hex, 16).ok().filter(|v| *v <= 0xff);
                out.push(v.ok_or_else(|| format!("`\\x{hex}` is more than a byte"))? as u8);
                i += digits;
            }
            b'0'..=b'7' => {
                let start = i - 1;
                let digits = 1 + b[i..]
                    .iter()
                    .take(2)
                    .take_while(|d| (b'0'..=b'7').contains(*d))
                    .count();
                let oct = &text[start..start + digits];
                let v = u32::from_str_radix(oct, 8).expect("octal digits");
                if v > 0xff {
                    return Err(format!("`\\{oct}` is more than a byte"));
                }
                out.push(v as u8);
                i = start + digits;
            }
            b'n' => out.push(b'\n'),
            b't' => out.push(b'\t'),
            b'r' => out.push(b'\r'),
            b'\\' | b'"' | b'\'' => out.push(c),
            other => return Err(format!("unknown escape `\\{}`", other as char)),
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::unescape;

    #[test]
    fn c_escapes() {
        assert_eq!(
            unescape(r"\xf7\x63z\0\101\n\\").unwrap(),
            vec![0xf7, 0x63, b'z', 0, 0o101, b'\n', b'\\']
        );
        // As in C, a hex escape takes every hex digit that follows it.
        assert!(unescape(r"\x63a").is_err());
        assert_eq!(unescape("").unwrap(), Vec::<u8>::new());
        assert!(unescape(r"\x").is_err());
        // C reads every hex digit after `\x`: `\x63a` is one escape, too big for a byte.
        assert!(unescape(r"\x63a").is_err());
        assert!(unescape(r"\q").is_err());
        assert!(unescape("\\").is_err());
        assert!(unescape(r"\x100").is_err());
    }
}
