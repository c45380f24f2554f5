//! Stand-in for the `timers` module while it is being written: the simplest RFC 6298
//! behaviour, to be replaced by `crate::timers`.

use std::time::Duration;

use crate::profile::Profile;

#[derive(Clone, Copy, Debug)]
pub struct TimeWindow {
    pub earliest: Duration,
    pub latest: Duration,
}

pub fn timer_tolerance(nominal: Duration) -> TimeWindow {
    let jiffy = Duration::from_millis(4);
    let slack = (nominal / 8).max(Duration::from_millis(4));
    TimeWindow {
        earliest: nominal.saturating_sub(jiffy),
        latest: nominal + 2 * jiffy + slack,
    }
}

#[derive(Clone, Debug)]
pub struct Schedule {
    pub sends: Vec<Duration>,
    pub give_up: Duration,
}

pub fn syn_schedule(p: &Profile) -> Schedule {
    let mut sends = vec![Duration::ZERO];
    let mut t = Duration::ZERO;
    let mut rto = p.rto_initial;
    for i in 0..p.syn_retries {
        t += rto;
        sends.push(t);
        if i + 1 >= p.syn_linear_timeouts {
            rto = (rto * 2).min(p.rto_max);
        }
    }
    Schedule {
        sends,
        give_up: t + rto,
    }
}

pub fn synack_schedule(p: &Profile) -> Schedule {
    let mut sends = vec![Duration::ZERO];
    let mut t = Duration::ZERO;
    let mut rto = p.rto_initial;
    for _ in 0..p.synack_retries {
        t += rto;
        sends.push(t);
        rto = (rto * 2).min(p.rto_max);
    }
    Schedule {
        sends,
        give_up: t + rto,
    }
}

#[derive(Clone, Debug)]
pub struct RtoEstimator {
    rto: Duration,
    srtt: Option<Duration>,
    rttvar: Duration,
    min: Duration,
    max: Duration,
}

impl RtoEstimator {
    pub fn new(p: &Profile) -> RtoEstimator {
        RtoEstimator {
            rto: p.rto_initial,
            srtt: None,
            rttvar: Duration::ZERO,
            min: p.rto_min,
            max: p.rto_max,
        }
    }
    pub fn on_ack(&mut self, rtt: Duration, retransmitted: bool) {
        if retransmitted {
            return;
        }
        match self.srtt {
            None => {
                self.srtt = Some(rtt);
                self.rttvar = rtt / 2;
            }
            Some(srtt) => {
                let diff = srtt.abs_diff(rtt);
                self.rttvar = self.rttvar * 3 / 4 + diff / 4;
                self.srtt = Some(srtt * 7 / 8 + rtt / 8);
            }
        }
        let srtt = self.srtt.unwrap_or_default();
        self.rto =
            (srtt + (self.rttvar * 4).max(Duration::from_millis(1))).clamp(self.min, self.max);
    }
    pub fn on_timeout(&mut self) {}
    pub fn backed_off(&self, count: u32) -> Duration {
        self.rto.saturating_mul(1u32 << count.min(16)).min(self.max)
    }
}
