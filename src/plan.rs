//! The build plan: a pure description of every output, made from a [`Project`].
//!
//! No audio is touched here. `check` stops after planning; `build` renders the plan.

use std::path::PathBuf;

use crate::error::{Error, Result};
use crate::meta::{self, EpisodeMeta, TagKey};
use crate::profile::{Layout, Profile};
use crate::project::{Episode, Extra, Project, TrimSettings};

/// Every output of one build.
#[derive(Debug, Clone)]
pub struct Plan {
    pub outputs: Vec<EpisodePlan>,
}

/// One episode rendered for one profile.
#[derive(Debug, Clone)]
pub struct EpisodePlan {
    /// The output's file stem (the episode's id, or `loop`) is `meta.id`.
    pub meta: EpisodeMeta,
    pub profile: Profile,
    pub sections: Vec<SectionPlan>,
    /// Seconds of silence that close the file (a loop's seam; 0 otherwise).
    pub tail_pause: f64,
}

/// The file stem of a [`Layout::Loop`] output.
pub const LOOP_STEM: &str = "loop";

impl EpisodePlan {
    /// The output WAV's path relative to the output folder: `<profile>/<episode>.wav`.
    pub fn wav_path(&self) -> PathBuf {
        PathBuf::from(&self.profile.name).join(format!("{}.wav", self.meta.id))
    }

    /// A seed for dither noise, fixed for this output so builds are reproducible.
    pub fn dither_seed(&self) -> u64 {
        // FNV-1a over "<profile>/<episode>".
        format!("{}/{}", self.profile.name, self.meta.id)
            .bytes()
            .fold(0xcbf2_9ce4_8422_2325, |h, b| {
                (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
            })
    }
}

/// One section: the chapter's title and text, and what it plays.
#[derive(Debug, Clone)]
pub struct SectionPlan {
    pub title: String,
    pub text: String,
    /// The script, for reports and messages.
    pub script: PathBuf,
    /// Seconds of silence before the chapter starts, added to the previous pause.
    pub pause_before: f64,
    /// What the chapter plays, in order.
    pub items: Vec<Item>,
    /// Seconds of silence after the chapter (not after the last one).
    pub pause_after: f64,
}

/// One thing a chapter plays.
#[derive(Debug, Clone, PartialEq)]
pub enum Item {
    /// A recording; its edges are trimmed when `trim` is set.
    Clip {
        path: PathBuf,
        trim: Option<TrimSettings>,
        /// Bring the clip to the profile's loudness before mastering (narration takes).
        level: bool,
    },
    /// Digital silence.
    Silence { seconds: f64 },
}

impl Plan {
    /// Plans `episodes` (all when empty) for `profiles` (the manifest's defaults when empty).
    pub fn new(project: &Project, episodes: &[String], profiles: &[String]) -> Result<Plan> {
        let chosen: Vec<&Episode> = if episodes.is_empty() {
            project.episodes.iter().collect()
        } else {
            episodes
                .iter()
                .map(|id| {
                    project.episode(id).ok_or_else(|| {
                        let known: Vec<&str> =
                            project.episodes.iter().map(|e| e.id.as_str()).collect();
                        Error::new(format!("there is no episode `{id}`"))
                            .with_fix(format!("choose one of: {}", known.join(", ")))
                    })
                })
                .collect::<Result<_>>()?
        };
        let names = if profiles.is_empty() {
            &project.defaults.profiles
        } else {
            profiles
        };
        let profiles = names
            .iter()
            .map(|name| {
                project.profile(name).cloned().ok_or_else(|| {
                    let known: Vec<&str> =
                        project.profiles.iter().map(|p| p.name.as_str()).collect();
                    Error::new(format!("there is no profile `{name}`"))
                        .with_fix(format!("choose one of: {}", known.join(", ")))
                })
            })
            .collect::<Result<Vec<_>>>()?;

        let mut outputs = Vec::new();
        for profile in &profiles {
            let plans = chosen
                .iter()
                .map(|e| plan_episode(project, e, profile.clone()));
            match profile.layout {
                Layout::Loop => outputs.push(plan_loop(project, plans.collect(), profile.clone())),
                Layout::Episodes | Layout::Cd => outputs.extend(plans),
            }
        }
        Ok(Plan { outputs })
    }
}

fn plan_episode(project: &Project, episode: &Episode, profile: Profile) -> EpisodePlan {
    let language = episode.language.as_ref().or(project.language.as_ref());
    let tags = tag_list([
        (TagKey::Title, Some(&episode.title)),
        (TagKey::Album, Some(&project.title)),
        (TagKey::Artist, project.organisation.as_ref()),
        (TagKey::Comment, episode.description.as_ref()),
        (TagKey::Date, project.date.as_ref()),
        (TagKey::Language, language),
        (TagKey::Copyright, project.copyright.as_ref()),
    ]);

    let trim = project.defaults.trim;
    let extra = |e: &Extra| Item::Clip {
        path: e.clip.clone(),
        trim: e.trim.then_some(trim),
        level: false,
    };
    let gap = |seconds: f64| (seconds > 0.0).then_some(Item::Silence { seconds });
    let sections = episode
        .sections
        .iter()
        .map(|s| {
            let mut items = Vec::new();
            for e in &s.before {
                items.push(extra(e));
                items.extend(gap(e.gap));
            }
            items.push(Item::Clip {
                path: s.clip.clone(),
                trim: s.trim.then_some(trim),
                level: profile.level_clips,
            });
            for e in &s.after {
                items.extend(gap(e.gap));
                items.push(extra(e));
            }
            SectionPlan {
                title: s.title.clone(),
                text: s.text.clone(),
                script: s.script.clone(),
                pause_before: s.pause_before,
                items,
                pause_after: s.pause_after,
            }
        })
        .collect();

    EpisodePlan {
        meta: EpisodeMeta {
            id: episode.id.clone(),
            tags,
        },
        profile,
        sections,
        tail_pause: 0.0,
    }
}

/// All `episodes` of a loop profile in one output: chapters titled `Episode — Section`,
/// and the last section's pause closing the file so that the seam sounds like any other
/// pause between sections.
fn plan_loop(project: &Project, episodes: Vec<EpisodePlan>, profile: Profile) -> EpisodePlan {
    let mut sections = Vec::new();
    for episode in episodes {
        let title = episode.meta.title().to_string();
        sections.extend(episode.sections.into_iter().map(|mut s| {
            s.title = format!("{title} — {}", s.title);
            s
        }));
    }
    let tail_pause = sections.last().map_or(0.0, |s| s.pause_after);
    let tags = tag_list([
        (TagKey::Title, Some(&project.title)),
        (TagKey::Album, Some(&project.title)),
        (TagKey::Artist, project.organisation.as_ref()),
        (TagKey::Date, project.date.as_ref()),
        (TagKey::Language, project.language.as_ref()),
        (TagKey::Copyright, project.copyright.as_ref()),
    ]);
    EpisodePlan {
        meta: EpisodeMeta {
            id: LOOP_STEM.into(),
            tags,
        },
        profile,
        sections,
        tail_pause,
    }
}

/// The tags that have a value, in the given order, then the software tag.
fn tag_list<const N: usize>(tags: [(TagKey, Option<&String>); N]) -> Vec<(TagKey, String)> {
    tags.into_iter()
        .filter_map(|(key, value)| value.map(|v| (key, v.clone())))
        .chain([(TagKey::Software, meta::software())])
        .collect()
}
