//! Every scenario of `corpus/scenarios` against the local kernel, one test per script and IP
//! version, each pinned by a snapshot of its ladder diagram: a change in the kernel's
//! behaviour, or in how the runner reads it, shows as a snapshot diff. Run as root (or see
//! the README's rootless notes). Accept changed or new snapshots with `INSTA_UPDATE=always`
//! or `cargo insta review`; under `CI=true` a missing or different snapshot fails.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use libtest_mimic::{Arguments, Failed, Trial};
use tcpcheck::runner::{self, ladder, IpVersion, RunOptions, Verdict};
use tcpcheck::scenario::Script;

/// Threads for the fast scenarios, beside one for each slow one that runs. The scripts mostly sleep,
/// so the slow ones each get a thread from the start and the file takes about as long as the
/// longest of them; the fast ones (about 0.3 s each) share these few, because every run
/// creates and destroys a network namespace, and on two cores 32 at once starve the kernel's
/// address configuration (sandboxes fail to come up within 2 s) and make runs late.
const FAST_LANES: usize = 8;

const BOTH: [IpVersion; 2] = [IpVersion::V4, IpVersion::V6];

fn main() {
    let mut args = Arguments::from_args();
    let trials = match trials() {
        Ok(t) => t,
        Err(e) => {
            eprintln!("cannot collect the scenarios: {e}");
            std::process::exit(2);
        }
    };
    let slow = trials
        .iter()
        .filter(|t| t.kind() == "slow" && !args.is_filtered_out(t))
        .count();
    args.test_threads.get_or_insert(slow + FAST_LANES);
    libtest_mimic::run(&args, trials).exit();
}

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the harness crate sits in the workspace")
        .to_path_buf()
}

/// Slow scripts first, so they start at once instead of after the queue of fast ones.
fn trials() -> Result<Vec<Trial>, String> {
    let root = workspace();
    let dir = root.join("corpus/scenarios");
    let mut files = Vec::new();
    runner::collect_scripts(&dir, false, &mut files)?;
    let mut trials = Vec::new();
    for file in files {
        let (text, script) = runner::load(&file)?;
        let slow = text.lines().any(|l| l.starts_with("// slow:"));
        let source = Arc::new((text, script));
        let relative = file
            .strip_prefix(&dir)
            .map_err(|e| e.to_string())?
            .to_string_lossy()
            .into_owned();
        for ip in runner::versions_for(&source.1, &BOTH) {
            let name = format!("{relative}::{}", ip.name());
            let snapshot = format!("{}-{}", relative.trim_end_matches(".pkt"), ip.name());
            let path = format!("corpus/scenarios/{relative}");
            let source = Arc::clone(&source);
            let trial = Trial::test(name, move || {
                check(&path, &source.0, &source.1, ip, &snapshot)
            });
            trials.push((!slow, trial.with_kind(if slow { "slow" } else { "" })));
        }
    }
    trials.sort_by_key(|(fast, _)| *fast);
    Ok(trials.into_iter().map(|(_, t)| t).collect())
}

fn check(
    path: &str,
    text: &str,
    script: &Script,
    ip: IpVersion,
    snapshot: &str,
) -> Result<(), Failed> {
    let run = runner::run_script(path, text, script, ip, &RunOptions::default());
    if run.verdict != Verdict::Pass {
        return Err(format!("{}\ntrace:\n{}", run.describe(), run.trace).into());
    }
    let diagram = ladder::ladder(&run, script);
    let mut settings = insta::Settings::clone_current();
    settings.set_prepend_module_to_snapshot(false);
    settings.set_omit_expression(true);
    settings.bind(|| insta::assert_snapshot!(snapshot, diagram));
    Ok(())
}
