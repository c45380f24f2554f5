//! Reading a written pcapng back through Wireshark's dissectors, so tests check what users
//! will actually see, not what our own writer believes it wrote.

use std::io;
use std::path::Path;
use std::process::Command;

/// Separates the values of a field that occurs several times in one packet (several
/// comments): tshark's default, a comma, occurs in the comments themselves.
pub const AGGREGATOR: char = '\u{1f}';

/// Runs `tshark -T fields` on `path`: one entry per packet, one string per field, repeated
/// occurrences joined with [`AGGREGATOR`].
pub fn fields(path: &Path, fields: &[&str]) -> io::Result<Vec<Vec<String>>> {
    let mut cmd = Command::new("tshark");
    cmd.arg("-n").arg("-r").arg(path).args(["-T", "fields"]);
    for field in fields {
        cmd.args(["-e", field]);
    }
    cmd.arg("-E").arg(format!("aggregator={AGGREGATOR}"));
    let output = cmd.output().map_err(|e| {
        if e.kind() == io::ErrorKind::NotFound {
            io::Error::new(
                e.kind(),
                "tshark is not installed; install it (`apt-get install tshark`): CI installs it",
            )
        } else {
            e
        }
    })?;
    if !output.status.success() {
        return Err(io::Error::other(format!(
            "tshark failed ({}): {}",
            output.status,
            String::from_utf8_lossy(&output.stderr)
        )));
    }
    let stdout = String::from_utf8(output.stdout)
        .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?;
    Ok(stdout
        .lines()
        .map(|line| line.split('\t').map(str::to_owned).collect())
        .collect())
}
