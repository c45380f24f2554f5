//! The kernel's `SO_TIMESTAMPING` software timestamps read back on the script's clock, as
//! packetdrill's `scm_timestamping_expect_eq()` checks them: each expected timestamp that is
//! not zero must be the kernel's within the script's tolerance.

/// The wall clock (`CLOCK_REALTIME`, which software timestamps use) against the script's,
/// read at one instant.
#[derive(Clone, Copy, Debug)]
pub(super) struct ScriptClock {
    /// Wall-clock microseconds at the script's start.
    start_wall_us: i64,
    tolerance_us: i64,
}

impl ScriptClock {
    /// `script_now_us`: the script's time now.
    pub(super) fn now(script_now_us: i64, tolerance_us: i64) -> ScriptClock {
        let wall = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_micros() as i64);
        ScriptClock {
            start_wall_us: wall - script_now_us,
            tolerance_us,
        }
    }

    /// `data`: a `struct scm_timestamping` (three `timespec`s) the kernel wrote; its first
    /// timestamp against `expected_us` of script time.
    pub(super) fn check(&self, expected_us: i64, data: &[u8]) -> Result<(), String> {
        const TIMESPEC: usize = std::mem::size_of::<libc::timespec>();
        if data.len() != 3 * TIMESPEC {
            return Err(format!(
                "bad scm_timestamping length: {} bytes, expected {}",
                data.len(),
                3 * TIMESPEC
            ));
        }
        if expected_us == 0 {
            return Ok(());
        }
        let word = |i: usize| i64::from_ne_bytes(data[i * 8..i * 8 + 8].try_into().expect("8"));
        let actual_us = word(0) * 1_000_000 + word(1) / 1000 - self.start_wall_us;
        if (actual_us - expected_us).abs() > self.tolerance_us {
            return Err(format!(
                "bad timestamp 0 in scm_timestamping: expected {:.6} s, actual {:.6} s of script \
                 time (tolerance {} us)",
                expected_us as f64 / 1e6,
                actual_us as f64 / 1e6,
                self.tolerance_us
            ));
        }
        Ok(())
    }
}
