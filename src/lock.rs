//! `narrate.lock`: which recording was accepted for each section, and from which text.
//!
//! For every accepted take the lock keeps the SHA-256 of the section's narration text and
//! of the audio file. When the text changes after acceptance the recording is *stale*;
//! when the audio file changes, a *new take* waits to be accepted. Users commit the lock
//! with the project, so it is plain TOML, sorted by episode and section, and written the
//! same way every time.
//!
//! The text hash is taken over the words only (see [`text_hash`]): re-wrapping lines,
//! indentation, CRLF line ends or a trailing newline never make a recording stale; any
//! change to a word or a punctuation mark does.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use sha2::{Digest, Sha256};

use crate::error::{Error, Result};
use crate::report::{relative, sha256_file};

/// The lock's file name, at the project root.
pub const LOCK_FILE: &str = "narrate.lock";
/// The format version this code reads and writes.
pub const LOCK_VERSION: u32 = 1;

/// The accepted recordings of a project.
#[derive(Debug, Clone, PartialEq)]
pub struct Lock {
    root: PathBuf,
    entries: BTreeMap<(String, String), LockEntry>,
}

/// One accepted recording.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LockEntry {
    /// Episode id.
    pub episode: String,
    /// Section file stem, e.g. `04-risks`.
    pub section: String,
    /// The recording, relative to the project, with `/` separators.
    pub clip: String,
    /// SHA-256 of the narration text, as [`text_hash`] computes it.
    pub text_sha256: String,
    /// SHA-256 of the audio file's bytes.
    pub audio_sha256: String,
}

/// Where a section's recording stands against the lock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecordingState {
    /// The accepted take, made from the current text.
    Accepted,
    /// Something changed since acceptance: the text (the recording is out of date), the
    /// audio file (a new take not accepted yet), or both.
    Stale {
        text_changed: bool,
        audio_changed: bool,
    },
    /// No take of this section was ever accepted.
    Unlocked,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LockFile {
    version: u32,
    #[serde(default)]
    recording: Vec<LockEntry>,
}

