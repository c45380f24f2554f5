//! report.html from real runs: one self-contained file (nothing fetched, no script), and, in
//! headless Chromium, a page that loads without a console message and shows the ladder, the
//! model's states and the divergence. Run as root (or see the README's rootless notes).
//!
//! The browser test needs Debian's `chromium`, which the README's command does not: it is
//! `#[ignore]`d, and `.ci/run` installs Chromium and runs it with `--ignored chromium`.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use tcpcheck::requirements::card;
use tcpcheck::runner::report;
use tcpcheck::runner::{load, run_script, IpVersion, RunOptions, ScenarioRun, Verdict};

/// A passive open and an active close whose script expects a RST where the kernel sends its
/// FIN: the script fails at line 11, with the model following the run up to there.
const WRONG_CLOSE: &str = "\
// The kernel closes with a FIN; this script wrongly expects a RST.
0    socket(..., SOCK_STREAM, IPPROTO_TCP) = 3
+0   setsockopt(3, SOL_SOCKET, SO_REUSEADDR, [1], 4) = 0
+0   bind(3, ..., ...) = 0
+0   listen(3, 1) = 0
+0   < S 0:0(0) win 65535 <mss 1460,sackOK,nop,nop,nop,wscale 7>
+0   > S. 0:0(0) ack 1 <...>
+.01 < . 1:1(0) ack 1 win 512
+0   accept(3, ..., ...) = 4
+0   close(4) = 0
+0   > R. 1:1(0) ack 1
+.01 < . 1:1(0) ack 2 win 512
";

struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> TempDir {
        let p = std::env::temp_dir().join(format!(
            "tcpcheck-report-html-{name}-{}",
            std::process::id()
        ));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).expect("a temporary directory");
        TempDir(p)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the harness crate sits in the workspace")
        .to_path_buf()
}

fn run_file(path: &Path) -> ScenarioRun {
    let (text, script) = load(path).expect("the script loads");
    let name = path.display().to_string();
    run_script(&name, &text, &script, IpVersion::V4, &RunOptions::default())
}

/// A failing run with states, and a passing one with a data retransmission series; the
/// report written from them into `dir`.
fn write_report(dir: &TempDir) -> PathBuf {
    let script = dir.0.join("wrong-close.pkt");
    std::fs::write(&script, WRONG_CLOSE).unwrap();
    let failing = run_file(&script);
    let Verdict::Fail(d) = &failing.verdict else {
        panic!("the script should fail: {}", failing.describe());
    };
    assert_eq!(d.line, 11, "{}", failing.describe());
    let rto = run_file(&workspace().join("corpus/scenarios/timers/data-rto.pkt"));
    assert_eq!(rto.verdict, Verdict::Pass, "{}", rto.describe());
    let out = dir.0.join("report");
    // The stack's scorecard from the same runs goes in too: data-rto.pkt checks labels.
    let runs = [failing, rto];
    let card = card::in_report(&runs, "linux", "linux").expect("a corpus scenario ran");
    report::write_dir_with(&out, &runs, &card.extra()).expect("writing the report");
    out.join("report.html")
}

#[test]
fn report_html_is_self_contained_and_holds_ladders_states_and_plots() {
    let dir = TempDir::new("file");
    let page = std::fs::read_to_string(write_report(&dir)).expect("report.html");
    // Nothing fetched: the only URL is SVG's namespace name, which is never loaded.
    let urls = page.matches("http").count();
    let namespaces = page.matches("xmlns=\"http://www.w3.org/2000/svg\"").count();
    assert_eq!(urls, namespaces, "a URL besides SVG's namespace");
    for fetched in ["<script", "<link", "<img", "<iframe", "@import", "url(http"] {
        assert!(!page.contains(fetched), "{fetched} in report.html");
    }
    assert!(page.contains("class=\"ladder\""));
    assert!(page.contains(">FIN-WAIT-1</text>"), "the model's states");
    assert!(
        page.contains("class=\"divergence\""),
        "the divergence shaded"
    );
    assert!(page.contains("script line 11"));
    assert!(
        page.contains("&gt; R. 1:1(0) ack 1"),
        "the script's line, escaped"
    );
    assert!(page.contains("class=\"retransmissions\""), "the RTO plot");
    // The scorecard: data-rto.pkt's own labels pass, and it is escaped like the rest.
    let scorecard = page
        .split("<section class=\"scorecard\"")
        .nth(1)
        .expect("the scorecard's section")
        .split("</section>")
        .next()
        .unwrap();
    assert!(scorecard.contains("Scorecard of linux (model linux)"));
    assert!(
        scorecard.contains("<td>pass</td><td>Implement exponential backoff"),
        "{scorecard}"
    );
    assert!(
        !scorecard.contains("wrong-close"),
        "only corpus scenarios count"
    );

    let md = std::fs::read_to_string(dir.0.join("report/report.md")).unwrap();
    assert!(md.contains("```mermaid\nsequenceDiagram\n"), "{md}");
    // The stack's state beside the model's, now that the harness reads it.
    assert!(
        md.contains("Note left of K: model FIN-WAIT-1, stack FIN-WAIT-1"),
        "{md}"
    );
    assert!(
        md.contains("\n## Scorecard\n\nScorecard of linux (model linux): "),
        "{md}"
    );
    assert!(
        md.contains("| pass | Implement exponential backoff"),
        "{md}"
    );
}

