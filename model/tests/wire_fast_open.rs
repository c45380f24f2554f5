//! Fast Open options on the wire (RFC 7413 4.1.1): kind 34 and the experimental kind 254
//! with magic 0xF989, both ways, byte for byte.

use std::borrow::Cow;

use tcpcheck_model::wire::{TcpOption, TcpOptions};

fn parse(bytes: &[u8]) -> Vec<TcpOption<'static>> {
    TcpOptions::new(bytes)
        .map(|o| o.expect("well-formed").into_owned())
        .collect()
}

fn emit(list: &[TcpOption<'_>]) -> Vec<u8> {
    let len = tcpcheck_model::wire::options::padded_len(list).expect("encodable");
    let mut buf = vec![0; len];
    tcpcheck_model::wire::options::emit(list, &mut buf);
    buf
}

#[test]
fn kind_34_carries_the_cookie_after_its_length() {
    let bytes = [34, 10, 0x30, 0x21, 0xb9, 0xd8, 0x89, 0x01, 0x7e, 0xeb, 1, 0];
    let cookie = vec![0x30, 0x21, 0xb9, 0xd8, 0x89, 0x01, 0x7e, 0xeb];
    let list = parse(&bytes);
    assert_eq!(list[0], TcpOption::FastOpen(Cow::Owned(cookie.clone())));
    assert_eq!(list[0].fast_open_cookie(), Some(&cookie[..]));
    assert_eq!(list[0].to_string(), "FO 3021b9d889017eeb");
    assert_eq!(emit(&list[..1]), [&bytes[..10], &[0, 0]].concat());
}

#[test]
fn an_empty_cookie_is_a_request() {
    let list = parse(&[34, 2, 1, 1]);
    assert_eq!(list[0], TcpOption::FastOpen(Cow::Borrowed(&[])));
    assert_eq!(list[0].to_string(), "FO");
    let exp = parse(&[254, 4, 0xF9, 0x89]);
    assert_eq!(exp, [TcpOption::FastOpenExp(Cow::Borrowed(&[]))]);
    assert_eq!(exp[0].to_string(), "FOEXP");
    assert_eq!(emit(&exp), [254, 4, 0xF9, 0x89]);
}

#[test]
fn the_experimental_form_needs_its_magic() {
    let exp = parse(&[254, 8, 0xF9, 0x89, 1, 2, 3, 4]);
    assert_eq!(exp, [TcpOption::FastOpenExp(Cow::Owned(vec![1, 2, 3, 4]))]);
    assert_eq!(emit(&exp), [254, 8, 0xF9, 0x89, 1, 2, 3, 4]);
    // Another experiment under kind 254 stays unknown.
    let other = parse(&[254, 4, 0x12, 0x34]);
    assert_eq!(
        other,
        [TcpOption::Unknown {
            kind: 254,
            data: Cow::Owned(vec![0x12, 0x34])
        }]
    );
}

#[test]
fn cookie_validity_follows_rfc_7413() {
    for (len, valid) in [
        (0, true),
        (2, false),
        (4, true),
        (5, false),
        (16, true),
        (18, false),
    ] {
        assert_eq!(
            TcpOption::fast_open_cookie_valid(&vec![0; len]),
            valid,
            "cookie of {len} bytes"
        );
    }
}

#[test]
fn fast_open_as_unknown_is_refused_on_emit() {
    let err = tcpcheck_model::wire::options::padded_len(&[TcpOption::Unknown {
        kind: 34,
        data: Cow::Owned(vec![1, 2, 3, 4]),
    }]);
    assert!(err.is_err(), "{err:?}");
}
