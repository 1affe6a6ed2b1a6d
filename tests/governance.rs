//! Content governance and the recording workflow: review dates on a fixed clock, the
//! `narrate.lock` of accepted takes, recording sheets and `init`.

mod common;

use narrate::governance::{Date, Governance, ReviewState, Severity};

/// The fixed "today" of every review-date test.
fn today() -> Date {
    date("2026-11-01")
}

fn date(s: &str) -> Date {
    s.parse().unwrap()
}

fn approved(review_by: Option<&str>) -> Governance {
    Governance {
        version: Some("3".into()),
        approved_by: Some("Dr A. Lee".into()),
        approved_on: Some(date("2026-06-01")),
        review_by: review_by.map(date),
        source: Some("leaflet-42.pdf".into()),
    }
}

#[test]
fn governance_reads_bare_and_quoted_toml_dates() {
    let g: Governance = toml::from_str(
        "version = \"3\"\napproved_by = \"Dr A. Lee\"\napproved_on = 2026-06-01\nreview_by = \"2027-06-01\"\n",
    )
    .unwrap();
    assert_eq!(g.approved_on, Some(date("2026-06-01")));
    assert_eq!(g.review_by, Some(date("2027-06-01")));
    assert!(g.is_approved());
}

#[test]
fn governance_refuses_bad_dates_and_unknown_keys() {
    let err = toml::from_str::<Governance>("review_by = \"2026-02-30\"\n").unwrap_err();
    assert!(err.message().contains("01 to 28"), "{err}");
    // A bare impossible date is refused by the TOML parser itself.
    let err = toml::from_str::<Governance>("review_by = 2026-02-30\n").unwrap_err();
    assert!(err.message().contains("28"), "{err}");
    let err = toml::from_str::<Governance>("review_by = \"next year\"\n").unwrap_err();
    assert!(err.message().contains("YYYY-MM-DD"), "{err}");
    let err = toml::from_str::<Governance>("review_by = 2026-02-03T10:00:00\n").unwrap_err();
    assert!(err.message().contains("time of day"), "{err}");
    let err = toml::from_str::<Governance>("reviewed_by = \"x\"\n").unwrap_err();
    assert!(err.message().contains("reviewed_by"), "{err}");
}

#[test]
fn review_state_follows_the_fixed_clock() {
    let g = approved(Some("2027-06-01"));
    assert_eq!(
        g.review(today(), 60),
        ReviewState::Ok {
            review_by: date("2027-06-01"),
            days_left: 212
        }
    );
    // 60 days before: the first day of the warning.
    let g = approved(Some("2026-12-31"));
    assert_eq!(
        g.review(today(), 60),
        ReviewState::DueSoon {
            review_by: date("2026-12-31"),
            days_left: 60
        }
    );
    assert!(matches!(
        g.review(today(), 59),
        ReviewState::Ok { days_left: 60, .. }
    ));
    // The review date itself is the last valid day.
    let g = approved(Some("2026-11-01"));
    assert_eq!(
        g.review(today(), 60),
        ReviewState::DueSoon {
            review_by: today(),
            days_left: 0
        }
    );
    let g = approved(Some("2026-10-31"));
    assert_eq!(
        g.review(today(), 60),
        ReviewState::Expired {
            review_by: date("2026-10-31"),
            days_over: 1
        }
    );
    assert_eq!(
        approved(None).review(today(), 60),
        ReviewState::NoReviewDate
    );
}

#[test]
fn unapproved_means_approver_and_date_are_both_given() {
    let mut g = approved(Some("2027-06-01"));
    g.approved_on = None;
    assert_eq!(g.review(today(), 60), ReviewState::Unapproved);
    let mut g = approved(Some("2020-01-01"));
    g.approved_by = Some("  ".into());
    assert_eq!(g.review(today(), 60), ReviewState::Unapproved);
    assert_eq!(
        Governance::default().review(today(), 60),
        ReviewState::Unapproved
    );
}

