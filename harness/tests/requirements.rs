//! The requirement matrix of RFC 9293 Appendix B: the generated table, the scanner that
//! builds it (the same code `build.rs` runs), and the `tcpcheck requirements` command.
//!
//! Labels in these tests are written only inside string literals, which the scanner ignores:
//! written in a comment they would make these tests count as exercising the requirement.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use tcpcheck::requirements::scan::{self, SourceFile, Status};
use tcpcheck::requirements::{
    render_json, render_other_text, render_text, Entry, OTHER_REQUIREMENTS, REQUIREMENTS,
};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the harness sits in the workspace root")
        .to_path_buf()
}

fn appendix() -> SourceFile {
    let text = std::fs::read_to_string(root().join(scan::APPENDIX_PATH)).unwrap();
    SourceFile::new(scan::APPENDIX_PATH, text)
}

fn notes(text: &str) -> SourceFile {
    SourceFile::new(scan::NOTES_PATH, text)
}

fn entry(id: &str) -> &'static Entry {
    REQUIREMENTS
        .iter()
        .find(|e| e.id == id)
        .unwrap_or_else(|| panic!("{id} is not in the table"))
}

#[test]
fn requirements_table_has_every_label_of_appendix_b() {
    assert_eq!(REQUIREMENTS.len(), 119);
    let count = |kind: &str| REQUIREMENTS.iter().filter(|e| e.kind() == kind).count();
    assert_eq!(
        [count("MUST"), count("SHLD"), count("MAY"), count("REC")],
        [69, 31, 18, 1]
    );
    let ids: BTreeSet<&str> = REQUIREMENTS.iter().map(|e| e.id).collect();
    assert_eq!(ids.len(), 119, "ids are unique");
    for e in REQUIREMENTS {
        assert!(!e.level.is_empty() && !e.feature.is_empty() && !e.group.is_empty());
        assert!(
            e.section.starts_with('3'),
            "{} is defined in section 3: {}",
            e.id,
            e.section
        );
    }
}

#[test]
fn requirements_status_follows_the_evidence() {
    for e in REQUIREMENTS {
        let (tests, locations) = (!e.tests.is_empty(), !e.locations.is_empty());
        let consistent = match e.status {
            Status::Tested => tests,
            Status::Implemented => !tests && locations,
            Status::NotObservable => !tests && !locations && !e.note.is_empty(),
            Status::Missing => !tests && !locations,
        };
        assert!(consistent, "{e:?}");
    }
    // The notes file starts with the labels on the application interface.
    assert_eq!(entry("MAY-14").status, Status::NotObservable);
}

#[test]
fn requirements_json_has_exactly_the_keys() {
    let all: Vec<&Entry> = REQUIREMENTS.iter().collect();
    let json: serde_json::Value = serde_json::from_str(&render_json(&all)).unwrap();
    let entries = json.as_array().unwrap();
    assert_eq!(entries.len(), 119);
    for (value, e) in entries.iter().zip(REQUIREMENTS) {
        let object = value.as_object().unwrap();
        let keys: Vec<&str> = object.keys().map(String::as_str).collect();
        let mut expected = vec!["id", "status", "locations", "tests", "note"];
        expected.sort_unstable();
        assert_eq!(keys, expected);
        assert_eq!(object["id"], e.id);
        assert_eq!(object["status"], e.status.as_str());
        assert_eq!(object["note"], e.note);
        assert_eq!(object["locations"], serde_json::json!(e.locations));
        assert_eq!(object["tests"], serde_json::json!(e.tests));
    }
}

#[test]
fn requirements_json_escapes_strings() {
    let e = Entry {
        id: "MUST-1",
        level: "MUST",
        group: "g",
        feature: "f",
        section: "3.1",
        status: Status::Missing,
        locations: &[],
        tests: &[],
        note: "a \"quoted\" \\ note\twith\ncontrol \u{1} characters",
    };
    let json: serde_json::Value = serde_json::from_str(&render_json(&[&e])).unwrap();
    assert_eq!(json[0]["note"], e.note);
}

