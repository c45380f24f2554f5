//! What the smoltcp finding tests share: running a case against smoltcp and the rfc9293
//! model, and naming the class its divergence falls in.

use tcpcheck::explore::{run_case_on, Case, Pace, Target};
use tcpcheck::stack::Capabilities;
use tcpcheck_model::profile::Profile;
use tcpcheck_smoltcp::findings::classify;

/// The class the case's divergence falls in ("unclassified" for none); a case smoltcp runs
/// without diverging fails the test, with its script.
pub fn class_of(case: Case) -> &'static str {
    let target = Target {
        stack: &tcpcheck_smoltcp::FACTORY,
        hide: Capabilities::NONE,
    };
    let out = run_case_on(target, &case, &Profile::rfc9293(), Pace::Quick).expect("runs");
    let found = out
        .found
        .unwrap_or_else(|| panic!("smoltcp does not diverge:\n{}", out.script.text("")));
    classify(&found, &case).map_or("unclassified", |c| c.name)
}
