//! The built-in checks (`tcpcheck::requirements::builtin`) against the local kernel, each
//! in its own sandbox: what a packetdrill script cannot state, checked on the wire. The
//! scorecard counts each check for the labels it names; these tests are what the matrix
//! lists as testing them. Run as root (or see the README's rootless notes).

use tcpcheck::requirements::builtin::{self, BuiltinCheck};
use tcpcheck::requirements::card::{self, Mark};
use tcpcheck::requirements::REQUIREMENTS;
use tcpcheck::runner::Verdict;
use tcpcheck::stack::registry::LinuxFactory;
use tcpcheck_model::profile::ProfileKind;

fn check(name: &str) -> &'static BuiltinCheck {
    builtin::find(name).unwrap_or_else(|| panic!("no built-in check {name}"))
}

#[track_caller]
fn passes_on_linux(name: &str) {
    let run = builtin::run(check(name), &LinuxFactory, Some(ProfileKind::Rfc9293));
    assert_eq!(run.verdict, Verdict::Pass, "{}", run.describe());
}

/// MUST-8: the ISN is clock-driven; eight connections on one 4-tuple put their ISNs on one
/// line against the SYNs' send times (Linux: 64 ns ticks, secure_tcp_seq()).
#[test]
fn isn_clock() {
    passes_on_linux("builtin/isn-clock");
}

/// SHLD-1: each 4-tuple's ISN clock has its own keyed offset (RFC 6528's F).
#[test]
fn isn_keyed_offset() {
    passes_on_linux("builtin/isn-keyed-offset");
}

/// MUST-41: a passive OPEN leaves an established connection on its port alone.
#[test]
fn listen_beside_established() {
    passes_on_linux("builtin/listen-beside-established");
}

/// MUST-41, MUST-42: a LISTEN beside a connection in SYN-SENT on the same port.
#[test]
fn listen_beside_syn_sent() {
    passes_on_linux("builtin/listen-beside-syn-sent");
}

/// MUST-43: OPEN's optional local IP address, active and passive.
#[test]
fn open_local_address() {
    passes_on_linux("builtin/open-local-address");
}

/// MUST-51, MUST-52: the application's source route, which a received one does not
/// override.
#[test]
fn source_route_from_application() {
    passes_on_linux("builtin/source-route-from-application");
}

/// MUST-53: the return route built from the source route a SYN came by.
#[test]
fn source_route_returned() {
    passes_on_linux("builtin/source-route-returned");
}

/// Every label a built-in check gives the verdict of is one this file's tests are listed
/// for in the matrix, so the card's "pass" and the matrix's "tested" name the same checks;
/// and each check has its test here.
#[test]
fn the_matrix_lists_each_check_under_its_labels() {
    let here = "harness/tests/builtin_checks.rs::";
    for c in builtin::CHECKS {
        let test = format!(
            "{here}{}",
            c.name.trim_start_matches(builtin::PREFIX).replace('-', "_")
        );
        for label in c.labels {
            let e = REQUIREMENTS
                .iter()
                .find(|e| e.id == *label)
                .unwrap_or_else(|| panic!("{}: no label {label}", c.name));
            assert!(
                e.tests.contains(&test.as_str()),
                "{}: the matrix does not list {test} under {label}: {:?}",
                c.name,
                e.tests
            );
        }
    }
}

/// SHLD-24: a later source route should override the SYN's. Linux does not take it (it keeps
/// the route saved from the SYN): the check fails on Linux, and says where the ACK went.
#[test]
fn source_route_later_overrides() {
    let c = check("builtin/source-route-later-overrides");
    let run = builtin::run(c, &LinuxFactory, Some(ProfileKind::Rfc9293));
    match &run.verdict {
        Verdict::Fail(d) => assert!(
            d.actual.contains("went to 192.0.2.9, by the SYN's route"),
            "{}",
            run.describe()
        ),
        _ => panic!("Linux keeps the SYN's route: {}", run.describe()),
    }
    // Judged by Linux's documented choices, the same behaviour passes.
    let run = builtin::run(c, &LinuxFactory, Some(ProfileKind::Linux));
    assert_eq!(run.verdict, Verdict::Pass, "{}", run.describe());
}

/// MAY-11: Record Route set by the application.
#[test]
fn record_route() {
    passes_on_linux("builtin/record-route");
}

/// A run's own report carries the card: a built-in check that ran marks its labels, with
/// what it measured, like a scenario.
#[test]
fn a_run_of_a_builtin_check_is_on_the_reports_card() {
    let run = builtin::run(
        check("builtin/listen-beside-established"),
        &LinuxFactory,
        Some(ProfileKind::Rfc9293),
    );
    let card = card::in_report(std::slice::from_ref(&run), "linux", "rfc9293")
        .expect("a check that names labels ran");
    let row = card
        .rows
        .iter()
        .find(|r| r.id == "MUST-41")
        .expect("the label the check names is on the card");
    match &row.mark {
        Mark::Pass { scenarios, .. } => assert!(
            scenarios[0].starts_with("builtin/listen-beside-established (ipv4) [the established"),
            "{scenarios:?}"
        ),
        m => panic!("{m:?}"),
    }
    assert!(card
        .extra()
        .markdown
        .contains("builtin/listen-beside-established"));
}