#[test]
fn requirements_cite_the_option_length_check_in_options_rs() {
    let e = entry("MUST-7");
    assert!(
        e.locations
            .iter()
            .any(|l| l.starts_with("model/src/wire/options.rs:")),
        "{e:?}"
    );
    assert_ne!(e.status, Status::Missing);
    // The line as it is now: the table holds the line of the last build, and the model may
    // have been edited since.
    let path = "model/src/wire/options.rs";
    let file = SourceFile::new(path, std::fs::read_to_string(root().join(path)).unwrap());
    let citation = scan::citations(&file)
        .into_iter()
        .find(|c| c.label == "MUST-7")
        .expect("options.rs cites its label");
    let line: usize = citation.at.rsplit_once(':').unwrap().1.parse().unwrap();
    let cited = file.text.lines().nth(line - 1).unwrap();
    assert!(
        cited.contains("RFC 9293") && cited.contains("MUST-7"),
        "{cited:?}"
    );
}

#[test]
fn requirements_fresh_scan_of_the_workspace_agrees_on_the_labels() {
    // Only what comes from the Appendix B data is compared: the sources may have been edited
    // between the build that generated the table and this test.
    let rows = scan::matrix_at(&root()).unwrap_or_else(|errors| {
        panic!(
            "{}",
            errors
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join("\n")
        )
    });
    let fresh: Vec<_> = rows
        .iter()
        .map(|row| {
            let r = &row.requirement;
            (
                r.id.as_str(),
                r.level.as_str(),
                r.group.as_str(),
                r.feature.as_str(),
                r.section.as_str(),
            )
        })
        .collect();
    let built: Vec<_> = REQUIREMENTS
        .iter()
        .chain(OTHER_REQUIREMENTS)
        .map(|e| (e.id, e.level, e.group, e.feature, e.section))
        .collect();
    assert_eq!(fresh, built);
}

#[test]
fn requirements_scanner_reports_an_undefined_label() {
    let code = SourceFile::new(
        "model/src/fake.rs",
        "fn f() {}\n\n    // RFC 9293 3.1: MUST-7, MUST-999, a label the RFC does not have.\n",
    );
    let errors = scan::matrix(&appendix(), &notes(""), &[code], &[]).unwrap_err();
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_eq!(errors[0].at, "model/src/fake.rs:3");
    assert!(errors[0].message.contains("MUST-999"), "{}", errors[0]);

    // A test that claims an undefined label is reported too, rather than silently ignored.
    let test = SourceFile::new("harness/tests/fake.rs", "/// SHLD-99\n#[test]\nfn t() {}\n");
    let errors = scan::matrix(&appendix(), &notes(""), &[], &[test]).unwrap_err();
    assert_eq!(errors[0].at, "harness/tests/fake.rs:1");
    assert!(errors[0].message.contains("SHLD-99"), "{}", errors[0]);
}

#[test]
fn requirements_scanner_checks_that_a_citation_names_its_labels_section() {
    // The second SHOULD is 3.5.3's "RST can contain data"; the half-duplex close's RST is
    // 3.6.1's third (the mislabel of issue 16). A label defined in two sections may cite
    // either.
    let code = SourceFile::new(
        "model/src/fake.rs",
        "fn f() {}\n\
         // RFC 9293 3.6: MAY-1, SHLD-2, a RST shows the data lost.\n\
         // RFC 9293 3.6.1: MAY-1, SHLD-3, a RST shows the data lost.\n\
         // RFC 9293 3.8.5: SHLD-13 and RFC 9293 3.9.1.2: SHLD-13.\n",
    );
    let errors = scan::matrix(&appendix(), &notes(""), &[code], &[]).unwrap_err();
    let shown: Vec<String> = errors.iter().map(ToString::to_string).collect();
    assert_eq!(shown.len(), 2, "{shown:#?}");
    for e in &errors {
        assert_eq!(e.at, "model/src/fake.rs:2");
    }
    assert!(shown[0].contains("MAY-1") && shown[0].contains("section 3.6.1"));
    assert!(
        shown[1].contains("RFC 9293 3.6: SHLD-2") && shown[1].contains("section 3.5.3"),
        "{}",
        shown[1]
    );
}

