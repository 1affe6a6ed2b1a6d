//! Speech synthesis for sections that have no recording yet.
//!
//! [`synthesize`] turns a section's text into a cached mono WAV:
//! 1. the [`Lexicon`] is applied to the text (callers pass the approved wording as it is);
//! 2. the text is cut into paragraphs at blank lines; each paragraph is one engine run:
//!    espeak-ng (`-v VOICE -s RATE -m -b 1 -w OUT -f TEXT`, the text as SSML with a
//!    `<break>` of `sentence_pause` between sentences), or the `[speech] command` template;
//! 3. each paragraph's audio is decoded, mixed to mono at the first paragraph's rate, and
//!    its edges cut where it first and last passes −60 dBFS; paragraphs are joined with
//!    exactly `paragraph_pause` of digital silence;
//! 4. the result is written as 16-bit PCM (the engine's own rate) to
//!    `<cache_dir>/<key>.wav`, atomically, where the key is a SHA-256 over everything that
//!    changes the audio ([`cache_key`]). An unchanged section is never synthesised twice;
//!    after upgrading an engine or its voices, [`clear_cache`].
//!
//! Every failure is an [`Error`] naming the section's script, the command line that ran
//! and what the engine printed; nothing is left in the cache folder.

mod config;
mod engine;
mod lexicon;
mod text;

use std::collections::HashMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use sha2::{Digest, Sha256};

use crate::atomic::TEMP_SUFFIX;
use crate::audio::Audio;
use crate::convert::convert;
use crate::decode::{decode_file, probe_file};
use crate::error::{Error, Result};
use crate::incremental::Removed;
use crate::meta::{self, EpisodeMeta, TagKey};
use crate::profile::SampleFormat;
use crate::silence::loud_span;
use crate::timeline::Timeline;
use crate::wav::writer::{write_wav_file, WavSpec};

pub use config::{Engine, SpeechConfig, PLACEHOLDERS, RATE_RANGE};
pub use lexicon::{Lexicon, LexiconHit};

use engine::{Invocation, Outcome};

/// Bumped whenever narrate's processing of engine output changes, so that old cache
/// entries are not reused.
pub const CACHE_FORMAT: u32 = 1;

/// Paragraph audio quieter than this (dBFS, peak) at its edges is cut off.
pub const EDGE_THRESHOLD_DB: f64 = -60.0;

/// The program run for `engine = "espeak-ng"`.
pub const ESPEAK: &str = "espeak-ng";

/// What to say, and how.
#[derive(Debug, Clone, Copy)]
pub struct SpeechRequest<'a> {
    /// The section's narration text as written; [`synthesize`] applies `lexicon` to it.
    pub text: &'a str,
    /// The episode's language, e.g. `en` or `fr-FR`.
    pub language: &'a str,
    /// A voice chosen for this section or episode; `None` uses [`SpeechConfig::voice_for`].
    pub voice: Option<&'a str>,
    pub config: &'a SpeechConfig,
    pub lexicon: &'a Lexicon,
    /// The section's script, named in every error.
    pub script: &'a Path,
}

/// A section's synthesised speech.
#[derive(Debug, Clone, PartialEq)]
pub struct Synthesis {
    /// The cached WAV: mono, 16-bit, at the engine's sample rate.
    pub path: PathBuf,
    /// Whether the engine ran (false: the cache already had it).
    pub engine_called: bool,
    /// The voice used.
    pub voice: String,
    /// For reports and the WAV's ICMT, e.g. `espeak-ng voice en-us, 140 wpm`.
    pub description: String,
    pub seconds: f64,
}

/// Speaking time of `words` words at `rate_wpm` words per minute, pauses excluded
/// (0 for a rate that is not positive).
pub fn estimate_seconds(words: usize, rate_wpm: f64) -> f64 {
    if rate_wpm > 0.0 {
        words as f64 * 60.0 / rate_wpm
    } else {
        0.0
    }
}

