//! Rendering an episode plan: decode and convert every clip, trim it, and lay the
//! chapters end to end with their pauses. Chapter positions are fixed here, in frames.

use std::borrow::Cow;
use std::collections::HashMap;
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::audio::Audio;
use crate::convert::convert;
use crate::decode::decode_file;
use crate::error::{Error, Result};
use crate::filter::telephone_band;
use crate::master::{level_clip, MasterSettings};
use crate::plan::{EpisodePlan, Item};
use crate::profile::Profile;
use crate::silence::{trim_edges, Trimmed};
use crate::speech::{synthesize, SpeechRequest};
use crate::timeline::{Chapter, Timeline};

/// A rendered episode, still in float, at the profile's rate and channel count.
#[derive(Debug)]
pub struct Rendered {
    pub audio: Audio,
    pub timeline: Timeline,
    /// For each chapter, the clips it played.
    pub clips: Vec<Vec<ClipUse>>,
    pub warnings: Vec<String>,
}

/// How one clip was used.
#[derive(Debug, Clone, Serialize)]
pub struct ClipUse {
    pub path: PathBuf,
    pub source_rate: u32,
    pub source_channels: u16,
    pub source_frames: u64,
    /// Frames trimmed from the start and end (at the output rate).
    pub trimmed_head: u64,
    pub trimmed_tail: u64,
    /// Gain applied to level the take, dB (narration takes, when the profile levels them).
    pub level_gain_db: Option<f64>,
    /// Frames the clip adds to the episode.
    pub frames: u64,
}

/// Number of frames `seconds` last at `rate`, rounded to the nearest frame.
pub fn frames_for(seconds: f64, rate: u32) -> u64 {
    (seconds * f64::from(rate)).round() as u64
}

/// Renders `plan`. `on_section` is called after each chapter is laid down.
pub fn render(plan: &EpisodePlan, on_section: &dyn Fn()) -> Result<Rendered> {
    let profile = &plan.profile;
    let rate = profile.sample_rate;
    let align = profile.chapter_alignment();
    let mut out = Audio::silence(rate, profile.channels, 0);
    let mut chapters = Vec::with_capacity(plan.sections.len());
    let mut clips = Vec::with_capacity(plan.sections.len());
    let mut warnings = Vec::new();

    // Clips played more than once (a chime) are loaded once.
    let mut uses: HashMap<&Path, usize> = HashMap::new();
    for item in plan.sections.iter().flat_map(|s| &s.items) {
        if let Item::Clip { path, .. } = item {
            *uses.entry(path).or_default() += 1;
        }
    }
    let mut cache: HashMap<&Path, Loaded> = HashMap::new();

    let mut pending_pause = 0.0;
    for section in &plan.sections {
        let pause = frames_for(pending_pause + section.pause_before, rate);
        let start = align_up(out.frames() + pause, align);
        pad_to(&mut out, start);
        let mut used = Vec::new();
        for item in &section.items {
            let (path, trim, level) = match item {
                Item::Silence { seconds } => {
                    let end = out.frames() + frames_for(*seconds, rate);
                    pad_to(&mut out, end);
                    continue;
                }
                Item::Clip { path, trim, level } => (Cow::Borrowed(path.as_path()), trim, *level),
                Item::Speech {
                    text,
                    language,
                    voice,
                } => {
                    let request = SpeechRequest {
                        text,
                        language,
                        voice: voice.as_deref(),
                        config: &plan.speech.config,
                        lexicon: &plan.speech.lexicon,
                        script: &section.script,
                    };
                    let spoken = synthesize(&request, &plan.speech.cache_dir)?;
                    (Cow::Owned(spoken.path), &None, profile.level_clips)
                }
            };
            let loaded = match cache.get(&*path) {
                Some(hit) => hit.clone(),
                None => {
                    let loaded = load(&path, profile)
                        .map_err(|e| e.or_place(format!("used by {}", section.script.display())))?;
                    warnings.extend(loaded.warnings.iter().cloned());
                    if let Cow::Borrowed(shared) = path {
                        if uses.get(shared).copied().unwrap_or(0) > 1 {
                            cache.insert(shared, loaded.clone());
                        }
                    }
                    loaded
                }
            };
            let mut audio = loaded.audio;
            let trimmed = match trim {
                Some(settings) => trim_edges(&mut audio, settings).ok_or_else(|| {
                    Error::in_file(
                        &path,
                        format!(
                            "the recording is silent: nothing in it is louder than {} dBFS",
                            settings.threshold_db
                        ),
                    )
                    .at(format!("used by {}", section.script.display()))
                    .with_fix("check the take, or lower defaults.trim.threshold_db in narrate.toml")
                })?,
                None => Trimmed::default(),
            };
            let level_gain_db = if level {
                level_clip(&mut audio, profile.target_lufs)
            } else {
                None
            };
            if level_gain_db.is_some_and(|g| g >= MasterSettings::default().max_gain_db) {
                warnings.push(format!(
                    "{}: the take is very quiet; it was raised by the most allowed ({:.0} dB) and may still sound quieter and noisier than the others",
                    path.display(),
                    MasterSettings::default().max_gain_db
                ));
            }
            used.push(ClipUse {
                path: path.into_owned(),
                source_rate: loaded.source_rate,
                source_channels: loaded.source_channels,
                source_frames: loaded.source_frames,
                trimmed_head: trimmed.head,
                trimmed_tail: trimmed.tail,
                level_gain_db,
                frames: audio.frames(),
            });
            out.samples.extend_from_slice(&audio.samples);
        }
        chapters.push(Chapter {
            title: section.title.clone(),
            start,
            length: out.frames() - start,
        });
        clips.push(used);
        pending_pause = section.pause_after;
        on_section();
    }
    let tail = frames_for(plan.tail_pause, rate);
    let end = align_up(out.frames() + tail, align);
    pad_to(&mut out, end);

    let timeline = Timeline {
        sample_rate: rate,
        total_frames: out.frames(),
        chapters,
    };
    Ok(Rendered {
        audio: out,
        timeline,
        clips,
        warnings,
    })
}