#[test]
fn requirements_scanner_checks_rule_strings_without_counting_them() {
    // A model's rule string is what a report prints: its label and section are checked as
    // a comment's are, but only a comment at the code counts as implementing the label.
    let code = SourceFile::new(
        "model/src/fake.rs",
        "const A: &str = \"RFC 9293 3.2: MUST-65, no MSS option outside SYN segments\";\n\
         const B: &str = \"RFC 9293 3.7.1: MUST-65, no MSS option outside SYN segments\";\n\
         const C: &str = \"see RFC 9293 3.7.1: MUST-65\";\n",
    );
    let errors =
        scan::matrix(&appendix(), &notes(""), std::slice::from_ref(&code), &[]).unwrap_err();
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_eq!(errors[0].at, "model/src/fake.rs:2");
    assert!(errors[0].message.contains("section 3.2"), "{}", errors[0]);

    let good = SourceFile::new(
        "model/src/fake.rs",
        "const A: &str = \"RFC 9293 3.2: MUST-65\";\n",
    );
    let rows = scan::matrix(&appendix(), &notes(""), &[good], &[]).unwrap();
    let must_65 = rows.iter().find(|r| r.requirement.id == "MUST-65").unwrap();
    assert_eq!(must_65.status, Status::Missing);
}

#[test]
fn requirements_count_a_scenario_as_a_test_of_the_labels_it_cites() {
    let pkt = SourceFile::new(
        "corpus/scenarios/fake.pkt",
        "// A keep-alive scenario.\n\
         0.000 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n\
         +0    close(3) = 0 // RFC 9293 3.8.4 in prose, no label\n\
         \n\
         // Checks RFC 9293 3.8.4: MUST-24, SHLD-12.\n",
    );
    let rows = scan::matrix_with_scenarios(
        &appendix(),
        None,
        &notes(""),
        &[],
        &[],
        std::slice::from_ref(&pkt),
    )
    .unwrap();
    let tests_of = |id: &str| {
        let row = rows.iter().find(|r| r.requirement.id == id).unwrap();
        (row.status, row.tests.clone())
    };
    let by_pkt = vec!["corpus/scenarios/fake.pkt".to_string()];
    assert_eq!(tests_of("MUST-24"), (Status::Tested, by_pkt.clone()));
    assert_eq!(tests_of("SHLD-12"), (Status::Tested, by_pkt));
    assert_eq!(tests_of("MUST-25").0, Status::Missing);

    // A scenario's citation is held to the same checks as the code's.
    let wrong = SourceFile::new(
        "corpus/scenarios/wrong.pkt",
        "\n// Checks RFC 9293 3.8.6: MUST-36, MUST-999.\n",
    );
    let errors =
        scan::matrix_with_scenarios(&appendix(), None, &notes(""), &[], &[], &[wrong]).unwrap_err();
    let shown: Vec<String> = errors.iter().map(ToString::to_string).collect();
    assert_eq!(shown.len(), 2, "{shown:#?}");
    assert!(shown[0].starts_with("corpus/scenarios/wrong.pkt:2: ") && shown[0].contains("3.8.6.1"));
    assert!(shown[1].contains("MUST-999"));

    // The workspace's own scenarios count: the keep-alive and zero-window scripts.
    assert!(entry("MUST-24")
        .tests
        .contains(&"corpus/scenarios/timers/keepalive.pkt"));
    assert!(entry("MUST-36")
        .tests
        .contains(&"corpus/scenarios/window/zero-window-probe.pkt"));
}

fn other_rfcs() -> SourceFile {
    let text = std::fs::read_to_string(root().join(scan::OTHER_PATH)).unwrap();
    SourceFile::new(scan::OTHER_PATH, text)
}

