//! Backquoted commands: `sysctl` settings applied natively, anything else only with
//! `--allow-shell`.
//!
//! packetdrill hands every command to `system()` on the host. Here the common case, sysctls,
//! is applied to the sandbox's own namespace without a shell, so a scenario cannot change the
//! host; any other command is a decision the user makes explicitly.

use std::io::Read;
use std::process::{Command, Stdio};
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

/// Runs `sh -c text` from the calling thread, so the child starts in the thread's network
/// namespace, and kills it at the deadline. Err holds what to report.
pub fn run_shell(text: &str, deadline: Duration) -> Result<(), String> {
    let mut child = Command::new("sh")
        .arg("-c")
        .arg(text)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot start `sh`: {e}"))?;
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
