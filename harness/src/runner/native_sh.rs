//! Shell script files made only of namespace settings, run without a shell.
//!
//! packetdrill's corpus starts nearly every script with `` `../common/defaults.sh` ``: two
//! dozen `sysctl -q` lines, an `ip tcp_metrics flush all` and a `tc qdisc add`. Run by `sh`,
//! that is some twenty-five processes, tens of milliseconds on an idle machine and over a
//! hundred on a loaded one: most of a script's fixed cost. A file made only of such lines is
//! run here instead, each line as the program it names would run it (the same system calls
//! and netlink requests, in the calling thread's namespace), with the shell's rule for the
//! outcome: the file's status is its last command's, and earlier failures are only printed.
//!
//! Anything else in the file (another program, a variable, a pipe, a redirection other than
//! to `/dev/null`, control flow) and the file runs with `sh` as before. So a file runs
//! natively only when its every line is understood, and then with the outcome `sh` gives.

use std::io;
use std::path::{Path, PathBuf};

/// One command line of the file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Op {
    /// `sysctl [-q] [-w] [-e] name=value...`: each written in turn; with `-e`, a name the
    /// kernel does not have is not an error (procps `--ignore`).
    Sysctl {
        settings: Vec<(String, String)>,
        ignore_unknown: bool,
    },
    /// `ip tcp_metrics flush all`.
    FlushTcpMetrics,
    /// `tc qdisc add dev DEV root KIND`, for a kind whose `tc` sends no options.
    AddRootQdisc { dev: String, kind: String },
}

/// What a command needs done to the namespace; the runner supplies it (the stack's sysctls,
/// the sandbox's netlink requests).
pub trait Namespace {
    fn sysctl(&mut self, name: &str, value: &str) -> io::Result<()>;
    fn flush_tcp_metrics(&mut self) -> io::Result<()>;
    fn add_root_qdisc(&mut self, dev: &str, kind: &str) -> io::Result<()>;
}

/// The file `command` runs and what is in it, when `command` is just the path of an
/// executable file (relative to `dir`, the script's directory, as `sh` would resolve it
/// there) made only of lines [`Op`] knows; `None` sends the command to `sh`.
pub fn plan(command: &str, dir: Option<&Path>) -> Option<(PathBuf, Vec<Op>)> {
    let path = command.trim();
    if path.is_empty() || !path.contains('/') || path.chars().any(|c| !is_path_char(c)) {
        return None;
    }
    let file = match dir {
        Some(d) if !path.starts_with('/') => d.join(path),
        _ => PathBuf::from(path),
    };
    use std::os::unix::fs::PermissionsExt;
    let meta = std::fs::metadata(&file).ok()?;
    // Not executable: `sh` reports the error.
    if !meta.is_file() || meta.permissions().mode() & 0o111 == 0 {
        return None;
    }
    let text = std::fs::read_to_string(&file).ok()?;
    Some((file, parse_file(&text)?))
}

fn is_path_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '/' | '.' | '_' | '-' | '+' | ',')
}

/// The commands of a whole file; `None` if any line is beyond [`Op`].
pub fn parse_file(text: &str) -> Option<Vec<Op>> {
    let mut lines = text.lines();
    let first = lines.next()?;
    let shell = first
        .strip_prefix("#!")
        .map(str::trim)
        .is_some_and(|s| matches!(s, "/bin/sh" | "/bin/bash" | "/usr/bin/env bash"));
    if !shell {
        return None;
    }
    let mut ops = Vec::new();
    for line in lines {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        ops.push(parse_line(line)?);
    }
    Some(ops)
}

pub(super) fn parse_line(line: &str) -> Option<Op> {
    if let Some(op) = echo_to_sysctl(line) {
        return Some(op);
    }
    let words = words(line)?;
    let w: Vec<&str> = words.iter().map(String::as_str).collect();
    match w.as_slice() {
        ["ip", "tcp_metrics", "flush", "all"] => Some(Op::FlushTcpMetrics),
        // tc's fifo kinds send no options unless given a limit.
        ["tc", "qdisc", "add", "dev", dev, "root", kind @ ("pfifo" | "bfifo")] => {
            Some(Op::AddRootQdisc {
                dev: dev.to_string(),
                kind: kind.to_string(),
            })
        }
        ["sysctl", rest @ ..] => {
            let mut settings = Vec::new();
            let mut ignore_unknown = false;
            for word in rest {
                if let Some(flags) = word.strip_prefix('-') {
                    if flags.is_empty() || !flags.chars().all(|c| matches!(c, 'q' | 'w' | 'e')) {
                        return None;
                    }
                    ignore_unknown |= flags.contains('e');
                    continue;
                }
                let (name, value) = word.split_once('=')?;
                if name.is_empty() {
                    return None;
                }
                settings.push((name.replace('/', "."), value.to_string()));
            }
            (!settings.is_empty()).then_some(Op::Sysctl {
                settings,
                ignore_unknown,
            })
        }
        _ => None,
    }
}