/// The text the engine says for `request`: the lexicon applied.
pub fn spoken_text(request: &SpeechRequest) -> String {
    request.lexicon.apply(request.text)
}

/// The cache key (64 hex digits) of `request`: SHA-256 over the cache format version,
/// the text after the lexicon, the engine, the full command template and `stdin`, the
/// voice, the language, the rate and both pauses, each length-prefixed.
pub fn cache_key(request: &SpeechRequest) -> String {
    key_for(request, &spoken_text(request), &voice_of(request))
}

/// Where the cached speech for `request` is (whether or not it exists yet).
pub fn cache_path(request: &SpeechRequest, cache_dir: &Path) -> PathBuf {
    cache_dir.join(format!("{}.wav", cache_key(request)))
}

/// The cached speech of `request`, synthesised first unless the cache has it.
///
/// Safe to call from several threads: the same request is synthesised once.
pub fn synthesize(request: &SpeechRequest, cache_dir: &Path) -> Result<Synthesis> {
    let config = request.config;
    config.validate()?;
    let spoken = spoken_text(request);
    let paragraphs = text::paragraphs(&spoken);
    if paragraphs.is_empty() {
        return Err(
            Error::in_file(request.script, "there is no text to synthesise")
                .at("speech")
                .with_fix("write the narration text under the front matter, or add a recording"),
        );
    }
    let voice = voice_of(request);
    let key = key_for(request, &spoken, &voice);
    let path = cache_dir.join(format!("{key}.wav"));
    let done = |seconds: f64, engine_called: bool| Synthesis {
        path: path.clone(),
        engine_called,
        description: config.describe(&voice),
        voice: voice.clone(),
        seconds,
    };

    let lock = key_lock(&key);
    let _guard = lock.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    if let Some(seconds) = cached_seconds(&path) {
        return Ok(done(seconds, false));
    }

    let work = WorkDir::create(cache_dir, &key)?;
    let call = |index: usize| Call {
        request,
        voice: &voice,
        paragraph: index + 1,
        of: paragraphs.len(),
    };
    let mut audio = call(0).run(&paragraphs[0], &work.path)?;
    let pause = (config.paragraph_pause * f64::from(audio.sample_rate)).round() as usize;
    for (index, paragraph) in paragraphs.iter().enumerate().skip(1) {
        let call = call(index);
        let next = convert(call.run(paragraph, &work.path)?, audio.sample_rate, 1)
            .map_err(|e| e.or_file(request.script).or_place(call.place()))?;
        audio.samples.resize(audio.samples.len() + pause, 0.0);
        audio.samples.extend_from_slice(&next.samples);
    }
    write_cached(&path, &audio, &config.describe(&voice), &key)?;
    drop(work);
    Ok(done(audio.duration_seconds(), true))
}

/// Removes every cached speech file from `cache_dir`, and leftovers of interrupted runs;
/// other files are left alone. Returns the number of files removed (0 when there is no
/// cache folder).
pub fn clear_cache(cache_dir: &Path) -> Result<usize> {
    Ok(remove_cached(cache_dir)?.files)
}

/// [`clear_cache`], telling the files removed and the bytes they held.
pub fn remove_cached(cache_dir: &Path) -> Result<Removed> {
    let entries = match fs::read_dir(cache_dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Removed::default()),
        Err(e) => return Err(Error::io(cache_dir, "read the speech cache folder", &e)),
    };
    let mut removed = Removed::default();
    for entry in entries {
        let entry = entry.map_err(|e| Error::io(cache_dir, "read the speech cache folder", &e))?;
        let path = entry.path();
        let name = entry.file_name().to_string_lossy().into_owned();
        let size = Removed::of(&path);
        let result = if name.ends_with(TEMP_SUFFIX) && path.is_dir() {
            fs::remove_dir_all(&path)
        } else if name.ends_with(TEMP_SUFFIX) || is_cache_name(&name) {
            fs::remove_file(&path)
        } else {
            continue;
        };
        result.map_err(|e| Error::io(&path, "remove", &e))?;
        removed = removed + Removed { files: 1, ..size };
    }
    Ok(removed)
}

