//! The sandbox leaves no trace: the host namespace is untouched, and namespaces, TUN devices
//! and descriptors are released when a check ends, however it ends.

use std::collections::BTreeMap;
use std::fs;
use std::process::Command;

use std::sync::Mutex;

use tcpcheck::peer::Peer;
use tcpcheck::sandbox::Sandbox;

/// The tests here count the process's descriptors and threads, so they take turns.
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

/// What the host's network configuration looks like from this thread: interfaces, addresses,
/// routes, and every TCP and core sysctl plus the IPv6 defaults the sandbox writes in its own
/// namespace. Lifetimes and counters, which change by themselves, are left out.
fn host_snapshot() -> BTreeMap<String, String> {
    let mut snap = BTreeMap::new();
    let run = |args: &[&str]| {
        let out = Command::new("ip")
            .args(args)
            .output()
            .expect("iproute2's ip");
        assert!(out.status.success(), "ip {args:?} failed");
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .map(|line| {
                let mut words = line.split_whitespace().peekable();
                let mut kept = Vec::new();
                while let Some(w) = words.next() {
                    if matches!(w, "valid_lft" | "preferred_lft" | "expires") {
                        words.next();
                    } else {
                        kept.push(w);
                    }
                }
                kept.join(" ")
            })
            .collect::<Vec<_>>()
            .join("\n")
    };
    snap.insert("links".into(), run(&["-o", "link", "show"]));
    snap.insert("addresses".into(), run(&["-o", "addr", "show"]));
    snap.insert(
        "routes4".into(),
        run(&["-4", "route", "show", "table", "all"]),
    );
    snap.insert(
        "routes6".into(),
        run(&["-6", "route", "show", "table", "all"]),
    );
    for dir in [
        "/proc/sys/net/ipv4",
        "/proc/sys/net/core",
        "/proc/sys/net/ipv6/conf/default",
    ] {
        for entry in fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            let name = path.file_name().unwrap().to_string_lossy().to_string();
            let tcp_or_core = !dir.ends_with("ipv4") || name.starts_with("tcp_");
            if path.is_file() && tcp_or_core {
                if let Ok(v) = fs::read_to_string(&path) {
                    snap.insert(path.display().to_string(), v);
                }
            }
        }
    }
    snap
}

/// A check's worth of work in a sandbox: sysctls changed, a segment answered.
fn exercise(sandbox: &mut Sandbox) {
    sandbox.set_sysctl("net.ipv4.tcp_syn_retries", "2").unwrap();
    sandbox.set_sysctl("net.core.somaxconn", "17").unwrap();
    let mut peer = Peer::new(false, 40000, 9, 1);
    sandbox.inject(&peer.syn()).unwrap();
    assert_eq!(
        sandbox.settle().unwrap().len(),
        1,
        "the RST from the closed port"
    );
}

#[test]
fn host_namespace_is_never_modified() {
    let _turn = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let before = host_snapshot();
    for _ in 0..3 {
        let mut sandbox = Sandbox::new().unwrap();
        exercise(&mut sandbox);
    }
    // Also from another thread, and with a panic in the middle of a check.
    std::thread::spawn(|| {
        let mut sandbox = Sandbox::new().unwrap();
        exercise(&mut sandbox);
    })
    .join()
    .unwrap();
    let panicked = std::panic::catch_unwind(|| {
        let mut sandbox = Sandbox::new().unwrap();
        exercise(&mut sandbox);
        panic!("a check failing half way");
    });
    assert!(panicked.is_err());
    let after = host_snapshot();
    for (key, value) in &before {
        assert_eq!(after.get(key), Some(value), "host {key} changed");
    }
    assert_eq!(before.len(), after.len(), "host gained or lost entries");
}

fn open_fds() -> usize {
    fs::read_dir("/proc/self/fd").unwrap().count()
}

fn threads() -> usize {
    fs::read_dir("/proc/self/task").unwrap().count()
}

/// Network namespaces alive in the whole system, from the slab allocator's count.
fn namespaces_alive() -> Option<u64> {
    let slabinfo = fs::read_to_string("/proc/slabinfo").ok()?;
    let line = slabinfo.lines().find(|l| l.starts_with("net_namespace "))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

fn netns_inode() -> u64 {
    use std::os::unix::fs::MetadataExt;
    fs::metadata("/proc/thread-self/ns/net").unwrap().ino()
}

/// Ten thousand sandboxes, one after another on one thread: descriptors and threads stay
/// flat and the thread ends up in the namespace it started in.
#[test]
fn ten_thousand_sandboxes_release_everything() {
    let _turn = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let home = netns_inode();
    // Warm up once so lazily opened process-wide descriptors are not counted as leaks.
    drop(Sandbox::new().unwrap());
    // Packet sockets close on reaper threads (sandbox::reaper): count once they have.
    let settled = || {
        assert!(tcpcheck::sandbox::reaper::flush(
            std::time::Duration::from_secs(30)
        ))
    };
    settled();
    let fds = open_fds();
    let threads_before = threads();
    let namespaces_before = namespaces_alive();
    let start = std::time::Instant::now();
    for i in 0..10_000 {
        let mut sandbox = Sandbox::new().unwrap();
        if i % 1000 == 0 {
            exercise(&mut sandbox);
        }
        drop(sandbox);
        assert_eq!(
            netns_inode(),
            home,
            "sandbox {i} left the thread in its namespace"
        );
    }
    let elapsed = start.elapsed();
    settled();
    assert_eq!(open_fds(), fds, "descriptors leaked");
    // The kernel frees namespaces in the background; they must all go, and soon. Other tests
    // may hold a few at the same moment, hence the slack.
    if let Some(before) = namespaces_before {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        let mut now = namespaces_alive().unwrap();
        while now > before + 64 && std::time::Instant::now() < deadline {
            std::thread::sleep(std::time::Duration::from_millis(50));
            now = namespaces_alive().unwrap();
        }
        assert!(
            now <= before + 64,
            "{now} namespaces alive, {before} before: not freed"
        );
        eprintln!("network namespaces alive: {before} before, {now} after");
    }
    // Other tests of this binary may run threads beside this one; this test starts none.
    assert!(threads() <= threads_before, "threads leaked");
    eprintln!(
        "10,000 sandboxes in {elapsed:?} ({:?} each); fds {fds}, threads {}",
        elapsed / 10_000,
        threads()
    );
}