/// Chromium's stderr lines that carry a page's console messages, e.g.
/// `[..:INFO:CONSOLE:2] "Uncaught ReferenceError: ...", source: file:///... (2)`. The report
/// has no script, so any message at all is an error of the page.
fn console_messages(stderr: &str) -> Vec<&str> {
    stderr.lines().filter(|l| l.contains(":CONSOLE")).collect()
}

/// The DOM Chromium built from `page`, and its stderr; fails after 60 s rather than hang.
fn chromium_dom(page: &Path, profile: &Path) -> (String, String) {
    let mut child = Command::new("chromium")
        .args([
            "--headless",
            "--disable-gpu",
            "--no-sandbox",
            "--enable-logging=stderr",
            "--v=0",
            "--dump-dom",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg(format!("file://{}", page.display()))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("chromium runs (Debian's `chromium` package)");
    let (stdout, stderr) = (child.stdout.take().unwrap(), child.stderr.take().unwrap());
    let read = |mut r: Box<dyn std::io::Read + Send>| {
        std::thread::spawn(move || {
            let mut s = String::new();
            let _ = r.read_to_string(&mut s);
            s
        })
    };
    let (out, err) = (read(Box::new(stdout)), read(Box::new(stderr)));
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        match child.try_wait().expect("waiting for chromium") {
            Some(status) => {
                assert!(status.success(), "chromium failed: {status}");
                break;
            }
            None if Instant::now() > deadline => {
                let _ = child.kill();
                let _ = child.wait();
                panic!("chromium did not finish within 60 s");
            }
            None => std::thread::sleep(Duration::from_millis(50)),
        }
    }
    (out.join().unwrap(), err.join().unwrap())
}

#[test]
#[ignore = "needs chromium: .ci/run installs it and runs the chromium tests with --ignored"]
fn report_html_loads_in_chromium_with_ladder_states_and_divergence() {
    let dir = TempDir::new("chromium");
    let page = write_report(&dir);

    // The check itself first: a page with a console error and an exception is caught.
    let planted = dir.0.join("planted.html");
    std::fs::write(
        &planted,
        "<!DOCTYPE html><html><body><p>x</p><script>console.error('planted'); \
         nosuchfunction();</script></body></html>",
    )
    .unwrap();
    let (_, stderr) = chromium_dom(&planted, &dir.0.join("profile-planted"));
    let caught = console_messages(&stderr);
    assert!(
        caught.iter().any(|l| l.contains("planted"))
            && caught.iter().any(|l| l.contains("nosuchfunction")),
        "the console check misses planted errors:\n{stderr}"
    );

    let (dom, stderr) = chromium_dom(&page, &dir.0.join("profile"));
    assert_eq!(
        console_messages(&stderr),
        Vec::<&str>::new(),
        "console messages:\n{stderr}"
    );
    // The browser's DOM, not the file: what it parsed. One ladder per run, the failing
    // one with its arrows (7 segments up to the failing FIN) and the model's states.
    assert!(dom.contains("<h1>tcpcheck run</h1>"), "{dom}");
    assert_eq!(dom.matches("<svg").count(), dom.matches("</svg>").count());
    assert_eq!(dom.matches("class=\"ladder\"").count(), 2, "{dom}");
    let failing = dom
        .split("<section")
        .skip(1)
        .find(|s| s.contains("wrong-close.pkt"))
        .expect("the failing run's section");
    assert_eq!(failing.matches("class=\"segment\"").count(), 4, "{failing}");
    for state in ["LISTEN", "SYN-RECEIVED", "ESTABLISHED", "FIN-WAIT-1"] {
        assert!(
            failing.contains(&format!(">{state}</text>")),
            "no {state}:\n{failing}"
        );
    }
    assert_eq!(failing.matches("class=\"divergence\"").count(), 1);
    assert!(failing.contains("class=\"divergence-box\""));
    assert!(failing.contains("script line 11"));
    assert!(dom.contains("class=\"retransmissions\""), "the RTO plot");
    assert!(
        dom.contains("<h2>Scorecard</h2>"),
        "the scorecard in the DOM"
    );
    assert!(dom.contains("<table class=\"card\">"), "{dom}");
}