/// Whether the configured engine can run: its version (espeak-ng) or the program's path
/// (a command, which is not run). For `narrate check`.
pub fn engine_available(config: &SpeechConfig) -> Result<String> {
    config.validate()?;
    match config.engine {
        Engine::EspeakNg => {
            let invocation = Invocation {
                program: ESPEAK.into(),
                args: vec!["--version".into()],
                input: None,
            };
            let ran = engine::run(&invocation, Duration::from_secs(10))
                .map_err(|e| not_started(config, ESPEAK, &e))?;
            match ran.outcome {
                Outcome::Exited(status) if status.success() => {
                    let line = ran.said.lines().next().unwrap_or_default();
                    let version = line.split("Data at:").next().unwrap_or(line).trim();
                    Ok(version.to_string())
                }
                _ => Err(Error::new(format!(
                    "`espeak-ng --version` failed: {}",
                    or_nothing(&ran.said)
                ))
                .at("[speech]")
                .with_fix(install_fix())),
            }
        }
        Engine::Command => {
            let program = config.command.first().map_or("", String::as_str);
            match engine::locate(program) {
                Some(found) => Ok(format!("{program} ({})", found.display())),
                None => Err(not_started(
                    config,
                    program,
                    &std::io::Error::from(std::io::ErrorKind::NotFound),
                )),
            }
        }
    }
}

fn voice_of(request: &SpeechRequest) -> String {
    request.config.voice_for(request.language, request.voice)
}

fn key_for(request: &SpeechRequest, spoken: &str, voice: &str) -> String {
    let config = request.config;
    let mut hash = Sha256::new();
    let mut field = |bytes: &[u8]| {
        hash.update((bytes.len() as u64).to_le_bytes());
        hash.update(bytes);
    };
    field(b"narrate speech cache");
    field(&CACHE_FORMAT.to_le_bytes());
    field(config.engine.name().as_bytes());
    field(&(config.command.len() as u64).to_le_bytes());
    for arg in &config.command {
        field(arg.as_bytes());
    }
    field(&[u8::from(config.stdin)]);
    field(voice.as_bytes());
    field(request.language.as_bytes());
    field(&config.rate.to_le_bytes());
    field(&config.sentence_pause.to_bits().to_le_bytes());
    field(&config.paragraph_pause.to_bits().to_le_bytes());
    field(spoken.as_bytes());
    hash.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

fn is_cache_name(name: &str) -> bool {
    name.strip_suffix(".wav")
        .is_some_and(|stem| stem.len() == 64 && stem.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// The length of a usable cache entry at `path`, or `None` (missing or damaged).
fn cached_seconds(path: &Path) -> Option<f64> {
    let info = probe_file(path).ok().filter(|info| info.channels == 1)?;
    info.duration_seconds.filter(|s| *s > 0.0)
}

/// One lock per cache key, so that parallel builds synthesise a section once.
fn key_lock(key: &str) -> Arc<Mutex<()>> {
    static LOCKS: OnceLock<Mutex<HashMap<String, Arc<Mutex<()>>>>> = OnceLock::new();
    let mut locks = LOCKS
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    locks.entry(key.to_string()).or_default().clone()
}

/// Writes `audio` (mono float) as 16-bit PCM to `path`, atomically.
fn write_cached(path: &Path, audio: &Audio, description: &str, key: &str) -> Result<()> {
    let samples: Vec<i16> = audio
        .samples
        .iter()
        .map(|&s| (f64::from(s) * 32768.0).round().clamp(-32768.0, 32767.0) as i16)
        .collect();
    let spec = WavSpec {
        sample_rate: audio.sample_rate,
        channels: 1,
        format: SampleFormat::Pcm16,
    };
    let meta = EpisodeMeta {
        id: key.to_string(),
        tags: vec![
            (
                TagKey::Comment,
                format!("synthesised speech: {description}"),
            ),
            (TagKey::Software, meta::software()),
        ],
    };
    let timeline = Timeline {
        sample_rate: audio.sample_rate,
        total_frames: audio.frames(),
        chapters: Vec::new(),
    };
    write_wav_file(path, spec, &meta, &timeline, &samples)
}

/// A scratch folder for one synthesis inside the cache folder, removed when dropped.
struct WorkDir {
    path: PathBuf,
}

impl WorkDir {
    fn create(cache_dir: &Path, key: &str) -> Result<WorkDir> {
        static COUNTER: AtomicUsize = AtomicUsize::new(0);
        let name = format!(
            "{key}.{}-{}{TEMP_SUFFIX}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed)
        );
        let path = std::path::absolute(cache_dir.join(name))
            .map_err(|e| Error::io(cache_dir, "find the speech cache folder", &e))?;
        fs::create_dir_all(&path)
            .map_err(|e| Error::io(&path, "create the speech cache folder", &e))?;
        Ok(WorkDir { path })
    }
}

impl Drop for WorkDir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.path);
    }
}

