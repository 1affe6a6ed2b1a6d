//! Content governance: who approved an episode's wording, when, and when it must be
//! reviewed again.
//!
//! Clinical wording changes at every review, so every episode carries a version, an
//! approver, an approval date, a review-by date and its source document, in
//! `[episodes.<id>.governance]` of `narrate.toml`. [`Governance::review`] turns those and
//! *today* into a [`ReviewState`]; `check` warns as the review date nears and fails after
//! it, and `--release` also refuses unapproved content.
//!
//! The real date is read in one place only, [`Date::today`]; everything else takes `today`
//! as a parameter, so tests run on a fixed clock.

use std::fmt;
use std::path::Path;
use std::str::FromStr;
use std::time::{SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::error::{Error, Result};

/// Days before `review_by` from which `check` warns, unless configured otherwise.
pub const DEFAULT_WARN_DAYS: u32 = 60;

/// Environment variable that fixes "today" (`YYYY-MM-DD`), for tests and for checking
/// ahead ("will this still be valid on the day we ship?").
pub const TODAY_VAR: &str = "NARRATE_TODAY";

/// A calendar date (proleptic Gregorian), written `YYYY-MM-DD`. Orders chronologically.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Date {
    year: i32,
    month: u8,
    day: u8,
}

impl Date {
    /// The date `year`-`month`-`day`, if it exists (years 1–9999).
    pub fn new(year: i32, month: u8, day: u8) -> Option<Date> {
        let valid = (1..=9999).contains(&year)
            && (1..=12).contains(&month)
            && day >= 1
            && day <= days_in_month(year, month);
        valid.then_some(Date { year, month, day })
    }

    pub fn year(self) -> i32 {
        self.year
    }

    pub fn month(self) -> u8 {
        self.month
    }

    pub fn day(self) -> u8 {
        self.day
    }

    /// Today's date: `NARRATE_TODAY` when set, else the system clock's date in UTC.
    ///
    /// The only function that reads the real date and the variable; see [`Date::resolve_today`].
    pub fn today() -> Result<Date> {
        let fixed = std::env::var_os(TODAY_VAR).map(|v| v.to_string_lossy().into_owned());
        Date::resolve_today(fixed.as_deref(), SystemTime::now())
    }

    /// "Today" from a `NARRATE_TODAY` value (`fixed`) if given, else from the clock reading
    /// `now`, as a UTC date.
    pub fn resolve_today(fixed: Option<&str>, now: SystemTime) -> Result<Date> {
        if let Some(value) = fixed {
            return value.parse().map_err(|e: String| {
                Error::new(format!("{TODAY_VAR} is `{value}`: {e}")).with_fix(format!(
                    "set {TODAY_VAR} to a date such as 2027-03-31, or unset it to use today's date"
                ))
            });
        }
        let seconds = now
            .duration_since(UNIX_EPOCH)
            .map_err(|_| {
                Error::new("the system clock is set before 1970")
                    .with_fix("set the computer's date and time correctly")
            })?
            .as_secs();
        let days = i64::try_from(seconds / 86_400).unwrap_or(i64::MAX);
        Date::from_days(days).ok_or_else(|| {
            Error::new("the system clock is set past the year 9999")
                .with_fix("set the computer's date and time correctly")
        })
    }

    /// Days since 1970-01-01 (negative before it).
    pub fn days_since_epoch(self) -> i64 {
        // Howard Hinnant's days_from_civil.
        let y = i64::from(self.year) - i64::from(self.month <= 2);
        let era = y.div_euclid(400);
        let yoe = y - era * 400;
        let m = i64::from(self.month);
        let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(self.day) - 1;
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        era * 146_097 + doe - 719_468
    }

    /// The date `days` after 1970-01-01, if it is within years 1–9999.
    pub fn from_days(days: i64) -> Option<Date> {
        // Howard Hinnant's civil_from_days.
        let z = days.checked_add(719_468)?;
        let era = z.div_euclid(146_097);
        let doe = z - era * 146_097;
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let day = u8::try_from(doy - (153 * mp + 2) / 5 + 1).ok()?;
        let month = u8::try_from(if mp < 10 { mp + 3 } else { mp - 9 }).ok()?;
        let year = i32::try_from(yoe + era * 400 + i64::from(month <= 2)).ok()?;
        Date::new(year, month, day)
    }

