//! packetdrill's `-D NAME=VALUE` definitions: a defined word reads as its value, typed as
//! packetdrill's lexer types it, and errors still point at the word in the script.

use tcpcheck::scenario::{definition, parse, parse_defined, Definitions, Expr};

fn defs(pairs: &[(&str, &str)]) -> Definitions {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

#[test]
fn defined_words_read_as_their_values() {
    let text = "0 setsockopt(3, LEVEL, NAME, [VALUE], 4) = 0\n+0 CMD\n";
    let d = defs(&[
        ("LEVEL", "SOL_IP"),
        ("NAME", "0x1"),
        ("VALUE", "42"),
        ("CMD", "`true`"),
    ]);
    let s = parse_defined("d.pkt", text, &d).expect("parses");
    let printed = s.to_string();
    assert!(
        printed.contains("setsockopt(3, SOL_IP, 0x1, [42], 4) = 0"),
        "{printed}"
    );
    assert!(printed.contains("`true`"), "{printed}");
    let tcpcheck::scenario::Action::Syscall(sc) = &s.events[0].action else {
        panic!("a call")
    };
    assert_eq!(sc.args[3], Expr::List(vec![Expr::Int(42)]));
    // Without the definitions the words stay words.
    let plain = parse("d.pkt", text.lines().next().unwrap_or_default()).expect("parses");
    assert!(plain
        .to_string()
        .contains("setsockopt(3, LEVEL, NAME, [VALUE], 4)"));
}

#[test]
fn an_error_points_at_the_defined_word() {
    // A string where a time belongs: refused at the word's own column.
    let d = defs(&[("T", "\"x\"")]);
    let e = parse_defined(
        "d.pkt",
        "0 socket(..., SOCK_STREAM, 0) = 3\nT close(3) = 0\n",
        &d,
    )
    .expect_err("a string is no time");
    assert_eq!((e.line, e.col), (2, 1), "{e}");
}

#[test]
fn a_definition_needs_a_name_and_an_equals_sign() {
    assert_eq!(definition("A=b=c"), Ok(("A".into(), "b=c".into())));
    assert_eq!(definition("A="), Ok(("A".into(), String::new())));
    assert!(definition("=b").is_err());
    assert!(definition("Ab").is_err());
}
