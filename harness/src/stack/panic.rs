//! A panic inside the stack under test is a finding, never the end of tcpcheck: every call
//! into a stack runs under `catch_unwind`, and the panic's message is kept for the verdict.

use std::cell::Cell;
use std::panic::{self, AssertUnwindSafe};
use std::sync::Once;

thread_local! {
    /// This thread is inside a call into a stack: a panic is caught and reported as the
    /// stack's, so the default hook's message on stderr would only be noise.
    static IN_STACK: Cell<bool> = const { Cell::new(false) };
}

/// Installs, once, a panic hook that stays quiet for panics inside a stack and leaves every
/// other panic to the hook that was there.
fn quiet_hook() {
    static INSTALL: Once = Once::new();
    INSTALL.call_once(|| {
        let previous = panic::take_hook();
        panic::set_hook(Box::new(move |info| {
            if !IN_STACK.with(Cell::get) {
                previous(info);
            }
        }));
    });
}

/// Runs `f`, turning a panic into its message.
pub fn catching<T>(f: impl FnOnce() -> T) -> Result<T, String> {
    quiet_hook();
    let outer = IN_STACK.with(|c| c.replace(true));
    let r = panic::catch_unwind(AssertUnwindSafe(f));
    IN_STACK.with(|c| c.set(outer));
    r.map_err(|payload| {
        payload
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "a panic without a message".to_string())
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_panic_becomes_its_message() {
        assert_eq!(super::catching(|| 7), Ok(7));
        let r: Result<(), String> = super::catching(|| panic!("window {} < 0", -1));
        assert_eq!(r, Err("window -1 < 0".to_string()));
        let r: Result<(), String> = super::catching(|| std::panic::panic_any(3u8));
        assert_eq!(r, Err("a panic without a message".to_string()));
    }
}
