//! Backquoted commands: `sysctl` settings applied natively, anything else only with
//! `--allow-shell`.
//!
//! packetdrill hands every command to `system()` on the host. Here the common case, sysctls,
//! is applied to the sandbox's own namespace without a shell, so a scenario cannot change the
//! host; any other command is a decision the user makes explicitly.

use std::ffi::{CStr, CString};
use std::io::Read;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// The `name=value` pairs of a command made only of `sysctl [-q|-w|-e] name=value...` parts
/// separated by `;`, `&&` or newlines; `None` when any part is something else.
pub fn parse_sysctls(text: &str) -> Option<Vec<(String, String)>> {
    let mut out = Vec::new();
    for part in text.split(['\n', ';']).flat_map(|p| p.split("&&")) {
        let words = shell_words(part.trim())?;
        let Some((first, rest)) = words.split_first() else {
            continue;
        };
        if first != "sysctl" {
            return None;
        }
        let mut settings = 0;
        for w in rest {
            if let Some(flags) = w.strip_prefix('-') {
                if flags.is_empty() || !flags.chars().all(|c| matches!(c, 'q' | 'w' | 'e')) {
                    return None;
                }
                continue;
            }
            let (name, value) = w.split_once('=')?;
            out.push((name.replace('/', "."), value.to_string()));
            settings += 1;
        }
        if settings == 0 {
            return None;
        }
    }
    (!out.is_empty()).then_some(out)
}

/// Splits on blanks, honouring single and double quotes; `None` on anything a shell would
/// expand (`$`, backquotes, redirections, pipes), which makes the command a shell command.
fn shell_words(s: &str) -> Option<Vec<String>> {
    let mut words = Vec::new();
    let mut cur = String::new();
    let mut in_word = false;
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        match c {
            ' ' | '\t' => {
                if in_word {
                    words.push(std::mem::take(&mut cur));
                    in_word = false;
                }
            }
            '\'' | '"' => {
                in_word = true;
                loop {
                    match chars.next()? {
                        q if q == c => break,
                        '$' | '`' | '\\' if c == '"' => return None,
                        other => cur.push(other),
                    }
                }
            }
            '$' | '`' | '\\' | '|' | '>' | '<' | '&' | '(' | ')' | '*' | '?' => return None,
            other => {
                in_word = true;
                cur.push(other);
            }
        }
    }
    if in_word {
        words.push(cur);
    }
    Some(words)
}

/// What a scenario's shell commands see, as under packetdrill: the script's own directory as
/// the working directory (the corpus sources `../common/defaults.sh`), `PACKETDRILL_PID`, and
/// a `/tmp` of the scenario's own.
///
/// packetdrill's scripts keep state in `/tmp` between commands, keyed by packetdrill's pid
/// (`set_sysctls.py` writes `/tmp/sysctl_restore_${PACKETDRILL_PID}.sh`, a later line runs it
/// as `${PPID}`). Scenarios here share one process, so they would share that name and leave the
/// file behind. Each command instead runs in a mount namespace of its own where `/tmp` is this
/// scenario's private directory, which goes when the scenario ends.
///
/// A script that itself lives under `/tmp` would vanish behind that private `/tmp` (and so
/// would its `../common/`): the top directory holding it under `/tmp` is bound into the
/// private one at the same path, so the command sees the same tree and the same `$PWD`.
pub struct ShellEnv {
    dir: Option<PathBuf>,
    tmp: Option<PathBuf>,
    /// The script's top directory under `/tmp` and where it is bound in the private one.
    keep: Option<(CString, CString)>,
}

impl ShellEnv {
    /// For the script at `file` (a path, or a bare name for a script written inline).
    ///
    /// The directory is made absolute now, against the working directory the script was
    /// named from (`x.pkt`, `./x.pkt`, `../tcp/x/y.pkt` are relative to it), so the
    /// commands' directory does not hang on the process's working directory later.
    pub fn for_script(file: &str) -> ShellEnv {
        let parent = Path::new(file).parent().unwrap_or(Path::new(""));
        let dir = if parent.is_absolute() {
            Some(parent.to_path_buf())
        } else {
            std::env::current_dir()
                .ok()
                .map(|cwd| cwd.join(parent))
                .or_else(|| Some(parent.to_path_buf()).filter(|d| !d.as_os_str().is_empty()))
        };
        ShellEnv {
            dir,
            tmp: None,
            keep: None,
        }
    }

    /// The script's directory, where its commands run.
    pub fn dir(&self) -> Option<&Path> {
        self.dir.as_deref()
    }

    /// Where the script's `path` is for the harness: under `/tmp`, in the scenario's private
    /// `/tmp` (where its shell commands wrote); relative, in the script's directory.
    pub fn resolve(&mut self, path: &str) -> Result<PathBuf, String> {
        if let Some(rest) = path.strip_prefix("/tmp/") {
            return Ok(self.tmp()?.join(rest));
        }
        Ok(match &self.dir {
            Some(dir) if !path.starts_with('/') => dir.join(path),
            _ => PathBuf::from(path),
        })
    }

