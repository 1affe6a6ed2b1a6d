//! Rendering an episode plan: every item that plays audio becomes a [`ClipJob`] (decode,
//! convert, trim, level: see [`crate::clips`]), and the prepared clips are laid end to end
//! with their pauses into a [`Programme`]. Chapter positions are fixed here, in frames,
//! from the prepared clips' lengths alone: no audio is read to lay an episode out.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::clips::{preparation_id, ClipCache, Prepared, Recipe};
use crate::error::Result;
use crate::incremental::{key_of, FileHashes};
use crate::plan::{EpisodePlan, Item, Speech};
use crate::profile::Profile;
use crate::programme::Programme;
use crate::project::TrimSettings;
use crate::speech::{cache_key, cache_path, synthesize, SpeechRequest};
use crate::timeline::{Chapter, Timeline};

/// A laid-out episode: its audio (still in float, as clip files and silences), its chapters
/// and what each chapter played.
#[derive(Debug)]
pub struct Rendered {
    pub programme: Programme,
    pub timeline: Timeline,
    /// For each chapter, the clips it played.
    pub clips: Vec<Vec<ClipUse>>,
    pub warnings: Vec<String>,
}

/// How one clip was used: the recording as the script named it, and what preparing it
/// found (trimmed edges, levelling gain, frames played).
#[derive(Debug, Clone)]
pub struct ClipUse {
    pub path: PathBuf,
    pub prepared: Arc<Prepared>,
}

/// Number of frames `seconds` last at `rate`, rounded to the nearest frame.
pub fn frames_for(seconds: f64, rate: u32) -> u64 {
    (seconds * f64::from(rate)).round() as u64
}

/// Where an item's audio comes from.
#[derive(Debug, Clone, Copy)]
pub enum JobSource<'a> {
    /// A recording.
    File(&'a Path),
    /// Speech synthesised into the speech cache.
    Speech(SpeechRequest<'a>, &'a Speech),
}

/// The audio of one item, to be prepared.
#[derive(Debug, Clone, Copy)]
pub struct ClipJob<'a> {
    pub source: JobSource<'a>,
    pub trim: Option<TrimSettings>,
    pub level: bool,
    pub profile: &'a Profile,
    /// The script of the section that plays it, named in errors.
    pub used_by: &'a Path,
}

/// A job's result: the clip as reports name it and its prepared audio.
#[derive(Debug, Clone)]
pub struct Ready {
    /// The recording, or the cached synthesised speech.
    pub path: PathBuf,
    /// SHA-256 of the content that was prepared.
    pub sha256: String,
    pub prepared: Arc<Prepared>,
    /// Whether it had to be prepared (false: the cache had it).
    pub made: bool,
}

/// The jobs of `plan`, in the order the items play; silences have none.
pub fn jobs(plan: &EpisodePlan) -> Vec<ClipJob<'_>> {
    let profile = &plan.profile;
    let mut jobs = Vec::new();
    for section in &plan.sections {
        for item in &section.items {
            let (source, trim, level) = if let Some(request) = plan.speech_request(section, item) {
                let source = JobSource::Speech(request, &plan.speech);
                (source, None, profile.level_clips)
            } else if let Item::Clip { path, trim, level } = item {
                (JobSource::File(path), *trim, *level)
            } else {
                // Silences have no job.
                continue;
            };
            jobs.push(ClipJob {
                source,
                trim,
                level,
                profile,
                used_by: &section.script,
            });
        }
    }
    jobs
}

