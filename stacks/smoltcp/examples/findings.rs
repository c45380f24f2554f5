//! The findings table for smoltcp: an explorer campaign on smoltcp against the `rfc9293`
//! profile, each divergence put in its class of `tcpcheck_smoltcp::findings` (or left
//! unclassified, by rule and state), one line per class with its RFC rule, judgement, cases
//! hit and the first case index (`explore --stack smoltcp --profile rfc9293 --seed S --case N`
//! replays it).
//!
//! `cargo run --release -p tcpcheck-smoltcp --example findings -- [CASES] [SEED] [EVENTS]`
//! (events per case at most, 12 by default as the command line's `--events`)

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::Duration;

use tcpcheck::explore::{self, campaign, Case, Config, Found, Target};
use tcpcheck::stack::Capabilities;
use tcpcheck_model::profile::ProfileKind;
use tcpcheck_smoltcp::findings::{classify, Judgement};

fn main() -> Result<(), String> {
    let mut args = std::env::args().skip(1);
    let cases = args.next().and_then(|a| a.parse().ok()).unwrap_or(20_000);
    let seed = args.next().and_then(|a| a.parse().ok()).unwrap_or(1);
    let max_events = args.next().and_then(|a| a.parse().ok()).unwrap_or(12);
    let config = Config {
        profile: ProfileKind::Rfc9293,
        seed,
        cases,
        jobs: 2,
        max_events,
        // Classes, not minimal cases: no shrinking.
        shrink_time: Duration::ZERO,
        target: Target {
            stack: &tcpcheck_smoltcp::FACTORY,
            hide: Capabilities::NONE,
        },
        ..Config::default()
    };
    // Class name (or "unclassified: rule in state") -> (judgement, rule, cases, first index).
    let table: Mutex<BTreeMap<String, (String, String, u64, u64)>> = Mutex::default();
    let empty = Case {
        setup: explore::Setup {
            passive: false,
            v6: false,
            peer_isn: 0,
            mss: None,
            sack: false,
            wscale: None,
            ts: false,
        },
        events: Vec::new(),
    };
    let note = |index: u64, found: &Found, case: &Case| {
        let (name, judgement, rule) = match classify(found, case) {
            Some(c) => (
                c.name.to_string(),
                match c.judgement {
                    Judgement::Departure => "departure",
                    Judgement::DocumentedChoice => "documented choice",
                }
                .to_string(),
                c.rule.to_string(),
            ),
            None => (
                format!("unclassified: {:?}: {}", found.state, found.rule),
                "not judged".to_string(),
                found.rule.clone(),
            ),
        };
        let mut t = table.lock().expect("table");
        let e = t.entry(name).or_insert((judgement, rule, 0, index));
        e.2 += 1;
        e.3 = e.3.min(index);
    };
    let summary = explore::run(&config, &|r| match &r.verdict {
        campaign::Verdict::Known(_, f) => note(r.index, f, &empty),
        campaign::Verdict::Unexplained {
            original, minimal, ..
        } => note(r.index, original, minimal),
        campaign::Verdict::Unconfirmed { found, case, .. } => note(r.index, found, case),
        _ => {}
    })?;
    let mut rows: Vec<_> = table.into_inner().expect("table").into_iter().collect();
    rows.sort_by_key(|(_, (_, _, n, _))| std::cmp::Reverse(*n));
    println!("| class | judgement | cases | first case | RFC rule |\n|---|---|---|---|---|");
    for (name, (judgement, rule, n, first)) in rows {
        println!("| {name} | {judgement} | {n} | {first} | {rule} |");
    }
    println!(
        "\n{} cases (seed {seed}): {} passed, {} diverged, {} harness errors",
        summary.cases,
        summary.passed,
        summary.cases - summary.passed - summary.errors - summary.not_applicable,
        summary.errors
    );
    Ok(())
}
