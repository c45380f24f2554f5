//! How tcpcheck makes a fresh smoltcp per check: the one thing a binary registers
//! (`Registry::builtin().with(&tcpcheck_smoltcp::FACTORY)`) to offer `--stack smoltcp`.

use std::io;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::stack::{SmoltcpConfig, SmoltcpStack};
use tcpcheck::stack::{Choice, Purpose, Stack, StackFactory, StackKind};

/// Makes [`SmoltcpStack`]s with the configuration given. Every stack it makes gets the
/// same seed, so the same check gives the same bytes whichever thread runs it and however
/// many ran before.
pub struct SmoltcpFactory {
    seed: AtomicU64,
    timestamps: bool,
}

impl SmoltcpFactory {
    /// A factory whose stacks use `config`.
    pub const fn new(config: SmoltcpConfig) -> SmoltcpFactory {
        SmoltcpFactory {
            seed: AtomicU64::new(config.seed),
            timestamps: config.timestamps,
        }
    }

    /// The configuration the next stack gets.
    pub fn config(&self) -> SmoltcpConfig {
        SmoltcpConfig {
            seed: self.seed.load(Ordering::Relaxed),
            timestamps: self.timestamps,
        }
    }

    /// Seeds the stacks made from now on (the explorer's `--seed`, say).
    pub fn set_seed(&self, seed: u64) {
        self.seed.store(seed, Ordering::Relaxed);
    }
}

/// The factory with the default configuration, for a registry.
pub static FACTORY: SmoltcpFactory = SmoltcpFactory::new(SmoltcpConfig::DEFAULT);

impl StackFactory for SmoltcpFactory {
    fn kind(&self) -> StackKind {
        StackKind::Smoltcp
    }

    /// A fresh stack: smoltcp serves IPv4 and IPv6 together at no extra cost, so the
    /// purpose changes nothing.
    fn open(&self, _purpose: Purpose) -> io::Result<Box<dyn Stack>> {
        Ok(Box::new(SmoltcpStack::new(self.config())))
    }

    fn choices(&self) -> &'static [Choice] {
        crate::findings::CHOICES
    }
}
