//! `tcpcheck doctor` as root and as other users, run as the built binary.
//!
//! The tests need root to switch users (`setpriv`, from util-linux) and skip otherwise. What
//! a non-root user can do depends on the machine, so the expectations are derived from it:
//! whether nobody may create a user namespace (asked of util-linux's `unshare`) and whether it
//! may open /dev/net/tun (asked of the shell, which honours ACLs as the kernel does).

use std::fs;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

const BIN: &str = env!("CARGO_BIN_EXE_tcpcheck");
const NOBODY: &str = "65534";
const TUN: &str = "/dev/net/tun";

fn is_root() -> bool {
    nix::unistd::geteuid().is_root()
}

/// Runs `program args`, returning `None` if the program does not exist.
fn run(program: &str, args: &[&str]) -> Option<Output> {
    Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .ok()
}

fn succeeds(program: &str, args: &[&str]) -> bool {
    run(program, args).is_some_and(|o| o.status.success())
}

/// `setpriv` arguments that run the rest as nobody with no supplementary groups.
fn as_nobody<'a>(rest: &[&'a str]) -> Vec<&'a str> {
    let mut args = vec!["--reuid", NOBODY, "--regid", NOBODY, "--clear-groups"];
    args.extend_from_slice(rest);
    args
}

/// Why a test cannot run here, or `None` if it can.
fn cannot_switch_users() -> Option<&'static str> {
    if !is_root() {
        return Some("needs root to run the binary as another user");
    }
    if !succeeds("setpriv", &["--version"]) {
        return Some("needs setpriv (util-linux)");
    }
    None
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn show(out: &Output) -> String {
    format!(
        "status {:?}\n--- stdout\n{}--- stderr\n{}",
        out.status.code(),
        text(&out.stdout),
        text(&out.stderr)
    )
}

/// A scratch directory everybody can enter, removed on drop.
struct Scratch(PathBuf);

