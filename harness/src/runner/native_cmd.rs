//! A backquoted command made only of lines that set the namespace, run without a shell.
//!
//! A third of packetdrill's corpus starts with a two-line command, `` `../common/defaults.sh
//! ../common/set_sysctls.py /proc/sys/net/ipv4/tcp_fastopen=0x207` ``, and ends with
//! `` `/tmp/sysctl_restore_${PPID}.sh` ``. Run by `sh`, that is `sh`, `bash` for defaults.sh and
//! its two dozen `sysctl`s, `python3` and its `cat`s, then `sh` and `bash` again: about 90 ms
//! a script, against 2 ms for a script whose only command is `defaults.sh` (which
//! `native_sh` already runs without a shell). Each line here is done as its program would do
//! it, in the calling thread's namespace:
//! - a settings file (`native_sh::plan`), or a `sysctl` line typed in the command;
//! - packetdrill's `set_sysctls.py` (recognised by its text, not only its name): for each
//!   `/proc/sys/net/...=VALUE`, the current value is kept in
//!   `/tmp/sysctl_restore_${PACKETDRILL_PID}.sh` (in the scenario's private `/tmp`, where the
//!   script's later command looks for it), then the value is written; as in the Python, a
//!   value the kernel refuses is printed and skipped, a file that cannot be read ends it;
//! - that restore file, run: its `echo "VALUE" > /proc/sys/...` lines.
//!
//! The command's outcome is `sh`'s: every line runs, and the status is the last line's.
//! Anything else on any line sends the whole command to `sh`, as before.

use std::io;
use std::path::{Path, PathBuf};

use super::native_sh::{self, Namespace, Op};

/// One line of the command.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Line {
    /// A settings file the line runs, and its lines.
    File(PathBuf, Vec<Op>),
    /// A settings line typed in the command itself.
    Op(Op),
    /// packetdrill's `set_sysctls.py`: `(sysctl name, value)` for each argument.
    SetSysctls(Vec<(String, String)>),
}

/// What the lines need beyond [`Namespace`].
pub trait Host: Namespace {
    /// A sysctl's value as `cat` shows it, whitespace trimmed (`set_sysctls.py`'s `strip()`).
    fn read_sysctl(&mut self, name: &str) -> io::Result<String>;
    /// Writes `set_sysctls.py`'s restore file, executable (`chmod u+x`) when `done`.
    fn write_restore(&mut self, text: &str, done: bool) -> io::Result<()>;
}

/// Marks of packetdrill's `set_sysctls.py` in its text: what it writes and where.
const SET_SYSCTLS_MARKS: [&str; 3] = [
    "sysctl_restore_%s.sh",
    "os.environ['PACKETDRILL_PID']",
    "print('echo \"%s\" > %s' % (cur_val.strip(), sysctl[0]), file=restore_file)",
];

/// The lines of `command`, when every one is understood; `dir` is the script's directory
/// (where `sh` would resolve relative paths), `restore` the private path of
/// `/tmp/sysctl_restore_${PPID}.sh` (`None`: the command does not name it) and `pid` the `${PPID}` a command sees (this process).
pub fn plan(
    command: &str,
    dir: Option<&Path>,
    restore: Option<&Path>,
    pid: u32,
) -> Option<Vec<Line>> {
    let joined = command.replace("\\\n", " ");
    let mut lines = Vec::new();
    for line in joined.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        lines.push(plan_line(line, dir, restore, pid)?);
    }
    (!lines.is_empty()).then_some(lines)
}

fn plan_line(line: &str, dir: Option<&Path>, restore: Option<&Path>, pid: u32) -> Option<Line> {
    let restore_name = format!("/tmp/sysctl_restore_{pid}.sh");
    if line == "/tmp/sysctl_restore_${PPID}.sh" || line == restore_name {
        let (_, ops) = native_sh::plan(&restore?.to_string_lossy(), None)?;
        return Some(Line::File(PathBuf::from(restore_name), ops));
    }
    if !line.contains([' ', '\t']) {
        let (path, ops) = native_sh::plan(line, dir)?;
        return Some(Line::File(path, ops));
    }
    let (program, args) = line.split_once([' ', '\t'])?;
    if program.ends_with("/set_sysctls.py") {
        return set_sysctls(program, args, dir).map(Line::SetSysctls);
    }
    native_sh::parse_line(line).map(Line::Op)
}

