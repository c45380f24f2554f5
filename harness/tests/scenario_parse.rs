//! The packetdrill script parser: seeds replay through the fuzz property, our own scripts
//! parse to the trees we expect, errors point at the right column, and nothing panics.

use std::fs;
use std::path::{Path, PathBuf};

use proptest::prelude::*;
use tcpcheck::scenario::{
    fuzz_property, parse, AccEcnCounter, Action, Direction, Errno, Event, EventTime, Expr, Packet,
    Script, Span, Syscall, TcpFlags, TcpOption, TcpOptions, DEFAULT_PEER,
};

fn seeds() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../corpus/fuzz/scenario");
    let mut files: Vec<PathBuf> = fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| entry.expect("readable directory entry").path())
        .filter(|p| p.extension().is_none_or(|e| e != "md"))
        .collect();
    files.sort();
    files
}

#[test]
fn seeds_satisfy_the_fuzz_property() {
    let files = seeds();
    assert!(files.len() >= 10, "found only {} seeds", files.len());
    for path in files {
        let data = fs::read(&path).unwrap();
        if let Err(e) = fuzz_property(&data) {
            panic!("{}: {e}", path.display());
        }
    }
}

/// Seeds named `broken-*` must fail and the others must parse, so a parser that accepts
/// everything or nothing cannot pass the replay above unnoticed.
#[test]
fn seeds_parse_or_fail_as_their_names_say() {
    for path in seeds() {
        let text = String::from_utf8_lossy(&fs::read(&path).unwrap()).into_owned();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let result = parse(&name, &text);
        if name.starts_with("broken-") {
            assert!(result.is_err(), "{name} parsed");
        } else if let Err(e) = result {
            panic!("{e}");
        }
    }
}

fn parsed(text: &str) -> Script {
    match parse("t.pkt", text) {
        Ok(s) => s.without_spans(),
        Err(e) => panic!("{e}"),
    }
}

fn actions(text: &str) -> Vec<(EventTime, Action)> {
    parsed(text)
        .events
        .into_iter()
        .map(|e| (e.time, e.action))
        .collect()
}

fn word(w: &str) -> Expr {
    Expr::Word(w.into())
}

fn call(name: &str, args: Vec<Expr>, result: Expr) -> Syscall {
    Syscall {
        end: None,
        name: name.into(),
        args,
        result,
        errno: None,
        note: None,
    }
}

fn packet(direction: Direction, flags: &str, seq: u32, len: u16) -> Packet {
    let mut f = TcpFlags::default();
    for c in flags.chars() {
        match c {
            'S' => f.syn = true,
            'F' => f.fin = true,
            'R' => f.rst = true,
            'P' => f.psh = true,
            '.' => f.ack = true,
            _ => unreachable!(),
        }
    }
    Packet {
        direction,
        peer: DEFAULT_PEER,
        flags: f,
        seq,
        len,
        ack: None,
        win: None,
        urg: None,
        options: TcpOptions::Exactly(vec![]),
        ecn: None,
        ip: Default::default(),
    }
}

#[test]
fn options_comments_commands_and_code() {
    let s = parsed(
        "// leading comment\n--ip_version=ipv4\n--tolerance_usecs=10000 --verbose\n\n\
         `init.sh`\n/* block\n comment */ 0 `echo hi`\n+0 %{ assert x == 1 }%\n`cleanup.sh`\n",
    );
    let names: Vec<_> = s
        .options
        .iter()
        .map(|o| (o.name.as_str(), o.value.as_deref()))
        .collect();
    assert_eq!(
        names,
        [
            ("ip_version", Some("ipv4")),
            ("tolerance_usecs", Some("10000")),
            ("verbose", None)
        ]
    );
    assert_eq!(s.init_command.unwrap().text, "init.sh");
    assert_eq!(s.cleanup_command.unwrap().text, "cleanup.sh");
    let events: Vec<_> = s.events.into_iter().map(|e| (e.time, e.action)).collect();
    assert_eq!(
        events,
        [
            (EventTime::Absolute(0), Action::Command("echo hi".into())),
            (EventTime::Relative(0), Action::Code("assert x == 1".into())),
        ]
    );
}