#[test]
fn requirements_rows_of_the_other_rfcs_count_their_citations() {
    // Those RFCs label nothing: a comment naming one of their sections cites its row.
    let code = SourceFile::new(
        "model/src/fake.rs",
        "fn f() {}\n// The challenge ACK of RFC 5961 §3.2, capped (RFC 5961 7).\n",
    );
    let test = SourceFile::new(
        "model/tests/fake.rs",
        "/// RFC 7323 5.3: R1, PAWS.\n#[test]\nfn paws() {}\n",
    );
    let pkt = SourceFile::new(
        "corpus/scenarios/fake.pkt",
        "// RFC 2018 3, 4: SACK blocks.\n",
    );
    let rows = scan::matrix_with_scenarios(
        &appendix(),
        Some(&other_rfcs()),
        &notes(""),
        &[code],
        &[test],
        &[pkt],
    )
    .unwrap();
    let row = |id: &str| rows.iter().find(|r| r.requirement.id == id).unwrap();
    assert_eq!(row("RFC 5961 3.2").status, Status::Implemented);
    assert_eq!(row("RFC 5961 3.2").locations, ["model/src/fake.rs:2"]);
    assert_eq!(row("RFC 5961 7").status, Status::Implemented);
    assert_eq!(row("RFC 7323 5.3").tests, ["model/tests/fake.rs::paws"]);
    assert_eq!(row("RFC 2018 3").tests, ["corpus/scenarios/fake.pkt"]);
    assert_eq!(row("RFC 2018 4").tests, ["corpus/scenarios/fake.pkt"]);
    assert_eq!(row("RFC 6298 2.1").status, Status::Missing);
    assert_eq!(rows.len(), 119 + OTHER_REQUIREMENTS.len());

    // A section without a row is an error where it is named.
    let code = SourceFile::new("model/src/fake.rs", "// RFC 5961 10, no such row.\n");
    let errors = scan::matrix_with_scenarios(
        &appendix(),
        Some(&other_rfcs()),
        &notes(""),
        &[code],
        &[],
        &[],
    )
    .unwrap_err();
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_eq!(errors[0].at, "model/src/fake.rs:1");
    assert!(errors[0].message.contains("RFC 5961 10"), "{}", errors[0]);

    // A row's id is its RFC and its own section.
    let bad = SourceFile::new(
        scan::OTHER_PATH,
        "id\tlevel\tgroup\tfeature\tsection\nRFC 5961 3.2\tMUST\tg\tf\t3.3\n",
    );
    let errors = scan::parse_other_rfcs(&bad).unwrap_err();
    assert_eq!(errors[0].at, format!("{}:2", scan::OTHER_PATH));
}

#[test]
fn requirements_text_of_the_other_rfcs_lists_every_row() {
    let all: Vec<&Entry> = OTHER_REQUIREMENTS.iter().collect();
    let text = render_other_text(OTHER_REQUIREMENTS, &all);
    assert!(
        text.starts_with("RFC 2018, 5961, 6298, 7323, 7413 "),
        "{text}"
    );
    for e in OTHER_REQUIREMENTS {
        assert!(text.lines().any(|l| l.starts_with(e.id)), "{}", e.id);
    }
}

#[test]
fn requirements_notes_naming_a_missing_test_are_an_error() {
    let tests = SourceFile::new("harness/tests/fake.rs", "#[test]\nfn exists() {}\n");
    let ok = notes("# comment\nMUST-1\ttest\tharness/tests/fake.rs::exists\n");
    let rows = scan::matrix(&appendix(), &ok, &[], std::slice::from_ref(&tests)).unwrap();
    let must_1 = rows.iter().find(|r| r.requirement.id == "MUST-1").unwrap();
    assert_eq!(must_1.status, Status::Tested);
    assert_eq!(must_1.tests, ["harness/tests/fake.rs::exists"]);

    let bad = notes("# comment\n\nMUST-1\ttest\tharness/tests/fake.rs::does_not_exist\n");
    let errors = scan::matrix(&appendix(), &bad, &[], &[tests]).unwrap_err();
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_eq!(errors[0].at, format!("{}:3", scan::NOTES_PATH));
    assert!(
        errors[0].message.contains("does_not_exist"),
        "{}",
        errors[0]
    );
}

#[test]
fn requirements_notes_rows_are_checked() {
    let bad = notes(
        "MUST-70\tnote\tno such label\n\
         MUST-1\tnot_observable\twrong kind\n\
         MUST-1\tnote\n\
         MUST-1\tnote\t \n",
    );
    let errors = scan::matrix(&appendix(), &bad, &[], &[]).unwrap_err();
    let at: Vec<&str> = errors.iter().map(|e| e.at.as_str()).collect();
    let path = scan::NOTES_PATH;
    assert_eq!(
        at,
        [2, 3, 4, 1].map(|n| format!("{path}:{n}")),
        "{errors:?}"
    );

    let good = notes("MUST-1\tnot-observable\twhy\nMUST-1\tnote\tmore\n");
    let rows = scan::matrix(&appendix(), &good, &[], &[]).unwrap();
    assert_eq!(rows[0].status, Status::NotObservable);
    assert_eq!(rows[0].note, "why; more");
}

