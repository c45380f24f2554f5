//! What a shell command does to the way out of the stack, read from its `tc` commands: the
//! model follows a stack whose segments reach the wire at once and in order, so it stops
//! (reports "off") only for a command that changes that, and says which and why.
//!
//! tun0's queueing discipline is on the way: a first-in first-out queue the harness empties
//! as fast as the stack fills it (`pfifo`, `bfifo`, `pfifo_fast`, `noqueue`, the namespace's
//! default again after `tc qdisc del ... root`) changes nothing the model follows. `fq` paces
//! each flow at its pacing rate (packetdrill's `tc qdisc replace dev tun0 root fq`), `netem`
//! delays, drops and reorders, a `limit 0` drops everything (packetdrill's emulated host
//! congestion), a shaper holds segments to a rate, classes and filters divert or police: none
//! of these is in the model. Reading (`tc qdisc show`), another device (only tun0 carries the
//! script's traffic) and text that merely mentions a qdisc change nothing. A `tc` command
//! whose words the shell would expand cannot be read, and stops the model, as does one in a
//! shell file the command runs, read the same way.

use std::path::Path;

/// The device the sandbox's traffic crosses (`sandbox::Sandbox`'s TUN).
const DEV: &str = "tun0";

/// First-in first-out disciplines: what goes in comes out in order, at once while the
/// harness reads the TUN.
const FIFOS: [&str; 5] = ["pfifo", "bfifo", "pfifo_fast", "pfifo_head_drop", "noqueue"];

/// How deep a command running a shell file is followed into files it runs in turn.
const DEPTH: u32 = 3;

/// Why the model cannot follow the stack after `text` runs (in `dir`, the script's own
/// directory), naming the command; `None` when nothing the model follows changes.
pub fn unfollowed(text: &str, dir: Option<&Path>) -> Option<String> {
    unfollowed_in(text, dir, DEPTH)
}

fn unfollowed_in(text: &str, dir: Option<&Path>, depth: u32) -> Option<String> {
    for command in simple_commands(text) {
        let words = words(&command);
        let Some((first, rest)) = words.split_first() else {
            continue;
        };
        let program = first.rsplit('/').next().unwrap_or(first);
        if program == "tc" {
            if let Some(why) = tc(&command, rest) {
                return Some(why);
            }
            continue;
        }
        // A shell file run by the command: its own `tc` lines count.
        let file = match program {
            "sh" | "bash" | "dash" | "." | "source" => rest.iter().find(|w| !w.starts_with('-')),
            _ => Some(first),
        };
        if let (Some(file), true) = (file, depth > 0) {
            if let Some(why) = in_file(file, dir, depth - 1) {
                return Some(why);
            }
        }
    }
    None
}

/// The `tc` lines of a shell file `file` (relative to `dir`) the command runs.
fn in_file(file: &str, dir: Option<&Path>, depth: u32) -> Option<String> {
    let path = match dir {
        Some(d) if !file.starts_with('/') => d.join(file),
        _ => Path::new(file).to_path_buf(),
    };
    // Only a small text file can be a script of settings; a program is not read.
    let meta = std::fs::metadata(&path).ok()?;
    if !meta.is_file() || meta.len() > 64 * 1024 {
        return None;
    }
    let text = std::fs::read_to_string(&path).ok()?;
    let why = unfollowed_in(&text, path.parent(), depth)?;
    Some(format!("{why}, run by {}", path.display()))
}

/// The simple commands of a shell text: split at newlines, `;`, `&&`, `||`, `|`, `&`, with
/// comments dropped. (Quotes are not tracked across these: a quoted `;` in a `tc` command
/// would make it unreadable, which is the careful side.)
fn simple_commands(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    // A backslash-newline continues the line.
    let joined = text.replace("\\\n", " ");
    for line in joined.lines() {
        let line = match line.find('#') {
            Some(i) if line[..i].chars().last().is_none_or(char::is_whitespace) => &line[..i],
            _ => line,
        };
        for part in line.split([';', '&', '|']) {
            let part = part.trim();
            if !part.is_empty() {
                out.push(part.to_string());
            }
        }
    }
    out
}

