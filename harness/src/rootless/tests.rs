//! The errors' wording, from hand-made facts, and the id-map arithmetic.

use super::ids::map_id;
use super::*;

fn no_blockers() -> UsernsPolicy {
    UsernsPolicy {
        unprivileged_userns_clone: None,
        max_user_namespaces: Some(96365),
        apparmor_restrict_unprivileged_userns: None,
    }
}

fn userns_error(errno: Errno, policy: UsernsPolicy) -> String {
    RootlessError::NewUserNamespace {
        errno,
        policy,
        unmapped: false,
    }
    .to_string()
}

#[test]
fn debian_switch_is_named_with_its_remedy() {
    let policy = UsernsPolicy {
        unprivileged_userns_clone: Some(0),
        ..no_blockers()
    };
    let text = userns_error(Errno::EPERM, policy);
    assert!(
        text.contains("unshare(CLONE_NEWUSER) failed with EPERM"),
        "{text}"
    );
    assert!(
        text.contains("kernel.unprivileged_userns_clone = 0"),
        "{text}"
    );
    assert!(
        text.contains("sysctl -w kernel.unprivileged_userns_clone=1"),
        "{text}"
    );
    assert!(text.contains("run tcpcheck as root"), "{text}");
}

#[test]
fn zero_namespace_limit_is_named_with_its_remedy() {
    let policy = UsernsPolicy {
        max_user_namespaces: Some(0),
        ..no_blockers()
    };
    let text = userns_error(Errno::ENOSPC, policy);
    assert!(text.contains("user.max_user_namespaces = 0"), "{text}");
    assert!(
        text.contains("sysctl -w user.max_user_namespaces=15000"),
        "{text}"
    );
}

#[test]
fn reached_namespace_limit_shows_the_readings() {
    let text = userns_error(Errno::ENOSPC, no_blockers());
    assert!(
        text.contains("limit on user namespaces is reached"),
        "{text}"
    );
    assert!(text.contains("user.max_user_namespaces = 96365"), "{text}");
}

#[test]
fn apparmor_restriction_is_named_with_its_remedies() {
    let policy = UsernsPolicy {
        apparmor_restrict_unprivileged_userns: Some(1),
        ..no_blockers()
    };
    // Under AppArmor's restriction the unshare succeeds and the id map write fails.
    let text = RootlessError::IdMap {
        file: "/proc/self/uid_map",
        contents: "0 1000 1".into(),
        errno: Errno::EPERM,
        policy,
    }
    .to_string();
    assert!(
        text.contains("writing \"0 1000 1\" to /proc/self/uid_map"),
        "{text}"
    );
    assert!(
        text.contains("kernel.apparmor_restrict_unprivileged_userns = 1"),
        "{text}"
    );
    assert!(text.contains("apparmor_parser -r"), "{text}");
    assert!(
        text.contains("sysctl -w kernel.apparmor_restrict_unprivileged_userns=0"),
        "{text}"
    );
}

#[test]
fn every_blocker_is_listed() {
    let policy = UsernsPolicy {
        unprivileged_userns_clone: Some(0),
        max_user_namespaces: Some(0),
        apparmor_restrict_unprivileged_userns: Some(1),
    };
    let text = userns_error(Errno::EPERM, policy);
    assert_eq!(text.matches("Why: ").count(), 3, "{text}");
}

#[test]
fn no_blocker_points_at_seccomp_and_shows_the_readings() {
    let text = userns_error(Errno::EPERM, no_blockers());
    assert!(text.contains("no sysctl forbids it"), "{text}");
    assert!(
        text.contains("kernel.unprivileged_userns_clone: not present"),
        "{text}"
    );
    assert!(text.contains("seccomp"), "{text}");
}

#[test]
fn unmapped_uid_is_explained() {
    let text = RootlessError::NewUserNamespace {
        errno: Errno::EPERM,
        policy: no_blockers(),
        unmapped: true,
    }
    .to_string();
    assert!(text.contains("has no mapping"), "{text}");
}

#[test]
fn threads_error_says_to_call_it_first_in_main() {
    let text = RootlessError::Threaded { threads: 4 }.to_string();
    assert!(text.contains("already runs 4 threads"), "{text}");
    assert!(text.contains("first thing in main"), "{text}");
}

fn access(mode: u32) -> TunAccess {
    let root = Id {
        id: 0,
        name: Some("root".into()),
    };
    TunAccess {
        mode,
        owner: Some(root.clone()),
        group: Some(root),
        user: Id {
            id: 1000,
            name: Some("alice".into()),
        },
        user_group: Id {
            id: 1000,
            name: None,
        },
    }
}

#[test]
fn tun_mode_denial_explains_the_one_time_step() {
    let text = RootlessError::TunDenied {
        errno: Errno::EACCES,
        access: Box::new(access(0o600)),
    }
    .to_string();
    assert!(
        text.contains("cannot open /dev/net/tun read-write: EACCES"),
        "{text}"
    );
    assert!(text.contains("mode 0600, owner uid 0 (root)"), "{text}");
    assert!(
        text.contains("runs as uid 1000 (alice), gid 1000"),
        "{text}"
    );
    assert!(
        text.contains("setfacl -m u:alice:rw /dev/net/tun"),
        "{text}"
    );
    assert!(text.contains("chmod 0666 /dev/net/tun"), "{text}");
    assert!(text.contains("/etc/udev/rules.d/"), "{text}");
}

#[test]
fn tun_owner_outside_the_user_namespace_is_not_misnamed() {
    let mut access = access(0o600);
    access.owner = None;
    access.group = None;
    let text = RootlessError::TunDenied {
        errno: Errno::EACCES,
        access: Box::new(access),
    }
    .to_string();
    assert!(
        text.contains(
            "mode 0600, an owner that is not tcpcheck's user (usually root), a group \
                       that is not tcpcheck's, and tcpcheck runs as uid 1000"
        ),
        "{text}"
    );
    assert!(!text.contains("65534"), "{text}");
}

#[test]
fn tun_denial_not_from_the_mode_points_at_cgroups() {
    let text = RootlessError::TunDenied {
        errno: Errno::EPERM,
        access: Box::new(access(0o666)),
    }
    .to_string();
    assert!(text.contains("device cgroup"), "{text}");
    assert!(text.contains("--device /dev/net/tun"), "{text}");
}

#[test]
fn missing_tun_says_how_to_load_it() {
    let text = RootlessError::TunMissing.to_string();
    assert!(text.contains("modprobe tun"), "{text}");
    assert!(text.contains("mknod /dev/net/tun c 10 200"), "{text}");
}

#[test]
fn id_maps_translate_ranges() {
    assert_eq!(map_id("0 0 4294967295\n", 1000), Some(1000));
    assert_eq!(map_id("         0       1000          1\n", 0), Some(1000));
    assert_eq!(map_id("0 1000 1\n", 1), None);
    assert_eq!(map_id("0 1000 1\n1 100000 65536\n", 5), Some(100004));
    assert_eq!(map_id("", 0), None);
}

#[test]
fn root_needs_no_namespace() {
    // As another user this would really enter a user namespace (under `--test-threads=1`
    // the test runs on the only thread), changing the process for every later test; the
    // integration tests cover that path by running the binary as another user.
    if geteuid().is_root() {
        assert_eq!(enter_user_namespace_if_needed(), Ok(Privilege::Root));
        assert_eq!(status(), Some(Ok(Privilege::Root)));
    }
}
