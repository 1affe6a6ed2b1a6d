//! The build report: what went into an output and where every section landed.

use std::fs::File;
use std::io::Read;
use std::path::Path;

use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::error::{Error, Result};
use crate::master::MasterReport;
use crate::plan::EpisodePlan;
use crate::profile::Profile;
use crate::render::{ClipUse, Rendered};

/// The `.report.json` of one output.
#[derive(Debug, Serialize)]
pub struct Report {
    pub narrate: String,
    pub episode: String,
    pub title: String,
    pub profile: Profile,
    pub output: String,
    pub sample_rate: u32,
    pub channels: u16,
    pub frames: u64,
    pub duration_seconds: f64,
    /// Loudness before and after mastering, the gain and the limiter's work.
    pub mastering: MasterReport,
    pub sections: Vec<SectionEntry>,
    pub inputs: Vec<InputEntry>,
    pub warnings: Vec<String>,
}

/// Where one section landed, in frames and seconds.
#[derive(Debug, Serialize)]
pub struct SectionEntry {
    pub index: usize,
    pub title: String,
    pub script: String,
    pub start_frame: u64,
    pub start_seconds: f64,
    pub duration_frames: u64,
    pub duration_seconds: f64,
    pub words: usize,
    /// The narration is synthesised speech, not a recording.
    pub synthesised: bool,
    pub clips: Vec<ClipEntry>,
}

/// One clip a section played.
#[derive(Debug, Serialize)]
pub struct ClipEntry {
    pub path: String,
    pub source_rate: u32,
    pub source_channels: u16,
    pub source_frames: u64,
    pub trimmed_head_frames: u64,
    pub trimmed_tail_frames: u64,
    pub level_gain_db: Option<f64>,
    pub frames: u64,
}

/// An input file with its content hash.
#[derive(Debug, Serialize)]
pub struct InputEntry {
    pub path: String,
    pub bytes: u64,
    pub sha256: String,
}

impl Report {
    /// Assembles the report; paths are given relative to `root`, with `/` separators.
    /// `hash` gives an input's size and SHA-256 (e.g. [`sha256_file`], or a cache of it).
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        plan: &EpisodePlan,
        rendered: &Rendered,
        mastering: &MasterReport,
        root: &Path,
        manifest: &Path,
        output: &str,
        warnings: Vec<String>,
        hash: &dyn Fn(&Path) -> Result<(u64, String)>,
    ) -> Result<Report> {
        let timeline = &rendered.timeline;
        let rel = |p: &Path| relative(root, p);
        let sections = plan
            .sections
            .iter()
            .zip(&timeline.chapters)
            .zip(&rendered.clips)
            .enumerate()
            .map(|(index, ((section, chapter), clips))| SectionEntry {
                index: index + 1,
                title: chapter.title.clone(),
                script: rel(&section.script),
                start_frame: chapter.start,
                start_seconds: timeline.seconds(chapter.start),
                duration_frames: chapter.length,
                duration_seconds: timeline.seconds(chapter.length),
                words: section.text.split_whitespace().count(),
                synthesised: section.synthesised,
                clips: clips.iter().map(|c| ClipEntry::new(c, &rel)).collect(),
            })
            .collect();

        let mut paths: Vec<&Path> = vec![manifest];
        paths.extend(plan.sections.iter().map(|s| s.script.as_path()));
        paths.extend(rendered.clips.iter().flatten().map(|c| c.path.as_path()));
        let mut seen = std::collections::BTreeSet::new();
        let inputs = paths
            .into_iter()
            .filter(|p| seen.insert(*p))
            .map(|p| {
                let (bytes, sha256) = hash(p)?;
                Ok(InputEntry {
                    path: rel(p),
                    bytes,
                    sha256,
                })
            })
            .collect::<Result<_>>()?;

        Ok(Report {
            narrate: env!("CARGO_PKG_VERSION").into(),
            episode: plan.meta.id.clone(),
            title: plan.meta.title().to_string(),
            profile: plan.profile.clone(),
            output: output.to_string(),
            sample_rate: timeline.sample_rate,
            channels: plan.profile.channels,
            frames: timeline.total_frames,
            duration_seconds: timeline.duration_seconds(),
            mastering: mastering.clone(),
            sections,
            inputs,
            warnings,
        })
    }

    /// Pretty JSON with a trailing newline.
    pub fn to_json(&self) -> String {
        let mut text = serde_json::to_string_pretty(self).unwrap_or_default();
        text.push('\n');
        text
    }
}

impl ClipEntry {
    fn new(clip: &ClipUse, rel: &dyn Fn(&Path) -> String) -> Self {
        let facts = &clip.prepared.facts;
        ClipEntry {
            path: rel(&clip.path),
            source_rate: facts.source_rate,
            source_channels: facts.source_channels,
            source_frames: facts.source_frames,
            trimmed_head_frames: facts.trimmed_head,
            trimmed_tail_frames: facts.trimmed_tail,
            level_gain_db: facts.level_gain_db,
            frames: facts.frames,
        }
    }
}

/// `path` relative to `root`, with `/` separators on every platform.
pub fn relative(root: &Path, path: &Path) -> String {
    let rel = path.strip_prefix(root).unwrap_or(path);
    rel.components()
        .map(|c| c.as_os_str().to_string_lossy())
        .collect::<Vec<_>>()
        .join("/")
}

/// Size and SHA-256 (lowercase hex) of a file, read in blocks.
pub fn sha256_file(path: &Path) -> Result<(u64, String)> {
    let mut file = File::open(path).map_err(|e| Error::io(path, "read", &e))?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 16];
    let mut total = 0u64;
    loop {
        let n = file
            .read(&mut buf)
            .map_err(|e| Error::io(path, "read", &e))?;
        if n == 0 {
            break;
        }
        total += n as u64;
        hasher.update(&buf[..n]);
    }
    let hex = hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    Ok((total, hex))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sha256_matches_the_known_digest() {
        let dir = std::env::temp_dir().join(format!("narrate-sha-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("abc.txt");
        std::fs::write(&file, b"abc").unwrap();
        let (bytes, hex) = sha256_file(&file).unwrap();
        assert_eq!(bytes, 3);
        assert_eq!(
            hex,
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