#[test]
fn severities_warn_in_check_and_refuse_in_release() {
    let due = approved(Some("2026-12-01")).review(today(), 60);
    let expired = approved(Some("2026-01-01")).review(today(), 60);
    let unapproved = Governance::default().review(today(), 60);
    let fine = approved(Some("2028-01-01")).review(today(), 60);
    assert_eq!(fine.severity(true), Severity::Fine);
    assert_eq!(due.severity(false), Severity::Warning);
    assert_eq!(due.severity(true), Severity::Warning);
    assert_eq!(expired.severity(false), Severity::Error);
    assert_eq!(expired.severity(true), Severity::Error);
    assert_eq!(unapproved.severity(false), Severity::Warning);
    assert_eq!(unapproved.severity(true), Severity::Error);
}

#[test]
fn review_messages_name_the_episode_dates_and_fix() {
    let expired = approved(Some("2026-10-20")).review(today(), 60);
    let err = expired.to_error(std::path::Path::new("narrate.toml"), "mitraclip");
    let text = err.to_string();
    assert!(
        text.starts_with("narrate.toml ([episodes.mitraclip.governance]): "),
        "{text}"
    );
    assert!(
        text.contains("passed its review date 2026-10-20 12 days ago"),
        "{text}"
    );
    assert!(text.contains("fix: review the wording"), "{text}");

    let due = approved(Some("2026-11-02")).review(today(), 60);
    assert!(
        due.message("x").contains("due for review in 1 day "),
        "{}",
        due.message("x")
    );
    let today_due = approved(Some("2026-11-01")).review(today(), 60);
    assert!(today_due.message("x").contains("due for review today"));
    let unapproved = Governance::default().review(today(), 60);
    assert!(unapproved
        .fix("x")
        .unwrap()
        .contains("approved_by and approved_on"));
}

#[test]
fn governance_problems_catch_inconsistent_dates() {
    let mut g = approved(Some("2026-05-01"));
    assert_eq!(
        g.problems(today()),
        ["review_by 2026-05-01 is not after approved_on 2026-06-01"]
    );
    g.review_by = Some(date("2027-05-01"));
    g.approved_on = Some(date("2026-11-02"));
    assert_eq!(
        g.problems(today()),
        ["approved_on 2026-11-02 is in the future (today is 2026-11-01)"]
    );
    assert!(approved(Some("2027-01-01")).problems(today()).is_empty());
}

#[test]
fn governance_summary_is_one_line_for_tags() {
    assert_eq!(
        approved(Some("2027-06-01")).summary().as_deref(),
        Some("version 3; approved by Dr A. Lee on 2026-06-01; review by 2027-06-01; source: leaflet-42.pdf")
    );
    assert_eq!(Governance::default().summary(), None);
}

#[test]
fn today_comes_from_the_fixed_clock_variable_or_the_utc_clock() {
    use std::time::{Duration, UNIX_EPOCH};
    let clock = UNIX_EPOCH + Duration::from_secs(20_393 * 86_400 + 86_399);
    assert_eq!(
        Date::resolve_today(None, clock).unwrap(),
        date("2025-11-01")
    );
    assert_eq!(
        Date::resolve_today(Some("2026-11-01"), clock).unwrap(),
        today()
    );
    let err = Date::resolve_today(Some("1/11/2026"), clock).unwrap_err();
    assert!(
        err.message.contains("NARRATE_TODAY is `1/11/2026`"),
        "{err}"
    );
    assert!(err.message.contains("YYYY-MM-DD"), "{err}");
}

mod lock {
    use super::common::Scratch;
    use narrate::lock::{text_hash, Lock, RecordingState, LOCK_FILE};
    use std::fs;

    const TEXT: &str = "Like any procedure, there is a risk of bleeding.\n";