    /// The private `/tmp`, made on the first command that needs it.
    fn tmp(&mut self) -> Result<&Path, String> {
        if self.tmp.is_none() {
            static NEXT: AtomicU64 = AtomicU64::new(0);
            let n = NEXT.fetch_add(1, Ordering::Relaxed);
            let dir = std::env::temp_dir().join(format!("tcpcheck-{}-{n}-tmp", std::process::id()));
            std::fs::create_dir(&dir)
                .map_err(|e| format!("cannot make a private /tmp at {}: {e}", dir.display()))?;
            let top = self
                .dir
                .clone()
                .and_then(|d| d.canonicalize().ok())
                .and_then(|d| {
                    let rest = d.strip_prefix("/tmp").ok()?;
                    let first = rest.components().next()?;
                    Some(Path::new("/tmp").join(first))
                });
            if let Some(top) = top {
                let name = top.file_name().unwrap_or_default();
                let at = dir.join(name);
                std::fs::create_dir(&at)
                    .map_err(|e| format!("cannot make {}: {e}", at.display()))?;
                let c = |p: &Path| CString::new(p.as_os_str().as_bytes()).ok();
                self.keep = c(&top).zip(c(&at));
            }
            self.tmp = Some(dir);
        }
        Ok(self.tmp.as_deref().expect("just made"))
    }
}

impl Drop for ShellEnv {
    fn drop(&mut self) {
        if let Some(tmp) = self.tmp.take() {
            let _ = std::fs::remove_dir_all(tmp);
        }
    }
}

/// Gives the child a mount namespace of its own with `tmp` bound over `/tmp`. Runs between
/// fork and exec, so it only makes system calls on strings prepared before the fork.
fn private_tmp(tmp: &CStr, keep: Option<&(CString, CString)>) -> std::io::Result<()> {
    let root = c"/";
    let target = c"/tmp";
    // SAFETY: plain system calls on NUL-terminated strings that outlive the call.
    unsafe {
        if libc::unshare(libc::CLONE_NEWNS) != 0 {
            return Err(std::io::Error::last_os_error());
        }
        // Private first, so the bind below does not propagate back to the host's mounts.
        let private = libc::MS_REC | libc::MS_PRIVATE;
        if libc::mount(
            std::ptr::null(),
            root.as_ptr(),
            std::ptr::null(),
            private,
            std::ptr::null(),
        ) != 0
        {
            return Err(std::io::Error::last_os_error());
        }
        if let Some((top, at)) = keep {
            if libc::mount(
                top.as_ptr(),
                at.as_ptr(),
                std::ptr::null(),
                libc::MS_BIND | libc::MS_REC,
                std::ptr::null(),
            ) != 0
            {
                return Err(std::io::Error::last_os_error());
            }
        }
        if libc::mount(
            tmp.as_ptr(),
            target.as_ptr(),
            std::ptr::null(),
            libc::MS_BIND | libc::MS_REC,
            std::ptr::null(),
        ) != 0
        {
            return Err(std::io::Error::last_os_error());
        }
    }
    Ok(())
}

/// Runs `program` with `python3` as [`run_shell`] runs a command (the script's directory,
/// a private `/tmp`, the deadline): packetdrill's code blocks.
pub fn run_python(program: &str, deadline: Duration, env: &mut ShellEnv) -> Result<(), String> {
    let path = env.tmp()?.join("tcpcheck-code.py");
    std::fs::write(&path, program)
        .map_err(|e| format!("cannot write the code blocks to {}: {e}", path.display()))?;
    // The private /tmp is bound over /tmp in the child.
    run_shell("python3 /tmp/tcpcheck-code.py", deadline, env)
}

/// Runs `sh -c text` from the calling thread, so the child starts in the thread's network
/// namespace, and kills it at the deadline. Err holds what to report.
pub fn run_shell(text: &str, deadline: Duration, env: &mut ShellEnv) -> Result<(), String> {
    let tmp = env.tmp()?;
    let tmp = CString::new(tmp.as_os_str().as_bytes())
        .map_err(|_| format!("the private /tmp {} has a NUL in its name", tmp.display()))?;
    let mut command = Command::new("sh");
    command
        .arg("-c")
        .arg(text)
        .env("PACKETDRILL_PID", std::process::id().to_string())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    if let Some(dir) = &env.dir {
        command.current_dir(dir);
    }
    // SAFETY: the hook only makes system calls (see private_tmp), as pre_exec requires.
    let keep = env.keep.clone();
    unsafe {
        command.pre_exec(move || private_tmp(&tmp, keep.as_ref()));
    }
    let mut child = command
        .spawn()
        .map_err(|e| format!("cannot start `sh` in a private /tmp: {e}"))?;
    let give_up = Instant::now() + deadline;
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if Instant::now() >= give_up => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!("still running after {deadline:?}; killed"));
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(1)),
            Err(e) => return Err(format!("waiting for `sh`: {e}")),
        }
    };
    if status.success() {
        return Ok(());
    }
    let mut output = String::new();
    for pipe in [
        child.stderr.take().map(|p| Box::new(p) as Box<dyn Read>),
        child.stdout.take().map(|p| Box::new(p) as Box<dyn Read>),
    ]
    .into_iter()
    .flatten()
    {
        let mut pipe = pipe;
        let _ = pipe.read_to_string(&mut output);
    }
    Err(format!("{status}: {}", output.trim()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sysctl_forms() {
        assert_eq!(
            parse_sysctls("sysctl -q net.ipv4.tcp_timestamps=0"),
            Some(vec![("net.ipv4.tcp_timestamps".into(), "0".into())])
        );
        assert_eq!(
            parse_sysctls(
                "sysctl -w net.ipv4.tcp_sack=0; sysctl -q net/ipv4/tcp_rmem=\"4096 8192 16384\""
            ),
            Some(vec![
                ("net.ipv4.tcp_sack".into(), "0".into()),
                ("net.ipv4.tcp_rmem".into(), "4096 8192 16384".into()),
            ])
        );
        assert_eq!(parse_sysctls("sysctl -q net.x=1 && echo hi"), None);
        assert_eq!(parse_sysctls("sysctl -q net.x=$(id)"), None);
        assert_eq!(parse_sysctls("tc qdisc add dev tun0 root fq"), None);
        assert_eq!(parse_sysctls("sysctl -a"), None);
    }
}
