//! What a receiver makes of option bytes the strict parser refuses.
//!
//! The codec's parser stops at the first malformed option with an error, which is right
//! for judging what a stack sent. A stack receiving such bytes must still carry on, and the
//! model has to know which options it then acts on.

use super::options::{TcpOption, TcpOptions, KIND_EOL, KIND_NOP};

/// The options a receiver acts on among `data`, a segment's option bytes, however
/// malformed.
///
/// RFC 9293 3.1: MUST-7, a TCP implementation must be prepared to handle an illegal option
/// length. A length below 2, or one running past the option bytes, leaves no way to find
/// the next option, so the list ends there and the segment is processed with the options
/// before it (the RFC's suggested alternative, resetting the connection, is a suggestion;
/// Linux's tcp_parse_options() stops as here). An option whose length is wrong for its kind
/// (an MSS of length 3) is delimited by its length byte and ignored, as RFC 9293 3.1:
/// MUST-6 has options a stack does not implement ignored.
pub fn options_as_received(data: &[u8]) -> Vec<TcpOption<'static>> {
    let mut out = Vec::new();
    let mut pos = 0;
    while let Some(&kind) = data.get(pos) {
        match kind {
            KIND_EOL => {
                out.push(TcpOption::EndOfList);
                break;
            }
            KIND_NOP => {
                out.push(TcpOption::Nop);
                pos += 1;
            }
            _ => {
                let Some(len) = data.get(pos + 1).map(|&l| usize::from(l)) else {
                    break;
                };
                if len < 2 || pos + len > data.len() {
                    break;
                }
                if let Some(Ok(option)) = TcpOptions::new(&data[pos..pos + len]).next() {
                    out.push(option.into_owned());
                }
                pos += len;
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zero_length_ends_the_list() {
        let data = [2, 4, 5, 0xb4, 99, 0, 4, 2, 1, 1, 3, 3, 7];
        assert_eq!(options_as_received(&data), vec![TcpOption::Mss(1460)]);
    }

    #[test]
    fn length_one_and_past_the_end_end_the_list() {
        assert_eq!(
            options_as_received(&[1, 1, 99, 1]),
            vec![TcpOption::Nop, TcpOption::Nop]
        );
        assert_eq!(
            options_as_received(&[1, 1, 99, 40]),
            vec![TcpOption::Nop, TcpOption::Nop]
        );
        assert_eq!(options_as_received(&[1, 1, 1, 99]).len(), 3);
    }

    #[test]
    fn wrong_length_for_the_kind_is_skipped() {
        // MSS with length 3, then SACK-permitted.
        let data = [2, 3, 5, 4, 2, 1, 1, 1];
        assert_eq!(
            options_as_received(&data),
            vec![
                TcpOption::SackPermitted,
                TcpOption::Nop,
                TcpOption::Nop,
                TcpOption::Nop
            ]
        );
    }

    #[test]
    fn well_formed_options_read_as_the_parser_reads_them() {
        let data = [2, 4, 5, 0xb4, 4, 2, 1, 3, 3, 7, 99, 4, 1, 2];
        let strict: Vec<_> = TcpOptions::new(&data).map(|o| o.unwrap()).collect();
        assert_eq!(options_as_received(&data), strict);
    }
}