    fn state(lock: &Lock, s: &Scratch, text: &str) -> RecordingState {
        lock.state(
            "mitraclip",
            "04-risks",
            text,
            &s.path("audio/mitraclip/04-risks.wav"),
        )
        .unwrap()
    }

    #[test]
    fn a_section_goes_recorded_stale_new_take_accepted() {
        let s = Scratch::new("lock-walk");
        let clip = s.write("audio/mitraclip/04-risks.wav", "take 1");
        let mut lock = Lock::load(&s.root).unwrap();
        assert_eq!(state(&lock, &s, TEXT), RecordingState::Unlocked);

        lock.accept("mitraclip", "04-risks", TEXT, &clip).unwrap();
        assert_eq!(state(&lock, &s, TEXT), RecordingState::Accepted);
        // Re-wrapping the text is not a change.
        let rewrapped = "Like any procedure,\r\n  there is a risk of bleeding.";
        assert_eq!(state(&lock, &s, rewrapped), RecordingState::Accepted);

        // The approved wording changes: the take is stale.
        let edited = "As with any procedure, there is a small risk of bleeding.";
        let st = state(&lock, &s, edited);
        assert_eq!(
            st,
            RecordingState::Stale {
                text_changed: true,
                audio_changed: false
            }
        );
        assert!(st.is_stale());
        assert_eq!(st.label(), "stale");
        let (msg, fix) = st.problem("mitraclip", "04-risks").unwrap();
        assert!(
            msg.contains("mitraclip/04-risks: the recording is stale"),
            "{msg}"
        );
        assert!(fix.contains("narrate accept mitraclip 04-risks"), "{fix}");

        // The voice talent records a new take: still not accepted.
        fs::write(&clip, "take 2").unwrap();
        let st = state(&lock, &s, edited);
        assert_eq!(
            st,
            RecordingState::Stale {
                text_changed: true,
                audio_changed: true
            }
        );
        // A new take of unchanged text is reported distinctly, and is not "stale".
        let st = state(&lock, &s, TEXT);
        assert_eq!(st.label(), "new take");
        assert!(!st.is_stale());
        assert!(st
            .problem("mitraclip", "04-risks")
            .unwrap()
            .0
            .contains("new take not accepted"));

        lock.accept("mitraclip", "04-risks", edited, &clip).unwrap();
        assert_eq!(state(&lock, &s, edited), RecordingState::Accepted);
        assert_eq!(RecordingState::Accepted.problem("e", "s"), None);
    }

    #[test]
    fn the_lock_round_trips_sorted_and_byte_identical() {
        let s = Scratch::new("lock-save");
        let b = s.write("audio/b/02-two.flac", "bbb");
        let a = s.write("audio/a/01-one.wav", "aaa");
        let mut lock = Lock::load(&s.root).unwrap();
        lock.accept("b", "02-two", "Two \"quoted\" words", &b)
            .unwrap();
        lock.accept("a", "01-one", "One", &a).unwrap();
        lock.save().unwrap();
        let first = fs::read_to_string(s.path(LOCK_FILE)).unwrap();
        assert!(first.contains("version = 1\n"));
        let a_at = first.find("episode = \"a\"").unwrap();
        assert!(a_at < first.find("episode = \"b\"").unwrap(), "{first}");
        assert!(first.contains("clip = \"audio/a/01-one.wav\"\n"), "{first}");
        assert!(first.contains(&format!("text_sha256 = \"{}\"", text_hash("One"))));

        let loaded = Lock::load(&s.root).unwrap();
        assert_eq!(loaded, lock);
        loaded.save().unwrap();
        assert_eq!(fs::read_to_string(s.path(LOCK_FILE)).unwrap(), first);
        assert_eq!(
            loaded
                .state("b", "02-two", "Two \"quoted\" words", &b)
                .unwrap(),
            RecordingState::Accepted
        );
    }

