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