impl Scratch {
    fn new(tag: &str) -> Scratch {
        let dir = std::env::temp_dir().join(format!("tcpcheck-{tag}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        fs::set_permissions(&dir, fs::Permissions::from_mode(0o755)).unwrap();
        Scratch(dir)
    }

    /// A world-readable copy of `src` (executable if `mode` says so).
    fn copy(&self, src: &Path, mode: u32) -> String {
        let dst = self.0.join(src.file_name().unwrap());
        fs::copy(src, &dst).unwrap();
        fs::set_permissions(&dst, fs::Permissions::from_mode(mode)).unwrap();
        dst.to_str().unwrap().to_string()
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

/// The binary, or a copy nobody can execute if the build directory is closed to it.
fn binary_for_nobody(scratch: &Scratch) -> String {
    if succeeds("setpriv", &as_nobody(&[BIN, "--version"])) {
        BIN.to_string()
    } else {
        scratch.copy(Path::new(BIN), 0o755)
    }
}

/// A packet file from the seed corpus, copied where nobody can read it.
fn seed_for_nobody(scratch: &Scratch) -> String {
    let seed = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../corpus/fuzz/segment/kernel-v4-syn-ack.bin");
    scratch.copy(&seed, 0o644)
}

fn assert_round_trips_pass(stdout: &str, out: &Output) {
    for family in ["ipv4", "ipv6"] {
        let line = stdout
            .lines()
            .find(|l| l.starts_with(&format!("ok   {family} round trip: ")))
            .unwrap_or_else(|| panic!("no passing {family} round trip\n{}", show(out)));
        assert!(
            line.contains("answered by RST+ACK, ack 1001, in ") && line.contains(" µs: "),
            "{line}"
        );
        assert!(line.contains("Flags [R.]"), "{line}");
    }
    assert!(stdout.contains("ok   namespace cleanup: "), "{}", show(out));
}

#[test]
fn doctor_as_root_passes() {
    if !is_root() {
        eprintln!("skipped: needs root");
        return;
    }
    let out = run(BIN, &["doctor"]).unwrap();
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{}", show(&out));
    assert!(
        stdout.starts_with("ok   privilege: running as root\n"),
        "{}",
        show(&out)
    );
    assert!(stdout.contains("ok   /dev/net/tun: "), "{}", show(&out));
    assert!(stdout.contains("ok   sandbox: "), "{}", show(&out));
    assert_round_trips_pass(&stdout, &out);
    assert!(!stdout.contains("FAIL"), "{}", show(&out));
    // Root of the initial user namespace has CAP_SYS_NICE.
    assert!(
        stdout.contains("ok   real-time priority: "),
        "{}",
        show(&out)
    );
}

/// `RLIMIT_RTPRIO`'s soft limit: the real-time priority a process may take without
/// `CAP_SYS_NICE` in the initial user namespace.
fn rtprio_limit() -> u64 {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: fills a local rlimit.
    if unsafe { libc::getrlimit(libc::RLIMIT_RTPRIO, &mut lim) } != 0 {
        return 0;
    }
    lim.rlim_cur
}

/// Root of a child user namespace (as under `unshare --map-root-user` or in a rootless
/// container) starts in a network namespace it could leave but never re-enter; tcpcheck gives
/// it a home of its own, so the sandbox's thread still finds its way back.
#[test]
fn doctor_as_root_of_a_user_namespace_passes() {
    if !is_root() {
        eprintln!("skipped: needs root (for /dev/net/tun, whatever its mode)");
        return;
    }
    if !succeeds("unshare", &["--user", "--map-root-user", "true"]) {
        eprintln!("skipped: needs unshare (util-linux) and user namespaces");
        return;
    }
    let out = run("unshare", &["--user", "--map-root-user", BIN, "doctor"]).unwrap();
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{}", show(&out));
    assert!(
        stdout.starts_with("ok   privilege: running as uid 0 of a user namespace"),
        "{}",
        show(&out)
    );
    assert_round_trips_pass(&stdout, &out);
    // Its capabilities count in its own user namespace only; SCHED_FIFO asks the initial one,
    // so without an RLIMIT_RTPRIO allowance the doctor warns, and still passes.
    if rtprio_limit() == 0 {
        assert!(
            stdout.contains("warn real-time priority: not available (needs CAP_SYS_NICE)"),
            "{}",
            show(&out)
        );
    }
}

/// As nobody: the doctor says exactly what stands in the way, whatever this machine allows.
#[test]
fn doctor_as_nobody_reports_what_this_machine_allows() {
    if let Some(why) = cannot_switch_users() {
        eprintln!("skipped: {why}");
        return;
    }
    let Some(probe) = run(
        "setpriv",
        &as_nobody(&["unshare", "--user", "--map-root-user", "true"]),
    ) else {
        eprintln!("skipped: needs unshare (util-linux)");
        return;
    };
    let userns_ok = probe.status.success();
    let tun_ok = succeeds("setpriv", &as_nobody(&["sh", "-c", "exec 3<>/dev/net/tun"]));
    let tun_mode = fs::metadata(TUN).map(|m| m.mode() & 0o7777).ok();

    let scratch = Scratch::new("rootless");
    let bin = binary_for_nobody(&scratch);
    let out = run("setpriv", &as_nobody(&[&bin, "doctor"])).unwrap();
    let stdout = text(&out.stdout);
    eprintln!(
        "userns for nobody: {userns_ok}, {TUN} for nobody: {tun_ok} (mode {})\n{}",
        tun_mode.map_or("?".into(), |m| format!("{m:04o}")),
        show(&out)
    );

    if !userns_ok {
        assert_eq!(out.status.code(), Some(1), "{}", show(&out));
        assert!(
            stdout.contains("FAIL privilege: cannot create a user namespace")
                || stdout.contains("FAIL privilege: entered a new user namespace but"),
            "{}",
            show(&out)
        );
        assert!(
            stdout.contains("Or run tcpcheck as root."),
            "{}",
            show(&out)
        );
        return;
    }
    assert!(
        stdout.starts_with(&format!(
            "ok   privilege: not root (uid {NOBODY}, gid {NOBODY}): running as uid 0 in a user \
             namespace of its own\n"
        )),
        "{}",
        show(&out)
    );
    if tun_ok {
        assert_eq!(out.status.code(), Some(0), "{}", show(&out));
        assert_round_trips_pass(&stdout, &out);
        return;
    }
    assert_eq!(out.status.code(), Some(1), "{}", show(&out));
    assert!(
        stdout.contains("FAIL /dev/net/tun: cannot open /dev/net/tun read-write: "),
        "{}",
        show(&out)
    );
    if let Some(mode) = tun_mode.filter(|m| m & 0o006 != 0o006) {
        // Refused on its mode: the message gives the mode and the one-time step.
        assert!(
            stdout.contains(&format!("/dev/net/tun has mode {mode:04o}")),
            "{}",
            show(&out)
        );
        assert!(
            stdout.contains("setfacl -m u:nobody:rw /dev/net/tun")
                || stdout.contains(&format!("setfacl -m u:{NOBODY}:rw /dev/net/tun")),
            "{}",
            show(&out)
        );
        assert!(stdout.contains("chmod 0666 /dev/net/tun"), "{}", show(&out));
    }
    assert!(stdout.contains("FAIL sandbox: "), "{}", show(&out));
    assert!(
        stdout.contains("FAIL ipv4 round trip: not run"),
        "{}",
        show(&out)
    );
}

/// A user namespace with `user.max_user_namespaces` = 0, where tcpcheck runs as a non-root
/// user: a real refusal of the kernel, made without touching the host's settings (the limit
/// is per user namespace). The doctor names the sysctl; `decode`, which needs no namespaces,
/// still works.
#[test]
fn zero_user_namespace_limit_is_explained_and_decode_still_works() {
    if let Some(why) = cannot_switch_users() {
        eprintln!("skipped: {why}");
        return;
    }
    // Outer root becomes uid 65534 of a new user namespace, keeping its capabilities there to
    // set the limit; tcpcheck then runs as that uid without capabilities.
    let unshare = [
        "--user",
        "--map-user=65534",
        "--map-group=65534",
        "--keep-caps",
    ];
    let mut probe = unshare.to_vec();
    probe.push("true");
    if !succeeds("unshare", &probe) {
        eprintln!("skipped: needs unshare --map-user --keep-caps (util-linux 2.38)");
        return;
    }
    let scratch = Scratch::new("userns-limit");
    let seed = seed_for_nobody(&scratch);
    let limited = |args: &[&str]| {
        let mut argv = unshare.to_vec();
        argv.extend_from_slice(&[
            "sh",
            "-c",
            "echo 0 > /proc/sys/user/max_user_namespaces && \
             exec setpriv --inh-caps=-all --ambient-caps=-all \"$@\"",
            "sh",
            BIN,
        ]);
        argv.extend_from_slice(args);
        run("unshare", &argv).unwrap()
    };

    let out = limited(&["doctor"]);
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{}", show(&out));
    assert!(
        stdout.contains(
            "FAIL privilege: cannot create a user namespace, which tcpcheck needs to run without \
             root: unshare(CLONE_NEWUSER) failed with ENOSPC"
        ),
        "{}",
        show(&out)
    );
    assert!(
        stdout.contains("user.max_user_namespaces = 0"),
        "{}",
        show(&out)
    );
    assert!(
        stdout.contains("sysctl -w user.max_user_namespaces=15000"),
        "{}",
        show(&out)
    );
    // Without the namespace, the sandbox cannot be made either, and says so.
    assert!(
        stdout.contains("FAIL sandbox: unshare(CLONE_NEWNET) failed"),
        "{}",
        show(&out)
    );

    let out = limited(&["decode", &seed]);
    assert_eq!(out.status.code(), Some(0), "{}", show(&out));
    assert!(text(&out.stdout).contains("Flags [S.]"), "{}", show(&out));
    assert!(out.stderr.is_empty(), "{}", show(&out));
}

/// As nobody, after entering its user namespace, `decode` works as before.
#[test]
fn decode_as_nobody_works() {
    if let Some(why) = cannot_switch_users() {
        eprintln!("skipped: {why}");
        return;
    }
    let scratch = Scratch::new("decode");
    let bin = binary_for_nobody(&scratch);
    let seed = seed_for_nobody(&scratch);
    let out = run("setpriv", &as_nobody(&[&bin, "decode", &seed])).unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", show(&out));
    assert!(
        text(&out.stdout).contains(": 192.0.2.1.8080 > 192.0.2.2.40000: Flags [S.]"),
        "{}",
        show(&out)
    );
}
