//! Rendering an episode plan: decode and convert every clip, trim it, and lay the
//! chapters end to end with their pauses. Chapter positions are fixed here, in frames.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::audio::Audio;
use crate::convert::convert;
use crate::decode::decode_file;
use crate::error::{Error, Result};
use crate::plan::{EpisodePlan, Item};
use crate::silence::{trim_edges, Trimmed};
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
    let (rate, channels) = (profile.sample_rate, profile.channels);
    let mut out = Audio::silence(rate, channels, 0);
    let mut chapters = Vec::with_capacity(plan.sections.len());
    let mut clips = Vec::with_capacity(plan.sections.len());
    let mut warnings = Vec::new();

    // Clips played more than once (a chime) are decoded once.
    let mut uses: HashMap<&Path, usize> = HashMap::new();
    for item in plan.sections.iter().flat_map(|s| &s.items) {
        if let Item::Clip { path, .. } = item {
            *uses.entry(path).or_default() += 1;
        }
    }
    let mut cache: HashMap<&Path, (Audio, u32, u16, u64)> = HashMap::new();

    let mut pending_pause = 0.0;
    for section in &plan.sections {
        append_silence(
            &mut out,
            frames_for(pending_pause + section.pause_before, rate),
        );
        let start = out.frames();
        let mut used = Vec::new();
        for item in &section.items {
            match item {
                Item::Silence { seconds } => append_silence(&mut out, frames_for(*seconds, rate)),
                Item::Clip { path, trim } => {
                    let (mut audio, source_rate, source_channels, source_frames) = match cache
                        .get(path.as_path())
                    {
                        Some(hit) => hit.clone(),
                        None => {
                            let used_by = || format!("used by {}", section.script.display());
                            let decoded = decode_file(path).map_err(|e| e.or_place(used_by()))?;
                            let source = (decoded.sample_rate, decoded.channels, decoded.frames());
                            if source.0 < rate && source.0 < 16_000 {
                                warnings.push(format!(
                                        "{}: recorded at {} Hz, below speech quality; it will sound muffled",
                                        path.display(),
                                        source.0
                                    ));
                            }
                            let converted = convert(decoded, rate, channels)
                                .map_err(|e| e.or_file(path).or_place(used_by()))?;
                            let entry = (converted, source.0, source.1, source.2);
                            if uses.get(path.as_path()).copied().unwrap_or(0) > 1 {
                                cache.insert(path, entry.clone());
                            }
                            entry
                        }
                    };
                    let trimmed = match trim {
                        Some(settings) => trim_edges(&mut audio, settings).ok_or_else(|| {
                            Error::in_file(path, format!(
                                "the recording is silent: nothing in it is louder than {} dBFS",
                                settings.threshold_db
                            ))
                            .with_fix("check the take, or lower defaults.trim.threshold_db in narrate.toml")
                        })?,
                        None => Trimmed::default(),
                    };
                    used.push(ClipUse {
                        path: path.clone(),
                        source_rate,
                        source_channels,
                        source_frames,
                        trimmed_head: trimmed.head,
                        trimmed_tail: trimmed.tail,
                        frames: audio.frames(),
                    });
                    out.samples.extend_from_slice(&audio.samples);
                }
            }
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

fn append_silence(audio: &mut Audio, frames: u64) {
    let len = audio.samples.len() + frames as usize * usize::from(audio.channels);
    audio.samples.resize(len, 0.0);
}
