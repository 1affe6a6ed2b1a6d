//! `narrate status`: where every section stands, readable at a glance.

use std::fmt::Write as _;

use serde::Serialize;

use crate::decode::probe_file;
use crate::error::Result;
use crate::lock::{Lock, RecordingState};
use crate::project::{Episode, Project};
use crate::review::recording_state;
use crate::speech::{engine_available, estimate_seconds};

/// Where a section's narration stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum State {
    /// A recording that matches its accepted text (or was never put in the lock).
    Recorded,
    /// No recording: the build speaks the text with the synthesiser.
    Synthesised,
    /// No recording and no synthesiser to stand in.
    Missing,
    /// The text changed after the recording was accepted.
    Stale,
    /// The audio file changed after it was accepted: a new take to listen to and accept.
    NewTake,
}

impl State {
    pub fn label(self) -> &'static str {
        match self {
            State::Recorded => "recorded",
            State::Synthesised => "synthesised",
            State::Missing => "MISSING",
            State::Stale => "STALE",
            State::NewTake => "new take",
        }
    }
}

/// One section's line.
#[derive(Debug, Clone, Serialize)]
pub struct SectionStatus {
    pub section: String,
    pub title: String,
    pub state: State,
    /// Whether the take is recorded in `narrate.lock`.
    pub accepted: bool,
    pub words: usize,
    /// Seconds the text should take at the project's speaking rate.
    pub estimated_seconds: f64,
    /// Seconds the recording lasts (edges untrimmed).
    pub actual_seconds: Option<f64>,
    /// Words per minute of the recording.
    pub words_per_minute: Option<f64>,
}

/// One episode's lines and totals.
#[derive(Debug, Clone, Serialize)]
pub struct EpisodeStatus {
    pub episode: String,
    pub title: String,
    pub sections: Vec<SectionStatus>,
    pub words: usize,
    pub estimated_seconds: f64,
    pub actual_seconds: f64,
    pub needs_recording: usize,
}

/// The status of `episodes`.
pub fn status(project: &Project, episodes: &[&Episode]) -> Result<Vec<EpisodeStatus>> {
    let lock = Lock::load(&project.root)?;
    let engine = engine_available(&project.speech).is_ok();
    let rate = f64::from(project.speech.rate);
    episodes
        .iter()
        .map(|episode| {
            let sections = episode
                .sections
                .iter()
                .map(|section| {
                    let words = section.words();
                    let recorded = recording_state(&lock, episode, section)?;
                    let state = match recorded {
                        None if engine => State::Synthesised,
                        None => State::Missing,
                        Some(RecordingState::Stale {
                            text_changed: true, ..
                        }) => State::Stale,
                        Some(RecordingState::Stale { .. }) => State::NewTake,
                        Some(_) => State::Recorded,
                    };
                    let actual_seconds = match &section.clip {
                        Some(clip) => probe_file(clip)?.duration_seconds,
                        None => None,
                    };
                    Ok(SectionStatus {
                        section: section.stem.clone(),
                        title: section.title.clone(),
                        state,
                        accepted: recorded == Some(RecordingState::Accepted),
                        words,
                        estimated_seconds: estimate_seconds(words, rate),
                        actual_seconds,
                        words_per_minute: actual_seconds
                            .filter(|s| *s > 0.0)
                            .map(|s| words as f64 / s * 60.0),
                    })
                })
                .collect::<Result<Vec<_>>>()?;
            Ok(EpisodeStatus {
                episode: episode.id.clone(),
                title: episode.title.clone(),
                words: sections.iter().map(|s| s.words).sum(),
                estimated_seconds: sections.iter().map(|s| s.estimated_seconds).sum(),
                actual_seconds: sections.iter().filter_map(|s| s.actual_seconds).sum(),
                needs_recording: sections
                    .iter()
                    .filter(|s| s.state != State::Recorded)
                    .count(),
                sections,
            })
        })
        .collect()
}

/// The status as a table per episode.
pub fn render_text(episodes: &[EpisodeStatus]) -> String {
    let mut out = String::new();
    for e in episodes {
        let _ = writeln!(out, "{} — {}", e.episode, e.title);
        let _ = writeln!(
            out,
            "  {:<34} {:<12} {:>8} {:>6} {:>8} {:>8} {:>5}",
            "section", "state", "accepted", "words", "estimate", "actual", "wpm"
        );
        for s in &e.sections {
            let _ = writeln!(
                out,
                "  {:<34} {:<12} {:>8} {:>6} {:>8} {:>8} {:>5}",
                truncate(&s.section, 34),
                s.state.label(),
                if s.accepted { "yes" } else { "-" },
                s.words,
                clock(s.estimated_seconds),
                s.actual_seconds.map_or("-".into(), clock),
                s.words_per_minute.map_or("-".into(), |w| format!("{w:.0}")),
            );
        }
        let _ = writeln!(
            out,
            "  {:<34} {:<12} {:>8} {:>6} {:>8} {:>8}\n  {} of {} sections need a recording\n",
            "total",
            "",
            "",
            e.words,
            clock(e.estimated_seconds),
            clock(e.actual_seconds),
            e.needs_recording,
            e.sections.len(),
        );
    }
    out
}

/// `m:ss`.
fn clock(seconds: f64) -> String {
    let s = seconds.round() as u64;
    format!("{}:{:02}", s / 60, s % 60)
}

fn truncate(text: &str, width: usize) -> String {
    if text.chars().count() <= width {
        text.to_string()
    } else {
        text.chars().take(width - 1).chain(['…']).collect()
    }
}
