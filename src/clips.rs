//! Prepared clips: each distinct use of a recording, decoded, band-limited, converted,
//! trimmed and levelled once, and cached by content in the build cache's `clips/` folder
//! (see [`crate::incremental::cache_home`]).
//!
//! A clip use is identified by a [`Recipe`]: the SHA-256 of the file's content, the
//! profile's rate, channels and telephone band, the trim settings, the levelling target and
//! narrate's version. Its key names two files, written atomically:
//! - `<key>.f32`: the converted audio, interleaved little-endian `f32` at the profile's rate,
//!   before trimming and levelling;
//! - `<key>.json`: its [`ClipFacts`] (frames, source format, what trimming removes, the
//!   levelling gain, problems found), written last, so that its presence means the audio is
//!   complete. [`ClipReader`] plays the trimmed stretch with the gain.
//!
//! Preparation streams (decode, filter, convert and write a packet at a time) and mastering
//! streams an episode from these files as often as it needs, so memory is bounded by a
//! block, never by a clip or an episode; and a rebuild after one clip changed prepares that
//! clip alone.

use std::collections::HashMap;
use std::fs::{self, File};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, SystemTime};

use serde::{Deserialize, Serialize};

use crate::atomic;
use crate::convert::Converter;
use crate::decode::Decoder;
use crate::error::{Error, Result};
use crate::filter::BandPass;
use crate::incremental::{cache_home, key_of, Stamp};
use crate::meter::{fold_peaks, FastMeter, Figures};
use crate::profile::Profile;
use crate::project::TrimSettings;
use crate::silence::{self, LoudEdges, Trimmed};

/// Bumped whenever preparation changes what it produces for the same recipe.
pub const CLIP_FORMAT: u32 = 2;

/// Bytes per stored sample.
const SAMPLE_BYTES: usize = 4;

/// Largest gain levelling gives a take, dB.
pub const MAX_CLIP_GAIN_DB: f64 = 30.0;

/// The extensions of a prepared clip's two files: its audio and its facts.
pub const FILE_EXTENSIONS: [&str; 2] = ["f32", "json"];

/// Frames read or written per block.
const IO_FRAMES: usize = 16 * 1024;

/// A prepared clip not used for this long is removed from the cache.
const MAX_AGE: Duration = Duration::from_secs(60 * 24 * 3600);
/// How often the cache is tidied, and how stale a clip's last-use time may get before it is
/// refreshed (so that a clip in use is never removed, without writing on every build).
const DAY: Duration = Duration::from_secs(24 * 3600);

/// The prepared-clip folder of the build cache of the project at `root`.
pub fn clips_dir(root: &Path) -> PathBuf {
    cache_home(root).join("clips")
}

/// How one clip use is prepared.
#[derive(Debug, Clone, PartialEq)]
pub struct Recipe {
    /// The recording (or the cached synthesised speech).
    pub source: PathBuf,
    /// SHA-256 of its content (lowercase hex).
    pub sha256: String,
    pub sample_rate: u32,
    pub channels: u16,
    /// Band-limit to 300–3400 Hz before resampling.
    pub telephone_band: bool,
    pub trim: Option<TrimSettings>,
    /// Bring the clip to this integrated loudness, LUFS.
    pub level_lufs: Option<f64>,
    /// The source's stamp when `sha256` was taken: preparation fails, writing nothing,
    /// if the file is not that version any more once decoded (so a take saved during a
    /// build cannot be cached under the old take's hash).
    pub stamp: Option<Stamp>,
}

impl Recipe {
    /// The recipe for `source` (content `sha256`) in `profile`.
    pub fn new(
        source: PathBuf,
        sha256: String,
        profile: &Profile,
        trim: Option<TrimSettings>,
        level: bool,
    ) -> Recipe {
        Recipe {
            source,
            sha256,
            sample_rate: profile.sample_rate,
            channels: profile.channels,
            telephone_band: profile.telephone_band,
            trim,
            level_lufs: level.then_some(profile.target_lufs),
            stamp: None,
        }
    }