    #[test]
    fn retain_drops_sections_that_are_gone() {
        let s = Scratch::new("lock-retain");
        let clip = s.write("audio/a/01-one.wav", "x");
        let mut lock = Lock::load(&s.root).unwrap();
        lock.accept("a", "01-one", "One", &clip).unwrap();
        lock.accept("a", "02-gone", "Two", &clip).unwrap();
        let removed = lock.retain(|_, section| section != "02-gone");
        assert_eq!(removed.len(), 1);
        assert_eq!(removed[0].section, "02-gone");
        assert_eq!(lock.entries().count(), 1);
    }

    #[test]
    fn broken_locks_are_named_with_a_fix() {
        let s = Scratch::new("lock-broken");
        let hash = "0".repeat(64);
        let entry = |section: &str| {
            format!("[[recording]]\nepisode = \"a\"\nsection = \"{section}\"\nclip = \"x.wav\"\ntext_sha256 = \"{hash}\"\naudio_sha256 = \"{hash}\"\n")
        };
        let conflict = format!(
            "version = 1\n<<<<<<< HEAD\n{}=======\n{}>>>>>>> other\n",
            entry("01"),
            entry("01")
        );
        let err = Lock::parse(&s.root, &conflict).unwrap_err();
        assert!(err.message.contains("merge-conflict"), "{err}");
        assert_eq!(err.place.as_deref(), Some("line 2"));

        let twice = format!("version = 1\n{}{}", entry("01"), entry("01"));
        let err = Lock::parse(&s.root, &twice).unwrap_err();
        assert!(err.message.contains("two entries"), "{err}");
        assert_eq!(err.place.as_deref(), Some("recording a/01"));

        let bad_hash = format!("version = 1\n{}", entry("01")).replace(&hash, "abc");
        let err = Lock::parse(&s.root, &bad_hash).unwrap_err();
        assert!(err.message.contains("not a SHA-256"), "{err}");

        let unknown = format!("version = 1\n{}note = \"x\"\n", entry("01"));
        let err = Lock::parse(&s.root, &unknown).unwrap_err();
        assert!(err.message.contains("note"), "{err}");
        assert_eq!(err.place.as_deref(), Some("line 8"));

        let err = Lock::parse(&s.root, "version = 2\n").unwrap_err();
        assert!(err.message.contains("version 2"), "{err}");
        assert!(err.file.unwrap().ends_with(LOCK_FILE));
    }
}

mod sheet {
    use super::common::{have_tool, Scratch};
    use narrate::sheet::{
        pronunciations_in, sheet_html, sheet_text, target_seconds, SheetInput, SheetSection,
        SheetStatus,
    };
    use narrate::speech::Lexicon;
    use scraper::{Html, Selector};
    use std::path::Path;
    use std::process::Command;

    const HOSTILE: &str = "Risks <script>alert(\"x & y\")</script> 'quoted'";

    fn section(stem: &str, title: &str, status: SheetStatus, text: &str) -> SheetSection {
        let lexicon = Lexicon::new([
            ("MitraClip", "MY-truh-clip"),
            ("atrium", "AY-tree-um"),
            ("TEE", "tee"),
        ])
        .unwrap();
        SheetSection {
            record_into: format!("audio/mitraclip/{stem}.flac"),
            title: title.to_string(),
            text: text.to_string(),
            target_seconds: target_seconds(text, 150.0),
            status,
            pronunciations: pronunciations_in(text, &lexicon),
        }
    }

    fn input(todo_only: bool) -> SheetInput {
        let long = "The MitraClip is a small clip. ".repeat(30);
        SheetInput {
            project_title: "MitraClip patient guides & more".into(),
            episode_id: "mitraclip".into(),
            episode_title: "The <MitraClip> procedure".into(),
            version: Some("3".into()),
            language: "en".into(),
            words_per_minute: 150.0,
            sections: vec![
                section("01-what-it-is", "What is it?", SheetStatus::Recorded, &long),
                section(
                    "02-before",
                    "Before",
                    SheetStatus::Synthesised,
                    "Do not eat.\n\nDo not drink.",
                ),
                section(
                    "03-risks",
                    HOSTILE,
                    SheetStatus::Stale,
                    "Blood goes back into the left atrium </p> & leaks.",
                ),
                section(
                    "04-home",
                    "At home",
                    SheetStatus::Missing,
                    "Rest for a few days.",
                ),
            ],
            todo_only,
        }
    }

