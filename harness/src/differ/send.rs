//! SEND (RFC 9293 3.10.2) judged one way: a non-blocking write()'s answer against what
//! the model's SEND gives, for whoever tells the differ a write's result
//! ([`super::Call::WriteReturned`]).

use nix::errno::Errno;
use tcpcheck_model::conn::{Actual, Connection, Divergence as ModelFault, Required};

/// A non-blocking write() of `asked` bytes that returned `kernel`: SEND on `conn` with what
/// the kernel took, and the fault if the answers differ.
///
/// The model is told all of it was sent, unless a full send buffer may take less
/// ([`Connection::send_may_be_short`]): then what the kernel took (nothing, for EAGAIN).
pub fn judge(
    conn: &mut Connection,
    now: std::time::Duration,
    asked: u32,
    kernel: Result<u64, Errno>,
) -> Result<(), ModelFault> {
    let short_ok = conn.send_may_be_short();
    let offered = match kernel {
        Ok(k) if short_ok && k < u64::from(asked) => k as u32,
        Err(Errno::EAGAIN) if short_ok => 0,
        _ => asked,
    };
    let model = conn.send(now, offered);
    let agree = match (&model, kernel) {
        (Ok(()), Ok(k)) => k == u64::from(offered),
        (Ok(()), Err(_)) => offered == 0,
        (Err(_), Err(_)) => true,
        _ => false,
    };
    if agree {
        return Ok(());
    }
    let expected = match model {
        Ok(()) => format!("{asked} bytes"),
        Err(e) => format!("error: {e:?}"),
    };
    let shown = match kernel {
        Ok(k) => k.to_string(),
        Err(e) => format!("-1 {e:?} ({})", e.desc()),
    };
    Err(ModelFault {
        rule: &super::rules::SEND,
        expected: Required::Call(format!("write of {asked} bytes: {expected}")),
        actual: Actual::Seen(format!("write() = {shown}")),
    })
}
