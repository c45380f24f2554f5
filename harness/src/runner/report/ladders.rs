//! Ladders for the reports and the terminal (`run --ladder`). A ladder is drawn from the
//! run's trace and the script it ran; the reports are given runs, so each script is read
//! again from the path the run names, once per path.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::path::Path;

use crate::runner::ladder::{self, Row};
use crate::runner::{load, ScenarioRun};
use crate::scenario::Script;

/// The scripts of a batch of runs, by path: the text and the parsed script, or why there is
/// none (a run of text that was never a file, a file since changed into something else).
pub struct Sources {
    by_path: HashMap<String, Result<(String, Script), String>>,
}

impl Sources {
    pub fn load(runs: &[ScenarioRun]) -> Sources {
        let mut by_path = HashMap::new();
        for r in runs {
            by_path
                .entry(r.path.clone())
                .or_insert_with(|| load(Path::new(&r.path)));
        }
        Sources { by_path }
    }

    fn get(&self, path: &str) -> Result<&(String, Script), String> {
        match self.by_path.get(path) {
            Some(Ok(s)) => Ok(s),
            Some(Err(e)) => Err(e.clone()),
            None => Err(format!("{path}: not among the scripts read")),
        }
    }

    /// The ladder's rows of `r`, or why it has none.
    pub fn rows(&self, r: &ScenarioRun) -> Result<Vec<Row>, String> {
        let (_, script) = self.get(&r.path)?;
        if r.trace.events.is_empty() {
            return Err("the run recorded nothing".into());
        }
        Ok(ladder::rows(&r.trace, script))
    }

    /// The text of script line `line` of `r`'s script, trimmed.
    pub fn line(&self, r: &ScenarioRun, line: u32) -> Option<String> {
        let (text, _) = self.get(&r.path).ok()?;
        let l = text.lines().nth((line as usize).checked_sub(1)?)?;
        Some(l.trim().to_string())
    }

    /// The text diagram of `r` (as the snapshots keep it), or a line saying why there is
    /// none.
    pub fn ladder(&self, r: &ScenarioRun) -> String {
        match self.get(&r.path) {
            Ok((_, script)) => ladder::ladder(r, script),
            Err(e) => format!(
                "scenario  {}\nip        {}\nno ladder: {e}\n",
                r.path,
                r.ip.name()
            ),
        }
    }
}

/// Every run's ladder, one after the other, for the terminal.
pub fn ladders(runs: &[ScenarioRun]) -> String {
    let sources = Sources::load(runs);
    let mut out = String::new();
    for r in runs {
        let _ = writeln!(out, "{}", sources.ladder(r));
    }
    out
}

/// `run --ladder`: [`ladders`] on stdout, or on stderr when stdout carries JSON.
pub fn print_ladders(runs: &[ScenarioRun], stdout_is_json: bool) {
    let text = ladders(runs);
    if stdout_is_json {
        eprint!("{text}");
    } else {
        print!("{text}");
    }
}