    fn texts(doc: &Html, selector: &str) -> Vec<String> {
        let sel = Selector::parse(selector).unwrap();
        doc.select(&sel)
            .map(|e| e.text().collect::<String>())
            .collect()
    }

    #[test]
    fn html_sheet_parses_cleanly_with_one_h2_per_section_to_record_first() {
        let html = sheet_html(&input(false));
        let doc = Html::parse_document(&html);
        assert!(doc.errors.is_empty(), "parse errors: {:?}", doc.errors);
        assert_eq!(
            texts(&doc, "h1"),
            ["Recording sheet: The <MitraClip> procedure"]
        );
        assert_eq!(
            texts(&doc, "main > section > h2"),
            [
                "2. Before".to_string(),
                format!("3. {HOSTILE}"),
                "4. At home".to_string(),
                "1. What is it?".to_string(),
            ]
        );
        assert_eq!(texts(&doc, "h2").len(), 4, "no other h2");
        assert!(texts(&doc, "h3, h4, h5, h6").is_empty());
        let html_el = doc.root_element();
        assert_eq!(html_el.value().attr("lang"), Some("en"));
        // Escaped: the hostile title and text are text, never markup.
        assert!(texts(&doc, "script").is_empty());
        assert!(!html.contains("<script"));
        assert!(texts(&doc, "p")
            .iter()
            .any(|p| p == "Blood goes back into the left atrium </p> & leaks."));
        // Self-contained: no external resources of any kind.
        for sel in ["link", "img", "script", "iframe", "[src]", "[href]"] {
            assert!(
                texts(&doc, sel).is_empty() && !has(&doc, sel),
                "found {sel}"
            );
        }
        // Metadata is a description list; the status is said in words.
        let dts = texts(&doc, "section:first-of-type dt");
        assert_eq!(dts, ["Status", "Record into", "Target length"]);
        let dds = texts(&doc, "section:first-of-type dd");
        assert!(dds[0].starts_with("Synthesised: "), "{dds:?}");
        assert_eq!(dds[1], "audio/mitraclip/02-before.flac");
        assert_eq!(dds[2], "about 2 s (6 words)");
        // Pronunciations: a table with column headers, only where the words occur.
        let stale = texts(&doc, "section:nth-of-type(2) td");
        assert_eq!(stale, ["atrium", "AY-tree-um"]);
        assert_eq!(texts(&doc, "th[scope=col]").len(), 4);
        assert_eq!(texts(&doc, "section:nth-of-type(1) table").len(), 0);
        // Paragraphs follow the script's blank lines.
        assert_eq!(
            texts(&doc, "section:first-of-type .text p"),
            ["Do not eat.", "Do not drink."]
        );
        let first = &texts(&doc, "section:nth-of-type(4) dd")[2];
        assert_eq!(first, "about 1 min 12 s (180 words)");
    }

    fn has(doc: &Html, selector: &str) -> bool {
        doc.select(&Selector::parse(selector).unwrap())
            .next()
            .is_some()
    }

    #[test]
    fn todo_sheet_lists_only_what_needs_recording() {
        let doc = Html::parse_document(&sheet_html(&input(true)));
        let h2 = texts(&doc, "h2");
        assert_eq!(h2.len(), 3);
        assert!(!h2.iter().any(|h| h.contains("What is it?")));
        let summary = texts(&doc, "main > p").join(" ");
        assert!(
            summary.contains("4 sections: 1 missing, 1 stale, 1 synthesised, 1 recorded."),
            "{summary}"
        );
        assert!(summary.contains("the 3 sections to record"), "{summary}");

        let text = sheet_text(&input(true));
        assert!(!text.contains("What is it?"));
    }

