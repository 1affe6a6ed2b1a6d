//! The recording workflow end to end: status, stale takes, accepting a new take, review
//! dates on a fixed clock, and the commands that support them.

mod common;

use std::process::{Command, Output};

use common::{sine, square, write_wav16, Scratch};

const GOVERNANCE: &str = "[episodes.e.governance]\nversion = \"2\"\napproved_by = \"Dr A. Lee\"\n\
                          approved_on = 2026-01-10\nreview_by = 2026-12-31\nsource = \"leaflet-42.pdf\"\n";

fn project(governance: &str) -> Scratch {
    let p = Scratch::new("workflow");
    p.write(
        "narrate.toml",
        &format!("[project]\ntitle = \"T\"\n[episodes.e]\ntitle = \"E\"\n{governance}"),
    );
    write_wav16(
        &p.path("audio/e/01-a.wav"),
        44_100,
        1,
        &square(44_100, 1, 100, 0.25),
    );
    p.section("e", "01-a", "title = \"A\"", "The first take's words.");
    p
}

/// Runs narrate on a fixed day.
fn on(p: &Scratch, today: &str, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_narrate"))
        .args(args)
        .current_dir(&p.root)
        .env("NARRATE_TODAY", today)
        .output()
        .unwrap()
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

fn state(p: &Scratch) -> (String, bool) {
    let out = on(p, "2026-06-01", &["status", "--json"]);
    assert!(out.status.success(), "{}", text(&out));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let section = &json[0]["sections"][0];
    (
        section["state"].as_str().unwrap().to_string(),
        section["accepted"].as_bool().unwrap(),
    )
}

#[test]
fn a_section_goes_from_recorded_to_stale_and_back() {
    let p = project(GOVERNANCE);
    let day = "2026-06-01";
    // Recorded, not yet accepted: fine for a plain build and for a release.
    assert_eq!(state(&p), ("recorded".into(), false));
    assert!(on(&p, day, &["build", "--release"]).status.success());

    // Accepted.
    let out = on(&p, day, &["accept", "e"]);
    assert!(text(&out).contains("accepted 1 take"), "{}", text(&out));
    assert!(p.path("narrate.lock").is_file());
    assert_eq!(state(&p), ("recorded".into(), true));

    // The approved text changes: the take is stale.
    p.section(
        "e",
        "01-a",
        "title = \"A\"",
        "The corrected words, after review.",
    );
    assert_eq!(state(&p), ("stale".into(), false));
    let status = text(&on(&p, day, &["status"]));
    assert!(
        status.contains("STALE") && status.contains("1 of 1 sections need a recording"),
        "{status}"
    );
    let build = on(&p, day, &["build"]);
    assert!(build.status.success());
    assert!(
        text(&build).contains("warning:") && text(&build).contains("stale"),
        "{}",
        text(&build)
    );
    let release = on(&p, day, &["build", "--release"]);
    assert_eq!(release.status.code(), Some(1));
    assert!(
        text(&release).contains("01-a.md") && text(&release).contains("narrate accept e 01-a"),
        "{}",
        text(&release)
    );
    assert_eq!(on(&p, day, &["check", "--release"]).status.code(), Some(1));

    // A new take of the new text is recorded: stale until accepted, still refused.
    write_wav16(
        &p.path("audio/e/01-a.wav"),
        44_100,
        1,
        &sine(44_100, 44_100, 1, 330.0, 0.3),
    );
    assert_eq!(state(&p).0, "stale");
    assert_eq!(on(&p, day, &["build", "--release"]).status.code(), Some(1));

    // Accepted: recorded again, and the release builds.
    assert!(on(&p, day, &["accept", "e", "01-a"]).status.success());
    assert_eq!(state(&p), ("recorded".into(), true));
    let release = on(&p, day, &["build", "--release"]);
    assert!(release.status.success(), "{}", text(&release));

    // The audio alone is replaced: a new take to listen to and accept.
    write_wav16(
        &p.path("audio/e/01-a.wav"),
        44_100,
        1,
        &sine(44_100, 44_100, 1, 440.0, 0.3),
    );
    assert_eq!(state(&p), ("new-take".into(), false));
    assert_eq!(on(&p, day, &["build", "--release"]).status.code(), Some(1));
}

#[test]
fn review_dates_warn_before_and_fail_after_on_a_fixed_clock() {
    let p = project(GOVERNANCE);
    // Long before the review date: silent.
    let out = on(&p, "2026-06-01", &["check"]);
    assert!(
        out.status.success() && !text(&out).contains("review"),
        "{}",
        text(&out)
    );
    // Within 60 days: a warning.
    let out = on(&p, "2026-11-15", &["check"]);
    assert!(out.status.success());
    assert!(
        text(&out).contains("due for review in 46 days"),
        "{}",
        text(&out)
    );
    // The review date itself is the last valid day.
    assert!(on(&p, "2026-12-31", &["check", "--release"])
        .status
        .success());
    // After it: check fails, a release is refused, a plain build still lets the team listen.
    let out = on(&p, "2027-01-01", &["check"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out).contains("passed its review date 2026-12-31 1 day ago")
            && text(&out).contains("fix:")
    );
    assert_eq!(
        on(&p, "2027-01-01", &["build", "--release"]).status.code(),
        Some(1)
    );
    let out = on(&p, "2027-01-01", &["build"]);
    assert!(
        out.status.success() && text(&out).contains("warning:"),
        "{}",
        text(&out)
    );
    // The governance facts travel with the audio.
    let info = narrate::wav::reader::read_wav_info(&p.path("out/guide/e.wav")).unwrap();
    let comment = info.tag("ICMT").unwrap();
    assert!(comment.contains("version 2; approved by Dr A. Lee on 2026-01-10; review by 2026-12-31; source: leaflet-42.pdf"), "{comment}");
}

#[test]
fn unapproved_content_warns_and_is_refused_for_release() {
    let p = project("");
    let out = on(&p, "2026-06-01", &["check"]);
    assert!(
        out.status.success() && text(&out).contains("not approved"),
        "{}",
        text(&out)
    );
    let out = on(&p, "2026-06-01", &["build", "--release"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out).contains("[episodes.e.governance]"),
        "{}",
        text(&out)
    );
}

#[test]
fn the_recording_sheet_lists_todo_sections_first() {
    let p = project(GOVERNANCE);
    p.section("e", "02-b", "title = \"B & <C>\"", "Words still to record.");
    let out = on(&p, "2026-06-01", &["sheet", "e", "--todo"]);
    assert!(out.status.success(), "{}", text(&out));
    let html = std::fs::read_to_string(p.path("out/sheets/e.sheet.html")).unwrap();
    assert!(html.contains("B &amp; &lt;C&gt;") && html.contains("audio/e/02-b.wav"));
    assert!(
        !html.contains(">A<"),
        "--todo lists only what is left to record"
    );
    assert!(p.path("out/sheets/e.sheet.txt").is_file());
}

#[test]
fn init_makes_a_project_that_checks_and_init_from_a_document_proposes_sections() {
    let p = Scratch::new("init");
    let out = on(&p, "2026-06-01", &["init", "new"]);
    assert!(out.status.success(), "{}", text(&out));
    let check = Command::new(env!("CARGO_BIN_EXE_narrate"))
        .args(["check", "--project", "new"])
        .current_dir(&p.root)
        .env("NARRATE_TODAY", "2026-06-01")
        .output()
        .unwrap();
    // Without a speech engine the fresh project's unrecorded section cannot be checked.
    if common::have_tool("espeak-ng", "--version") {
        assert!(check.status.success(), "{}", text(&check));
    }
    // It refuses to overwrite.
    assert_eq!(
        on(&p, "2026-06-01", &["init", "new"]).status.code(),
        Some(1)
    );

    let seeds = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/seeds/001_97b64aacb1488019.txt");
    if !seeds.is_file() {
        eprintln!("note: ../shared/seeds not found beside the repository; skipping --from");
        return;
    }
    let out = on(
        &p,
        "2026-06-01",
        &["init", "doc", "--from", seeds.to_str().unwrap()],
    );
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("are-there-risks"), "{}", text(&out));
}