    /// The cache key (64 hex digits): everything that decides the prepared audio.
    pub fn key(&self) -> String {
        key_of(&[
            b"narrate prepared clip",
            &CLIP_FORMAT.to_le_bytes(),
            env!("CARGO_PKG_VERSION").as_bytes(),
            self.sha256.as_bytes(),
            &preparation_id(
                self.sample_rate,
                self.channels,
                self.telephone_band,
                self.trim,
                self.level_lufs,
            ),
        ])
    }
}

/// Bytes that tell one way of preparing a clip from every other: the rate, channels,
/// telephone band, trim settings and levelling target.
pub fn preparation_id(
    sample_rate: u32,
    channels: u16,
    telephone_band: bool,
    trim: Option<TrimSettings>,
    level_lufs: Option<f64>,
) -> Vec<u8> {
    let mut id = Vec::with_capacity(40);
    id.extend(sample_rate.to_le_bytes());
    id.extend(channels.to_le_bytes());
    id.extend([u8::from(telephone_band), u8::from(trim.is_some())]);
    if let Some(t) = trim {
        id.extend(t.threshold_db.to_bits().to_le_bytes());
        id.extend(t.margin.to_bits().to_le_bytes());
    }
    if let Some(level) = level_lufs {
        id.extend(level.to_bits().to_le_bytes());
    }
    id
}

/// What preparing a clip found and did.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClipFacts {
    pub format: u32,
    pub key: String,
    pub sample_rate: u32,
    pub channels: u16,
    /// Frames of prepared audio.
    pub frames: u64,
    pub source_rate: u32,
    pub source_channels: u16,
    pub source_frames: u64,
    /// Frames trimmed from the start and end (at the output rate).
    pub trimmed_head: u64,
    pub trimmed_tail: u64,
    /// Gain applied to level the take, dB.
    pub level_gain_db: Option<f64>,
    /// Largest |sample| of the prepared audio.
    pub peak: f32,
    /// Problems with the recording, without its path (see [`Prepared::warnings`]).
    pub notes: Vec<String>,
}

/// A prepared clip in the cache.
#[derive(Debug, Clone, PartialEq)]
pub struct Prepared {
    /// The `.f32` file.
    pub data: PathBuf,
    pub facts: ClipFacts,
}

impl Prepared {
    /// The warnings to show for the clip at `path` (the recording as the user named it).
    pub fn warnings(&self, path: &Path) -> Vec<String> {
        let mut warnings: Vec<String> = self
            .facts
            .notes
            .iter()
            .map(|note| format!("{}: {note}", path.display()))
            .collect();
        if self
            .facts
            .level_gain_db
            .is_some_and(|g| g >= MAX_CLIP_GAIN_DB)
        {
            warnings.push(format!(
                "{}: the take is very quiet; it was raised by the most allowed ({MAX_CLIP_GAIN_DB:.0} dB) and may still sound quieter and noisier than the others",
                path.display(),
            ));
        }
        warnings
    }

    /// Reads the prepared audio from the start, trimmed and levelled.
    pub fn open(&self) -> Result<ClipReader> {
        let f = &self.facts;
        ClipReader::open(
            &self.data,
            f.channels,
            f.trimmed_head,
            f.frames,
            gain_factor(f.level_gain_db),
        )
    }
}

fn damaged(path: &Path, err: &std::io::Error) -> Error {
    Error::io(path, "read the prepared clip", err).with_fix(
        "the build cache was changed while narrate ran: delete the .narrate-cache folder and build again",
    )
}

/// Sequential reader of a prepared clip's samples: a stretch of the stored audio, times a
/// gain.
#[derive(Debug)]
pub struct ClipReader {
    file: File,
    path: PathBuf,
    /// Samples not read yet.
    left: u64,
    gain: f32,
    bytes: Vec<u8>,
}