#[test]
fn times() {
    let got: Vec<EventTime> = parsed(
        "0 > S 0:0(0)\n.1 > S 0:0(0)\n1.000 > S 0:0(0)\n+0.2 > S 0:0(0)\n\
         1~2.5 > S 0:0(0)\n+0~+.5 > S 0:0(0)\n* > S 0:0(0)\n1.0000019 > S 0:0(0)\n",
    )
    .events
    .iter()
    .map(|e| e.time)
    .collect();
    assert_eq!(
        got,
        [
            EventTime::Absolute(0),
            EventTime::Absolute(100_000),
            EventTime::Absolute(1_000_000),
            EventTime::Relative(200_000),
            EventTime::AbsoluteRange(1_000_000, 2_500_000),
            EventTime::RelativeRange(0, 500_000),
            EventTime::Any,
            EventTime::Absolute(1_000_001),
        ]
    );
}

#[test]
fn blocking_call_end_time() {
    let got = actions("+0...0.5 connect(3, ..., ...) = 0\n");
    let mut expected = call(
        "connect",
        vec![Expr::Int(3), Expr::Ellipsis, Expr::Ellipsis],
        Expr::Int(0),
    );
    expected.end = Some(500_000);
    assert_eq!(got, [(EventTime::Relative(0), Action::Syscall(expected))]);
}

#[test]
fn packets_flags_and_fields() {
    let mut p = Vec::new();
    let mut a = packet(Direction::Inbound, "S", 0, 0);
    a.win = Some(1000);
    p.push(a);
    let mut c = packet(Direction::Outbound, "S.", 0, 0);
    c.ack = Some(1);
    let mut d = packet(Direction::Inbound, "P.", 1, 100);
    d.ack = Some(1);
    d.win = Some(257);
    d.urg = Some(3);
    let mut e = packet(Direction::Inbound, "F.", 101, 0);
    e.ack = Some(1);
    e.win = Some(257);
    let f = packet(Direction::Outbound, "R", 1, 0);
    let g = packet(Direction::Outbound, "", 1, 0);
    let mut h = packet(Direction::Inbound, "", 1, 0);
    h.flags.ece = true;
    h.flags.cwr = true;
    h.flags.urg = true;
    h.win = Some(0);
    let got = actions(
        "0 < S 0:0(0) win 1000\n\
         +0 > S. 0:0(0) ack 1\n\
         +0 < P. 1:101(100) ack 1 win 257 urg 3\n\
         +0 < F. 101:101(0) ack 1 win 257\n\
         +0 > R 1:1(0)\n\
         +0 > - 1:1(0)\n\
         +0 < EWU 1:1(0) win 0\n",
    );
    let expected: Vec<Action> = [p.remove(0), c, d, e, f, g, h]
        .into_iter()
        .map(Action::Packet)
        .collect();
    let got: Vec<Action> = got.into_iter().map(|(_, a)| a).collect();
    assert_eq!(got, expected);
}

/// A segment straddling 2^32 is written as sequence space counts it, modulo 2^32.
#[test]
fn sequence_range_may_wrap() {
    let mut w = packet(Direction::Inbound, ".", u32::MAX, 8);
    w.win = Some(1);
    let got: Vec<Action> = actions("0 < . 4294967295:7(8) win 1\n")
        .into_iter()
        .map(|(_, a)| a)
        .collect();
    assert_eq!(got, vec![Action::Packet(w)]);
}

