//! tcpcheck's whole corpus against smoltcp, from this crate's own `cargo test`, as a stack's
//! authors would run it from theirs: every scenario over IPv4 and IPv6 ends as pass, fail
//! or not applicable, never as a harness error, and the verdicts are pinned (an insta
//! snapshot), so a change in smoltcp, the adapter or the harness that moves one shows in
//! review. Update with `INSTA_UPDATE=always cargo test -p tcpcheck-smoltcp --test corpus`.

use std::path::PathBuf;

use tcpcheck::runner::{self, IpVersion, Job, RunOptions, Verdict};

fn corpus() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../corpus/scenarios")
}

fn jobs() -> Vec<Job> {
    let paths = runner::collect_all(&[corpus()]).expect("the corpus is readable");
    let root = corpus().canonicalize().expect("the corpus exists");
    let mut jobs = Vec::new();
    for path in paths {
        let source = runner::load(&path);
        let versions = match &source {
            Ok((_, script)) => runner::versions_for(script, &[IpVersion::V4, IpVersion::V6]),
            Err(_) => vec![IpVersion::V4],
        };
        let shown = path
            .canonicalize()
            .ok()
            .and_then(|p| p.strip_prefix(&root).ok().map(|p| p.display().to_string()))
            .unwrap_or_else(|| path.display().to_string());
        let source = std::sync::Arc::new(source);
        for ip in versions {
            jobs.push(Job {
                path: shown.clone(),
                ip,
                iteration: 0,
                source: source.clone(),
            });
        }
    }
    jobs
}

#[test]
fn the_corpus_on_smoltcp() {
    let opts = RunOptions {
        stack: &tcpcheck_smoltcp::FACTORY,
        ..RunOptions::default()
    };
    let runs = runner::run_jobs(jobs(), 2, &opts, &|_| {});
    let mut lines = Vec::new();
    let mut errors = Vec::new();
    for r in &runs {
        let verdict = match &r.verdict {
            Verdict::Pass => "pass".to_string(),
            Verdict::Fail(d) => format!("fail at line {}: {}", d.line, d.message),
            Verdict::NotApplicable { needs, .. } => format!("not applicable (needs {needs})"),
            Verdict::Error(e) => {
                errors.push(format!("{} ({}): {e}", r.path, r.ip.name()));
                "error".to_string()
            }
            Verdict::Interrupted => "interrupted".to_string(),
        };
        lines.push(format!("{} ({}): {verdict}", r.path, r.ip.name()));
    }
    assert!(errors.is_empty(), "harness errors:\n{}", errors.join("\n"));
    insta::assert_snapshot!(lines.join("\n"));
}
