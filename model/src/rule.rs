//! A rule as the model cites it: which document, where in it, which RFC 9293 Appendix B
//! labels, and what it says. Obligations, choices and divergences carry one, so a harness
//! tells rules apart by value (`rule == &rules::RETRANSMISSION`, `rule.is(Source::Rfc(5961),
//! "3.2")`), and people read its [`Display`](fmt::Display): "RFC 9293 3.8.1: MUST-18,
//! retransmission when the RFC 6298 timer expires".

use core::fmt;

/// The document a rule comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Source {
    /// An RFC, by number.
    Rfc(u16),
    /// The Linux kernel's TCP, where it narrows or departs from the RFCs; the section is
    /// the function.
    Linux,
    /// POSIX.1-2017, for what socket calls return; the section is the call.
    Posix,
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Source::Rfc(n) => write!(f, "RFC {n}"),
            Source::Linux => f.write_str("Linux"),
            Source::Posix => f.write_str("POSIX.1-2017"),
        }
    }
}

/// A requirement label of RFC 9293 Appendix B ("MUST-18"); a test checks each one the
/// catalogue cites against the appendix.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Label {
    Must(u8),
    Shld(u8),
    May(u8),
    Rec(u8),
}

impl fmt::Display for Label {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Label::Must(n) => write!(f, "MUST-{n}"),
            Label::Shld(n) => write!(f, "SHLD-{n}"),
            Label::May(n) => write!(f, "MAY-{n}"),
            Label::Rec(n) => write!(f, "REC-{n}"),
        }
    }
}

/// A rule: shown as `{source} {section}[ ({aside})][: {labels}][: or , {says}]`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Rule {
    pub source: Source,
    /// The section ("3.10.7.4"), or for Linux the function ("tcp_check_req").
    pub section: &'static str,
    /// A parenthesis after the section: how strongly the source says it.
    pub aside: &'static str,
    pub labels: &'static [Label],
    /// What the rule says, or what of it applies here; may be empty.
    pub says: &'static str,
}

impl Rule {
    pub const fn rfc(number: u16, section: &'static str) -> Rule {
        Rule::of(Source::Rfc(number), section)
    }

    pub const fn linux(function: &'static str) -> Rule {
        Rule::of(Source::Linux, function)
    }

    pub const fn posix(calls: &'static str) -> Rule {
        Rule::of(Source::Posix, calls)
    }

    const fn of(source: Source, section: &'static str) -> Rule {
        Rule {
            source,
            section,
            aside: "",
            labels: &[],
            says: "",
        }
    }

    pub const fn aside(self, aside: &'static str) -> Rule {
        Rule { aside, ..self }
    }

    pub const fn labels(self, labels: &'static [Label]) -> Rule {
        Rule { labels, ..self }
    }

    pub const fn says(self, says: &'static str) -> Rule {
        Rule { says, ..self }
    }

    /// Whether this rule comes from `section` of `source` (whatever it says there).
    pub fn is(&self, source: Source, section: &str) -> bool {
        self.source == source && self.section == section
    }
}

impl fmt::Display for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.source, self.section)?;
        if !self.aside.is_empty() {
            write!(f, " ({})", self.aside)?;
        }
        for (i, label) in self.labels.iter().enumerate() {
            let sep = if i == 0 { ": " } else { ", " };
            write!(f, "{sep}{label}")?;
        }
        if !self.says.is_empty() {
            let sep = if self.labels.is_empty() { ": " } else { ", " };
            write!(f, "{sep}{}", self.says)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shows_as_cited() {
        let r = Rule::rfc(9293, "3.6.1").labels(&[Label::May(1), Label::Shld(3)]);
        assert_eq!(r.to_string(), "RFC 9293 3.6.1: MAY-1, SHLD-3");
        let r = Rule::rfc(9293, "3.8.1")
            .labels(&[Label::Must(18)])
            .says("retransmission");
        assert_eq!(r.to_string(), "RFC 9293 3.8.1: MUST-18, retransmission");
        let r = Rule::rfc(2018, "4").aside("SHOULD").says("SACK");
        assert_eq!(r.to_string(), "RFC 2018 4 (SHOULD): SACK");
        assert_eq!(Rule::linux("tcp_x").to_string(), "Linux tcp_x");
        assert!(r.is(Source::Rfc(2018), "4") && !r.is(Source::Rfc(2018), "2"));
    }
}
