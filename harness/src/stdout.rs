//! What the command line prints for its user. A reader that went away (`tcpcheck run |
//! head`) ends the process quietly, as the shell's own tools end on SIGPIPE, instead of the
//! panic `print!` gives. The Rust runtime ignores SIGPIPE, and so must tcpcheck: a stack's
//! socket written after a reset raises it, and that must stay an EPIPE for the script.

use std::io::{ErrorKind, Write};

/// The exit status a shell shows for a tool its reader left (128 + SIGPIPE).
pub const READER_GONE: i32 = 141;

/// Writes `args` to stdout and flushes; if the reader has gone, exits with [`READER_GONE`].
/// Any other write error is ignored, as `print!` would not: a full disk or a closed
/// terminal must not turn a run's verdict into a panic.
pub fn write_fmt(args: std::fmt::Arguments<'_>) {
    let mut out = std::io::stdout().lock();
    let result = out.write_fmt(args).and_then(|()| out.flush());
    if let Err(e) = result {
        if e.kind() == ErrorKind::BrokenPipe {
            std::process::exit(READER_GONE);
        }
    }
}