#[test]
fn requirements_scanner_reads_citations_only_from_comments() {
    let code = SourceFile::new(
        "model/src/fake.rs",
        r##"//! RFC 9293 §3.4: MUST-1 and REC-1 (a module doc citing two labels)
const S: &str = "// RFC 9293 3.1: MUST-2"; // RFC 9293 3.1: MUST-3, MUST-69.
const R: &str = r#"
// RFC 9293 3.1: MUST-4
"#;
/* RFC 9293 3.1: MUST-5 in a block comment,
   and on its second line RFC 9293 3.1: MUST-6 */
// RFC 9293 3.1: the data offset counts words; MUST-8 is not cited by prose.
// RFC 9293 3.1 MUST-9 without the colon is not a citation either.
fn f<'a>(c: char) -> bool { c == '"' || c == '\'' } // RFC 9293 3.2: MUST-64
"##,
    );
    let cited: Vec<(String, String, String)> = scan::citations(&code)
        .into_iter()
        .map(|c| (c.label, c.section, c.at))
        .collect();
    let at = |n: usize| format!("model/src/fake.rs:{n}");
    let expected: Vec<(String, String, String)> = [
        ("MUST-1", "3.4", 1),
        ("REC-1", "3.4", 1),
        ("MUST-3", "3.1", 2),
        ("MUST-69", "3.1", 2),
        ("MUST-5", "3.1", 6),
        ("MUST-6", "3.1", 7),
        ("MUST-64", "3.2", 10),
    ]
    .into_iter()
    .map(|(l, s, n)| (l.to_string(), s.to_string(), at(n)))
    .collect();
    assert_eq!(cited, expected);
}

#[test]
fn requirements_scanner_finds_tests_and_the_labels_they_mention() {
    let file = SourceFile::new(
        "model/tests/fake.rs",
        r#"
/// Doc comment: MUST-1.
#[test]
#[ignore = "slow"]
fn documented() {}

// A comment before the attribute: MUST-2.
#[test]
fn commented() {
    // In the body: MUST-3.
    assert_eq!("MUST-4 in a string is not a mention", "");
}

fn helper(v6: bool) {
    // RFC 9293 3.8.6.3: MUST-40, in a helper.
    let _: fn(u8) -> u8 = |x| x;
}

#[test]
fn calls_a_helper() {
    helper(false);
}

macro_rules! both {
    ($($name:ident),*) => { $( #[test] fn $name() { super::$name(false) } )* };
}
both!(made_by_macro);

fn made_by_macro(_: bool) {
    // SHLD-5
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(10))]
    /// MAY-3
    #[test]
    fn property(x in 0u8..{ 10 }) {
        prop_assert!(x < 10);
    }
}

/// MUST-7, but not a test.
fn not_a_test() {}

#[cfg(test)]
mod tests {
    #[test]
    fn plain() {}
}
"#,
    );
    let found: Vec<(String, Vec<String>)> = scan::test_fns(&file)
        .into_iter()
        .map(|t| (t.name, t.labels.into_iter().map(|(l, _)| l).collect()))
        .collect();
    let t = |name: &str, labels: &[&str]| {
        (
            format!("model/tests/fake.rs::{name}"),
            labels.iter().map(ToString::to_string).collect::<Vec<_>>(),
        )
    };
    assert_eq!(
        found,
        [
            t("documented", &["MUST-1"]),
            t("commented", &["MUST-2", "MUST-3"]),
            t("calls_a_helper", &["MUST-40"]),
            t("made_by_macro", &["SHLD-5"]),
            t("property", &["MAY-3"]),
            t("plain", &[]),
        ]
    );
}

#[test]
fn requirements_text_summarises_then_lists_every_label() {
    let all: Vec<&Entry> = REQUIREMENTS.iter().collect();
    let text = render_text(REQUIREMENTS, &all);
    let first = text.lines().next().unwrap();
    assert!(
        first.starts_with("RFC 9293 Appendix B: 119 labels: "),
        "{first}"
    );
    for status in Status::ALL {
        assert!(first.contains(status.as_str()), "{first}");
    }
    for e in REQUIREMENTS {
        assert_eq!(
            text.lines()
                .filter(|l| l.split_whitespace().next() == Some(e.id))
                .count(),
            1,
            "{}",
            e.id
        );
    }
}
