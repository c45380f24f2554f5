//! What the smoltcp finding tests share: running a case against smoltcp and the rfc9293
//! model, and naming the class its divergence falls in.

use tcpcheck::explore::{run_case_on, Case, Outcome, Pace, Target};
use tcpcheck::stack::Capabilities;
use tcpcheck_model::profile::Profile;
use tcpcheck_smoltcp::findings::classify_run;

/// The case run on smoltcp with every capability it declares, judged by the rfc9293 model.
pub fn run(case: &Case) -> Outcome {
    let target = Target {
        stack: &tcpcheck_smoltcp::FACTORY,
        hide: Capabilities::NONE,
    };
    run_case_on(target, case, &Profile::rfc9293(), Pace::Quick).expect("runs")
}

/// The class the case's divergence falls in ("unclassified" for none); a case smoltcp runs
/// without diverging fails the test, with its script.
pub fn class_of(case: Case) -> &'static str {
    let out = run(&case);
    let found = out
        .found
        .unwrap_or_else(|| panic!("smoltcp does not diverge:\n{}", out.script.text("")));
    classify_run(&found, &case).map_or("unclassified", |c| c.name)
}