/// `set_sysctls.py`'s arguments as sysctls, when `program` is packetdrill's script and each
/// argument is one `/proc/sys/net/...=VALUE` (the Python splits at every `=` and takes the
/// second part: another `=` is left to it).
fn set_sysctls(program: &str, args: &str, dir: Option<&Path>) -> Option<Vec<(String, String)>> {
    let file = match dir {
        Some(d) if !program.starts_with('/') => d.join(program),
        _ => PathBuf::from(program),
    };
    use std::os::unix::fs::PermissionsExt;
    let meta = std::fs::metadata(&file).ok()?;
    if !meta.is_file() || meta.permissions().mode() & 0o111 == 0 || meta.len() > 16 * 1024 {
        return None;
    }
    let text = std::fs::read_to_string(&file).ok()?;
    if !SET_SYSCTLS_MARKS.iter().all(|m| text.contains(m)) {
        return None;
    }
    let mut out = Vec::new();
    for arg in native_sh::words(args)? {
        let (path, value) = arg.split_once('=')?;
        let rest = path.strip_prefix("/proc/sys/net/")?;
        if value.contains('=') || rest.is_empty() || rest.contains("..") {
            return None;
        }
        out.push((format!("net.{}", rest.replace('/', ".")), value.to_string()));
    }
    (!out.is_empty()).then_some(out)
}

/// Runs the lines in order as `sh -c` runs the command: every line runs; the result is the
/// last line's. Err holds what the failed lines printed.
pub fn run(lines: &[Line], host: &mut dyn Host) -> Result<(), String> {
    let mut printed = Vec::new();
    let mut last = Ok(());
    for line in lines {
        last = match line {
            Line::File(_, ops) => native_sh::run(ops, host),
            Line::Op(op) => native_sh::run(std::slice::from_ref(op), host),
            Line::SetSysctls(settings) => set(settings, host),
        };
        if let Err(m) = &last {
            printed.push(m.clone());
        }
    }
    last.map_err(|_| printed.join("\n"))
}

