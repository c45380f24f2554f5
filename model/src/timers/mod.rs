//! Timers: RFC 6298 retransmission timeout and the retransmission schedules of each profile.