    #[test]
    fn text_sheet_is_wrapped_and_ordered() {
        let text = sheet_text(&input(false));
        assert!(text.starts_with("RECORDING SHEET: The <MitraClip> procedure\n====="));
        assert!(text.lines().all(|l| l.chars().count() <= 72), "{text}");
        let at = |needle: &str| text.find(needle).unwrap_or_else(|| panic!("{needle}"));
        assert!(at("2. Before") < at("3. Risks") && at("4. At home") < at("1. What is it?"));
        assert!(
            text.contains("\nRecord into:   audio/mitraclip/04-home.flac\n"),
            "{text}"
        );
        assert!(
            text.contains("\nPronounce:     atrium: say \"AY-tree-um\"\n"),
            "{text}"
        );
        assert!(
            text.contains("\nStatus:        Stale: the text changed"),
            "{text}"
        );
    }

    /// axe-core (every WCAG A/AA/AAA rule and best practice) and html-validate in headless
    /// Chromium report nothing on a sheet with every status, pronunciations and hostile text.
    #[test]
    fn html_sheet_passes_axe_core_in_headless_chromium() {
        let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
        let a11y = manifest.join("tests/a11y");
        if !have_tool("node", "--version") || !have_tool("chromium", "--version") {
            return;
        }
        if !a11y.join("node_modules/axe-core").is_dir() {
            assert!(
                std::env::var_os("CI").is_none(),
                "tests/a11y/node_modules is missing: .ci/run must run `npm ci` in tests/a11y"
            );
            eprintln!("note: run `npm ci` in tests/a11y for the accessibility check; skipping");
            return;
        }
        let s = Scratch::new("sheet-a11y");
        for todo in [false, true] {
            let page = s.write(&format!("sheet-{todo}.html"), &sheet_html(&input(todo)));
            let out = Command::new("node")
                .arg(a11y.join("check.mjs"))
                .arg(&page)
                .output()
                .unwrap();
            let report = String::from_utf8_lossy(&out.stdout);
            eprintln!("{report}");
            assert!(
                out.status.success(),
                "accessibility check failed:\n{report}\n{}",
                String::from_utf8_lossy(&out.stderr)
            );
            assert!(report.contains(": 0 violations"), "{report}");
            assert!(
                report.contains("html-validate: 0 errors, 0 warnings"),
                "{report}"
            );
        }
    }
}

mod init {
    use super::common::{have_tool, Scratch};
    use narrate::init::{init, propose, INTRO_TITLE};
    use narrate::project::Project;
    use std::fs;
    use std::path::PathBuf;

    /// The source documents beside the repository (`../shared/seeds`).
    fn seed(name: &str) -> PathBuf {
        let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("../shared/seeds")
            .join(name);
        assert!(
            path.is_file(),
            "{} is missing: the seeds live in shared/ beside the repository",
            path.display()
        );
        path
    }

    fn titles(document: &str) -> Vec<String> {
        propose(document)
            .unwrap()
            .sections
            .into_iter()
            .map(|s| s.title)
            .collect()
    }