/// One paragraph's engine run, and the errors that name it.
struct Call<'a> {
    request: &'a SpeechRequest<'a>,
    voice: &'a str,
    paragraph: usize,
    of: usize,
}

impl Call<'_> {
    fn place(&self) -> String {
        if self.of == 1 {
            "speech synthesis".into()
        } else {
            format!(
                "speech synthesis, paragraph {} of {}",
                self.paragraph, self.of
            )
        }
    }

    /// Runs the engine on `paragraph` in `work` and returns its trimmed mono audio.
    fn run(&self, paragraph: &str, work: &Path) -> Result<Audio> {
        let config = self.request.config;
        let text_file = work.join(format!("paragraph-{}.txt", self.paragraph));
        let out = work.join(format!("paragraph-{}.wav", self.paragraph));
        let invocation = self.invocation(paragraph, &text_file, &out);
        let content = match config.engine {
            Engine::EspeakNg => text::espeak_ssml(paragraph, config.sentence_pause),
            Engine::Command => format!("{paragraph}\n"),
        };
        fs::write(&text_file, content)
            .map_err(|e| Error::io(&text_file, "write the text for the speech engine", &e))?;

        let shown = invocation.display();
        let program = invocation.program.as_str();
        let ran =
            engine::run(&invocation, Duration::from_secs_f64(config.timeout)).map_err(|e| {
                let e = not_started(config, program, &e);
                self.error(&e.message, &shown, "", e.fix.as_deref().unwrap_or_default())
            })?;
        let rerun = "run the command above by hand to see what the engine needs, then fix \
                     [speech] in narrate.toml";
        match ran.outcome {
            Outcome::Exited(status) if status.success() => {}
            Outcome::Exited(status) => {
                let fix = match config.engine {
                    Engine::EspeakNg => {
                        "check the voice (`espeak-ng --voices` lists them; set \
                                         [speech.voice] in narrate.toml) and the text"
                    }
                    Engine::Command => rerun,
                };
                return Err(self.error(
                    &format!("the speech engine failed ({status})"),
                    &shown,
                    &ran.said,
                    fix,
                ));
            }
            Outcome::TimedOut => {
                return Err(self.error(
                    &format!(
                        "the speech engine did not finish within {} s and was stopped",
                        config.timeout
                    ),
                    &shown,
                    &ran.said,
                    "check that the engine does not wait for input (with `stdin = false` \
                     it gets none), or raise `timeout` in [speech] for a slow engine",
                ));
            }
            Outcome::Lost(e) => {
                return Err(self.error(
                    &format!("lost track of the speech engine: {e}"),
                    &shown,
                    &ran.said,
                    "run the command again",
                ));
            }
        }

        let written = fs::metadata(&out).map(|m| m.len()).unwrap_or(0);
        if written == 0 {
            return Err(self.error(
                "the speech engine finished but wrote no audio",
                &shown,
                &ran.said,
                &format!("the engine must write a WAV file to the path given as {{out}}; {rerun}"),
            ));
        }
        let audio = decode_file(&out).map_err(|e| {
            self.error(
                &format!(
                    "the speech engine wrote something that is not audio: {}",
                    e.message
                ),
                &shown,
                &ran.said,
                "make the engine write WAV (or FLAC, MP3, Ogg) to {out}; check its \
                 output-format options",
            )
        })?;
        let rate = audio.sample_rate;
        let mut audio = convert(audio, rate, 1)
            .map_err(|e| e.or_file(self.request.script).or_place(self.place()))?;
        let threshold = 10f64.powf(EDGE_THRESHOLD_DB / 20.0) as f32;
        let Some((first, last)) = loud_span(&audio, threshold) else {
            return Err(self.error(
                &format!(
                    "the speech engine wrote only silence (nothing above {EDGE_THRESHOLD_DB} dBFS)"
                ),
                &shown,
                &ran.said,
                "check the voice and the engine's settings; run the command by hand and \
                 listen to its output",
            ));
        };
        audio.samples.truncate(last as usize + 1);
        audio.samples.drain(..first as usize);
        Ok(audio)
    }

    fn invocation(&self, paragraph: &str, text_file: &Path, out: &Path) -> Invocation {
        let config = self.request.config;
        let text_file = text_file.to_string_lossy();
        let out = out.to_string_lossy();
        let rate = config.rate.to_string();
        match config.engine {
            Engine::EspeakNg => Invocation {
                program: ESPEAK.into(),
                args: [
                    "-v", self.voice, "-s", &rate, "-m", "-b", "1", "-w", &out, "-f", &text_file,
                ]
                .map(String::from)
                .to_vec(),
                input: None,
            },
            Engine::Command => {
                let values = [
                    ("{text_file}", text_file.as_ref()),
                    ("{out}", out.as_ref()),
                    ("{voice}", self.voice),
                    ("{lang}", self.request.language),
                    ("{rate}", rate.as_str()),
                ];
                let mut filled = config.command.iter().map(|a| config::fill(a, &values));
                Invocation {
                    program: filled.next().unwrap_or_default(),
                    args: filled.collect(),
                    input: config.stdin.then(|| format!("{paragraph}\n").into_bytes()),
                }
            }
        }
    }

    /// An engine error: what happened, the command, what the engine said, the fix.
    fn error(&self, what: &str, command: &str, said: &str, fix: &str) -> Error {
        let mut message = format!("{what}\n  command: {command}");
        if !said.is_empty() {
            message.push_str("\n  engine said: ");
            message.push_str(&said.lines().collect::<Vec<_>>().join("\n    "));
        }
        Error::in_file(self.request.script, message)
            .at(self.place())
            .with_fix(fix)
    }
}