#[test]
fn tcp_options() {
    let got = actions(
        "0 > S 0:0(0) <mss 1460,sackOK,TS val 100 ecr 0,nop,wscale 7,eol,sack 1:2 3:4,\
         md5 0a0b,FO,FOEXP 1234,FO TFO_COOKIE,ECN e0b 1 ceb 2 e1b 3>\n",
    );
    let mut p = packet(Direction::Outbound, "S", 0, 0);
    p.options = TcpOptions::Exactly(vec![
        TcpOption::Mss(1460),
        TcpOption::SackOk,
        TcpOption::Timestamp { val: 100, ecr: 0 },
        TcpOption::Nop,
        TcpOption::WScale(7),
        TcpOption::Eol,
        TcpOption::Sack(vec![(1, 2), (3, 4)]),
        TcpOption::Md5("0a0b".into()),
        TcpOption::FastOpen(String::new()),
        TcpOption::FastOpenExp("1234".into()),
        TcpOption::FastOpen("TFO_COOKIE".into()),
        TcpOption::AccEcn(vec![
            (AccEcnCounter::E0b, 1),
            (AccEcnCounter::Ceb, 2),
            (AccEcnCounter::E1b, 3),
        ]),
    ]);
    assert_eq!(got, [(EventTime::Absolute(0), Action::Packet(p))]);
}

/// tcpcheck's `opt KIND HEX`: any kind, with or without data; printed back as written.
#[test]
fn options_of_any_kind() {
    let text = "0 < S 0:0(0) win 1 <mss 1460,opt 99 0102,opt 200>\n";
    let got = actions(text);
    let mut p = packet(Direction::Inbound, "S", 0, 0);
    p.win = Some(1);
    p.options = TcpOptions::Exactly(vec![
        TcpOption::Mss(1460),
        TcpOption::Unknown {
            kind: 99,
            data: "0102".into(),
        },
        TcpOption::Unknown {
            kind: 200,
            data: String::new(),
        },
    ]);
    let Action::Packet(parsed) = &got[0].1 else {
        panic!("a packet: {got:?}");
    };
    assert_eq!(
        parsed.to_string(),
        "< S 0:0(0) win 1 <mss 1460,opt 99 0102,opt 200>"
    );
    assert_eq!(got, [(EventTime::Absolute(0), Action::Packet(p))]);
    assert!(error("0 < S 0:0(0) win 1 <opt 256>").contains("the option kind"));
    assert!(error("0 < S 0:0(0) win 1 <opt 9 xyz>").contains("hex digits"));
}

