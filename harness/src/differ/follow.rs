//! What a driver that makes up its events as it goes (the explorer) may read of the
//! model's view: the connection it follows, for the numbers of its next segment, and what
//! is owed soon, for how long to wait. Reading changes nothing; the differ alone feeds it.

use std::time::Duration;

use tcpcheck_model::conn::Connection;

use super::{Differ, Key, ModelDivergence, Sock};

impl Differ {
    /// The model's connection for the four-tuple `key`, once a segment or a connect() made
    /// one.
    pub fn connection(&self, key: &Key) -> Option<&Connection> {
        self.conns.get(key).map(|t| &t.conn)
    }

    /// The connection the stack's descriptor `fd` names: connected, or connecting before
    /// its SYN was seen.
    pub fn connection_of(&self, fd: i32) -> Option<&Connection> {
        match self.socks.get(&fd)? {
            Sock::Conn(key) => self.connection(key),
            Sock::Connecting => self.connecting.get(&fd).map(|(_, t)| &t.conn),
            _ => None,
        }
    }

    /// Keeps the branches of `key`'s connection that `fits` what the harness learned of the
    /// stack by other means than the wire (the socket's state): see
    /// [`Connection::keep_branches_where`].
    pub fn keep_branches_where(&mut self, key: &Key, fits: impl Fn(&Connection) -> bool) {
        if let Some(t) = self.conns.get_mut(key) {
            t.conn.keep_branches_where(fits);
        }
    }

    /// The latest time among segments owed by `now` that must come no later than
    /// `horizon`, on any connection or branch: how long a harness waits for the reply to
    /// an event before [`Differ::advance`] calls what is missing.
    pub fn owed_within(&self, now: Duration, horizon: Duration) -> Option<Duration> {
        if !self.active() {
            return None;
        }
        self.all_tracked()
            .flat_map(|t| t.conn.obligations_any())
            .filter(|e| e.due.earliest <= now && e.due.latest <= horizon)
            .map(|e| e.due.latest)
            .min()
    }

    /// The first divergence, once there is one.
    pub fn divergence(&self) -> Option<&ModelDivergence> {
        self.first.as_ref()
    }

    /// Why the model stopped following the run, if it did.
    pub fn off(&self) -> Option<&str> {
        self.off.as_deref()
    }
}
