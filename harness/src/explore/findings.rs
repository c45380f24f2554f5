//! Findings: a campaign's divergences sorted into classes by a stable signature, so that a
//! stack with many divergences keeps being explored, each class shrunk once, and the result
//! read as a table (class, rule, cases hit, bundle) rather than a list of cases.
//!
//! The signature is what a divergence is about, not how a case got there: the rule the model
//! cites, the connection's state before the event, and the kind of event (the control bits
//! of the segment injected, or the call). Two cases of one class are the same finding; the
//! first case of a class is shrunk and bundled, the others only counted.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Mutex;

use crate::differ::Trigger;

use super::driver::Found;

/// A divergence's signature.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Class {
    /// The rule, as the model cites it.
    pub rule: String,
    /// The model's state before the event (`opening` for the opening calls).
    pub state: String,
    /// The kind of event: `< F.` for a segment with those control bits, `abort`, `call`.
    pub event: String,
}

impl Class {
    /// The class of `found`.
    pub fn of(found: &Found) -> Class {
        Class {
            rule: found.rule.to_string(),
            state: match found.step {
                Some(_) => found.state.to_string(),
                None => "opening".to_string(),
            },
            event: match found.trigger {
                Trigger::Segment(flags) => format!("< {}", flags_text(flags)),
                Trigger::Abort => "abort".to_string(),
                Trigger::Icmp => "< icmp".to_string(),
                Trigger::Other => "call".to_string(),
            },
        }
    }
}

/// Control bits as packetdrill writes them (`S.`, `F.`, `R`, `P.`).
fn flags_text(flags: tcpcheck_model::wire::TcpFlags) -> String {
    let mut s = String::new();
    for (bit, c) in [
        (flags.syn(), 'S'),
        (flags.fin(), 'F'),
        (flags.rst(), 'R'),
        (flags.psh(), 'P'),
    ] {
        if bit {
            s.push(c);
        }
    }
    if flags.ack() {
        s.push('.');
    }
    s
}

impl fmt::Display for Class {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} in {} after {}", self.rule, self.state, self.event)
    }
}

/// One class as the campaign saw it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Finding {
    /// Cases whose divergence is of this class.
    pub hits: u64,
    /// The case shrunk for the class (the first to reach it).
    pub case: Option<u64>,
}

/// The classes of a campaign, shared by its worker threads.
#[derive(Debug, Default)]
pub struct Findings {
    classes: Mutex<BTreeMap<Class, Finding>>,
}

impl Findings {
    /// Counts a case of `class`; true when it is the first, which is then the class's case
    /// to shrink.
    pub fn claim(&self, class: &Class, case: u64) -> bool {
        let mut classes = self.classes.lock().expect("findings lock");
        let f = classes.entry(class.clone()).or_default();
        f.hits += 1;
        if f.case.is_none() {
            f.case = Some(case);
            true
        } else {
            false
        }
    }

    /// Gives the class back when its claimed case did not end as a finding (its divergence
    /// did not come back on replay): the next case of the class is shrunk instead.
    pub fn release(&self, class: &Class, case: u64) {
        let mut classes = self.classes.lock().expect("findings lock");
        if let Some(f) = classes.get_mut(class) {
            f.hits = f.hits.saturating_sub(1);
            if f.case == Some(case) {
                f.case = None;
            }
            if f.hits == 0 {
                classes.remove(class);
            }
        }
    }

    /// Every class seen, in order.
    pub fn table(&self) -> BTreeMap<Class, Finding> {
        self.classes.lock().expect("findings lock").clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn class(rule: &str) -> Class {
        Class {
            rule: rule.into(),
            state: "ESTABLISHED".into(),
            event: "< F.".into(),
        }
    }

    #[test]
    fn the_first_case_of_a_class_is_its_case_and_the_rest_are_counted() {
        let f = Findings::default();
        assert!(f.claim(&class("a"), 7));
        assert!(!f.claim(&class("a"), 9));
        assert!(f.claim(&class("b"), 8));
        let t = f.table();
        assert_eq!(
            t[&class("a")],
            Finding {
                hits: 2,
                case: Some(7)
            }
        );
        assert_eq!(t[&class("b")].hits, 1);
    }

    #[test]
    fn a_released_class_goes_to_its_next_case() {
        let f = Findings::default();
        assert!(f.claim(&class("a"), 7));
        f.release(&class("a"), 7);
        assert!(f.table().is_empty());
        assert!(f.claim(&class("a"), 9));
        assert_eq!(f.table()[&class("a")].case, Some(9));
    }

    #[test]
    fn flags_read_as_packetdrill_writes_them() {
        use tcpcheck_model::wire::TcpFlags;
        let fa = TcpFlags(TcpFlags::FIN.0 | TcpFlags::ACK.0);
        assert_eq!(flags_text(fa), "F.");
        assert_eq!(flags_text(TcpFlags::RST), "R");
        assert_eq!(
            flags_text(TcpFlags(TcpFlags::SYN.0 | TcpFlags::ACK.0)),
            "S."
        );
    }
}