    #[test]
    fn mitraclip_page_has_one_heading_and_keeps_its_text_under_it() {
        let text = fs::read_to_string(seed("000_4f0abc35a6cbe797.txt")).unwrap();
        // "MitraClip Procedure" is the document's title; its only heading is the question.
        // The paragraphs after it have no headings of their own, so they stay under it.
        assert_eq!(titles(&text), ["What is a MitraClip Procedure?"]);
        let p = propose(&text).unwrap();
        assert_eq!(p.title, "MitraClip Procedure");
        assert_eq!(p.episode, "mitraclip-procedure");
        let section = &p.sections[0];
        assert_eq!(section.stem, "01-what-is-a-mitraclip-procedure");
        assert!(section
            .text
            .starts_with("The MitraClip procedure is a minimally invasive"));
        assert!(section.text.ends_with("address any concerns."));
        assert!(section.text.contains(
            "there are potential risks, including: bleeding or bruising at the catheter insertion site; infection; damage to blood vessels or surrounding structures; allergic reactions to medications or contrast dye; and rarely, more serious complications such as stroke or heart rhythm disturbances.\n\n"
        ), "{}", section.text);
        // The dangling "…see:" of a link that did not survive is dropped, and said so.
        assert!(!section.text.contains("For more information"));
        assert!(p.notes.iter().any(|n| n.contains("For more information")));
        assert!(p.notes.iter().any(|n| n.contains("consider splitting")));
        assert_eq!(section.text.matches("\n\n").count(), 6, "seven paragraphs");
    }

    #[test]
    fn explainer_has_a_section_per_heading_without_web_leftovers() {
        let text = fs::read_to_string(seed("001_97b64aacb1488019.txt")).unwrap();
        let found = titles(&text);
        assert_eq!(
            found,
            [
                INTRO_TITLE,
                "To understand better",
                "The heart has 4 valves",
                "The mitral valve",
                "Mitral insufficiency",
                "Possible treatments of the leaking valve",
                "How does it work?",
                "How is it done?",
                "Before the procedure",
                "The day of the procedure",
                "Preparation in the procedure room",
                "Temporary discomfort",
                "General anaesthesie",
                "Under steril condition",
                "The heart specialist begin the procedure",
                "Once at the mitral valve location",
                "The impact on the mitral leak is checked immediately",
                "Are there risks?",
                "What to expect?",
                "What is the follow-up?",
                "Drugs to be taken",
                "Precautions to take",
                "At home",
            ]
        );
        let p = propose(&text).unwrap();
        assert_eq!(p.episode, "mitraclip-mitralclip");
        assert_eq!(p.sections[22].stem, "23-at-home");
        let all: String = p.sections.iter().map(|s| s.text.as_str()).collect();
        for leftover in [
            "View more",
            "Related articles",
            "atrioventricular",
            "pregnant",
        ] {
            assert!(!all.contains(leftover), "{leftover} kept");
        }
        assert!(p
            .notes
            .iter()
            .any(|n| n.contains("\"Related articles\" on (5 paragraphs")));
        let risks = &p.sections[17];
        assert_eq!(risks.stem, "18-are-there-risks");
        assert!(risks.text.contains(
            "are: the accumulation of blood around the heart i.e. in the pericardium, a stroke (CVA), and the need for urgent surgery.\n\nThe complete detachment"
        ), "{}", risks.text);
        let home = &p.sections[22];
        assert!(home.text.starts_with("The regular activities"));
        assert!(home.text.ends_with("reduce inflammation."));
    }

    #[test]
    fn lists_without_a_lead_in_stay_as_lines_and_empty_headings_are_left_out() {
        let doc = "Guide\n\nSome intro.\n\nWhat to bring\n\n- Your letter\n- A list of medicines you take, with doses.\n\nEmpty heading\n\nLast part\n\nText here.\n";
        let p = propose(doc).unwrap();
        let t: Vec<&str> = p.sections.iter().map(|s| s.title.as_str()).collect();
        assert_eq!(t, [INTRO_TITLE, "What to bring", "Last part"]);
        assert_eq!(
            p.sections[1].text,
            "Your letter.\nA list of medicines you take, with doses."
        );
        assert!(p.notes.iter().any(|n| n.contains("\"Empty heading\"")));
        // A document without headings is one section named after it.
        let p = propose("Leaflet\n\nJust text.\n").unwrap();
        assert_eq!(p.sections[0].title, "Leaflet");
        assert!(propose("\n\n  \n").is_err());
    }