/// Blank-separated words with quotes removed and redirections (`2>/dev/null`) dropped.
fn words(command: &str) -> Vec<String> {
    command
        .split_whitespace()
        .filter(|w| {
            !w.trim_start_matches(|c: char| c.is_ascii_digit())
                .starts_with(['>', '<'])
        })
        .map(|w| w.replace(['\'', '"'], ""))
        .collect()
}

/// Whether `word` is `full` or a prefix of it at least `min` long, as tc's `matches()` takes
/// its objects and commands.
fn abbreviates(word: &str, full: &str, min: usize) -> bool {
    word.len() >= min && full.starts_with(word)
}

/// Why a `tc` command (its arguments `args`) stops the model, if it does.
fn tc(command: &str, args: &[String]) -> Option<String> {
    let unreadable = |what: &str| {
        Some(format!(
            "`{command}` {what}: what it does to {DEV}'s queueing discipline cannot be told, and the model \
             does not follow a queue that can hold, drop or reorder what the stack sends"
        ))
    };
    if command.contains(['$', '`']) {
        return unreadable("has words the shell expands");
    }
    let mut args = args.iter().map(String::as_str).peekable();
    // Options before the object; -batch and -force read commands from elsewhere.
    while let Some(o) = args.peek().copied().filter(|a| a.starts_with('-')) {
        if abbreviates(o.trim_start_matches('-'), "batch", 1) {
            return unreadable("reads its commands from a file");
        }
        args.next();
    }
    let object = args.next()?;
    let cmd = args.next().unwrap_or("show");
    let reads = ["show", "list", "ls", "get"]
        .iter()
        .any(|c| abbreviates(cmd, c, 1))
        || cmd == "help";
    if reads {
        return None;
    }
    let rest: Vec<&str> = args.collect();
    let dev = rest
        .iter()
        .position(|w| *w == "dev")
        .and_then(|i| rest.get(i + 1))
        .copied();
    if dev.is_some_and(|d| d != DEV) {
        // lo and any other device carry none of the script's traffic.
        return None;
    }
    if abbreviates(object, "qdisc", 1) {
        return qdisc(command, cmd, &rest);
    }
    if abbreviates(object, "class", 1)
        || abbreviates(object, "filter", 1)
        || abbreviates(object, "action", 1)
    {
        return Some(format!(
            "`{command}` changes {DEV}'s classes, filters or actions, which can divert, \
             police or drop what the stack sends; the model does not follow them"
        ));
    }
    None
}

