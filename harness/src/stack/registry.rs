//! Where the command line finds the stacks it can test: the one place a stack is chosen.
//!
//! A stack lives in its own crate, which depends on this one for [`super::Stack`]; this
//! crate cannot depend back on it. So a binary that offers a stack registers its factory:
//! `tcpcheck::cli::main(Registry::builtin().with(&MyFactory))`, as the workspace's `tcpcheck`
//! binary (`harness/cli`) does for smoltcp. A registry without a stack says so, by name, when
//! that stack is asked for.

use std::io;

use super::linux::LinuxStack;
use super::{Choice, Stack};
use crate::io::tun::Offload;
use crate::sandbox::{SandboxConfig, Wire};

/// The stacks `--stack` names.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, clap::ValueEnum)]
pub enum StackKind {
    /// The Linux kernel in a private network namespace (real time, TUN).
    Linux,
    /// smoltcp in-process on a virtual clock (the `stacks/smoltcp` crate).
    Smoltcp,
}

impl StackKind {
    /// The name `--stack` takes.
    pub fn name(self) -> &'static str {
        match self {
            StackKind::Linux => "linux",
            StackKind::Smoltcp => "smoltcp",
        }
    }

    /// How reports and divergence texts name the stack's side: `kernel` for Linux (the
    /// corpus's and packetdrill's word, so Linux's texts stay as they were), the stack's
    /// name otherwise (`smoltcp: nothing by 0.000 ms`).
    pub fn word(self) -> &'static str {
        match self {
            StackKind::Linux => "kernel",
            StackKind::Smoltcp => "smoltcp",
        }
    }

    /// [`StackKind::word`] as a sentence's subject: `the kernel`, `smoltcp`.
    pub fn subject(self) -> &'static str {
        match self {
            StackKind::Linux => "the kernel",
            StackKind::Smoltcp => "smoltcp",
        }
    }

    /// [`StackKind::subject`] at the start of a sentence: `The kernel`, `smoltcp`.
    pub fn subject_start(self) -> &'static str {
        match self {
            StackKind::Linux => "The kernel",
            StackKind::Smoltcp => "smoltcp",
        }
    }

    /// `--stack NAME ` as a command line repeating a run must carry it; empty for the
    /// default (Linux), so Linux's texts stay as they were.
    pub fn flag(self) -> &'static str {
        match self {
            StackKind::Linux => "",
            StackKind::Smoltcp => "--stack smoltcp ",
        }
    }
}

/// What a stack is made for, so it can set itself up no more than needed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Purpose {
    /// A scenario: IPv4 and IPv6, send times as exact as the stack can give, settings at the
    /// stack's defaults, the device's offloads as packetdrill's (Linux: TSO, see `io::tun`).
    Scenario,
    /// A script with settings of its own for the device (`--mtu`, `--mss`); otherwise as
    /// [`Purpose::Scenario`].
    Script(crate::sandbox::Wire),
    /// One explorer case, on one IP version; cheapness first (Linux: no kernel send stamps,
    /// no IPv6 unless asked, the namespace's settings untouched).
    Case {
        /// IPv6 on the wire.
        v6: bool,
    },
}

/// Makes fresh stacks of one kind, one per check, on the calling thread.
pub trait StackFactory: Sync {
    /// The kind it makes.
    fn kind(&self) -> StackKind;
    /// A fresh stack, nothing of an earlier check in it.
    fn open(&self, purpose: Purpose) -> io::Result<Box<dyn Stack>>;
    /// The choices the stack documents that depart from the `rfc9293` profile as the RFC
    /// allows: labelled, not counted as defects. Linux's are the known deviations
    /// (`explore::deviations`), so its list here is empty.
    fn choices(&self) -> &'static [Choice] {
        &[]
    }
}

impl std::fmt::Debug for dyn StackFactory {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "StackFactory({})", self.kind().name())
    }
}

/// The Linux kernel, each stack in a fresh network namespace.
pub struct LinuxFactory;

impl StackFactory for LinuxFactory {
    fn kind(&self) -> StackKind {
        StackKind::Linux
    }

    fn open(&self, purpose: Purpose) -> io::Result<Box<dyn Stack>> {
        Ok(Box::new(LinuxStack::with_config(LinuxFactory::config(
            purpose,
        ))?))
    }
}

impl LinuxFactory {
    /// The sandbox a check of this purpose runs in: public so that a test's own factory
    /// wrapping the kernel opens it exactly as Linux's does.
    pub fn config(purpose: Purpose) -> SandboxConfig {
        match purpose {
            Purpose::Scenario => SandboxConfig {
                offload: Offload::Packetdrill,
                ..SandboxConfig::default()
            },
            Purpose::Script(wire) => SandboxConfig {
                offload: Offload::Packetdrill,
                mtu: wire.mtu,
                inbound_gso: wire.inbound_gso,
                addresses: wire.addresses,
                ..SandboxConfig::default()
            },
            Purpose::Case { v6 } => SandboxConfig {
                ipv6: v6,
                namespace_defaults: false,
                kernel_stamps: false,
                offload: Offload::None,
                // As a script's run over IPv6 (`Wire::for_ipv6`), so that a case rendered as
                // a script replays with the same MSS.
                mtu: Wire::default().for_ipv6(v6).mtu,
                inbound_gso: None,
                addresses: None,
            },
        }
    }
}

/// The stacks a binary can test.
#[derive(Clone)]
pub struct Registry {
    factories: Vec<&'static dyn StackFactory>,
}

impl Registry {
    /// What this crate has built in: Linux.
    pub fn builtin() -> Registry {
        Registry {
            factories: vec![&LinuxFactory],
        }
    }

    /// This registry with `factory` added (replacing one of the same kind).
    pub fn with(mut self, factory: &'static dyn StackFactory) -> Registry {
        self.factories.retain(|f| f.kind() != factory.kind());
        self.factories.push(factory);
        self
    }

    /// The factory for `kind`, or why there is none.
    pub fn get(&self, kind: StackKind) -> Result<&'static dyn StackFactory, String> {
        self.factories
            .iter()
            .find(|f| f.kind() == kind)
            .copied()
            .ok_or_else(|| {
                format!(
                    "--stack {}: not built in to this binary (it has {}); the stack's own \
                     crate registers it (see README, \"Any stack under test\")",
                    kind.name(),
                    self.factories
                        .iter()
                        .map(|f| f.kind().name())
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            })
    }
}

impl Default for Registry {
    fn default() -> Self {
        Registry::builtin()
    }
}
