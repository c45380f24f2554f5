//! What the model expects of a series: its schedule (`tcpcheck_model::timers`) for the
//! kind of segment, from what the wire showed when the segment was first sent.

use std::fmt::Write as _;
use std::time::Duration;

use tcpcheck_model::profile::Profile;
use tcpcheck_model::timers::{
    data_schedule_with, loss_probe_timeout, syn_schedule_with, synack_schedule, DataTimers,
    RtoEstimator, Schedule,
};

use super::{SegmentKind, HZ};

/// The schedule the model expects for one series, cut to what the trace can be compared
/// with.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExpectedSchedule {
    /// Nominal intervals, each from the copy before (the first from the original send).
    pub intervals: Vec<Duration>,
    /// When the stack gives up, counted from its last copy.
    pub give_up: Duration,
    /// How many copies the model sends in all, the original included.
    pub sends: usize,
    /// What the schedule was computed from, e.g. `RTO 204 ms`.
    pub basis: String,
    /// Set when the last timer is clamped to a time budget (`TCP_USER_TIMEOUT`): the copy
    /// the budget counts from (index into the sends) and its length. The give-up then
    /// depends on how late the copies before it really were, not on nominal intervals
    /// (Linux `tcp_clamp_rto_to_user_timeout()` measures the real elapsed time).
    pub budget: Option<(usize, Duration)>,
}

impl ExpectedSchedule {
    /// The give-up the model expects after the last of `sends` (trace times): the nominal
    /// one, or what is left of a clamping budget at the observed last copy.
    pub fn give_up_after(&self, sends: &[Duration]) -> Duration {
        match self.budget {
            Some((from, length)) if from < sends.len() && sends.len() == self.sends => {
                let elapsed = sends[sends.len() - 1] - sends[from];
                // Linux: tcp_clamp_rto_to_user_timeout(): the remaining time, or one jiffy
                // once it has passed.
                length
                    .checked_sub(elapsed)
                    .filter(|d| !d.is_zero())
                    .unwrap_or(HZ.jiffy())
            }
            _ => self.give_up,
        }
    }
}

/// What the tracker knew of the connection when a segment was first sent.
pub(super) struct FirstSend<'a> {
    pub kind: SegmentKind,
    /// The RTO estimator fed with the samples the wire showed so far.
    pub rto: &'a RtoEstimator,
    /// SACK was negotiated.
    pub sack: bool,
    /// No earlier data or FIN was outstanding.
    pub oldest: bool,
    /// Segments in flight, this one included.
    pub in_flight: u32,
    /// `TCP_USER_TIMEOUT`, when the script set one.
    pub user_timeout: Option<Duration>,
}

/// The model's schedule for a segment first sent as `first` says, and whether it starts
/// with a tail loss probe (whose copy does not back off).
pub(super) fn for_first_send(
    first: &FirstSend<'_>,
    profile: &Profile,
) -> (Result<ExpectedSchedule, String>, bool) {
    match first.kind {
        SegmentKind::Syn => (
            Ok(expected_from(
                syn_schedule_with(profile, None),
                "initial RTO".into(),
                false,
            )),
            false,
        ),
        SegmentKind::SynAck => (
            Ok(expected_from(
                synack_schedule(profile),
                format!("tcp_synack_retries {}", profile.synack_retries),
                false,
            )),
            false,
        ),
        SegmentKind::Data | SegmentKind::Fin if !first.oldest => (
            Err("sent while earlier data was unacknowledged".into()),
            false,
        ),
        SegmentKind::Data | SegmentKind::Fin => data_expected(first, profile),
    }
}

/// The model's schedule for a data segment or FIN sent now as the only one outstanding.
fn data_expected(
    first: &FirstSend<'_>,
    profile: &Profile,
) -> (Result<ExpectedSchedule, String>, bool) {
    let (rto, sack, in_flight, user_timeout) =
        (first.rto, first.sack, first.in_flight, first.user_timeout);
    let first_rto = rto.rto();
    // Linux: tcp_schedule_loss_probe() arms the probe when the segment is sent.
    let loss_probe = loss_probe_timeout(profile, rto.srtt(), in_flight, sack, first_rto, HZ);
    let timers = DataTimers {
        first_rto,
        // Linux: tcp_write_timeout(): the tcp_retries2 boundary (an orphan's FIN would use
        // tcp_orphan_retries; only the give-up differs, and orphans rarely get that far).
        retries: profile.retries2,
        user_timeout,
        loss_probe,
    };
    let mut basis = format!("RTO {}", millis(first_rto));
    if let Some(srtt) = rto.srtt() {
        let _ = write!(basis, " (SRTT {})", millis(srtt));
    } else {
        basis.push_str(" (no RTT sample)");
    }
    if let Some(p) = loss_probe {
        let _ = write!(basis, ", loss probe {}", millis(p));
    }
    if let Some(u) = user_timeout {
        let _ = write!(
            basis,
            ", user timeout {} from the first retransmission",
            millis(u)
        );
    } else {
        let _ = write!(basis, ", tcp_retries2 {}", profile.retries2);
    }
    (
        Ok(expected_from(
            data_schedule_with(profile, &timers),
            basis,
            user_timeout.is_some(),
        )),
        loss_probe.is_some(),
    )
}

fn millis(d: Duration) -> String {
    let ms = d.as_secs_f64() * 1e3;
    if ms >= 1.0 {
        format!("{ms:.0} ms")
    } else {
        format!("{:.0} µs", ms * 1e3)
    }
}

/// `clamped`: the last timer is cut to the schedule's time budget (a user timeout).
fn expected_from(s: Schedule, basis: String, clamped: bool) -> ExpectedSchedule {
    let mut intervals = s.intervals();
    let give_up = intervals.pop().unwrap_or_default();
    let budget = s
        .budget
        .filter(|_| clamped)
        .and_then(|b| Some((s.sends.iter().position(|&t| t == b.from)?, b.length)));
    ExpectedSchedule {
        intervals,
        give_up,
        sends: s.sends.len(),
        basis,
        budget,
    }
}