/// Why `tc qdisc CMD REST` stops the model, if it does.
fn qdisc(command: &str, cmd: &str, rest: &[&str]) -> Option<String> {
    let mut root = false;
    let mut kind = None;
    let mut params: Vec<&str> = Vec::new();
    let mut words = rest.iter().copied();
    while let Some(w) = words.next() {
        match w {
            "dev" | "parent" | "handle" | "estimator" | "stab" | "ingress_block"
            | "egress_block" => {
                words.next();
            }
            "root" => root = true,
            _ if kind.is_none() => kind = Some(w),
            _ => params.push(w),
        }
    }
    let deleting = abbreviates(cmd, "delete", 3);
    if deleting && root {
        // The namespace's default discipline again, which the model followed from the start.
        return None;
    }
    let kind = kind.unwrap_or("");
    if matches!(kind, "ingress" | "clsact") {
        // Inbound hooks: only filters added to them act, and those stop the model.
        return None;
    }
    let off = |why: String| Some(format!("`{command}`: {why}; the model does not follow it"));
    if deleting || !root {
        return off(format!(
            "a discipline below {DEV}'s root (a classful root's child) shapes or reorders"
        ));
    }
    let limit = params
        .iter()
        .position(|w| *w == "limit")
        .and_then(|i| params.get(i + 1))
        .copied();
    match kind {
        k if FIFOS.contains(&k) => match limit {
            Some("0") => off(format!(
                "{DEV}'s queueing discipline becomes {k} limit 0, which drops every segment the stack sends \
                 (packetdrill's emulated congested host)"
            )),
            _ => None,
        },
        "fq" => off(format!(
            "{DEV}'s queueing discipline becomes fq, which paces each flow's segments at its pacing rate \
             (sk_pacing_rate) instead of sending them at once"
        )),
        "netem" => off(format!(
            "{DEV}'s queueing discipline becomes netem, which delays, drops, duplicates or reorders segments"
        )),
        "" => off(format!("a change to {DEV}'s queueing discipline whose kind is not named")),
        k => off(format!(
            "{DEV}'s queueing discipline becomes {k}, not a first-in first-out queue: it may hold, reorder \
             or drop segments"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn off(text: &str) -> Option<String> {
        unfollowed(text, None)
    }

    #[test]
    fn fifos_reads_and_other_devices_change_nothing_the_model_follows() {
        for text in [
            "tc qdisc add dev tun0 root pfifo",
            "tc qdisc replace dev tun0 root pfifo limit 1000",
            "tc qdisc replace dev tun0 root pfifo_fast",
            "tc -s qdisc show dev tun0",
            "tc qdisc",
            "tc qdisc ls",
            "tc qdisc delete dev tun0 root 2>/dev/null",
            "tc qdisc replace dev lo root fq",
            "tc qdisc add dev tun0 ingress",
            "echo qdisc > /dev/null",
            "sysctl -q net.core.default_qdisc=fq # not a tc command",
            "ip link set dev tun0 mtu 1500",
        ] {
            assert_eq!(off(text), None, "{text}");
        }
    }

    #[test]
    fn what_holds_drops_or_reorders_is_named() {
        let fq = off("../common/x.sh\ntc qdisc replace dev tun0 root fq\nsysctl -q a=1").unwrap();
        assert!(fq.contains("fq, which paces"), "{fq}");
        assert!(
            fq.starts_with("`tc qdisc replace dev tun0 root fq`"),
            "{fq}"
        );
        let zero = off(
            "tc qdisc delete dev tun0 root 2>/dev/null ; tc qdisc add dev tun0 root \
                        pfifo limit 0",
        )
        .unwrap();
        assert!(
            zero.contains("pfifo limit 0, which drops every segment"),
            "{zero}"
        );
        assert!(off("tc qdisc replace dev tun0 root pfifo limit 0").is_some());
        assert!(off("/sbin/tc qd add dev tun0 root netem delay 10ms")
            .unwrap()
            .contains("netem"));
        assert!(
            off("tc qdisc add dev tun0 root tbf rate 1mbit burst 32k latency 400ms")
                .unwrap()
                .contains("becomes tbf")
        );
        assert!(off("tc qdisc add dev tun0 parent 1:1 pfifo").is_some());
        assert!(off(
            "tc filter add dev tun0 parent ffff: protocol ip u32 match u32 0 0 action drop"
        )
        .unwrap()
        .contains("filters"));
        assert!(off("tc qdisc add dev $DEV root fq")
            .unwrap()
            .contains("the shell expands"));
        assert!(off("tc -batch cmds.txt").unwrap().contains("from a file"));
    }

    #[test]
    fn a_shell_file_the_command_runs_is_read_too() {
        let dir = std::env::temp_dir().join(format!("tcpcheck-qdisc-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("common")).unwrap();
        std::fs::write(
            dir.join("common").join("fq.sh"),
            "#!/bin/sh\n# pacing on\ntc qdisc replace dev tun0 root fq\n",
        )
        .unwrap();
        std::fs::write(
            dir.join("common").join("fifo.sh"),
            "#!/bin/sh\ntc qdisc add dev tun0 root pfifo\n",
        )
        .unwrap();
        let sub = dir.join("sub");
        std::fs::create_dir_all(&sub).unwrap();
        let why = unfollowed("../common/fq.sh", Some(&sub)).expect("fq in the file");
        assert!(
            why.contains("fq, which paces") && why.contains("run by"),
            "{why}"
        );
        assert!(unfollowed("sh ../common/fq.sh", Some(&sub)).is_some());
        assert_eq!(unfollowed("../common/fifo.sh", Some(&sub)), None);
        assert_eq!(unfollowed("../common/missing.sh", Some(&sub)), None);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