fn or_nothing(said: &str) -> &str {
    if said.is_empty() {
        "(no message)"
    } else {
        said
    }
}

fn install_fix() -> String {
    "install espeak-ng (Debian/Ubuntu: `sudo apt install espeak-ng`, Fedora: `sudo dnf install \
     espeak-ng`, macOS: `brew install espeak-ng`), or set `engine = \"command\"` and \
     `command = [...]` in [speech] of narrate.toml to use another engine, or add a recording"
        .into()
}

/// The error for an engine that could not be started.
fn not_started(config: &SpeechConfig, program: &str, err: &std::io::Error) -> Error {
    let missing = err.kind() == std::io::ErrorKind::NotFound;
    let (message, fix) = match (config.engine, missing) {
        (Engine::EspeakNg, true) => (
            "no speech engine: espeak-ng is not installed (not found on PATH)".to_string(),
            install_fix(),
        ),
        (Engine::Command, true) => (
            format!("the speech engine `{program}` was not found"),
            format!(
                "install `{program}` or put it on PATH, or give its full path as the first \
                 element of `command` in [speech] of narrate.toml"
            ),
        ),
        (_, false) => (
            format!("cannot start the speech engine `{program}`: {err}"),
            format!("check that `{program}` is a program you may run (its permissions)"),
        ),
    };
    Error::new(message).at("[speech]").with_fix(fix)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request<'a>(
        text: &'a str,
        config: &'a SpeechConfig,
        lexicon: &'a Lexicon,
    ) -> SpeechRequest<'a> {
        SpeechRequest {
            text,
            language: "en",
            voice: None,
            config,
            lexicon,
            script: Path::new("scripts/e/01-a.md"),
        }
    }

    #[test]
    fn every_setting_changes_the_key() {
        let base_config = SpeechConfig::default();
        let lexicon = Lexicon::default();
        let base = cache_key(&request("Hello there.", &base_config, &lexicon));
        assert_eq!(base.len(), 64);
        assert_eq!(
            base,
            cache_key(&request("Hello there.", &base_config, &lexicon))
        );

        let changed: Vec<SpeechConfig> = vec![
            SpeechConfig {
                rate: 150,
                ..base_config.clone()
            },
            SpeechConfig {
                sentence_pause: 0.4,
                ..base_config.clone()
            },
            SpeechConfig {
                paragraph_pause: 0.9,
                ..base_config.clone()
            },
            SpeechConfig {
                voice: [("en".to_string(), "en-us".to_string())].into(),
                ..base_config.clone()
            },
            SpeechConfig {
                engine: Engine::Command,
                command: vec!["tts".into(), "{text_file}".into(), "{out}".into()],
                ..base_config.clone()
            },
        ];
        for config in &changed {
            assert_ne!(
                base,
                cache_key(&request("Hello there.", config, &lexicon)),
                "{config:?}"
            );
        }
        // The timeout does not change the audio.
        let slow = SpeechConfig {
            timeout: 5.0,
            ..base_config.clone()
        };
        assert_eq!(base, cache_key(&request("Hello there.", &slow, &lexicon)));

        assert_ne!(
            base,
            cache_key(&request("Hello there!", &base_config, &lexicon))
        );
        let mut french = request("Hello there.", &base_config, &lexicon);
        french.language = "fr";
        assert_ne!(base, cache_key(&french));
        let mut voiced = request("Hello there.", &base_config, &lexicon);
        voiced.voice = Some("en-gb-x-rp");
        assert_ne!(base, cache_key(&voiced));
        // The lexicon matters through the text it changes, and only then.
        let lex = Lexicon::new([("there", "thair")]).unwrap();
        assert_ne!(
            base,
            cache_key(&request("Hello there.", &base_config, &lex))
        );
        let unused = Lexicon::new([("MitraClip", "Mitra Clip")]).unwrap();
        assert_eq!(
            base,
            cache_key(&request("Hello there.", &base_config, &unused))
        );
    }

    #[test]
    fn estimates_speaking_time() {
        assert!((estimate_seconds(140, 140.0) - 60.0).abs() < 1e-9);
        assert!((estimate_seconds(35, 140.0) - 15.0).abs() < 1e-9);
        assert_eq!(estimate_seconds(10, 0.0), 0.0);
    }

    #[test]
    fn recognises_cache_file_names() {
        assert!(is_cache_name(&format!("{}.wav", "ab".repeat(32))));
        assert!(!is_cache_name("notes.wav"));
        assert!(!is_cache_name(&format!("{}.txt", "ab".repeat(32))));
    }

    #[test]
    fn missing_espeak_has_an_install_fix() {
        let e = not_started(
            &SpeechConfig::default(),
            ESPEAK,
            &std::io::Error::from(std::io::ErrorKind::NotFound),
        );
        assert!(e.message.contains("espeak-ng is not installed"), "{e}");
        let fix = e.fix.unwrap();
        assert!(fix.contains("apt install espeak-ng") && fix.contains("engine = \"command\""));
    }
}
