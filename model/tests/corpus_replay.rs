//! Replays every seed under `corpus/fuzz/` through the oracle its fuzz target calls, so CI
//! checks the fuzz properties without cargo-fuzz, and checks each segment seed's documented
//! verdict (VALID, INVALID, NOT TCP, FRAGMENT) against the strict parser.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use tcpcheck_model::oracle;
use tcpcheck_model::wire::{SegmentRepr, WireError};

fn corpus_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../corpus/fuzz")
}

/// The seeds of one fuzz target: every file in its directory but the README.
fn seeds(target: &str) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = fs::read_dir(corpus_dir().join(target))
        .unwrap_or_else(|e| panic!("corpus/fuzz/{target}: {e}"))
        .map(|entry| entry.expect("readable directory entry").path())
        .filter(|p| p.extension().is_none_or(|e| e != "md"))
        .collect();
    files.sort();
    files
}

/// Every directory under corpus/fuzz must belong to a fuzz target this test replays, so a new
/// target's seeds cannot silently go unchecked.
#[test]
fn every_corpus_directory_is_replayed() {
    // The scenario seeds are replayed by harness/tests/scenario_parse.rs: the parser lives in
    // the harness crate, which this one cannot depend on. The smoltcp seeds are replayed by
    // .ci/run's fuzz step (`cargo fuzz run ... smoltcp ... -runs=0`): their decoder is the fuzz
    // target's own, through `arbitrary`, which no workspace crate depends on.
    let known = ["segment", "model", "scenario", "smoltcp"];
    for entry in fs::read_dir(corpus_dir()).expect("corpus/fuzz exists") {
        let name = entry.expect("entry").file_name();
        let name = name.to_string_lossy();
        assert!(
            known.contains(&name.as_ref()),
            "corpus/fuzz/{name} has no replay in model/tests/corpus_replay.rs"
        );
    }
}

#[test]
fn segment_seeds_satisfy_the_fuzz_oracle() {
    let files = seeds("segment");
    assert!(
        files.len() >= 40,
        "expected the captured seed corpus, found {}",
        files.len()
    );
    let failures: Vec<String> = files
        .iter()
        .filter_map(|path| {
            let data = fs::read(path).expect("readable seed");
            oracle::segment(&data)
                .err()
                .map(|e| format!("{}: {e}", path.display()))
        })
        .collect();
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn model_seeds_satisfy_the_fuzz_oracle() {
    let files = seeds("model");
    assert!(!files.is_empty());
    for path in files {
        let data = fs::read(&path).unwrap();
        if let Err(e) = oracle::model(&data) {
            panic!("{}: {e}", path.display());
        }
    }
}

/// README.md (generated with the seeds) and REGRESSIONS.md (fuzzer finds, kept by hand) list
/// each seed as "- `name.bin` (N bytes): VERDICT: why".
fn documented_verdicts() -> BTreeMap<String, String> {
    let readme = ["README.md", "REGRESSIONS.md"]
        .map(|f| fs::read_to_string(corpus_dir().join("segment").join(f)).expect(f))
        .join("\n");
    readme
        .lines()
        .filter_map(|line| {
            let rest = line.strip_prefix("- `")?;
            let (name, rest) = rest.split_once('`')?;
            let (_, text) = rest.split_once("): ")?;
            Some((name.to_string(), text.to_string()))
        })
        .collect()
}

#[test]
fn segment_seeds_get_their_documented_verdict() {
    let verdicts = documented_verdicts();
    let mut checked = 0;
    for path in seeds("segment") {
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        let text = verdicts
            .get(&name)
            .unwrap_or_else(|| panic!("{name} is not described in corpus/fuzz/segment/README.md"));
        let data = fs::read(&path).unwrap();
        let result = SegmentRepr::parse(&data);
        let ok = match result {
            Ok(_) => true,
            Err(ref e) => {
                if text.starts_with("NOT TCP") {
                    assert!(matches!(e, WireError::NotTcp { .. }), "{name}: {e}");
                }
                if text.starts_with("FRAGMENT") {
                    assert!(
                        matches!(
                            e,
                            WireError::Ipv4Fragment { .. } | WireError::Ipv6Fragment { .. }
                        ),
                        "{name}: {e}"
                    );
                }
                false
            }
        };
        let expect_ok = text.starts_with("IPv4, VALID")
            || text.starts_with("IPv6, VALID")
            || text.starts_with("VALID")
            || text.starts_with("UNUSUAL");
        assert_eq!(ok, expect_ok, "{name} ({text}) parsed as {result:?}");
        checked += 1;
    }
    assert_eq!(
        checked,
        verdicts.len(),
        "README lists seeds that are missing"
    );
}

/// The kernel and our injector write canonical packets, so each must come back byte for byte.
#[test]
fn real_packets_re_emit_byte_for_byte() {
    let real: Vec<PathBuf> = seeds("segment")
        .into_iter()
        .filter(|p| {
            let name = p.file_name().unwrap().to_string_lossy();
            name.starts_with("kernel-") || name.starts_with("injected-")
        })
        .collect();
    assert!(real.len() >= 24, "captured seeds missing: {}", real.len());
    for path in real {
        let data = fs::read(&path).unwrap();
        let repr = SegmentRepr::parse(&data).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        assert!(oracle::is_canonical(&data, &repr), "{}", path.display());
        assert_eq!(repr.emit().unwrap(), data, "{}", path.display());
    }
}
