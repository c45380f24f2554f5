//! `tcpcheck requirements`: the matrix, or with `--stack` a stack's scorecard (each label's
//! scenarios run against that stack, with the model beside them).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use clap::Args as ClapArgs;
use tcpcheck::requirements::builtin;
use tcpcheck::requirements::card::{self, CORPUS_PREFIX};
use tcpcheck::requirements::{self, Entry, Status, OTHER_REQUIREMENTS, REQUIREMENTS};
use tcpcheck::runner::{self, report, IpVersion, Job, RunOptions};
use tcpcheck::stack::{Registry, StackKind};

use super::{Format, ProfileArg};

#[derive(ClapArgs)]
pub struct Args {
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
    /// Only the labels with this status.
    #[arg(long, value_parser = ["tested", "implemented", "not-observable", "missing"])]
    status: Option<String>,
    /// Print this stack's scorecard instead: run every scenario that checks a label on the
    /// wire against the stack, and mark each label pass, fail, not applicable, not
    /// observable, or "no scenario".
    #[arg(long, value_enum)]
    stack: Option<StackKind>,
    /// With --stack: the model beside the scenarios. `rfc9293` judges the stack by the
    /// standard as written (a divergence on a rule naming the label fails it); `linux` by
    /// Linux's documented choices.
    #[arg(long, value_enum, default_value_t = ProfileArg::Rfc9293)]
    model: ProfileArg,
    /// With --stack: scenarios run at once.
    #[arg(short, long, default_value_t = super::run_cli::DEFAULT_JOBS,
          value_parser = clap::value_parser!(u64).range(1..=256))]
    jobs: u64,
    /// With --stack: also write card.md, card.html, card.json, and the runs' own report
    /// (report.md, report.html, ...), here.
    #[arg(long)]
    report: Option<PathBuf>,
}

impl Args {
    /// The stack a scorecard runs, if one was asked for.
    pub fn stack(&self) -> Option<StackKind> {
        self.stack
    }
}

pub fn main(args: Args, registry: &Registry) -> ExitCode {
    let status = args.status.as_deref().and_then(Status::parse);
    let keep = |e: &&Entry| status.is_none_or(|s| e.status == s);
    let shown: Vec<&Entry> = REQUIREMENTS.iter().filter(keep).collect();
    let other: Vec<&Entry> = OTHER_REQUIREMENTS.iter().filter(keep).collect();
    let Some(kind) = args.stack else {
        match args.format {
            Format::Text => out!(
                "{}\n{}",
                requirements::render_text(REQUIREMENTS, &shown),
                requirements::render_other_text(OTHER_REQUIREMENTS, &other)
            ),
            Format::Json => out!("{}", requirements::render_json(&[shown, other].concat())),
        }
        return ExitCode::SUCCESS;
    };
    let factory = match registry.get(kind) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("tcpcheck: {e}");
            return ExitCode::from(2);
        }
    };
    let Some(root) = workspace_root() else {
        eprintln!(
            "tcpcheck: requirements --stack runs the scenarios under {CORPUS_PREFIX}, which \
             are neither in the current directory nor where this binary was built: start it \
             from the repository's top directory"
        );
        return ExitCode::from(2);
    };
    let entries: Vec<&Entry> = shown.iter().chain(other.iter()).copied().collect();
    let scenarios: BTreeSet<&str> = entries.iter().flat_map(|e| card::scenarios_of(e)).collect();
    let (builtins, scenarios): (BTreeSet<&str>, BTreeSet<&str>) = scenarios
        .into_iter()
        .partition(|s| s.starts_with(builtin::PREFIX));
    let builtins: Vec<&builtin::BuiltinCheck> =
        builtins.iter().filter_map(|n| builtin::find(n)).collect();
    let mut work = Vec::new();
    for rel in &scenarios {
        let path = root.join(rel);
        let source = Arc::new(runner::load(&path));
        let versions = match source.as_ref() {
            Ok((_, script)) => runner::versions_for(script, &[IpVersion::V4]),
            Err(_) => vec![IpVersion::V4],
        };
        for ip in versions {
            work.push(Job {
                path: path.display().to_string(),
                ip,
                iteration: 0,
                source: Arc::clone(&source),
            });
        }
    }
    let model = args.model.kind();
    let opts = RunOptions {
        model: Some(model),
        stack: factory,
        ..RunOptions::default()
    };
    eprintln!(
        "tcpcheck: running {} scenarios against {} ({} at once), then {} built-in checks",
        work.len(),
        kind.name(),
        args.jobs,
        builtins.len()
    );
    let mut runs = runner::run_jobs(work, args.jobs as usize, &opts, &|_| {});
    // One after another, alone: the ISN check's timing is the stack's, not shared.
    runs.extend(builtin::run_all(&builtins, factory, Some(model)));
    let prefix = format!("{}/", root.display());
    let name_of = |p: &str| p.strip_prefix(&prefix).unwrap_or(p).to_string();
    let model_name = args.model.name();
    let rows = card::card(&entries, &runs, &name_of);
    let title = card::heading(kind.name(), model_name, &rows);
    match args.format {
        Format::Text => out!("{}", card::render_text(&title, &rows)),
        Format::Json => outln!(
            "{}",
            serde_json::to_string_pretty(&card::render_json(kind.name(), model_name, &rows))
                .expect("JSON values serialise")
        ),
    }
    if let Some(dir) = &args.report {
        let extra = card::InReport {
            title: title.clone(),
            rows: rows.clone(),
            left_out: 0,
        }
        .extra();
        let written = report::write_dir_with(dir, &runs, &extra).and_then(|_| {
            std::fs::write(dir.join("card.md"), card::render_markdown(&title, &rows))?;
            std::fs::write(dir.join("card.html"), card::render_html(&title, &rows))?;
            std::fs::write(
                dir.join("card.json"),
                serde_json::to_string_pretty(&card::render_json(kind.name(), model_name, &rows))
                    .expect("JSON values serialise")
                    + "\n",
            )
        });
        if let Err(e) = written {
            eprintln!("tcpcheck: writing the report to {}: {e}", dir.display());
            return ExitCode::from(2);
        }
    }
    let tally = card::tally(&rows);
    if tally["error"] > 0 {
        ExitCode::from(2)
    } else if tally["fail"] > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

/// The directory holding `corpus/scenarios`: the current one, or the repository this binary
/// was built from.
fn workspace_root() -> Option<PathBuf> {
    let here = Path::new(".");
    if here.join(CORPUS_PREFIX).is_dir() {
        return std::env::current_dir().ok();
    }
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .canonicalize()
        .ok()
        .filter(|p| p.join(CORPUS_PREFIX).is_dir())
}