/// `set_sysctls.py`: the restore file first, then each value; a value the kernel refuses is
/// printed (`os.system`'s `echo` fails) and the next goes on; a value that cannot be read
/// ends the program with status 1 (`check_output` raises), its restore file as far as it got.
fn set(settings: &[(String, String)], host: &mut dyn Host) -> Result<(), String> {
    let mut restore = String::from("#!/bin/bash\n");
    let mut printed = Vec::new();
    for (name, value) in settings {
        let path = format!("/proc/sys/{}", name.replace('.', "/"));
        let current = match host.read_sysctl(name) {
            Ok(v) => v,
            Err(e) => {
                let _ = host.write_restore(&restore, false);
                printed.push(format!("cat: {path}: {e}"));
                return Err(format!(
                    "exit status: 1: {}\nsubprocess.CalledProcessError: Command '['cat', \
                     '{path}']' returned non-zero exit status 1.",
                    printed.join("\n")
                ));
            }
        };
        restore.push_str(&format!("echo \"{current}\" > {path}\n"));
        if let Err(e) = host.sysctl(name, value) {
            printed.push(format!("sh: 1: echo: {path}: {e}"));
        }
    }
    host.write_restore(&restore, true)
        .map_err(|e| format!("exit status: 1: cannot write the restore file: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    #[derive(Default)]
    struct Fake {
        values: BTreeMap<String, String>,
        restore: Option<(String, bool)>,
    }

    impl Namespace for Fake {
        fn sysctl(&mut self, name: &str, value: &str) -> io::Result<()> {
            if !self.values.contains_key(name) {
                return Err(io::Error::from(io::ErrorKind::NotFound));
            }
            self.values.insert(name.into(), value.into());
            Ok(())
        }
        fn flush_tcp_metrics(&mut self) -> io::Result<()> {
            Ok(())
        }
        fn add_root_qdisc(&mut self, _: &str, _: &str) -> io::Result<()> {
            Ok(())
        }
    }

    impl Host for Fake {
        fn read_sysctl(&mut self, name: &str) -> io::Result<String> {
            self.values
                .get(name)
                .cloned()
                .ok_or_else(|| io::Error::from(io::ErrorKind::NotFound))
        }
        fn write_restore(&mut self, text: &str, done: bool) -> io::Result<()> {
            self.restore = Some((text.into(), done));
            Ok(())
        }
    }

    /// A directory with packetdrill's layout: `common/` with a settings file and a
    /// `set_sysctls.py` carrying the original's marks, and a script directory beside it.
    fn corpus(name: &str, set_sysctls: &str) -> PathBuf {
        use std::os::unix::fs::PermissionsExt;
        let top =
            std::env::temp_dir().join(format!("tcpcheck-native-cmd-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&top);
        std::fs::create_dir_all(top.join("common")).unwrap();
        std::fs::create_dir_all(top.join("x")).unwrap();
        for (file, text) in [
            (
                "defaults.sh",
                "#!/bin/bash\nsysctl -q net.ipv4.tcp_sack=1\n",
            ),
            ("set_sysctls.py", set_sysctls),
        ] {
            let p = top.join("common").join(file);
            std::fs::write(&p, text).unwrap();
            std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
        }
        top
    }

    fn original() -> String {
        format!("#!/usr/bin/env python3\n{}\n", SET_SYSCTLS_MARKS.join("\n"))
    }

    #[test]
    fn packetdrills_two_line_command_is_understood_and_run() {
        let top = corpus("plan", &original());
        let dir = top.join("x");
        let restore = top.join("restore.sh");
        let cmd = "../common/defaults.sh\n ../common/set_sysctls.py \
                   /proc/sys/net/ipv4/tcp_wmem=\"4096 50000 4194304\" \\\n\
                   /proc/sys/net/ipv4/tcp_fastopen=0x207\n";
        let lines = plan(cmd, Some(&dir), Some(&restore), 7).expect("understood");
        assert_eq!(lines.len(), 2);
        assert_eq!(
            lines[1],
            Line::SetSysctls(vec![
                ("net.ipv4.tcp_wmem".into(), "4096 50000 4194304".into()),
                ("net.ipv4.tcp_fastopen".into(), "0x207".into()),
            ])
        );
        let mut host = Fake::default();
        for (k, v) in [
            ("net.ipv4.tcp_sack", "0"),
            ("net.ipv4.tcp_wmem", "4096\t16384\t4194304"),
            ("net.ipv4.tcp_fastopen", "1"),
        ] {
            host.values.insert(k.into(), v.into());
        }
        assert_eq!(run(&lines, &mut host), Ok(()));
        assert_eq!(host.values["net.ipv4.tcp_sack"], "1");
        assert_eq!(host.values["net.ipv4.tcp_fastopen"], "0x207");
        let (text, done) = host.restore.clone().unwrap();
        assert!(done);
        assert_eq!(
            text,
            "#!/bin/bash\necho \"4096\t16384\t4194304\" > /proc/sys/net/ipv4/tcp_wmem\n\
             echo \"1\" > /proc/sys/net/ipv4/tcp_fastopen\n"
        );
        // The restore file, as the script's last command runs it, sets the values back.
        std::fs::write(&restore, &text).unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&restore, std::fs::Permissions::from_mode(0o744)).unwrap();
        let lines = plan(
            "/tmp/sysctl_restore_${PPID}.sh",
            Some(&dir),
            Some(&restore),
            7,
        )
        .unwrap();
        assert_eq!(run(&lines, &mut host), Ok(()));
        assert_eq!(host.values["net.ipv4.tcp_fastopen"], "1");
        assert!(plan("/tmp/sysctl_restore_7.sh", Some(&dir), Some(&restore), 7).is_some());
        std::fs::remove_dir_all(&top).unwrap();
    }

    #[test]
    fn the_last_line_decides_and_a_missing_value_ends_set_sysctls() {
        let top = corpus("status", &original());
        let dir = top.join("x");
        let restore = top.join("restore.sh");
        let mut host = Fake::default();
        host.values.insert("net.ipv4.tcp_sack".into(), "0".into());
        let cmd =
            "../common/set_sysctls.py /proc/sys/net/ipv4/tcp_nope=1\nsysctl -q net.ipv4.tcp_sack=1";
        let lines = plan(cmd, Some(&dir), Some(&restore), 7).unwrap();
        assert_eq!(run(&lines, &mut host), Ok(()));
        let cmd =
            "sysctl -q net.ipv4.tcp_sack=1\n../common/set_sysctls.py /proc/sys/net/ipv4/tcp_nope=1";
        let lines = plan(cmd, Some(&dir), Some(&restore), 7).unwrap();
        let e = run(&lines, &mut host).unwrap_err();
        assert!(e.contains("CalledProcessError"), "{e}");
        assert_eq!(host.restore, Some(("#!/bin/bash\n".into(), false)));
        std::fs::remove_dir_all(&top).unwrap();
    }

    #[test]
    fn anything_else_goes_to_the_shell() {
        let top = corpus("else", &original());
        let dir = top.join("x");
        let restore = top.join("restore.sh");
        for cmd in [
            "../common/defaults.sh\necho hi",
            "../common/set_sysctls.py /proc/sys/kernel/x=1",
            "../common/set_sysctls.py /proc/sys/net/a=b=c",
            "../common/set_sysctls.py /proc/sys/net/ipv4/x=$HOME",
            "../common/missing.py /proc/sys/net/ipv4/x=1",
            "/tmp/sysctl_restore_8.sh",
            "",
        ] {
            assert_eq!(plan(cmd, Some(&dir), Some(&restore), 7), None, "{cmd}");
        }
        // Another script of the same name is Python's to run.
        let other = corpus("other", "#!/usr/bin/env python3\nprint('hello')\n");
        let cmd = "../common/set_sysctls.py /proc/sys/net/ipv4/x=1";
        assert_eq!(plan(cmd, Some(&other.join("x")), Some(&restore), 7), None);
        std::fs::remove_dir_all(&top).unwrap();
        std::fs::remove_dir_all(&other).unwrap();
    }
}