    /// Days from `self` to `later`: positive when `later` is after `self`.
    pub fn days_between(self, later: Date) -> i64 {
        later.days_since_epoch() - self.days_since_epoch()
    }

    /// The date `days` later (earlier when negative), if within years 1–9999.
    pub fn add_days(self, days: i64) -> Option<Date> {
        Date::from_days(self.days_since_epoch().checked_add(days)?)
    }
}

fn is_leap(year: i32) -> bool {
    (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
}

fn days_in_month(year: i32, month: u8) -> u8 {
    match month {
        2 if is_leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

impl fmt::Display for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

impl FromStr for Date {
    type Err = String;

    /// Parses exactly `YYYY-MM-DD`; the error says what is wrong, in plain words.
    fn from_str(s: &str) -> std::result::Result<Date, String> {
        let b = s.as_bytes();
        let shape_ok = b.len() == 10
            && b[4] == b'-'
            && b[7] == b'-'
            && b.iter()
                .enumerate()
                .all(|(i, c)| i == 4 || i == 7 || c.is_ascii_digit());
        if !shape_ok {
            return Err("write the date as YYYY-MM-DD, e.g. 2027-03-31".into());
        }
        let number = |range: std::ops::Range<usize>| s[range].parse::<u16>().unwrap_or(0);
        let (year, month, day) = (number(0..4), number(5..7), number(8..10));
        if year == 0 {
            return Err("the year must be 0001 or later".into());
        }
        if !(1..=12).contains(&month) {
            return Err(format!(
                "there is no month {month}: months go from 01 to 12"
            ));
        }
        let month = month as u8; // 1..=12
        let year = i32::from(year);
        let last = days_in_month(year, month);
        u8::try_from(day)
            .ok()
            .and_then(|day| Date::new(year, month, day))
            .ok_or_else(|| format!("{year:04}-{month:02} has days 01 to {last}, not {day:02}"))
    }
}

impl Serialize for Date {
    fn serialize<S: Serializer>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

/// A date in TOML: a bare date (`2027-03-31`) or a string (`"2027-03-31"`).
#[derive(Deserialize)]
#[serde(untagged)]
enum DateInput {
    Text(String),
    Toml(toml::value::Datetime),
}

impl<'de> Deserialize<'de> for Date {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> std::result::Result<Date, D::Error> {
        use serde::de::Error as _;
        let text = match DateInput::deserialize(deserializer) {
            Ok(DateInput::Text(text)) => text,
            Ok(DateInput::Toml(dt)) if dt.time.is_none() && dt.offset.is_none() => dt.to_string(),
            Ok(DateInput::Toml(dt)) => {
                return Err(D::Error::custom(format!(
                    "`{dt}` has a time of day; give only the date, e.g. 2027-03-31"
                )))
            }
            Err(_) => {
                return Err(D::Error::custom(
                    "expected a date, written YYYY-MM-DD, e.g. 2027-03-31",
                ))
            }
        };
        text.parse()
            .map_err(|e: String| D::Error::custom(format!("invalid date `{text}`: {e}")))
    }
}

/// An episode's governance metadata, from `[episodes.<id>.governance]`.
///
/// Every field is optional so that a draft can be written before approval; an episode
/// counts as approved once `approved_by` and `approved_on` are both given.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Governance {
    /// The content version, as the organisation numbers it (`"3"`, `"2026.2"`…).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// Who approved the wording.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approved_by: Option<String>,
    /// When it was approved.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approved_on: Option<Date>,
    /// When it must be reviewed again; it may not be released after this date.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub review_by: Option<Date>,
    /// The source document the script was adapted from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
}

/// Where an episode stands against its review date, on a given day.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReviewState {
    /// Approved, and the review date is more than the warning period away.
    Ok { review_by: Date, days_left: i64 },
    /// Approved; the review date is within the warning period (0 = today is the last day).
    DueSoon { review_by: Date, days_left: i64 },
    /// The review date has passed.
    Expired { review_by: Date, days_over: i64 },
    /// `approved_by` or `approved_on` is missing.
    Unapproved,
    /// Approved, but without a review date.
    NoReviewDate,
}

/// How a [`ReviewState`] is reported.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    /// Nothing to say.
    Fine,
    /// Printed; the command still succeeds.
    Warning,
    /// The command fails.
    Error,
}

impl Governance {
    /// Whether an approver and an approval date are both given.
    pub fn is_approved(&self) -> bool {
        self.approved_by
            .as_deref()
            .is_some_and(|who| !who.trim().is_empty())
            && self.approved_on.is_some()
    }

    /// The review state on `today`, warning `warn_days` days before `review_by`.
    ///
    /// Unapproved content is [`ReviewState::Unapproved`] whatever its dates. The review
    /// date itself is the last valid day: the content expires the day after.
    pub fn review(&self, today: Date, warn_days: u32) -> ReviewState {
        if !self.is_approved() {
            return ReviewState::Unapproved;
        }
        let Some(review_by) = self.review_by else {
            return ReviewState::NoReviewDate;
        };
        let days_left = today.days_between(review_by);
        if days_left < 0 {
            ReviewState::Expired {
                review_by,
                days_over: -days_left,
            }
        } else if days_left <= i64::from(warn_days) {
            ReviewState::DueSoon {
                review_by,
                days_left,
            }
        } else {
            ReviewState::Ok {
                review_by,
                days_left,
            }
        }
    }

    /// Inconsistencies worth an error at load time: an approval dated after `today`, or a
    /// review date not after the approval date. Each message names the keys involved.
    pub fn problems(&self, today: Date) -> Vec<String> {
        let mut problems = Vec::new();
        if let Some(on) = self.approved_on {
            if on > today {
                problems.push(format!(
                    "approved_on {on} is in the future (today is {today})"
                ));
            }
            if let Some(by) = self.review_by.filter(|by| *by <= on) {
                problems.push(format!("review_by {by} is not after approved_on {on}"));
            }
        }
        if self
            .approved_by
            .as_deref()
            .is_some_and(|who| who.trim().is_empty())
        {
            problems.push("approved_by is empty".into());
        }
        problems
    }

    /// One line for tags, reports and sidecars, e.g. `version 3; approved by Dr A. Lee on
    /// 2026-10-01; review by 2027-10-01; source: leaflet-42.pdf`. `None` when empty.
    pub fn summary(&self) -> Option<String> {
        let mut parts = Vec::new();
        if let Some(v) = &self.version {
            parts.push(format!("version {v}"));
        }
        match (&self.approved_by, self.approved_on) {
            (Some(who), Some(on)) => parts.push(format!("approved by {who} on {on}")),
            (Some(who), None) => parts.push(format!("approved by {who}")),
            (None, Some(on)) => parts.push(format!("approved on {on}")),
            (None, None) => parts.push("not approved".into()),
        }
        if let Some(by) = self.review_by {
            parts.push(format!("review by {by}"));
        }
        if let Some(source) = &self.source {
            parts.push(format!("source: {source}"));
        }
        (*self != Governance::default()).then(|| parts.join("; "))
    }
}

/// The manifest table that holds an episode's governance, for messages.
pub fn table_name(episode: &str) -> String {
    format!("[episodes.{episode}.governance]")
}

impl ReviewState {
    /// How `check` reports this state; `release` is set for `--release`, which also
    /// refuses unapproved content. A missing review date is a warning either way.
    pub fn severity(&self, release: bool) -> Severity {
        match self {
            ReviewState::Ok { .. } => Severity::Fine,
            ReviewState::DueSoon { .. } | ReviewState::NoReviewDate => Severity::Warning,
            ReviewState::Unapproved if release => Severity::Error,
            ReviewState::Unapproved => Severity::Warning,
            ReviewState::Expired { .. } => Severity::Error,
        }
    }

    /// What the state means for `episode`, in plain words.
    pub fn message(&self, episode: &str) -> String {
        match *self {
            ReviewState::Ok {
                review_by,
                days_left,
            } => format!(
                "episode `{episode}` is approved; next review by {review_by} (in {})",
                days(days_left)
            ),
            ReviewState::DueSoon {
                review_by,
                days_left: 0,
            } => format!("episode `{episode}` is due for review today ({review_by}); from tomorrow it cannot be built for release"),
            ReviewState::DueSoon {
                review_by,
                days_left,
            } => format!(
                "episode `{episode}` is due for review in {} (review_by {review_by})",
                days(days_left)
            ),
            ReviewState::Expired {
                review_by,
                days_over,
            } => format!(
                "episode `{episode}` passed its review date {review_by} {} ago; it must be reviewed before patients hear it",
                days(days_over)
            ),
            ReviewState::Unapproved => format!(
                "episode `{episode}` is not approved: approved_by and approved_on are not both set"
            ),
            ReviewState::NoReviewDate => {
                format!("episode `{episode}` has no review date (review_by)")
            }
        }
    }

    /// What to do about the state, if anything.
    pub fn fix(&self, episode: &str) -> Option<String> {
        let table = table_name(episode);
        match self {
            ReviewState::Ok { .. } => None,
            ReviewState::DueSoon { .. } | ReviewState::Expired { .. } => Some(format!(
                "review the wording with the clinical team, then update version, approved_on and review_by in {table} of narrate.toml"
            )),
            ReviewState::Unapproved => Some(format!(
                "once the wording is approved, set approved_by and approved_on in {table} of narrate.toml"
            )),
            ReviewState::NoReviewDate => Some(format!(
                "set review_by = YYYY-MM-DD in {table} of narrate.toml"
            )),
        }
    }

    /// The state as an [`Error`] naming the manifest and the episode's table.
    pub fn to_error(&self, manifest: &Path, episode: &str) -> Error {
        let err = Error::in_file(manifest, self.message(episode)).at(table_name(episode));
        match self.fix(episode) {
            Some(fix) => err.with_fix(fix),
            None => err,
        }
    }
}

/// `1 day`, `12 days`.
fn days(n: i64) -> String {
    if n == 1 {
        "1 day".into()
    } else {
        format!("{n} days")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> Date {
        s.parse().unwrap()
    }

    #[test]
    fn dates_round_trip_through_days() {
        for s in [
            "1970-01-01",
            "2000-02-29",
            "2024-12-31",
            "0001-01-01",
            "9999-12-31",
        ] {
            let date = d(s);
            assert_eq!(Date::from_days(date.days_since_epoch()), Some(date), "{s}");
            assert_eq!(date.to_string(), s);
        }
        assert_eq!(d("1970-01-01").days_since_epoch(), 0);
        assert_eq!(d("2000-03-01").days_since_epoch(), 11_017);
        assert_eq!(d("1969-12-31").days_since_epoch(), -1);
    }

    #[test]
    fn parse_rejects_impossible_dates_with_reasons() {
        assert!(Date::from_str("2026-02-29")
            .unwrap_err()
            .contains("01 to 28"));
        assert!(Date::from_str("2026-13-01")
            .unwrap_err()
            .contains("month 13"));
        assert!(Date::from_str("2026-1-01")
            .unwrap_err()
            .contains("YYYY-MM-DD"));
        assert!(Date::from_str("0000-01-01").is_err());
        assert!(Date::from_str("2026-04-31").is_err());
        assert_eq!(d("2024-02-29").day(), 29);
    }

    #[test]
    fn days_between_counts_across_leap_years() {
        assert_eq!(d("2024-02-28").days_between(d("2024-03-01")), 2);
        assert_eq!(d("2023-02-28").days_between(d("2023-03-01")), 1);
        assert_eq!(d("2027-01-01").days_between(d("2026-01-01")), -365);
        assert_eq!(d("2026-12-31").add_days(1), Some(d("2027-01-01")));
    }
}
