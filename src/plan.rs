//! The build plan: a pure description of every output, made from a [`Project`].
//!
//! No audio is touched here. `check` stops after planning; `build` renders the plan.

use std::path::PathBuf;

use crate::error::{Error, Result};
use crate::meta::{self, EpisodeMeta, TagKey};
use crate::profile::{Layout, Profile};
use crate::project::{Episode, Extra, Project, TrimSettings};
use crate::speech::{Lexicon, SpeechConfig, SpeechRequest};

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
    /// How [`Item::Speech`] is synthesised.
    pub speech: Speech,
}

/// Everything synthesis needs, shared by an episode's speech items.
#[derive(Debug, Clone)]
pub struct Speech {
    pub config: SpeechConfig,
    pub lexicon: Lexicon,
    /// Where synthesised audio is cached: `<project>/.narrate-cache/speech`.
    pub cache_dir: PathBuf,
}

/// The folder, inside the project, where synthesised speech is cached.
pub fn speech_cache_dir(project: &Project) -> PathBuf {
    project.root.join(".narrate-cache").join("speech")
}

/// The file stem of a [`Layout::Loop`] output.
pub const LOOP_STEM: &str = "loop";

impl EpisodePlan {
    /// The output WAV's path relative to the output folder: `<profile>/<episode>.wav`.
    pub fn wav_path(&self) -> PathBuf {
        PathBuf::from(&self.profile.name).join(format!("{}.wav", self.meta.id))
    }

    /// What to synthesise for `item` of `section` (one of this plan's), if it is an
    /// [`Item::Speech`].
    pub fn speech_request<'a>(
        &'a self,
        section: &'a SectionPlan,
        item: &'a Item,
    ) -> Option<SpeechRequest<'a>> {
        let Item::Speech {
            text,
            language,
            voice,
        } = item
        else {
            return None;
        };
        Some(SpeechRequest {
            text,
            language,
            voice: voice.as_deref(),
            config: &self.speech.config,
            lexicon: &self.speech.lexicon,
            script: &section.script,
        })
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
    /// The narration has no recording yet and is synthesised.
    pub synthesised: bool,
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
    /// The text spoken by the speech synthesiser (a section with no recording yet).
    Speech {
        text: String,
        language: String,
        voice: Option<String>,
    },
    /// Digital silence.
    Silence { seconds: f64 },
}

impl Plan {
    /// Plans `episodes` (all when empty) for `profiles` (the manifest's defaults when empty).
    /// With `release` (or `require_recordings` in the manifest), an episode that still has
    /// sections without a recording is refused.
    pub fn new(
        project: &Project,
        episodes: &[String],
        profiles: &[String],
        release: bool,
    ) -> Result<Plan> {
        let chosen = project.select(episodes)?;
        if release || project.require_recordings {
            for episode in &chosen {
                refuse_synthesised(project, episode, release)?;
            }
        }
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

/// The error for an episode whose sections are not all recorded.
fn refuse_synthesised(project: &Project, episode: &Episode, release: bool) -> Result<()> {
    let missing: Vec<String> = episode
        .sections
        .iter()
        .filter(|s| s.clip.is_none())
        .map(|s| project.relative(&s.script).display().to_string())
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    let why = if release {
        "a release build needs a recording for every section"
    } else {
        "narrate.toml sets require_recordings = true"
    };
    Err(Error::new(format!(
        "episode `{}` still has {} synthesised section(s): {}",
        episode.id,
        missing.len(),
        missing.join(", ")
    ))
    .at(why)
    .with_fix("record those sections (audio/<episode>/<NN-slug>.<ext>), or build without --release to hear them synthesised"))
}

fn plan_episode(project: &Project, episode: &Episode, profile: Profile) -> EpisodePlan {
    let language = episode
        .language
        .as_ref()
        .or(project.language.as_ref())
        .cloned()
        .unwrap_or_else(|| "en".into());
    let synthesised: Vec<&str> = episode
        .sections
        .iter()
        .filter(|s| s.clip.is_none())
        .map(|s| s.stem.as_str())
        .collect();
    // The comment says, in every file, which sections are synthesised stand-ins.
    let note = (!synthesised.is_empty()).then(|| {
        format!(
            "[Synthesised speech, not yet recorded: {}]",
            synthesised.join(", ")
        )
    });
    // …and its governance: version, approval, review date, source.
    let governance = episode.governance.summary().map(|g| format!("({g})"));
    let comment = [episode.description.clone(), governance, note]
        .into_iter()
        .flatten()
        .reduce(|a, b| format!("{a} {b}"));
    let tags = tag_list([
        (TagKey::Title, Some(&episode.title)),
        (TagKey::Album, Some(&project.title)),
        (TagKey::Artist, project.organisation.as_ref()),
        (TagKey::Comment, comment.as_ref()),
        (TagKey::Date, project.date.as_ref()),
        (TagKey::Language, Some(&language)),
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
            items.push(match &s.clip {
                Some(clip) => Item::Clip {
                    path: clip.clone(),
                    trim: s.trim.then_some(trim),
                    level: profile.level_clips,
                },
                None => Item::Speech {
                    text: s.text.clone(),
                    language: language.clone(),
                    voice: episode.voice.clone(),
                },
            });
            if s.clip.is_none() {
                // Synthesised speech has no quiet edges: give it the margin a trimmed
                // recording keeps, so that it sits in the episode like a take.
                let margin = gap(trim.margin);
                items.splice(items.len() - 1..items.len() - 1, margin.clone());
                items.extend(margin);
            }
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
                synthesised: s.clip.is_none(),
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
        speech: speech_setup(project),
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
        speech: speech_setup(project),
    }
}

/// The tags that have a value, in the given order, then the software tag.
fn tag_list<const N: usize>(tags: [(TagKey, Option<&String>); N]) -> Vec<(TagKey, String)> {
    tags.into_iter()
        .filter_map(|(key, value)| value.map(|v| (key, v.clone())))
        .chain([(TagKey::Software, meta::software())])
        .collect()
}

fn speech_setup(project: &Project) -> Speech {
    Speech {
        config: project.speech.clone(),
        lexicon: project.lexicon.clone(),
        cache_dir: speech_cache_dir(project),
    }
}