impl ClipReader {
    /// Reads `frames` frames of `channels` channels from `path`, from frame `head` on, each
    /// sample multiplied by `gain`.
    fn open(path: &Path, channels: u16, head: u64, frames: u64, gain: f32) -> Result<ClipReader> {
        let mut file = File::open(path).map_err(|e| damaged(path, &e))?;
        let frame_bytes = u64::from(channels) * SAMPLE_BYTES as u64;
        file.seek(SeekFrom::Start(head * frame_bytes))
            .map_err(|e| damaged(path, &e))?;
        Ok(ClipReader {
            file,
            path: path.to_path_buf(),
            left: frames * u64::from(channels),
            gain,
            bytes: Vec::new(),
        })
    }

    /// Samples not read yet.
    pub fn remaining(&self) -> u64 {
        self.left
    }

    /// Appends the next `count` samples (at most what remains) to `out`.
    pub fn read(&mut self, count: usize, out: &mut Vec<f32>) -> Result<()> {
        let count = count.min(usize::try_from(self.left).unwrap_or(usize::MAX));
        self.bytes.resize(count * SAMPLE_BYTES, 0);
        self.file
            .read_exact(&mut self.bytes)
            .map_err(|e| damaged(&self.path, &e))?;
        let start = out.len();
        out.resize(start + count, 0.0);
        let samples = out[start..]
            .iter_mut()
            .zip(self.bytes.chunks_exact(SAMPLE_BYTES));
        for (x, b) in samples {
            *x = f32::from_le_bytes([b[0], b[1], b[2], b[3]]);
        }
        if self.gain != 1.0 {
            out[start..].iter_mut().for_each(|x| *x *= self.gain);
        }
        self.left -= count as u64;
        Ok(())
    }
}

/// The prepared-clip cache of one project.
#[derive(Debug, Clone)]
pub struct ClipCache {
    dir: PathBuf,
}

impl ClipCache {
    pub fn new(dir: PathBuf) -> ClipCache {
        ClipCache { dir }
    }

    fn paths(&self, key: &str) -> (PathBuf, PathBuf) {
        let [audio, facts] = FILE_EXTENSIONS;
        (
            self.dir.join(format!("{key}.{audio}")),
            self.dir.join(format!("{key}.{facts}")),
        )
    }

    /// The cached clip for `key`, if it is there and whole. Its last-use time (the
    /// modification time of its `.json`) is brought up to date if it is a day old.
    pub fn lookup(&self, key: &str) -> Option<Prepared> {
        let (data, facts_path) = self.paths(key);
        let facts: ClipFacts = serde_json::from_slice(&fs::read(&facts_path).ok()?).ok()?;
        let stored = facts.trimmed_head + facts.frames + facts.trimmed_tail;
        let bytes = stored * u64::from(facts.channels) * SAMPLE_BYTES as u64;
        let whole = facts.format == CLIP_FORMAT
            && facts.key == key
            && fs::metadata(&data).is_ok_and(|m| m.len() == bytes);
        if !whole {
            return None;
        }
        let now = SystemTime::now();
        if age(&facts_path, now).is_some_and(|a| a > DAY) {
            if let Ok(file) = File::options().write(true).open(&facts_path) {
                let _ = file.set_modified(now);
            }
        }
        Some(Prepared { data, facts })
    }

    /// Removes clips not used for 60 days, and what interrupted runs left behind. Runs at
    /// most once a day (best effort: errors are ignored).
    pub fn tidy(&self) {
        let marker = self.dir.join(".tidied");
        let now = SystemTime::now();
        if age(&marker, now).is_some_and(|a| a < DAY) {
            return;
        }
        if fs::write(&marker, b"").is_err() {
            return;
        }
        atomic::clean_leftovers(&self.dir);
        let Ok(entries) = fs::read_dir(&self.dir) else {
            return;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            let old = |limit: Duration| age(&path, now).is_some_and(|a| a > limit);
            match path.extension().and_then(|e| e.to_str()) {
                Some("json") if old(MAX_AGE) => {
                    let _ = fs::remove_file(path.with_extension("f32"));
                    let _ = fs::remove_file(&path);
                }
                // Audio whose facts never got written (an interrupted preparation).
                Some("f32") if old(DAY) && !path.with_extension("json").exists() => {
                    let _ = fs::remove_file(&path);
                }
                _ => {}
            }
        }
    }