/// SHA-256 (lowercase hex) of narration text, over its words joined by single spaces.
pub fn text_hash(text: &str) -> String {
    let mut hasher = Sha256::new();
    for (i, word) in text.split_whitespace().enumerate() {
        if i > 0 {
            hasher.update(b" ");
        }
        hasher.update(word.as_bytes());
    }
    hex(&hasher.finalize())
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().fold(String::with_capacity(64), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

/// The command that accepts one section's take, for messages.
pub fn accept_command(episode: &str, section: &str) -> String {
    format!("narrate accept {episode} {section}")
}

impl Lock {
    /// An empty lock for the project at `root`.
    pub fn empty(root: &Path) -> Lock {
        Lock {
            root: root.to_path_buf(),
            entries: BTreeMap::new(),
        }
    }

    /// Reads `<root>/narrate.lock`; a missing file is an empty lock.
    pub fn load(root: &Path) -> Result<Lock> {
        let path = root.join(LOCK_FILE);
        let source = match fs::read_to_string(&path) {
            Ok(source) => source,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Lock::empty(root)),
            Err(e) => return Err(Error::io(&path, "read", &e)),
        };
        Lock::parse(root, &source)
    }

    /// Parses lock-file text for the project at `root`.
    pub fn parse(root: &Path, source: &str) -> Result<Lock> {
        let path = root.join(LOCK_FILE);
        if let Some(line) = source.lines().position(|l| {
            ["<<<<<<<", "=======", ">>>>>>>"]
                .iter()
                .any(|marker| l.starts_with(marker))
        }) {
            return Err(Error::in_file(&path, "the lock has unresolved merge-conflict markers")
                .at(format!("line {}", line + 1))
                .with_fix("keep one [[recording]] entry per section and delete the marker lines, or delete the conflicting entries and accept those sections again"));
        }
        let file: LockFile = toml::from_str(source).map_err(|e| {
            let err = Error::in_file(&path, e.message().trim().to_string()).with_fix(
                "correct the entry, or delete it and accept that section's recording again",
            );
            match e.span() {
                Some(span) => err.at(format!(
                    "line {}",
                    source[..span.start].matches('\n').count() + 1
                )),
                None => err,
            }
        })?;
        if file.version != LOCK_VERSION {
            return Err(Error::in_file(
                &path,
                format!("the lock is format version {}, this narrate reads version {LOCK_VERSION}", file.version),
            )
            .with_fix("use the narrate version that wrote it, or delete the lock and accept the recordings again"));
        }
        let mut entries = BTreeMap::new();
        for entry in file.recording {
            let place = format!("recording {}/{}", entry.episode, entry.section);
            for (key, value) in [
                ("text_sha256", &entry.text_sha256),
                ("audio_sha256", &entry.audio_sha256),
            ] {
                if value.len() != 64 || !value.bytes().all(|b| b.is_ascii_hexdigit()) {
                    return Err(
                        Error::in_file(&path, format!("`{key}` is not a SHA-256 hash"))
                            .at(place)
                            .with_fix(format!(
                                "delete the entry and run `{}` again",
                                accept_command(&entry.episode, &entry.section)
                            )),
                    );
                }
            }
            let key = (entry.episode.clone(), entry.section.clone());
            if entries.insert(key, entry).is_some() {
                return Err(
                    Error::in_file(&path, "the section has two entries in the lock")
                        .at(place)
                        .with_fix("delete one of them (keep the take you accepted last)"),
                );
            }
        }
        Ok(Lock {
            root: root.to_path_buf(),
            entries,
        })
    }

    /// The lock file's path.
    pub fn path(&self) -> PathBuf {
        self.root.join(LOCK_FILE)
    }

    /// Accepts `clip` as the recording of `episode`/`section`, made from `text`.
    pub fn accept(&mut self, episode: &str, section: &str, text: &str, clip: &Path) -> Result<()> {
        let (_, audio_sha256) = sha256_file(clip)?;
        let entry = LockEntry {
            episode: episode.to_string(),
            section: section.to_string(),
            clip: relative(&self.root, clip),
            text_sha256: text_hash(text),
            audio_sha256,
        };
        self.entries
            .insert((episode.to_string(), section.to_string()), entry);
        Ok(())
    }

    /// The state of `clip` as the recording of `episode`/`section` with the current `text`.
    pub fn state(
        &self,
        episode: &str,
        section: &str,
        text: &str,
        clip: &Path,
    ) -> Result<RecordingState> {
        if !self
            .entries
            .contains_key(&(episode.to_string(), section.to_string()))
        {
            return Ok(RecordingState::Unlocked);
        }
        let (_, audio_sha256) = sha256_file(clip)?;
        Ok(self.state_with_hash(episode, section, text, &audio_sha256))
    }

    /// Like [`Lock::state`], given the audio file's SHA-256 instead of the file.
    ///
    /// Only the hashes count: the same bytes under another name are still the accepted take.
    pub fn state_with_hash(
        &self,
        episode: &str,
        section: &str,
        text: &str,
        audio_sha256: &str,
    ) -> RecordingState {
        let Some(entry) = self.entry(episode, section) else {
            return RecordingState::Unlocked;
        };
        let text_changed = entry.text_sha256 != text_hash(text);
        let audio_changed = !entry.audio_sha256.eq_ignore_ascii_case(audio_sha256);
        if text_changed || audio_changed {
            RecordingState::Stale {
                text_changed,
                audio_changed,
            }
        } else {
            RecordingState::Accepted
        }
    }

    /// The accepted recording of `episode`/`section`, if any.
    pub fn entry(&self, episode: &str, section: &str) -> Option<&LockEntry> {
        self.entries
            .get(&(episode.to_string(), section.to_string()))
    }

    /// Every entry, sorted by episode and section.
    pub fn entries(&self) -> impl Iterator<Item = &LockEntry> {
        self.entries.values()
    }

    /// Keeps only the entries for which `keep(episode, section)` holds, e.g. to drop
    /// sections that no longer exist. Returns the entries removed.
    pub fn retain(&mut self, mut keep: impl FnMut(&str, &str) -> bool) -> Vec<LockEntry> {
        type Entries = BTreeMap<(String, String), LockEntry>;
        let (kept, removed): (Entries, Entries) = std::mem::take(&mut self.entries)
            .into_iter()
            .partition(|((episode, section), _)| keep(episode, section));
        self.entries = kept;
        removed.into_values().collect()
    }

    /// The lock as TOML, deterministic: a header, then one `[[recording]]` per entry.
    pub fn to_toml(&self) -> String {
        let mut out = String::from(
            "# narrate.lock: the accepted recording of each section, with the SHA-256 of the\n\
             # narration text it was made from and of the audio file. Written by `narrate accept`;\n\
             # commit it with the project.\n",
        );
        let _ = writeln!(out, "version = {LOCK_VERSION}");
        for e in self.entries.values() {
            out.push_str("\n[[recording]]\n");
            for (key, value) in [
                ("episode", &e.episode),
                ("section", &e.section),
                ("clip", &e.clip),
                ("text_sha256", &e.text_sha256),
                ("audio_sha256", &e.audio_sha256),
            ] {
                let _ = writeln!(out, "{key} = {}", toml_string(value));
            }
        }
        out
    }

    /// Writes the lock atomically.
    pub fn save(&self) -> Result<()> {
        crate::atomic::write_bytes(&self.path(), self.to_toml().as_bytes())
    }
}

/// `s` as a TOML basic string, quotes included.
pub(crate) fn toml_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if c.is_control() => {
                let _ = write!(out, "\\u{:04X}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

impl RecordingState {
    /// A short label for status tables: `accepted`, `stale`, `new take`, `not accepted`.
    pub fn label(&self) -> &'static str {
        match self {
            RecordingState::Accepted => "accepted",
            RecordingState::Stale {
                text_changed: true, ..
            } => "stale",
            RecordingState::Stale { .. } => "new take",
            RecordingState::Unlocked => "not accepted",
        }
    }

    /// Whether the recording no longer matches its text: a warning in `build` and
    /// `status`, an error with `--release`.
    pub fn is_stale(&self) -> bool {
        matches!(
            self,
            RecordingState::Stale {
                text_changed: true,
                ..
            }
        )
    }

    /// What the state means, in plain words, and what to do; `None` when accepted.
    pub fn problem(&self, episode: &str, section: &str) -> Option<(String, String)> {
        let accept = accept_command(episode, section);
        let (message, fix) = match self {
            RecordingState::Accepted => return None,
            RecordingState::Stale {
                text_changed: true,
                audio_changed: false,
            } => (
                "the recording is stale: the text changed after it was accepted".to_string(),
                format!("record the new text and run `{accept}`; if what is said did not change, just run `{accept}`"),
            ),
            RecordingState::Stale {
                text_changed: true,
                audio_changed: true,
            } => (
                "the text changed since the last accepted take, and the new take is not accepted yet".to_string(),
                format!("check that the new take reads the current text, then run `{accept}`"),
            ),
            RecordingState::Stale { .. } => (
                "new take not accepted: the recording changed since it was accepted".to_string(),
                format!("listen to the new take, then run `{accept}`"),
            ),
            RecordingState::Unlocked => (
                "the recording has never been accepted".to_string(),
                format!("listen to it, then run `{accept}`"),
            ),
        };
        Some((format!("{episode}/{section}: {message}"), fix))
    }

    /// The state as an [`Error`] in `script`, for `--release` refusals.
    pub fn to_error(&self, script: &Path, episode: &str, section: &str) -> Option<Error> {
        self.problem(episode, section)
            .map(|(message, fix)| Error::in_file(script, message).with_fix(fix))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_hash_ignores_layout_but_not_words() {
        let base = text_hash("Like any procedure, there is a risk of bleeding.");
        assert_eq!(
            base,
            text_hash("  Like any procedure,\r\nthere is a risk\n\tof bleeding.\n\n")
        );
        assert_ne!(
            base,
            text_hash("Like any procedure, there is a risk of bleeding!")
        );
        assert_ne!(
            base,
            text_hash("Like any procedure there is a risk of bleeding.")
        );
        // The hash of the words joined by single spaces.
        assert_eq!(
            text_hash(" abc "),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn toml_strings_escape_quotes_and_controls() {
        assert_eq!(toml_string(r#"a"b\c"#), r#""a\"b\\c""#);
        assert_eq!(toml_string("x\u{1}y"), "\"x\\u0001y\"");
        let parsed: toml::Table =
            toml::from_str(&format!("k = {}", toml_string("é\"\\\n\u{7f}"))).unwrap();
        assert_eq!(parsed["k"].as_str(), Some("é\"\\\n\u{7f}"));
    }
}