/// A clip decoded and converted to the profile's rate and channels, before trimming.
#[derive(Debug, Clone)]
struct Loaded {
    audio: Audio,
    source_rate: u32,
    source_channels: u16,
    source_frames: u64,
    warnings: Vec<String>,
}

/// Decodes `path`, band-limits it for telephony when the profile asks (before
/// resampling, at the source rate), and converts it to the profile's format.
fn load(path: &Path, profile: &Profile) -> Result<Loaded> {
    let mut decoded = decode_file(path)?;
    let (source_rate, source_channels, source_frames) =
        (decoded.sample_rate, decoded.channels, decoded.frames());
    let mut warnings = Vec::new();
    if source_rate < profile.sample_rate && source_rate < 16_000 {
        warnings.push(format!(
            "{}: recorded at {source_rate} Hz, below speech quality; it will sound muffled",
            path.display()
        ));
    }
    let clipped = clipped_runs(&decoded);
    if clipped > 0 {
        warnings.push(format!(
            "{}: {clipped} places reach full scale for 3 or more samples in a row; the take is probably clipped (distorted)",
            path.display()
        ));
    }
    if profile.telephone_band {
        telephone_band(&mut decoded);
    }
    let audio =
        convert(decoded, profile.sample_rate, profile.channels).map_err(|e| e.or_file(path))?;
    Ok(Loaded {
        audio,
        source_rate,
        source_channels,
        source_frames,
        warnings,
    })
}

/// Number of runs of 3 or more consecutive samples (per channel) at full scale.
fn clipped_runs(audio: &Audio) -> usize {
    let channels = usize::from(audio.channels.max(1));
    (0..channels)
        .map(|c| {
            let mut runs = 0;
            let mut run = 0;
            for s in audio.samples.iter().skip(c).step_by(channels) {
                if s.abs() >= 0.999 {
                    run += 1;
                    if run == 3 {
                        runs += 1;
                    }
                } else {
                    run = 0;
                }
            }
            runs
        })
        .sum()
}

/// `frames` rounded up to a multiple of `align`.
fn align_up(frames: u64, align: u64) -> u64 {
    frames.div_ceil(align) * align
}

/// Extends `audio` with digital silence to `frames` frames.
fn pad_to(audio: &mut Audio, frames: u64) {
    audio
        .samples
        .resize(frames as usize * usize::from(audio.channels), 0.0);
}
