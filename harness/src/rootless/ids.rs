//! Ids across the user namespace's boundary: what the kernel checks a file against is the
//! outside id, which the namespace may not even be able to name.

use std::fmt;
use std::fs;

use nix::unistd::{getegid, geteuid, Gid, Group, Uid, User};

use super::{status, Privilege};

/// A numeric id with its name, when known.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Id {
    pub id: u32,
    pub name: Option<String>,
}

impl fmt::Display for Id {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.name {
            Some(name) => write!(f, "{} ({name})", self.id),
            None => write!(f, "{}", self.id),
        }
    }
}
impl Id {
    /// What to put in a command line: the name if known, else the number.
    pub(super) fn arg(&self) -> String {
        self.name.clone().unwrap_or_else(|| self.id.to_string())
    }
}
/// Maps an id of this process's user namespace to the id outside it (in the initial user
/// namespace's terms as far as this namespace's map reaches), from a `uid_map`/`gid_map`
/// file; `None` if unmapped.
pub(super) fn outer_id(map_file: &str, id: u32) -> Option<u32> {
    let text = fs::read_to_string(map_file).ok()?;
    map_id(&text, id)
}

pub(super) fn map_id(map: &str, id: u32) -> Option<u32> {
    map.lines().find_map(|line| {
        let mut f = line.split_whitespace().map(|x| x.parse::<u64>().ok());
        let (inside, outside, count) = (f.next()??, f.next()??, f.next()??);
        let id = u64::from(id);
        (id >= inside && id - inside < count)
            .then(|| u32::try_from(outside + (id - inside)).ok())
            .flatten()
    })
}
/// The user and group the kernel checks file access against: the ids this process started
/// with, seen from outside its user namespace.
pub(super) fn real_ids() -> (u32, u32) {
    if let Some(Ok(Privilege::UserNamespace { uid, gid })) = status() {
        return (uid, gid);
    }
    let (uid, gid) = (geteuid().as_raw(), getegid().as_raw());
    (
        outer_id("/proc/self/uid_map", uid).unwrap_or(uid),
        outer_id("/proc/self/gid_map", gid).unwrap_or(gid),
    )
}

/// An outside uid with its name from the password database.
pub(super) fn user_id(id: u32) -> Id {
    Id {
        id,
        name: User::from_uid(Uid::from_raw(id))
            .ok()
            .flatten()
            .map(|u| u.name),
    }
}

pub(super) fn group_id(id: u32) -> Id {
    Id {
        id,
        name: Group::from_gid(Gid::from_raw(id))
            .ok()
            .flatten()
            .map(|g| g.name),
    }
}