    /// The prepared clip for `recipe`, from the cache or made now. `used_by` (the section's
    /// script) is named in errors. Returns whether it had to be made.
    ///
    /// Safe to call from several threads: a recipe is prepared once.
    pub fn prepare(&self, recipe: &Recipe, used_by: &Path) -> Result<(Prepared, bool)> {
        let key = recipe.key();
        let lock = key_lock(&key);
        let _guard = lock.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(hit) = self.lookup(&key) {
            return Ok((hit, false));
        }
        let (data, facts_path) = self.paths(&key);
        fs::create_dir_all(&self.dir)
            .map_err(|e| Error::io(&self.dir, "create the build cache folder", &e))?;
        let facts = make(recipe, key, used_by, &data)?;
        let json = serde_json::to_vec_pretty(&facts)
            .map_err(|e| Error::new(format!("cannot describe the prepared clip: {e}")))?;
        atomic::write_bytes(&facts_path, &json)?;
        // The facts as a later build will read them back: JSON does not always give back
        // the last bit of a float, and reports must not depend on whether the cache had it.
        let facts = serde_json::from_slice(&json)
            .map_err(|e| Error::new(format!("cannot read back the prepared clip: {e}")))?;
        Ok((Prepared { data, facts }, true))
    }
}

/// How long ago `path` was last modified.
fn age(path: &Path, now: SystemTime) -> Option<Duration> {
    now.duration_since(fs::metadata(path).ok()?.modified().ok()?)
        .ok()
}

fn key_lock(key: &str) -> Arc<Mutex<()>> {
    static LOCKS: OnceLock<Mutex<HashMap<String, Arc<Mutex<()>>>>> = OnceLock::new();
    let mut locks = LOCKS
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(|e| e.into_inner());
    locks.entry(key.to_string()).or_default().clone()
}