#[test]
fn peer_extension() {
    let s = parsed(
        "0 < [peer 2] S 0:0(0) win 1000\n+0 > [peer 2] S. 0:0(0) ack 1\n\
         +0 < [peer 1] . 1:1(0) ack 1 win 1000\n+0 < . 1:1(0) ack 1 win 1000\n",
    );
    let peers: Vec<u16> = s
        .events
        .iter()
        .map(|e| match &e.action {
            Action::Packet(p) => p.peer,
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(peers, [2, 2, 1, 1]);
    // The default peer prints without a tag, so plain packetdrill text comes back out.
    assert!(s.to_string().contains("> [peer 2] S. 0:0(0) ack 1\n"));
    assert!(s
        .to_string()
        .contains("+0 < . 1:1(0) ack 1 win 1000\n+0 < ."));
}

#[test]
fn syscalls_and_expressions() {
    let got = actions(
        "0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n\
         +0 fcntl(3, F_SETFL, O_RDWR|O_NONBLOCK) = 0\n\
         +0 connect(3, {sin_family=AF_INET, sin_port=htons(8080), \
            sin_addr=inet_addr(\"192.0.2.1\")}, 16) = -1 ECONNREFUSED (Connection refused)\n\
         +0 setsockopt(3, SOL_SOCKET, SO_LINGER, {l_onoff=1, l_linger=0}, 8) = 0\n\
         +0 getsockopt(3, SOL_SOCKET, SO_ERROR, [0], &len) = 0\n\
         +0 write(3, \"ab\" \"c\", 0x3) = ...\n\
         +0 send(3, \"x\"..., 1, 0) = 1 (a note)\n\
         +0 frobnicate() = 7\n",
    );
    let assign = |l: &str, r: Expr| Expr::Assign(Box::new(word(l)), Box::new(r));
    let mut refused = call(
        "connect",
        vec![
            Expr::Int(3),
            Expr::Struct(vec![
                assign("sin_family", word("AF_INET")),
                assign(
                    "sin_port",
                    Expr::Call("htons".into(), vec![Expr::Int(8080)]),
                ),
                assign(
                    "sin_addr",
                    Expr::Call("inet_addr".into(), vec![Expr::Str("192.0.2.1".into())]),
                ),
            ]),
            Expr::Int(16),
        ],
        Expr::Int(-1),
    );
    refused.errno = Some(Errno {
        name: "ECONNREFUSED".into(),
        description: "Connection refused".into(),
    });
    let mut noted = call(
        "send",
        vec![
            Expr::Int(3),
            Expr::StrPrefix("x".into()),
            Expr::Int(1),
            Expr::Int(0),
        ],
        Expr::Int(1),
    );
    noted.note = Some("a note".into());
    let expected = vec![
        call(
            "socket",
            vec![Expr::Ellipsis, word("SOCK_STREAM"), word("IPPROTO_TCP")],
            Expr::Int(3),
        ),
        call(
            "fcntl",
            vec![
                Expr::Int(3),
                word("F_SETFL"),
                Expr::Or(vec![word("O_RDWR"), word("O_NONBLOCK")]),
            ],
            Expr::Int(0),
        ),
        refused,
        call(
            "setsockopt",
            vec![
                Expr::Int(3),
                word("SOL_SOCKET"),
                word("SO_LINGER"),
                Expr::Struct(vec![
                    assign("l_onoff", Expr::Int(1)),
                    assign("l_linger", Expr::Int(0)),
                ]),
                Expr::Int(8),
            ],
            Expr::Int(0),
        ),
        call(
            "getsockopt",
            vec![
                Expr::Int(3),
                word("SOL_SOCKET"),
                word("SO_ERROR"),
                Expr::List(vec![Expr::Int(0)]),
                Expr::AddrOf(Box::new(word("len"))),
            ],
            Expr::Int(0),
        ),
        call(
            "write",
            vec![
                Expr::Int(3),
                Expr::Concat(vec!["ab".into(), "c".into()]),
                Expr::Hex(3),
            ],
            Expr::Ellipsis,
        ),
        noted,
        call("frobnicate", vec![], Expr::Int(7)),
    ];
    let got: Vec<Action> = got.into_iter().map(|(_, a)| a).collect();
    let expected: Vec<Action> = expected.into_iter().map(Action::Syscall).collect();
    assert_eq!(got, expected);
}

#[test]
fn a_call_may_span_lines_and_spans_say_where() {
    let s = parse(
        "t.pkt",
        "0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n  +0 sendmsg(3, {msg_name(...)=...,\n     msg_iov(1)=[{..., 10}], msg_flags=0}, 0) = 10\n",
    )
    .unwrap();
    let spans: Vec<Span> = s.events.iter().map(|e: &Event| e.span).collect();
    assert_eq!(
        spans,
        [
            Span {
                line: 1,
                col: 1,
                end_line: 1,
                end_col: 44
            },
            Span {
                line: 2,
                col: 3,
                end_line: 3,
                end_col: 51
            },
        ]
    );
}

fn error(text: &str) -> String {
    match parse("script.pkt", text) {
        Ok(s) => panic!("parsed: {s}"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn errors_point_at_the_offending_text() {
    assert_eq!(
        error("0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n\n +0 < S 0:0(0) foo 1000\n"),
        "script.pkt:3:16: expected `ack` or `win`, found `foo`\n\
         \x20 3 |  +0 < S 0:0(0) foo 1000\n\
         \x20   |                ^^^"
    );
    assert_eq!(
        error("+0 > S. 0:0(0) ack 1 <mss 1460,bogus 3>"),
        "script.pkt:1:32: unknown TCP option `bogus` (known: nop, eol, mss, wscale, sackOK, \
         sack, TS, md5, FO, FOEXP, ECN, opt, raw)\n\
         \x20 1 | +0 > S. 0:0(0) ack 1 <mss 1460,bogus 3>\n\
         \x20   |                                ^^^^^"
    );
    assert_eq!(
        error("0 < [tos 0x1] S 0:0(0) win 1\n"),
        "script.pkt:1:5: `tos` on inbound packets is not supported yet\n\
         \x20 1 | 0 < [tos 0x1] S 0:0(0) win 1\n\
         \x20   |     ^^^^"
    );
    assert_eq!(
        error("0 > [flowlabel 0x1] S 0:0(0)\n"),
        "script.pkt:1:5: IP header fields (ECN codepoint, tos, ttl, flowlabel) on packets are \
         not supported yet\n\
         \x20 1 | 0 > [flowlabel 0x1] S 0:0(0)\n\
         \x20   |     ^^^^^^^^^^^^^^^"
    );
    // Outbound TOS and TTL are checked; printed back as written.
    let got = actions("0 > [tos 0x10] [ttl 7] S 0:0(0)\n");
    let Action::Packet(p) = &got[0].1 else {
        panic!("a packet: {got:?}");
    };
    assert_eq!((p.ip.tos, p.ip.ttl), (Some(0x10), Some(7)));
    assert_eq!(p.to_string(), "> [tos 0x10] [ttl 7] S 0:0(0)");
    // tcpcheck's [bad_csum], inbound only.
    let got = actions("0 < [bad_csum] R 0:0(0) win 0\n");
    let Action::Packet(p) = &got[0].1 else {
        panic!("a packet: {got:?}");
    };
    assert!(p.ip.bad_csum);
    assert_eq!(p.to_string(), "< [bad_csum] R 0:0(0) win 0");
    assert!(error("0 > [bad_csum] R 0:0(0)\n").contains("for inbound packets"));
    assert_eq!(
        error("0 < [ect01] S 0:0(0) win 1\n"),
        "script.pkt:1:5: [ect01] can only be used with outbound packets\n\
         \x20 1 | 0 < [ect01] S 0:0(0) win 1\n\
         \x20   |     ^^^^^^^"
    );
    assert_eq!(
        error("0 write(3, ..., 1) = 1\n\t+0 < S 0:10(5) win 1\n"),
        "script.pkt:2:9: inconsistent TCP sequence numbers and payload size: 0 + 5 is not 10\n\
         \x20 2 | \t+0 < S 0:10(5) win 1\n\
         \x20   | \t       ^^^^^^^"
    );
    assert_eq!(
        error("0 < . 4294967295:8(8) win 1\n"),
        "script.pkt:1:7: inconsistent TCP sequence numbers and payload size: 4294967295 + 8 \
         is not 8 (nor 7 after wrapping past 2^32)\n\
         \x20 1 | 0 < . 4294967295:8(8) win 1\n\
         \x20   |       ^^^^^^^^^^^^^^^"
    );
    assert_eq!(
        error("0 close(3) = -1 EBADF\n"),
        "script.pkt:1:22: expected the description of `EBADF` in parentheses, e.g. \
         `(Connection refused)`, found end of file\n\
         \x20 1 | 0 close(3) = -1 EBADF\n\
         \x20   |                      ^"
    );
    assert_eq!(
        error("+0~+0.1 read(3, ..., 1) = 1"),
        "script.pkt:1:1: event time range can only be used with outbound packets\n\
         \x20 1 | +0~+0.1 read(3, ..., 1) = 1\n\
         \x20   | ^^^^^^^"
    );
    assert_eq!(
        error("--ip_version=ipv4\n0 > XS 0:0(0)\n"),
        "script.pkt:2:5: expected TCP flags (letters among `FSRPUEWA` and `.` for ACK, or `-` \
         for none), found `XS`\n\
         \x20 2 | 0 > XS 0:0(0)\n\
         \x20   |     ^^"
    );
}

/// tcpcheck's `raw HEX`, `[src ADDR]`, `[dst ADDR]` and `[ip_options HEX]` (EXTENSIONS.md):
/// inbound only, printed back as written, refused at their text when malformed.
#[test]
fn crafted_packets_parse_print_and_fail_where_written() {
    let text = "0 < [src 224.0.0.5] [dst ff02::1] [ip_options 0101de06] [ect0] S 0:0(0) win 1 \
                <mss 1460,raw 6300>\n";
    let got = actions(text);
    let Action::Packet(p) = &got[0].1 else {
        panic!("a packet: {got:?}");
    };
    assert_eq!(p.ip.src, Some("224.0.0.5".parse().unwrap()));
    assert_eq!(p.ip.dst, Some("ff02::1".parse().unwrap()));
    assert_eq!(p.ip.ip_options.unwrap().as_slice(), &[1, 1, 0xde, 6]);
    assert_eq!(
        p.to_string(),
        "< [src 224.0.0.5] [dst ff02::1] [ip_options 0101de06] [ect0] S 0:0(0) win 1 \
         <mss 1460,raw 6300>"
    );
    let again = actions(&format!("0 {p}\n"));
    assert_eq!(again, got);
    let got = actions("0 < [dst 2001:db8::ff] . 1:1(0) ack 1 win 1\n");
    let Action::Packet(p) = &got[0].1 else {
        panic!("a packet: {got:?}");
    };
    assert_eq!(p.ip.dst, Some("2001:db8::ff".parse().unwrap()));

    assert_eq!(
        error("0 < [dst 192.0.2.256] S 0:0(0) win 1\n"),
        "script.pkt:1:10: `192.0.2.256` is not an IPv4 or IPv6 address\n\
         \x20 1 | 0 < [dst 192.0.2.256] S 0:0(0) win 1\n\
         \x20   |          ^^^^^^^^^^^"
    );
    assert_eq!(
        error("0 < [src ff02: :1] S 0:0(0) win 1\n"),
        "script.pkt:1:10: an address is written without spaces (`192.0.2.255`, `ff02::1`)\n\
         \x20 1 | 0 < [src ff02: :1] S 0:0(0) win 1\n\
         \x20   |          ^^^^^^^"
    );
    assert_eq!(
        error("0 > [dst 192.0.2.255] S 0:0(0)\n"),
        "script.pkt:1:5: `dst` is for inbound packets (it sets what the peer sends)\n\
         \x20 1 | 0 > [dst 192.0.2.255] S 0:0(0)\n\
         \x20   |     ^^^^"
    );
    assert_eq!(
        error("0 < [src 192.0.2.9] [src 192.0.2.8] S 0:0(0) win 1\n"),
        "script.pkt:1:21: the source address is given twice\n\
         \x20 1 | 0 < [src 192.0.2.9] [src 192.0.2.8] S 0:0(0) win 1\n\
         \x20   |                     ^^^^"
    );
    assert_eq!(
        error("0 < [src] S 0:0(0) win 1\n"),
        "script.pkt:1:9: expected an IPv4 or IPv6 address, found `]`\n\
         \x20 1 | 0 < [src] S 0:0(0) win 1\n\
         \x20   |         ^"
    );
    assert_eq!(
        error("0 < [ip_options 0101de] S 0:0(0) win 1\n"),
        "script.pkt:1:17: IPv4 options fill whole 32-bit words, at most 40: 3 bytes given \
         (pad with 00, End of Option List)\n\
         \x20 1 | 0 < [ip_options 0101de] S 0:0(0) win 1\n\
         \x20   |                 ^^^^^^"
    );
    assert!(error("0 < [ip_options 010] S 0:0(0) win 1\n").contains("1:17: the IP options"));
    assert!(error("0 < [ip_options zz] S 0:0(0) win 1\n").contains("1:17: IP options are hex"));
    assert_eq!(
        error("0 < S 0:0(0) win 1 <raw 6g>\n"),
        "script.pkt:1:25: `raw` option bytes must be hex digits\n\
         \x20 1 | 0 < S 0:0(0) win 1 <raw 6g>\n\
         \x20   |                         ^^"
    );
    assert!(error("0 < S 0:0(0) win 1 <raw>\n").contains("1:24: expected the option bytes in hex"));
    assert_eq!(
        error("0 > S. 0:0(0) ack 1 <raw 6300>\n"),
        "script.pkt:1:21: `raw` option bytes can only be used with inbound packets\n\
         \x20 1 | 0 > S. 0:0(0) ack 1 <raw 6300>\n\
         \x20   |                     ^^^^^^^^^^"
    );
}

#[test]
fn more_errors_locate_correctly() {
    let cases: &[(&str, (u32, u32), &str)] = &[
        ("0 < S 0:0(0) win 70000", (1, 18), "the window out of range"),
        ("-1 > S 0:0(0)", (1, 1), "negative time"),
        ("0.5~0.2 > S 0:0(0)", (1, 1), "time range is backwards"),
        ("* close(3) = 0", (1, 1), "event time `*`"),
        ("0 < S 0:0(0) win 1 <...>", (1, 20), "<...> for TCP options"),
        ("0 > SS 0:0(0)", (1, 6), "TCP flag `S` given twice"),
        ("0 < udp (10)", (1, 5), "UDP packets are not supported yet"),
        (
            "0 > icmp unreachable",
            (1, 5),
            "outbound ICMP packets are not supported yet",
        ),
        (
            "0 < icmp unreachable [1:2(3)]",
            (1, 23),
            "inconsistent TCP sequence numbers",
        ),
        (
            "0 < icmp unreachable id 3",
            (1, 22),
            "echo ids are not supported",
        ),
        ("0 < 80>90 S 0:0(0) win 1", (1, 5), "explicit ports"),
        (
            "0 < [peer 0] S 0:0(0) win 1",
            (1, 11),
            "peers are numbered from 1",
        ),
        ("0 > S 0:0(0)\n--late=1", (2, 1), "options must come before"),
        ("0 `a`\n`b`\n0 `c`", (2, 1), "a command without a time"),
        ("0 x(\"never closed) = 1", (1, 5), "unterminated string"),
        ("/* open", (1, 1), "unterminated `/*` comment"),
        (
            "0 f(99999999999999999999) = 0",
            (1, 5),
            "integer out of range",
        ),
        ("0 f() = 0 (Note", (1, 16), "expected `)`"),
        ("0 > S 0:0(0) <mss 1,>", (1, 21), "expected a TCP option"),
        (
            "0 > S 0:0(0) <md5 abc>",
            (1, 19),
            "even number of hex digits",
        ),
        ("0 > S 0:0(0) <ECN ceb 1>", (1, 19), "AccECN counters"),
        (
            "0 > S. 0:0(0) ack 4294967296",
            (1, 19),
            "acknowledgment number out of range",
        ),
        ("0 < S.3 0:0(0) win 1", (1, 6), "AccECN ACE"),
        ("0 ipv4 1.2.3.4", (1, 8), "expected `(` after `ipv4`"),
        ("3", (1, 2), "expected a packet"),
    ];
    for (text, (line, col), fragment) in cases {
        let e = parse("t.pkt", text).expect_err(text);
        assert_eq!((e.line, e.col), (*line, *col), "{text}: {e}");
        assert!(e.message.contains(fragment), "{text}: {e}");
    }
}

#[test]
fn nesting_is_capped() {
    let ok = format!("0 f({}1{}) = 0", "[".repeat(32), "]".repeat(32));
    parse("t.pkt", &ok).unwrap();
    let deep = format!("0 f({}1{}) = 0", "[".repeat(33), "]".repeat(33));
    let e = parse("t.pkt", &deep).unwrap_err();
    assert!(e.message.contains("deeper than 32"), "{e}");
    let hostile = format!("0 f({}) = 0", "{&a=".repeat(100_000));
    assert!(parse("t.pkt", &hostile).is_err());
    let long_or = format!("0 f({}a) = 0", "a|".repeat(100_000));
    fuzz_property(long_or.as_bytes()).unwrap();
}

#[test]
fn printing_is_canonical_packetdrill() {
    let s = parse("t.pkt", "--ip_version=ipv4\n0.100 > .S 0:0(0)\n");
    assert!(s.is_err(), "`.S` is not packetdrill flag syntax");
    let s = parse(
        "t.pkt",
        "--ip_version=ipv4\n0.100...1.5 accept(3, ..., ...) = 4\n+.25~+1 > PS. 0:5(5) <nop,TS val 1 ecr 2>\n",
    )
    .unwrap();
    assert_eq!(
        s.to_string(),
        "--ip_version=ipv4\n0.1...1.5 accept(3, ..., ...) = 4\n+0.25~+1 > SP. 0:5(5) <nop,TS val 1 ecr 2>\n"
    );
}

proptest! {
    #[test]
    fn random_printable_text_never_panics(text in "[ -~\\t\\n]{0,300}") {
        prop_assert!(fuzz_property(text.as_bytes()).is_ok());
    }

    #[test]
    fn random_script_like_text_never_panics(
        parts in proptest::collection::vec(
            prop_oneof![
                Just("0 "), Just("+0 "), Just("+.1"), Just("~"), Just("*"), Just("..."),
                Just("< "), Just("> "), Just("S"), Just("."), Just("0:0(0)"), Just(" ack 1"),
                Just(" win 10"), Just("<mss 1,nop>"), Just("<...>"), Just("f("), Just(")"),
                Just(" = "), Just("-1 E (x y)"), Just("["), Just("]"), Just("{"), Just("}"),
                Just("a="), Just("|"), Just(","), Just("\"s\""), Just("`c`"), Just("%{ p }%"),
                Just("\n"), Just("//c\n"), Just("[peer 2] "), Just("0x1f"), Just("&"),
            ],
            0..40,
        )
    ) {
        let text: String = parts.concat();
        prop_assert!(fuzz_property(text.as_bytes()).is_ok(), "{}", text);
    }
}

/// A packet's body is what follows its direction and peer; hiding the TS val writes the
/// first one as `?` and leaves the rest as they are.
#[test]
fn packet_body_hides_the_ts_val() {
    let script = parsed("0 > [peer 2] S. 0:0(0) ack 1 <mss 1460,TS val 100 ecr 7,nop>\n");
    let Action::Packet(p) = &script.events[0].action else {
        panic!("not a packet: {:?}", script.events[0].action);
    };
    assert_eq!(
        p.to_string(),
        "> [peer 2] S. 0:0(0) ack 1 <mss 1460,TS val 100 ecr 7,nop>"
    );
    assert_eq!(
        p.body(false).to_string(),
        "S. 0:0(0) ack 1 <mss 1460,TS val 100 ecr 7,nop>"
    );
    assert_eq!(
        p.body(true).to_string(),
        "S. 0:0(0) ack 1 <mss 1460,TS val ? ecr 7,nop>"
    );
}

#[test]
fn icmp_lines_and_ecn_fields_parse_as_packetdrill_writes_them() {
    use tcpcheck::scenario::Ecn;
    let s = parsed(
        "0 < icmp unreachable port_unreachable [1:101(100)]\n\
         +0 < icmp packet_too_big mtu 1400 [0:1440(1440)]\n\
         +0 < icmp source_quench\n\
         +0 < [ect0] S 0:0(0) win 1\n\
         +0 > [ce] S. 0:0(0) ack 1\n\
         +0 > [ect01] . 1:1(0) ack 1\n",
    );
    let Action::Icmp(a) = &s.events[0].action else {
        panic!("{:?}", s.events[0].action)
    };
    assert_eq!(a.icmp_type, "unreachable");
    assert_eq!(a.code.as_deref(), Some("port_unreachable"));
    assert_eq!(a.quoted, Some((1, 100)));
    assert_eq!(
        a.to_string(),
        "< icmp unreachable port_unreachable [1:101(100)]"
    );
    let Action::Icmp(b) = &s.events[1].action else {
        panic!()
    };
    assert_eq!((b.code.as_deref(), b.mtu), (None, Some(1400)));
    let Action::Icmp(c) = &s.events[2].action else {
        panic!()
    };
    assert_eq!((c.icmp_type.as_str(), c.quoted), ("source_quench", None));
    let ecn: Vec<Option<Ecn>> = s.events[3..]
        .iter()
        .map(|e| match &e.action {
            Action::Packet(p) => p.ecn,
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(ecn, [Some(Ecn::Ect0), Some(Ecn::Ce), Some(Ecn::Ect01)]);
    assert!(Ecn::Ect01.matches(1) && Ecn::Ect01.matches(2) && !Ecn::Ect01.matches(3));
    assert!(Ecn::Ce.matches(3) && !Ecn::NoEcn.matches(2));
}
