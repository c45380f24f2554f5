//! RECEIVE (RFC 9293 3.10.3) judged one way, for the runner and the explorer alike: the
//! socket's answer to a read() against what the model's RECEIVE gives.

use std::time::Duration;

use nix::errno::Errno;
use tcpcheck_model::conn::{Actual, Connection, Divergence as ModelFault, Required, UserError};

/// What a non-blocking read() returned.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Read {
    /// This many bytes, at least one.
    Bytes(u64),
    /// 0: end of stream.
    Eof,
    /// EAGAIN: nothing to read yet.
    WouldBlock,
    /// Another error.
    Failed(Errno),
}

impl std::fmt::Display for Read {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Read::Bytes(n) => write!(f, "read() returned {n} bytes"),
            Read::Eof => f.write_str("read() returned 0 (end of stream)"),
            Read::WouldBlock => f.write_str("read() would block"),
            Read::Failed(e) => write!(f, "read() failed with {e}"),
        }
    }
}

/// Whether the model's RECEIVE answer is the socket's. RECEIVE's answers as a socket gives
/// them: data; EAGAIN for "nothing yet"; 0 (end of file) once the peer's FIN is in
/// ("connection closing"); after the connection is gone, 0 or the error that ended it.
fn fits(model: &Result<u64, UserError>, kernel: Read) -> bool {
    match (model, kernel) {
        (Ok(0), Read::WouldBlock) => true,
        (Ok(m), Read::Bytes(b)) => *m == b,
        (Err(UserError::Closing), Read::Eof) => true,
        // Linux keeps data the application has not read when the connection ends normally
        // (RFC 9293 deletes the TCB): a read after CLOSED may still return it.
        (Err(UserError::DoesNotExist), _) => true,
        _ => false,
    }
}

/// A read() of up to `asked` bytes that gave `kernel`: RECEIVE on `conn` (the kernel's
/// answer may settle a choice the model left open, Connection::receive_where), and the
/// fault if the answers differ.
pub fn judge(
    conn: &mut Connection,
    now: Duration,
    asked: u64,
    kernel: Read,
) -> Result<(), ModelFault> {
    let model = conn.receive_where_at(now, asked, |m| fits(m, kernel));
    if fits(&model, kernel) {
        return Ok(());
    }
    let expected = match model {
        Ok(0) => "read() would block".to_string(),
        Ok(n) => format!("read() returns {n} bytes held in order"),
        Err(UserError::Closing) => "read() returns 0: the peer's FIN is in".to_string(),
        Err(e) => format!("read() fails: {e:?}"),
    };
    Err(ModelFault {
        rule: &super::rules::RECEIVE_IN_ORDER,
        expected: Required::Call(expected),
        actual: Actual::Seen(kernel.to_string()),
    })
}