    #[test]
    fn plain_init_makes_a_project_that_loads_checks_and_refuses_a_second_init() {
        let s = Scratch::new("init-plain");
        s.write(".gitignore", "/target\nout/");
        let dir = s.path("guide");
        let summary = init(&dir, None).unwrap();
        assert_eq!(summary.episode, "welcome");
        assert_eq!(
            summary.sections,
            [
                ("01-welcome".to_string(), "Welcome".to_string()),
                (
                    "02-before-your-visit".to_string(),
                    "Before your visit".to_string()
                ),
            ]
        );
        let project = Project::load(&dir).unwrap();
        assert_eq!(project.episodes[0].sections[1].title, "Before your visit");
        assert!(project.episodes[0].sections[1].clip.is_none());
        let ignore = fs::read_to_string(dir.join(".gitignore")).unwrap();
        assert_eq!(ignore, "out/\n.narrate-cache/\n");

        let again = init(&dir, None).unwrap_err();
        assert!(again.file.unwrap().ends_with("narrate.toml"));
        assert!(again.message.contains("already exists"));

        // An existing .gitignore keeps its lines and gains only what is missing.
        let existing = s.path("existing");
        fs::create_dir_all(&existing).unwrap();
        fs::write(existing.join(".gitignore"), "/target\n/out\n").unwrap();
        let summary = init(&existing, None).unwrap();
        assert!(!summary.created.contains(&".gitignore".to_string()));
        assert_eq!(
            fs::read_to_string(existing.join(".gitignore")).unwrap(),
            "/target\n/out\n.narrate-cache/\n"
        );

        if !have_tool("espeak-ng", "--version") {
            assert!(summary.stand_ins.is_empty());
            assert!(summary
                .notes
                .iter()
                .any(|n| n.contains("once one is set up")));
            return;
        }
        assert_eq!(summary.stand_ins, ["audio/welcome/01-welcome.wav"]);
        let project = Project::load(&dir).unwrap();
        assert!(project.episodes[0].sections[0].clip.is_some());
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_narrate"))
            .args(["build", "--project"])
            .arg(&dir)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "narrate build failed on a fresh project:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(dir.join("out/guide/welcome.wav").is_file());
    }

    #[test]
    fn init_from_each_seed_writes_loadable_scripts_with_the_proposed_titles() {
        for name in ["000_4f0abc35a6cbe797.txt", "001_97b64aacb1488019.txt"] {
            let s = Scratch::new("init-from");
            let source = seed(name);
            let summary = init(&s.root, Some(&source)).unwrap();
            let expected = propose(&fs::read_to_string(&source).unwrap()).unwrap();
            let project = Project::load(&s.root).unwrap();
            let episode = &project.episodes[0];
            assert_eq!(episode.id, expected.episode);
            assert_eq!(project.title, expected.title);
            let got: Vec<(&str, &str)> = episode
                .sections
                .iter()
                .map(|s| (s.stem.as_str(), s.title.as_str()))
                .collect();
            let want: Vec<(&str, &str)> = expected
                .sections
                .iter()
                .map(|s| (s.stem.as_str(), s.title.as_str()))
                .collect();
            assert_eq!(got, want, "{name}");
            for (section, proposed) in episode.sections.iter().zip(&expected.sections) {
                assert_eq!(section.text, proposed.text);
                assert!(section.clip.is_none(), "no recordings yet");
            }
            assert!(summary.stand_ins.is_empty());
            let manifest = fs::read_to_string(s.path("narrate.toml")).unwrap();
            assert!(
                manifest.contains(&format!("# source = \"{name}\"")),
                "{manifest}"
            );
            assert!(summary
                .to_string()
                .contains(&format!("episode `{}`", episode.id)));

            let again = init(&s.root, Some(&source)).unwrap_err();
            assert!(again.message.contains("already exists"));
        }
    }
}
