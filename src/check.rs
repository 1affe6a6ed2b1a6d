//! `narrate check`: everything a build verifies, without writing audio.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use crate::decode::Decoder;
use crate::error::{Error, Result};
use crate::plan::{Item, Plan};
use crate::project::{Project, TrimSettings};
use crate::silence::{self, LoudEdges};
use crate::speech::engine_available;

/// What `check` found.
#[derive(Debug, Default)]
pub struct Summary {
    pub episodes: usize,
    pub sections: usize,
    pub recordings: usize,
    pub outputs: usize,
    /// Audio duration of all distinct recordings, in seconds.
    pub recorded_seconds: f64,
    /// Sections with no recording yet, to be synthesised.
    pub synthesised: usize,
    /// The speech engine, when some section needs it.
    pub engine: Option<String>,
    /// The lexicon entries each section's text uses: `script: word → spoken form`.
    pub pronunciations: Vec<String>,
    pub warnings: Vec<String>,
}

impl fmt::Display for Summary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "ok: {} episodes, {} sections, {} recordings ({:.1} s of audio), {} synthesised, {} outputs planned",
            self.episodes,
            self.sections,
            self.recordings,
            self.recorded_seconds,
            self.synthesised,
            self.outputs
        )?;
        if let Some(engine) = &self.engine {
            write!(f, "\nspeech engine: {engine}")?;
        }
        for line in &self.pronunciations {
            write!(f, "\npronounce: {line}")?;
        }
        Ok(())
    }
}

/// Decodes every recording the plan uses once and checks that narration is not silent.
/// Returns the first problem found in each recording, all of them together.
pub fn check(project: &Project, plan: &Plan) -> Result<Summary> {
    let mut clips: BTreeMap<PathBuf, Option<TrimSettings>> = BTreeMap::new();
    let mut episodes = std::collections::BTreeSet::new();
    let mut sections = 0;
    for output in &plan.outputs {
        if episodes.insert(output.meta.id.clone()) {
            sections += output.sections.len();
        }
        for item in output.sections.iter().flat_map(|s| &s.items) {
            if let Item::Clip { path, trim, .. } = item {
                let entry = clips.entry(path.clone()).or_insert(None);
                *entry = entry.or(*trim);
            }
        }
    }

    let mut summary = Summary {
        episodes: episodes.len(),
        sections,
        recordings: clips.len(),
        outputs: plan.outputs.len(),
        ..Summary::default()
    };
    let mut problems = Vec::new();
    check_speech(project, plan, &mut summary, &mut problems);
    for (path, trim) in &clips {
        match scan(path, trim.as_ref()) {
            Ok((seconds, loud)) => {
                summary.recorded_seconds += seconds;
                if !loud {
                    problems.push(Error::in_file(path, "the recording is silent").with_fix(
                        "check the take, or lower defaults.trim.threshold_db in narrate.toml",
                    ));
                }
            }
            Err(err) => problems.push(err),
        }
    }
    match problems.len() {
        0 => Ok(summary),
        1 => Err(problems.remove(0)),
        n => {
            let all: Vec<String> = problems.iter().map(|e| e.to_string()).collect();
            Err(
                Error::new(format!("{n} recordings have problems:\n{}", all.join("\n")))
                    .at(project.root.display().to_string()),
            )
        }
    }
}

/// Decodes the recording at `path` a packet at a time: its length in seconds, and whether
/// anything in it passes the trim threshold (true when it is not trimmed).
fn scan(path: &Path, trim: Option<&TrimSettings>) -> Result<(f64, bool)> {
    let mut decoder = Decoder::open(path)?;
    let threshold = trim.map_or(f32::NEG_INFINITY, silence::threshold);
    let mut edges = LoudEdges::new(threshold, decoder.channels());
    while let Some(chunk) = decoder.next_chunk()? {
        edges.add(chunk);
    }
    let seconds = edges.frames() as f64 / f64::from(decoder.sample_rate());
    Ok((seconds, trim.is_none() || edges.span().is_some()))
}

/// Finds the engine when some section needs synthesis, and lists the lexicon's entries
/// each section uses (warning about entries no text uses).
fn check_speech(project: &Project, plan: &Plan, summary: &mut Summary, problems: &mut Vec<Error>) {
    let chosen: std::collections::BTreeSet<&std::path::Path> = plan
        .outputs
        .iter()
        .flat_map(|o| o.sections.iter().map(|s| s.script.as_path()))
        .collect();
    let sections = project
        .episodes
        .iter()
        .flat_map(|e| &e.sections)
        .filter(|s| chosen.contains(s.script.as_path()));
    let mut used = std::collections::BTreeSet::new();
    for section in sections {
        if section.clip.is_none() {
            summary.synthesised += 1;
        }
        for hit in project.lexicon.hits(&section.text) {
            summary.pronunciations.push(format!(
                "{}: {} → {}",
                project.relative(&section.script).display(),
                hit.word,
                hit.spoken
            ));
            used.insert(hit.word);
        }
    }
    for (word, _) in project.lexicon.entries() {
        if !used.contains(word.as_str()) {
            summary
                .warnings
                .push(format!("the lexicon entry `{word}` is used by no section"));
        }
    }
    if summary.synthesised > 0 {
        match engine_available(&project.speech) {
            Ok(engine) => summary.engine = Some(engine),
            Err(err) => problems.push(err),
        }
    }
}