impl ClipJob<'_> {
    /// An id shared by the jobs that prepare the same audio in the same way, known before
    /// anything is read: the recording's path (or the speech request) and the preparation.
    /// Two paths with the same content are two jobs, which then find one prepared clip
    /// (the cache is keyed by content).
    pub fn id(&self) -> String {
        let source: Vec<u8> = match self.source {
            JobSource::File(path) => path.as_os_str().as_encoded_bytes().to_vec(),
            JobSource::Speech(request, _) => cache_key(&request).into_bytes(),
        };
        key_of(&[
            b"narrate clip job",
            &[u8::from(matches!(self.source, JobSource::Speech(..)))],
            &source,
            &preparation_id(
                self.profile.sample_rate,
                self.profile.channels,
                self.profile.telephone_band,
                self.trim,
                self.level.then_some(self.profile.target_lufs),
            ),
        ])
    }

    /// The recording (or cached speech) this job reads, if it exists yet.
    pub fn input(&self) -> Option<PathBuf> {
        match self.source {
            JobSource::File(path) => Some(path.to_path_buf()),
            JobSource::Speech(request, speech) => {
                Some(cache_path(&request, &speech.cache_dir)).filter(|p| p.exists())
            }
        }
    }

    fn recipe(&self, path: &Path, hashes: &FileHashes) -> Result<Recipe> {
        let (_, sha256, stamp) = hashes
            .sha256_stamped(path)
            .map_err(|e| e.or_place(format!("used by {}", self.used_by.display())))?;
        Ok(Recipe {
            stamp,
            ..Recipe::new(
                path.to_path_buf(),
                sha256,
                self.profile,
                self.trim,
                self.level,
            )
        })
    }

    /// Synthesises the speech if needed, and prepares the clip (or finds it in `cache`).
    pub fn run(&self, cache: &ClipCache, hashes: &FileHashes) -> Result<Ready> {
        let path = match self.source {
            JobSource::File(path) => path.to_path_buf(),
            JobSource::Speech(request, speech) => synthesize(&request, &speech.cache_dir)?.path,
        };
        let recipe = self.recipe(&path, hashes)?;
        let (prepared, made) = cache
            .prepare(&recipe, self.used_by)
            .map_err(|e| e.or_place(format!("used by {}", self.used_by.display())))?;
        Ok(Ready {
            path,
            sha256: recipe.sha256,
            prepared: Arc::new(prepared),
            made,
        })
    }
}

/// Lays `plan` out from its jobs' results (`ready`, in the order of [`jobs`]).
pub fn lay_out(plan: &EpisodePlan, ready: &[Arc<Ready>]) -> Rendered {
    let profile = &plan.profile;
    let rate = profile.sample_rate;
    let align = profile.chapter_alignment();
    let mut programme = Programme::new(rate, profile.channels);
    let mut chapters = Vec::with_capacity(plan.sections.len());
    let mut clips = Vec::with_capacity(plan.sections.len());
    let mut warnings: Vec<String> = Vec::new();
    let mut next = ready.iter();

    let mut pending_pause = 0.0;
    for section in &plan.sections {
        let pause = frames_for(pending_pause + section.pause_before, rate);
        let start = align_up(programme.frames() + pause, align);
        programme.pad_to(start);
        let mut used = Vec::new();
        for item in &section.items {
            if let Item::Silence { seconds } = item {
                programme.silence(frames_for(*seconds, rate));
                continue;
            }
            let Some(clip) = next.next() else {
                // The caller's list is shorter than the plan: lay out what there is.
                break;
            };
            for warning in clip.prepared.warnings(&clip.path) {
                if !warnings.contains(&warning) {
                    warnings.push(warning);
                }
            }
            used.push(ClipUse {
                path: clip.path.clone(),
                prepared: Arc::clone(&clip.prepared),
            });
            programme.clip(Arc::clone(&clip.prepared));
        }
        chapters.push(Chapter {
            title: section.title.clone(),
            start,
            length: programme.frames() - start,
        });
        clips.push(used);
        pending_pause = section.pause_after;
    }
    let tail = frames_for(plan.tail_pause, rate);
    let end = align_up(programme.frames() + tail, align);
    programme.pad_to(end);

    let timeline = Timeline {
        sample_rate: rate,
        total_frames: programme.frames(),
        chapters,
    };
    Rendered {
        programme,
        timeline,
        clips,
        warnings,
    }
}

/// `frames` rounded up to a multiple of `align`.
fn align_up(frames: u64, align: u64) -> u64 {
    frames.div_ceil(align) * align
}
