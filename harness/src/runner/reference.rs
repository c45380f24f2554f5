//! How a scenario's verdict combines the script's expectations with the model's, for the
//! stack's [`Reference`] (README, "Verdicts for a stack that is not Linux").
//!
//! The corpus's scripts describe Linux. For Linux the script is the verdict and the model's
//! view is reported beside it. For any other stack the model's `rfc9293` profile is the
//! reference: the runner checks a script's outbound lines only in the fields RFC 9293 fixes
//! (`packet::Fields::RfcFixed`) and lets the stack's own timers decide when its segments
//! come; then
//!
//! | script | model | verdict |
//! |---|---|---|
//! | pass | agrees (or off) | pass |
//! | any | diverges | fail: the model's rule |
//! | fails on what the model judges (flags, sequence and acknowledgment numbers, lengths, a segment missing, a judged call) | agrees | not applicable (needs linux-choices): the RFC allows what the stack did |
//! | fails on what the model judges | off | fail: nothing else judges a fixed field |
//! | fails on a call's result or return time the model does not judge | agrees or off | not applicable (needs linux-choices): the API is not the RFC's |
//! | fails on anything else (checksum, payload bytes, a call that hung) | agrees or off | fail |

use crate::differ::ModelVerdict;
use crate::runner::report::model_judged;
use crate::runner::{Check, Divergence, Verdict};
use crate::stack::{documented, Capability, Choice, Reference};

/// Names the model's divergence for the stack, and returns the model's view as the verdict
/// is to take it. For another stack than the scripts' reference, Linux's known deviations
/// say nothing (the label goes), and a divergence the stack documents as its choice is
/// labelled with the choice's name and taken as agreement: not a defect.
pub fn label(reference: Reference, choices: &[Choice], model: &mut ModelVerdict) -> ModelVerdict {
    if reference == Reference::Scripts {
        return model.clone();
    }
    let ModelVerdict::Diverge(d) = model else {
        return model.clone();
    };
    let state = d.state.map(|s| s.to_string());
    d.deviation = documented(choices, &d.rule.to_string(), state.as_deref()).map(|c| c.name);
    if d.deviation.is_some() {
        ModelVerdict::Agree
    } else {
        model.clone()
    }
}