/// Prepares the clip of `recipe` into `data`, streaming: decodes, band-limits (before
/// resampling, at the source rate) and converts a packet at a time, writing the audio as it
/// comes, so memory does not grow with the clip. The edges to trim and the levelling gain
/// are found on the way and afterwards (levelling measures the trimmed audio, read back);
/// they go into the facts, and [`ClipReader`] applies them.
fn make(recipe: &Recipe, key: String, used_by: &Path, data: &Path) -> Result<ClipFacts> {
    let path = &recipe.source;
    let mut decoder = Decoder::open(path)?;
    let (source_rate, source_channels) = (decoder.sample_rate(), decoder.channels());
    let mut band = recipe
        .telephone_band
        .then(|| BandPass::telephone(source_rate, source_channels));
    let mut converter = Converter::new(
        source_rate,
        source_channels,
        recipe.sample_rate,
        recipe.channels,
    )
    .map_err(|e| e.or_file(path))?;
    let mut clipped = ClippedRuns::new(source_channels);
    let mut edges = LoudEdges::new(
        recipe.trim.as_ref().map_or(0.0, silence::threshold),
        recipe.channels,
    );
    let mut peak = [0f32];
    atomic::write_with(data, |out| {
        let mut filtered = Vec::new();
        let mut converted = Vec::new();
        let mut bytes = Vec::new();
        let mut write = |converted: &mut Vec<f32>| -> Result<()> {
            edges.add(converted);
            fold_peaks(converted, &mut peak);
            bytes.resize(converted.len() * SAMPLE_BYTES, 0);
            for (b, s) in bytes.chunks_exact_mut(SAMPLE_BYTES).zip(converted.iter()) {
                b.copy_from_slice(&s.to_le_bytes());
            }
            converted.clear();
            out.write_all(&bytes)
                .map_err(|e| Error::io(data, "write", &e))
        };
        while let Some(chunk) = decoder.next_chunk()? {
            clipped.add(chunk);
            let chunk = match &mut band {
                Some(band) => {
                    filtered.clear();
                    filtered.extend_from_slice(chunk);
                    band.process(&mut filtered);
                    &filtered
                }
                None => chunk,
            };
            converter
                .push(chunk, &mut converted)
                .map_err(|e| e.or_file(path))?;
            write(&mut converted)?;
        }
        converter
            .finish(&mut converted)
            .map_err(|e| e.or_file(path))?;
        write(&mut converted)?;
        if recipe.stamp.is_some_and(|s| Stamp::of(path) != Some(s)) {
            return Err(
                Error::in_file(path, "the recording changed while it was being read")
                    .with_fix("wait until the recording is saved, then build again"),
            );
        }
        Ok(())
    })?;
    let stored = edges.frames();
    let trimmed = match &recipe.trim {
        Some(settings) => edges.trimmed(settings, recipe.sample_rate).ok_or_else(|| {
            let _ = fs::remove_file(data);
            Error::in_file(
                path,
                format!(
                    "the recording is silent: nothing in it is louder than {} dBFS",
                    settings.threshold_db
                ),
            )
            .at(format!("used by {}", used_by.display()))
            .with_fix("check the take, or lower defaults.trim.threshold_db in narrate.toml")
        })?,
        None => Trimmed::default(),
    };
    let frames = stored - trimmed.head - trimmed.tail;
    let level_gain_db = match recipe.level_lufs {
        Some(target) => {
            let mut meter =
                FastMeter::new(recipe.sample_rate, recipe.channels, Figures::INTEGRATED)?;
            let mut reader = ClipReader::open(data, recipe.channels, trimmed.head, frames, 1.0)?;
            let mut chunk = Vec::with_capacity(IO_FRAMES * usize::from(recipe.channels));
            while reader.remaining() > 0 {
                chunk.clear();
                reader.read(IO_FRAMES * usize::from(recipe.channels), &mut chunk)?;
                meter.add(&chunk);
            }
            level_gain(meter.integrated_lufs(), target)
        }
        None => None,
    };
    let mut notes = Vec::new();
    if source_rate < recipe.sample_rate && source_rate < 16_000 {
        notes.push(format!(
            "recorded at {source_rate} Hz, below speech quality; it will sound muffled"
        ));
    }
    let clipped = clipped.runs();
    if clipped > 0 {
        notes.push(format!(
            "{clipped} places reach full scale for 3 or more samples in a row; the take is probably clipped (distorted)"
        ));
    }
    Ok(ClipFacts {
        format: CLIP_FORMAT,
        key,
        sample_rate: recipe.sample_rate,
        channels: recipe.channels,
        frames,
        source_rate,
        source_channels,
        source_frames: decoder.frames(),
        trimmed_head: trimmed.head,
        trimmed_tail: trimmed.tail,
        level_gain_db,
        // Trimming removes only samples under the threshold, so the loudest one stays.
        peak: peak[0] * gain_factor(level_gain_db),
        notes,
    })
}

/// The gain that brings a clip measured at `measured` LUFS to `target` (at most
/// [`MAX_CLIP_GAIN_DB`]), or `None` when it has no measurable loudness (silent, or shorter
/// than 0.4 s): it is played as it is.
fn level_gain(measured: Option<f64>, target: f64) -> Option<f64> {
    let gain = (target - measured?).min(MAX_CLIP_GAIN_DB);
    gain.is_finite().then_some(gain)
}

/// The linear factor of a levelling gain.
fn gain_factor(db: Option<f64>) -> f32 {
    db.map_or(1.0, |db| 10f64.powf(db / 20.0) as f32)
}

/// Counts runs of 3 or more consecutive samples at full scale, per channel, over a stream.
struct ClippedRuns {
    /// Per channel, the length of the current run.
    run: Vec<u32>,
    runs: usize,
}

impl ClippedRuns {
    fn new(channels: u16) -> Self {
        ClippedRuns {
            run: vec![0; usize::from(channels.max(1))],
            runs: 0,
        }
    }

