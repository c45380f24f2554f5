//! `tcpcheck requirements --stack`: a label's mark comes from the runs of the scenarios that
//! check it, against the kernel. Labels appear only in string literals here (see
//! requirements.rs): in a comment they would count these tests as exercising them.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use tcpcheck::requirements::card::{self, Mark};
use tcpcheck::requirements::{scan::Status, Entry};
use tcpcheck::runner::{self, IpVersion, Job, RunOptions};
use tcpcheck_model::profile::ProfileKind;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the harness sits in the workspace root")
        .to_path_buf()
}

const GOOD: &str = "corpus/scenarios/data/urgent-pointer.pkt";
const BAD: &str = "corpus/scenarios/data/urgent-pointer-wrong.pkt";

fn entry(id: &'static str, tests: &'static [&'static str], status: Status) -> Entry {
    Entry {
        id,
        level: "MUST",
        group: "g",
        feature: "f",
        section: "3.8.5",
        status,
        locations: &[],
        tests,
        note: "why not",
    }
}

#[test]
fn marks_follow_the_runs_of_each_labels_scenarios() {
    let good = root().join(GOOD);
    // The same script with one read's count wrong: it fails on the kernel.
    let text = std::fs::read_to_string(&good).expect("the corpus scenario");
    let wrong = text.replacen("read(4, ..., 100) = 9", "read(4, ..., 100) = 10", 1);
    assert_ne!(text, wrong);
    let dir = std::env::temp_dir().join(format!("tcpcheck-scorecard-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let bad = dir.join("urgent-pointer-wrong.pkt");
    std::fs::write(&bad, wrong).expect("write the wrong copy");

    let jobs: Vec<Job> = [&good, &bad]
        .iter()
        .map(|p| Job {
            path: p.display().to_string(),
            ip: IpVersion::V4,
            iteration: 0,
            source: Arc::new(runner::load(p)),
        })
        .collect();
    let opts = RunOptions {
        model: Some(ProfileKind::Rfc9293),
        ..RunOptions::default()
    };
    let runs = runner::run_jobs(jobs, 2, &opts, &|_| {});
    let bad_path = bad.display().to_string();
    let name_of = |p: &str| {
        if p == bad_path {
            BAD.to_string()
        } else {
            p.strip_prefix(&format!("{}/", root().display()))
                .unwrap_or(p)
                .to_string()
        }
    };
    let _ = std::fs::remove_dir_all(&dir);

    let passes = entry("MUST-30", &[GOOD], Status::Tested);
    match card::mark(&passes, &runs, &name_of) {
        Mark::Pass { scenarios, .. } => assert_eq!(scenarios, [format!("{GOOD} (ipv4)")]),
        other => panic!("expected a pass, got {other:?}"),
    }
    let fails = entry("MUST-31", &[GOOD, BAD], Status::Tested);
    match card::mark(&fails, &runs, &name_of) {
        Mark::Fail {
            scenario,
            divergence,
        } => {
            assert_eq!(scenario, format!("{BAD} (ipv4)"));
            assert!(divergence.contains("expected result 10"), "{divergence}");
        }
        other => panic!("expected a failure, got {other:?}"),
    }
    let unseen = entry("MUST-32", &[], Status::NotObservable);
    assert_eq!(
        card::mark(&unseen, &runs, &name_of),
        Mark::NotObservable {
            why: "why not".into()
        }
    );
    let untested = entry("MUST-33", &["model/tests/x.rs::t"], Status::Tested);
    assert_eq!(
        card::mark(&untested, &runs, &name_of),
        Mark::NoScenario {
            status: Status::Tested,
            why: "why not".into()
        }
    );
    // The label's note says why there is no scenario.
    assert_eq!(
        card::mark(&untested, &runs, &name_of).detail(),
        "matrix status: tested; why not"
    );
    let rows = card::card(&[&passes, &fails, &unseen, &untested], &runs, &name_of);
    let text = card::render_text(&card::heading("linux", "rfc9293", &rows), &rows);
    assert!(text.starts_with(
        "Scorecard of linux (model rfc9293): 4 requirements: 1 pass, 1 fail, 0 not applicable, \
         0 error, 1 not observable, 1 no scenario"
    ));
    let json = card::render_json("linux", "rfc9293", &rows);
    assert_eq!(json["tally"]["fail"], 1);
    assert_eq!(json["rows"][1]["scenario"], format!("{BAD} (ipv4)"));
    let md = card::render_markdown("t", &rows);
    assert_eq!(md.lines().filter(|l| l.starts_with("| MUST-")).count(), 4);
    let html = card::render_html("t", &rows);
    assert_eq!(html.matches("<tr class=").count(), 4);
}