/// `echo VALUE > /proc/sys/net/...` (the lines of `set_sysctls.py`'s restore file): the
/// sysctl written, as `sysctl` would (the kernel reads the value the same without the
/// newline `echo` adds).
fn echo_to_sysctl(line: &str) -> Option<Op> {
    let (left, target) = line.rsplit_once('>')?;
    let target = target.trim();
    let rest = target.strip_prefix("/proc/sys/net/")?;
    if rest.is_empty() || rest.contains("..") || !target.chars().all(is_path_char) {
        return None;
    }
    let words = words(left.trim_end())?;
    let (echo, value) = words.split_first()?;
    if echo != "echo" || value.is_empty() || value.iter().any(|w| w.starts_with('-')) {
        return None;
    }
    Some(Op::Sysctl {
        settings: vec![(format!("net.{}", rest.replace('/', ".")), value.join(" "))],
        ignore_unknown: false,
    })
}

/// A line's words after quote removal and arithmetic expansion (`$((...))`), with
/// redirections to `/dev/null` dropped (the output goes nowhere here either); `None` on
/// anything else a shell would interpret.
pub(super) fn words(line: &str) -> Option<Vec<String>> {
    let chars: Vec<char> = line.chars().collect();
    let mut words = Vec::new();
    let mut cur = String::new();
    let mut in_word = false;
    // Whether the current word has had a quote (so `2` before `>` is a descriptor only bare).
    let mut quoted = false;
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        match c {
            ' ' | '\t' => {
                if in_word {
                    words.push(std::mem::take(&mut cur));
                    in_word = false;
                    quoted = false;
                }
                i += 1;
            }
            '\'' => {
                in_word = true;
                quoted = true;
                i += 1;
                loop {
                    let q = *chars.get(i)?;
                    i += 1;
                    if q == '\'' {
                        break;
                    }
                    cur.push(q);
                }
            }
            '"' => {
                in_word = true;
                quoted = true;
                i += 1;
                loop {
                    let q = *chars.get(i)?;
                    match q {
                        '"' => {
                            i += 1;
                            break;
                        }
                        '$' => {
                            let (value, next) = arithmetic(&chars, i)?;
                            cur.push_str(&value.to_string());
                            i = next;
                        }
                        '`' | '\\' => return None,
                        _ => {
                            cur.push(q);
                            i += 1;
                        }
                    }
                }
            }
            '$' => {
                let (value, next) = arithmetic(&chars, i)?;
                in_word = true;
                cur.push_str(&value.to_string());
                i = next;
            }
            '>' => {
                // `>`, `>>`, `N>` with N a bare descriptor number, then `&N` or a file.
                if in_word {
                    if quoted || !cur.chars().all(|d| d.is_ascii_digit()) {
                        return None;
                    }
                    cur.clear();
                    in_word = false;
                }
                i += 1;
                if chars.get(i) == Some(&'>') {
                    i += 1;
                }
                if chars.get(i) == Some(&'&') {
                    i += 1;
                    let start = i;
                    while chars.get(i).is_some_and(|d| d.is_ascii_digit()) {
                        i += 1;
                    }
                    if i == start {
                        return None;
                    }
                } else {
                    while matches!(chars.get(i), Some(' ' | '\t')) {
                        i += 1;
                    }
                    let start = i;
                    while chars.get(i).is_some_and(|&d| is_path_char(d)) {
                        i += 1;
                    }
                    let target: String = chars[start..i].iter().collect();
                    if target != "/dev/null" {
                        return None;
                    }
                }
                if !matches!(chars.get(i), None | Some(' ' | '\t')) {
                    return None;
                }
            }
            '`' | '\\' | '|' | '<' | '&' | ';' | '(' | ')' | '*' | '?' | '[' | '{' | '}' | '~'
            | '#' | '!' => return None,
            other => {
                in_word = true;
                cur.push(other);
                i += 1;
            }
        }
    }
    if in_word {
        words.push(cur);
    }
    Some(words)
}

/// `$((expr))` at `chars[at]`: its value and the index after it. Integers, `+ - * / %` and
/// parentheses, as bash computes them (64-bit, division toward zero); `None` on anything
/// else, on overflow and on division by zero.
fn arithmetic(chars: &[char], at: usize) -> Option<(i64, usize)> {
    if chars.get(at..at + 3)? != ['$', '(', '('] {
        return None;
    }
    let mut depth = 0usize;
    let mut end = at + 3;
    loop {
        match chars.get(end)? {
            '(' => depth += 1,
            ')' if depth > 0 => depth -= 1,
            ')' => break,
            _ => {}
        }
        end += 1;
    }
    if chars.get(end + 1) != Some(&')') {
        return None;
    }
    let expr: Vec<char> = chars[at + 3..end]
        .iter()
        .copied()
        .filter(|c| !c.is_whitespace())
        .collect();
    let mut p = Arith { s: &expr, i: 0 };
    let v = p.sum()?;
    (p.i == expr.len()).then_some((v, end + 2))
}

