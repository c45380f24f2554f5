//! Per-namespace sysctls.
//!
//! Files under /proc/sys/net resolve to the network namespace of the thread that opens them,
//! so reading and writing them from a thread inside the sandbox touches only the sandbox. The
//! values read back configure the model, so a scenario that changes one changes what the model
//! expects.

use std::fs;
use std::io;
use std::path::PathBuf;

/// Names only the `net.` tree: anything else is global to the machine and off limits.
fn path(name: &str) -> io::Result<PathBuf> {
    let valid = name.starts_with("net.")
        && name
            .split('.')
            .all(|part| !part.is_empty() && part != ".." && !part.contains('/'));
    if !valid {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("sysctl `{name}`: only per-namespace `net.*` sysctls can be set"),
        ));
    }
    Ok(PathBuf::from("/proc/sys").join(name.replace('.', "/")))
}

pub fn read(name: &str) -> io::Result<String> {
    let p = path(name)?;
    fs::read_to_string(&p)
        .map(|s| s.trim_end().to_string())
        .map_err(|e| io::Error::new(e.kind(), format!("sysctl `{name}`: {e}")))
}

/// Writes `value` and reads it back, returning what the kernel kept (it may clamp).
pub fn write(name: &str, value: &str) -> io::Result<String> {
    set(name, value)?;
    read(name)
}

/// Writes `value` without reading it back.
pub fn set(name: &str, value: &str) -> io::Result<()> {
    let p = path(name)?;
    fs::write(&p, value)
        .map_err(|e| io::Error::new(e.kind(), format!("sysctl `{name}` = `{value}`: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_names_outside_net() {
        assert!(path("kernel.hostname").is_err());
        assert!(path("net.ipv4.tcp_syn_retries").is_ok());
        assert!(path("net.ipv4/../../kernel").is_err());
        assert!(path("net..x").is_err());
    }
}
