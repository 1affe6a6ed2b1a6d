//! What content must pass before it reaches a patient: approval and review dates
//! (governance) and recordings that still match their approved text (the lock).
//!
//! `check`, `status` and `build` ask the same questions here. Problems are warnings while a
//! team works, and errors for `--release` (an expired review date is always an error for
//! `check`, and a warning for a plain `build`, so the team can still listen to the draft).

use std::path::Path;

use crate::error::{Error, Result};
use crate::governance::{Date, Severity};
use crate::lock::{Lock, RecordingState};
use crate::project::{Episode, Project, Section, MANIFEST};

/// What is in the way of release.
#[derive(Debug, Default)]
pub struct Findings {
    pub warnings: Vec<String>,
    pub errors: Vec<Error>,
}

impl Findings {
    /// All errors as one, or the warnings when there are none.
    pub fn into_result(mut self) -> Result<Vec<String>> {
        match self.errors.len() {
            0 => Ok(self.warnings),
            1 => Err(self.errors.remove(0)),
            n => {
                let all: Vec<String> = self.errors.iter().map(|e| format!("error: {e}")).collect();
                Err(Error::new(format!(
                    "{n} problems stop this:\n{}",
                    all.join("\n")
                )))
            }
        }
    }
}

/// How strict to be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Strictness {
    /// A plain build: everything is a warning, so the team can hear a draft.
    Build,
    /// `check`: expired content and inconsistent dates are errors.
    Check,
    /// `--release`: also unapproved content and stale or unaccepted takes.
    Release,
}

/// The state of one section's recording against the lock.
pub fn recording_state(
    lock: &Lock,
    episode: &Episode,
    section: &Section,
) -> Result<Option<RecordingState>> {
    match &section.clip {
        None => Ok(None),
        Some(clip) => lock
            .state(&episode.id, &section.stem, &section.text, clip)
            .map(Some),
    }
}

/// Reviews `episodes` of `project` on `today`.
pub fn review(
    project: &Project,
    episodes: &[&Episode],
    strictness: Strictness,
    today: Date,
) -> Result<Findings> {
    let manifest = project.root.join(MANIFEST);
    let lock = Lock::load(&project.root)?;
    let mut findings = Findings::default();
    for episode in episodes {
        review_governance(
            &manifest,
            episode,
            strictness,
            today,
            project.defaults.review_warning_days,
            &mut findings,
        );
        for section in &episode.sections {
            let Some(state) = recording_state(&lock, episode, section)? else {
                continue;
            };
            let Some(err) = state.to_error(
                project.relative(&section.script),
                &episode.id,
                &section.stem,
            ) else {
                continue;
            };
            // A stale take (its text changed, or its audio was replaced) stops a release;
            // a take never accepted does not, so projects that do not use `accept` work.
            match (state, strictness) {
                (RecordingState::Stale { .. }, Strictness::Release) => findings.errors.push(err),
                (RecordingState::Stale { .. }, _) | (_, Strictness::Release) => {
                    findings.warnings.push(one_line(&err))
                }
                _ => {}
            }
        }
    }
    Ok(findings)
}

fn review_governance(
    manifest: &Path,
    episode: &Episode,
    strictness: Strictness,
    today: Date,
    warn_days: u32,
    findings: &mut Findings,
) {
    let governance = &episode.governance;
    for problem in governance.problems(today) {
        let err = Error::in_file(manifest, problem)
            .at(crate::governance::table_name(&episode.id))
            .with_fix("correct the dates in narrate.toml");
        if strictness == Strictness::Build {
            findings.warnings.push(one_line(&err));
        } else {
            findings.errors.push(err);
        }
    }
    let state = governance.review(today, warn_days);
    let severity = match (
        strictness,
        state.severity(strictness == Strictness::Release),
    ) {
        // A plain build only warns, so a draft can always be heard.
        (Strictness::Build, Severity::Error) => Severity::Warning,
        (_, severity) => severity,
    };
    match severity {
        Severity::Fine => {}
        Severity::Warning => findings.warnings.push(state.message(&episode.id)),
        Severity::Error => findings.errors.push(state.to_error(manifest, &episode.id)),
    }
}

/// An error as a one-line warning.
fn one_line(err: &Error) -> String {
    err.to_string().replace("\n  fix:", ";")
}