struct Arith<'a> {
    s: &'a [char],
    i: usize,
}

impl Arith<'_> {
    fn sum(&mut self) -> Option<i64> {
        let mut v = self.product()?;
        while let Some(&op @ ('+' | '-')) = self.s.get(self.i) {
            self.i += 1;
            let r = self.product()?;
            v = if op == '+' {
                v.checked_add(r)?
            } else {
                v.checked_sub(r)?
            };
        }
        Some(v)
    }

    fn product(&mut self) -> Option<i64> {
        let mut v = self.unary()?;
        while let Some(&op @ ('*' | '/' | '%')) = self.s.get(self.i) {
            self.i += 1;
            let r = self.unary()?;
            v = match op {
                '*' => v.checked_mul(r)?,
                '/' => v.checked_div(r)?,
                _ => v.checked_rem(r)?,
            };
        }
        Some(v)
    }

    fn unary(&mut self) -> Option<i64> {
        match self.s.get(self.i)? {
            '-' => {
                self.i += 1;
                self.unary()?.checked_neg()
            }
            '+' => {
                self.i += 1;
                self.unary()
            }
            '(' => {
                self.i += 1;
                let v = self.sum()?;
                (self.s.get(self.i) == Some(&')')).then_some(())?;
                self.i += 1;
                Some(v)
            }
            _ => {
                let start = self.i;
                while self.s.get(self.i).is_some_and(char::is_ascii_digit) {
                    self.i += 1;
                }
                // A leading 0 is octal to bash: left to bash.
                let digits: String = self.s[start..self.i].iter().collect();
                if digits.is_empty() || (digits.len() > 1 && digits.starts_with('0')) {
                    return None;
                }
                digits.parse().ok()
            }
        }
    }
}

