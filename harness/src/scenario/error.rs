//! Parse errors that point at the offending text the way rustc does, so a script author can
//! fix a 200-line scenario without counting columns.

use std::fmt;

/// One error, already located: `file:line:col: message`, then the source line with the
/// offending span underlined.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParseError {
    pub file: String,
    /// 1-based.
    pub line: u32,
    /// 1-based, counted in characters.
    pub col: u32,
    pub message: String,
    /// The whole source line holding the start of the span, without its line break.
    pub source_line: String,
    /// Characters to underline; at least 1, and never past the end of `source_line` + 1.
    pub width: u32,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "{}:{}:{}: {}",
            self.file, self.line, self.col, self.message
        )?;
        let number = self.line.to_string();
        writeln!(f, "  {number} | {}", self.source_line)?;
        // Tabs stay tabs so the carets line up whatever the terminal's tab width.
        let pad: String = self
            .source_line
            .chars()
            .take(self.col.saturating_sub(1) as usize)
            .map(|c| if c == '\t' { '\t' } else { ' ' })
            .collect();
        write!(
            f,
            "  {:width$} | {pad}{}",
            "",
            "^".repeat(self.width.max(1) as usize),
            width = number.len()
        )
    }
}

impl std::error::Error for ParseError {}
