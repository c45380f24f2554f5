//! Every known deviation's scenario (corpus/deviations/) on the kernel, each run in its own
//! sandbox by the runner: the script passes; the model on `rfc9293` diverges and names
//! this very deviation, so the scenario demonstrates what its name says; the model on
//! `linux`, which encodes Linux's choice, agrees. Run as root (or see the README's rootless
//! notes).

use std::path::{Path, PathBuf};

use tcpcheck::differ::ModelVerdict;
use tcpcheck::explore::deviations::DEVIATIONS;
use tcpcheck::runner::{run_text, IpVersion, RunOptions, Verdict};
use tcpcheck_model::profile::ProfileKind;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the workspace")
        .to_path_buf()
}

fn scripts() -> Vec<PathBuf> {
    let dir = repo().join("corpus/deviations");
    let mut paths: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.expect("a directory entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "pkt"))
        .collect();
    paths.sort();
    paths
}

/// One line per way `path` falls short, empty when it demonstrates its deviation.
fn check(path: &Path) -> Vec<String> {
    let name = path.file_stem().unwrap().to_string_lossy().to_string();
    let text = std::fs::read_to_string(path).expect("readable");
    let file = format!("corpus/deviations/{name}.pkt");
    let mut problems = Vec::new();
    for (model, want) in [
        (Some(ProfileKind::Rfc9293), Some(name.as_str())),
        (Some(ProfileKind::Linux), None),
    ] {
        let opts = RunOptions {
            model,
            ..RunOptions::default()
        };
        let r = run_text(&file, &text, IpVersion::V4, &opts);
        if r.verdict != Verdict::Pass {
            problems.push(format!("{name} ({model:?}): {}", r.describe()));
            continue;
        }
        match (&r.model, want) {
            (ModelVerdict::Diverge(d), Some(want)) if d.deviation == Some(want) => {}
            (ModelVerdict::Agree, None) => {}
            (m, Some(want)) => problems.push(format!(
                "{name}: on rfc9293 the model should diverge as `{want}`, got {m:?}"
            )),
            (m, None) => problems.push(format!(
                "{name}: on linux the model should agree, got {m:?}"
            )),
        }
    }
    problems
}

#[test]
fn every_deviation_has_its_scenario_and_every_scenario_its_deviation() {
    let names: Vec<String> = scripts()
        .iter()
        .map(|p| p.file_stem().unwrap().to_string_lossy().to_string())
        .collect();
    for d in DEVIATIONS {
        assert_eq!(
            d.scenario,
            format!("corpus/deviations/{}.pkt", d.name),
            "{}: its scenario is named after it",
            d.name
        );
        assert!(names.iter().any(|n| n == d.name), "{}: no scenario", d.name);
    }
    for n in &names {
        assert!(
            DEVIATIONS.iter().any(|d| d.name == n),
            "corpus/deviations/{n}.pkt: no deviation of that name"
        );
    }
}

#[test]
fn every_scenario_diverges_from_the_rfc_by_its_name_and_agrees_with_linux() {
    let problems: Vec<String> = scripts().iter().flat_map(|p| check(p)).collect();
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