/// Runs `ops` in order on `ns` as `sh` runs the file: every line runs, a failure is printed
/// and the next line runs; the result is the last line's. Err holds what the failed lines
/// printed, as `sh` would have shown it.
pub fn run(ops: &[Op], ns: &mut dyn Namespace) -> Result<(), String> {
    let mut printed = Vec::new();
    let mut last_ok = true;
    for op in ops {
        last_ok = match op {
            Op::Sysctl {
                settings,
                ignore_unknown,
            } => {
                let mut ok = true;
                for (name, value) in settings {
                    if let Err(e) = ns.sysctl(name, value) {
                        if *ignore_unknown && e.kind() == io::ErrorKind::NotFound {
                            continue;
                        }
                        printed.push(format!("sysctl: setting key \"{name}\": {e}"));
                        ok = false;
                    }
                }
                ok
            }
            Op::FlushTcpMetrics => match ns.flush_tcp_metrics() {
                Ok(()) => true,
                Err(e) => {
                    printed.push(format!("ip tcp_metrics flush all: {e}"));
                    false
                }
            },
            Op::AddRootQdisc { dev, kind } => match ns.add_root_qdisc(dev, kind) {
                Ok(()) => true,
                Err(e) => {
                    printed.push(format!(
                        "tc qdisc add dev {dev} root {kind}: RTNETLINK answers: {e}"
                    ));
                    false
                }
            },
        };
    }
    if last_ok {
        Ok(())
    } else {
        Err(format!("exit status: 1: {}", printed.join("\n")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DEFAULTS: &str = "#!/bin/bash\n\
        # comment\n\
        ip tcp_metrics flush all > /dev/null 2>&1\n\
        \n\
        sysctl -q net.ipv4.tcp_rmem=\"4096 540000 $((15*1024*1024))\"\n\
        sysctl -q net.ipv4.tcp_early_retrans=4 net.ipv4.tcp_recovery=1\n\
        sysctl -q net.ipv4.tcp_notsent_lowat=4294967295 > /dev/null 2>&1\n\
        sysctl -q net.ipv4.tcp_fastopen=0x70403\n\
        tc qdisc add dev tun0 root pfifo\n";

    #[test]
    fn a_settings_file_is_understood() {
        let ops = parse_file(DEFAULTS).unwrap();
        assert_eq!(ops[0], Op::FlushTcpMetrics);
        assert_eq!(
            ops[1],
            Op::Sysctl {
                settings: vec![("net.ipv4.tcp_rmem".into(), "4096 540000 15728640".into())],
                ignore_unknown: false
            }
        );
        assert_eq!(
            ops[2],
            Op::Sysctl {
                settings: vec![
                    ("net.ipv4.tcp_early_retrans".into(), "4".into()),
                    ("net.ipv4.tcp_recovery".into(), "1".into())
                ],
                ignore_unknown: false
            }
        );
        assert_eq!(
            ops[5],
            Op::AddRootQdisc {
                dev: "tun0".into(),
                kind: "pfifo".into()
            }
        );
        assert_eq!(ops.len(), 6);
    }

    #[test]
    fn a_restore_files_echo_lines_are_sysctls() {
        let ops =
            parse_file("#!/bin/bash\necho \"4096 16384\" > /proc/sys/net/ipv4/tcp_wmem\n").unwrap();
        assert_eq!(
            ops,
            [Op::Sysctl {
                settings: vec![("net.ipv4.tcp_wmem".into(), "4096 16384".into())],
                ignore_unknown: false
            }]
        );
        for line in [
            "echo 1 > /proc/sys/kernel/x",
            "echo -n 1 > /proc/sys/net/x",
            "echo 1 > /proc/sys/net/../../kernel/x",
            "echo 1 >> /tmp/x",
            "cat 1 > /proc/sys/net/x",
        ] {
            assert_eq!(parse_file(&format!("#!/bin/sh\n{line}\n")), None, "{line}");
        }
    }

    #[test]
    fn anything_else_goes_to_the_shell() {
        for line in [
            "echo hi",
            "sysctl -q net.x=$HOME",
            "sysctl -q net.x=1 | cat",
            "sysctl -q net.x=1 > /tmp/out",
            "sysctl -q net.x=1; reboot",
            "sysctl -q net.x=`id`",
            "sysctl -a",
            "sysctl net.ipv4.tcp_sack",
            "sysctl -q net.x=$((010))",
            "sysctl -q net.x=$((1/0))",
            "tc qdisc add dev tun0 root fq",
            "ip tcp_metrics flush 192.0.2.1",
            "if true; then sysctl -q net.x=1; fi",
        ] {
            let file = format!("#!/bin/sh\n{line}\n");
            assert_eq!(parse_file(&file), None, "{line}");
        }
        assert_eq!(parse_file("sysctl -q net.x=1\n"), None, "no shebang");
        assert_eq!(parse_file("#!/usr/bin/python3\nsysctl -q net.x=1\n"), None);
    }

    #[test]
    fn arithmetic_as_bash_computes_it() {
        let eval = |s: &str| {
            let c: Vec<char> = s.chars().collect();
            arithmetic(&c, 0).map(|(v, _)| v)
        };
        assert_eq!(eval("$((256*1024))"), Some(262_144));
        assert_eq!(eval("$(( (1 + 2) * -3 ))"), Some(-9));
        assert_eq!(eval("$((7/2 - 7%2))"), Some(2));
        assert_eq!(eval("$((9223372036854775807+1))"), None);
        assert_eq!(eval("$((x))"), None);
    }

    struct Fake {
        done: Vec<String>,
    }

    impl Namespace for Fake {
        fn sysctl(&mut self, name: &str, value: &str) -> io::Result<()> {
            if name.contains("missing") {
                return Err(io::Error::from(io::ErrorKind::NotFound));
            }
            self.done.push(format!("{name}={value}"));
            Ok(())
        }
        fn flush_tcp_metrics(&mut self) -> io::Result<()> {
            self.done.push("flush".into());
            Ok(())
        }
        fn add_root_qdisc(&mut self, dev: &str, kind: &str) -> io::Result<()> {
            if dev != "tun0" {
                return Err(io::Error::from_raw_os_error(libc::ENODEV));
            }
            self.done.push(format!("qdisc {kind}"));
            Ok(())
        }
    }

    #[test]
    fn the_last_command_decides_as_in_sh() {
        let mut ns = Fake { done: vec![] };
        let ops = parse_file(
            "#!/bin/sh\nsysctl -q net.missing=1\nsysctl -q net.a=1\ntc qdisc add dev tun0 root pfifo\n",
        )
        .unwrap();
        assert_eq!(run(&ops, &mut ns), Ok(()));
        assert_eq!(ns.done, ["net.a=1", "qdisc pfifo"]);
        let ops =
            parse_file("#!/bin/sh\nsysctl -q net.a=1\ntc qdisc add dev eth9 root pfifo\n").unwrap();
        let e = run(&ops, &mut ns).unwrap_err();
        assert!(
            e.starts_with("exit status: 1: tc qdisc add dev eth9"),
            "{e}"
        );
        let ops = parse_file("#!/bin/sh\nsysctl -e -q net.missing=1\n").unwrap();
        assert_eq!(run(&ops, &mut ns), Ok(()));
        let ops = parse_file("#!/bin/sh\nsysctl -q net.missing=1\n").unwrap();
        assert!(run(&ops, &mut ns).is_err());
    }
}