    fn add(&mut self, samples: &[f32]) {
        for frame in samples.chunks_exact(self.run.len()) {
            for (run, s) in self.run.iter_mut().zip(frame) {
                if s.abs() >= 0.999 {
                    *run += 1;
                    if *run == 3 {
                        self.runs += 1;
                    }
                } else {
                    *run = 0;
                }
            }
        }
    }

    fn runs(&self) -> usize {
        self.runs
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audio::Audio;
    use crate::loudness;
    use crate::profile::Profile;

    /// `seconds` of syllable-like noise bursts at `peak` with `edge` seconds of silence at
    /// both ends, written as a 22.05 kHz 16-bit WAV.
    fn take(path: &Path, seconds: f64, edge: f64, peak: f32, seed: u64) {
        let rate = 22_050u32;
        let spec = hound::WavSpec {
            channels: 1,
            sample_rate: rate,
            bits_per_sample: 16,
            sample_format: hound::SampleFormat::Int,
        };
        let mut w = hound::WavWriter::create(path, spec).unwrap();
        let mut state = seed;
        let edge_frames = (edge * f64::from(rate)) as usize;
        let frames = (seconds * f64::from(rate)) as usize;
        for i in 0..frames + 2 * edge_frames {
            let x = if i < edge_frames || i >= edge_frames + frames {
                0.0
            } else {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                let t = (i - edge_frames) as f64 / f64::from(rate);
                let syllable = (std::f64::consts::PI * 4.0 * t).sin().abs() as f32;
                ((state >> 40) as f32 / (1u64 << 24) as f32 - 0.5) * 2.0 * peak * syllable
            };
            w.write_sample((x * 32767.0).round() as i16).unwrap();
        }
        w.finalize().unwrap();
    }

    fn played(prepared: &Prepared) -> Audio {
        let mut reader = prepared.open().unwrap();
        let mut samples = Vec::new();
        while reader.remaining() > 0 {
            reader.read(4096, &mut samples).unwrap();
        }
        Audio {
            sample_rate: prepared.facts.sample_rate,
            channels: prepared.facts.channels,
            samples,
        }
    }

    #[test]
    fn quiet_and_hot_takes_are_trimmed_and_levelled_alike() {
        let dir = std::env::temp_dir().join(format!("narrate-clips-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        let profile = Profile::named("guide").unwrap();
        let cache = ClipCache::new(dir.join("cache"));
        let mut levelled = Vec::new();
        for (name, peak, seed) in [("quiet", 0.01, 3), ("hot", 0.99, 4)] {
            let path = dir.join(format!("{name}.wav"));
            take(&path, 6.0, 1.0, peak, seed);
            let sha = crate::report::sha256_file(&path).unwrap().1;
            let recipe = Recipe::new(
                path.clone(),
                sha,
                &profile,
                Some(TrimSettings::default()),
                true,
            );
            let (prepared, made) = cache.prepare(&recipe, &path).unwrap();
            assert!(made);
            let f = &prepared.facts;
            // 1 s of silence each side, 0.15 s of it kept: about 0.85 s trimmed (at 44.1 kHz; the
            // syllables fade in and out, so a little more on a quiet take).
            assert!(f.trimmed_head.abs_diff(37_485) < 2_000, "{name}: {f:?}");
            assert!(f.trimmed_tail.abs_diff(37_485) < 2_000, "{name}: {f:?}");
            let audio = played(&prepared);
            assert_eq!(audio.frames(), f.frames);
            let lufs = loudness::integrated(&audio).unwrap().unwrap();
            assert!((lufs - profile.target_lufs).abs() < 0.01, "{name}: {lufs}");
            levelled.push(f.level_gain_db.unwrap());
            // The loudest played sample is the recorded peak.
            let peak = audio.samples.iter().fold(0f32, |m, x| m.max(x.abs()));
            assert_eq!(peak, f.peak);
            // A second preparation finds it in the cache.
            assert!(!cache.prepare(&recipe, &path).unwrap().1);
        }
        assert!(levelled[0] > 20.0 && levelled[1] < 0.0, "{levelled:?}");
        let _ = fs::remove_dir_all(&dir);
    }
}
