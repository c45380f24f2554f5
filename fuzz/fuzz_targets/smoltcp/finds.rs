//! The recording mode of the smoltcp target: with `TCPCHECK_FUZZ_FINDS=DIR` set, an input
//! the target would crash on (an unjudged divergence, a panic inside smoltcp, a harness
//! error) is written to `DIR/<signature>` and the target returns, so a campaign keeps going
//! for its whole `-max_total_time` instead of stopping at its first find; unset, the target
//! crashes as before.
//!
//! The file is named by the divergence's class signature (the explorer's
//! [`tcpcheck::explore::findings::Class`]: rule, state, kind of event), so DIR holds one input
//! per signature however often libFuzzer's mutations hit it. The shortest input seen for a
//! signature is kept: it is the quickest to read, and replaying it
//! (`cargo fuzz run --sanitizer none smoltcp DIR/<file>`, variable unset) prints its case.
//! Beside it, `<file>.txt` holds the divergence and the case as text.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Mutex, OnceLock};

/// The directory, if recording, and the length of the input kept per signature (so a
/// repeated hit costs a map look-up, not a write).
struct Finds {
    dir: PathBuf,
    kept: Mutex<HashMap<String, usize>>,
}

fn finds() -> Option<&'static Finds> {
    static FINDS: OnceLock<Option<Finds>> = OnceLock::new();
    FINDS
        .get_or_init(|| {
            let dir = PathBuf::from(std::env::var_os("TCPCHECK_FUZZ_FINDS")?);
            if let Err(e) = std::fs::create_dir_all(&dir) {
                panic!("TCPCHECK_FUZZ_FINDS={}: {e}", dir.display());
            }
            Some(Finds {
                dir,
                kept: Mutex::new(HashMap::new()),
            })
        })
        .as_ref()
}

/// A file name from a signature: letters, digits, dots and dashes only.
fn file_name(signature: &str) -> String {
    let mut name = String::new();
    for c in signature.chars() {
        let c = if c.is_ascii_alphanumeric() || c == '.' {
            c
        } else {
            '-'
        };
        if !(c == '-' && name.ends_with('-')) {
            name.push(c);
        }
    }
    let name = name.trim_matches('-');
    name.chars().take(120).collect()
}

/// Records `data` under `signature` when recording is on (true: the caller returns instead
/// of crashing). `text` is what the crash would have printed.
pub fn record(data: &[u8], signature: &str, text: &str) -> bool {
    let Some(finds) = finds() else {
        return false;
    };
    let name = file_name(signature);
    let mut kept = finds.kept.lock().unwrap_or_else(|e| e.into_inner());
    if kept.get(&name).is_some_and(|&len| len <= data.len()) {
        return true;
    }
    let path = finds.dir.join(&name);
    let written = std::fs::write(&path, data).and_then(|()| {
        std::fs::write(
            finds.dir.join(format!("{name}.txt")),
            format!("{signature}\n{text}\n"),
        )
    });
    if let Err(e) = written {
        panic!("TCPCHECK_FUZZ_FINDS: writing {}: {e}", path.display());
    }
    if !kept.contains_key(&name) {
        eprintln!("TCPCHECK_FUZZ_FINDS: new signature {name}");
    }
    kept.insert(name, data.len());
    true
}