/// The verdict of a run whose script ended with `script`, the model with `model`, on a
/// stack whose reference is `reference`; `strict_model` as `--strict-model`.
pub fn combine(
    reference: Reference,
    script: Verdict,
    model: &ModelVerdict,
    strict_model: bool,
) -> Verdict {
    let model_fails = strict_model || reference == Reference::Rfc9293;
    match (script, model) {
        (Verdict::Pass, ModelVerdict::Diverge(d)) if model_fails => Verdict::Fail(Divergence {
            line: d.line,
            expected: d.expected.clone(),
            actual: d.actual.clone(),
            message: match reference {
                Reference::Scripts => format!("the model diverges (--strict-model): {}", d.rule),
                Reference::Rfc9293 => format!("the model diverges: {}", d.rule),
            },
            check: Check::Other,
        }),
        (Verdict::Fail(d), model) if reference == Reference::Rfc9293 => {
            let linux_choice = Verdict::NotApplicable {
                line: d.line,
                needs: Capability::LinuxChoices,
            };
            match (model, &d.check) {
                (ModelVerdict::Diverge(_), _) => Verdict::Fail(d),
                (ModelVerdict::Agree, _) if model_judged(&d) => linux_choice,
                (_, Check::CallReturn { judged: false, .. } | Check::Time { outbound: false }) => {
                    linux_choice
                }
                _ => Verdict::Fail(d),
            }
        }
        (v, _) => v,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::differ::{Departure, ModelDivergence, Owed, Sent, Trigger};

    fn fail(check: Check) -> Verdict {
        Verdict::Fail(Divergence {
            line: 7,
            expected: "> . 1:1(0) ack 11".into(),
            actual: "nothing by 2.2 sec".into(),
            message: "x".into(),
            check,
        })
    }

    fn diverge() -> ModelVerdict {
        ModelVerdict::Diverge(ModelDivergence {
            line: 7,
            at: std::time::Duration::ZERO,
            rule: "RFC 9293 3.10.7.4".into(),
            expected: "an ACK".into(),
            actual: "nothing".into(),
            departure: Box::new(Departure {
                owed: Owed::Other,
                sent: Sent::Nothing,
            }),
            connection: None,
            state: None,
            event: String::new(),
            trigger: Trigger::Other,
            deviation: None,
            after: None,
            passive: false,
            unscaled: false,
        })
    }

    #[test]
    fn a_documented_choice_is_labelled_and_no_failure() {
        const CHOICE: Choice = Choice {
            name: "example-choice",
            source: "a test",
            rule: "RFC 9293 3.10.7.4",
            states: &[],
        };
        let mut m = diverge();
        let judged = label(Reference::Rfc9293, &[CHOICE], &mut m);
        assert_eq!(judged, ModelVerdict::Agree);
        assert!(matches!(&m, ModelVerdict::Diverge(d) if d.deviation == Some("example-choice")));
        assert_eq!(
            combine(Reference::Rfc9293, Verdict::Pass, &judged, false),
            Verdict::Pass
        );
        // Not documented: the divergence stands, without Linux's label.
        let mut m = diverge();
        if let ModelVerdict::Diverge(d) = &mut m {
            d.deviation = Some("a-linux-deviation");
        }
        let judged = label(Reference::Rfc9293, &[], &mut m);
        assert!(matches!(&judged, ModelVerdict::Diverge(d) if d.deviation.is_none()));
        // Linux keeps its labels.
        let mut m = diverge();
        assert_eq!(label(Reference::Scripts, &[CHOICE], &mut m), diverge());
    }

    const NA: Verdict = Verdict::NotApplicable {
        line: 7,
        needs: Capability::LinuxChoices,
    };

    #[test]
    fn linux_keeps_the_script_as_its_verdict() {
        let r = Reference::Scripts;
        assert_eq!(combine(r, Verdict::Pass, &diverge(), false), Verdict::Pass);
        let f = fail(Check::NoPacket);
        assert_eq!(combine(r, f.clone(), &ModelVerdict::Agree, false), f);
        assert!(matches!(
            combine(r, Verdict::Pass, &diverge(), true),
            Verdict::Fail(d) if d.message.starts_with("the model diverges (--strict-model)")
        ));
    }

    #[test]
    fn elsewhere_the_model_judges() {
        let r = Reference::Rfc9293;
        let agree = ModelVerdict::Agree;
        let off = ModelVerdict::Off("not asked for".into());
        assert!(matches!(
            combine(r, Verdict::Pass, &diverge(), false),
            Verdict::Fail(d) if d.message.starts_with("the model diverges: ")
        ));
        assert_eq!(combine(r, Verdict::Pass, &agree, false), Verdict::Pass);
        // A fixed field the model judged and allowed: Linux's choice, not a defect.
        assert_eq!(combine(r, fail(Check::NoPacket), &agree, false), NA);
        assert_eq!(
            combine(r, fail(Check::Field("tcp_ack_seq")), &agree, false),
            NA
        );
        // ... and one it did not allow, or with nobody else to judge it: a failure.
        let f = fail(Check::Field("tcp_seq"));
        assert_eq!(combine(r, f.clone(), &diverge(), false), f);
        assert_eq!(combine(r, f.clone(), &off, false), f);
        // The API's answers and a blocking call's return time are not the RFC's.
        let call = fail(Check::CallReturn {
            call: "bind".into(),
            judged: false,
        });
        assert_eq!(combine(r, call, &off, false), NA);
        assert_eq!(
            combine(r, fail(Check::Time { outbound: false }), &agree, false),
            NA
        );
        // A bad checksum or payload is nobody's choice.
        let other = fail(Check::Other);
        assert_eq!(combine(r, other.clone(), &agree, false), other);
    }
}
