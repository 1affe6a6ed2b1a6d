//! `narrate check`: everything a build verifies, without writing audio.

use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;

use crate::decode::decode_file;
use crate::error::{Error, Result};
use crate::plan::{Item, Plan};
use crate::project::{Project, TrimSettings};
use crate::silence::loud_span;

/// What `check` found.
#[derive(Debug, Default)]
pub struct Summary {
    pub episodes: usize,
    pub sections: usize,
    pub recordings: usize,
    pub outputs: usize,
    /// Audio duration of all distinct recordings, in seconds.
    pub recorded_seconds: f64,
    pub warnings: Vec<String>,
}

impl fmt::Display for Summary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "ok: {} episodes, {} sections, {} recordings ({:.1} s of audio), {} outputs planned",
            self.episodes, self.sections, self.recordings, self.recorded_seconds, self.outputs
        )
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
    for (path, trim) in &clips {
        match decode_file(path) {
            Ok(audio) => {
                summary.recorded_seconds += audio.duration_seconds();
                if let Some(settings) = trim {
                    let threshold = 10f64.powf(settings.threshold_db / 20.0) as f32;
                    if loud_span(&audio, threshold).is_none() {
                        problems.push(Error::in_file(path, "the recording is silent").with_fix(
                            "check the take, or lower defaults.trim.threshold_db in narrate.toml",
                        ));
                    }
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
