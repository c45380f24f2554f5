//! The one way the model's numbers are read from a namespace: the runner, the explorer and
//! the schedule report all build their `linux` profile here, so they judge with the same
//! numbers.
//!
//! Every sysctl the profile needs is read; one that cannot be read is an error naming it,
//! never a silent default (a default would judge a kernel by numbers it may not have).

use std::collections::BTreeMap;
use std::sync::OnceLock;

use tcpcheck_model::profile::Profile;

use crate::sandbox::Sandbox;

/// The `linux` profile with the numbers of `sandbox`'s namespace as they are now.
pub fn read_linux(sandbox: &Sandbox) -> Result<Profile, String> {
    let mut values = BTreeMap::new();
    for name in Profile::LINUX_SYSCTLS {
        let v = sandbox
            .sysctl(name)
            .map_err(|e| format!("cannot read the model's numbers: {e}"))?;
        values.insert(name.to_string(), v);
    }
    Profile::linux(&values).map_err(|e| format!("the model's numbers: {e}"))
}

static FRESH: OnceLock<Profile> = OnceLock::new();

/// [`read_linux`] for a namespace nobody has changed a sysctl in yet. Every fresh namespace
/// starts from the same values (the kernel's per-netns defaults, some copied from the
/// host's, which nothing here changes), so they are read once per process: reading sixteen
/// /proc files cost about as much as the rest of the model's work on an untimed scenario.
pub fn fresh_linux(sandbox: &Sandbox) -> Result<Profile, String> {
    if let Some(p) = FRESH.get() {
        return Ok(p.clone());
    }
    let p = read_linux(sandbox)?;
    Ok(FRESH.get_or_init(|| p).clone())
}

/// The fresh namespace's profile, if [`fresh_linux`] has read it in this process.
pub fn fresh() -> Option<Profile> {
    FRESH.get().cloned()
}

/// `base` with one sysctl a scenario set; a value the profile cannot take is an error
/// naming the sysctl.
pub fn with_sysctl(base: &Profile, name: &str, value: &str) -> Result<Profile, String> {
    let one = BTreeMap::from([(name.to_string(), value.to_string())]);
    base.with_sysctls(&one)
}
