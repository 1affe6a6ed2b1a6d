//! The `[speech]` table of `narrate.toml`: which engine, how fast, which pauses.

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::error::{Error, Result};

/// Placeholders a `command` template may use.
pub const PLACEHOLDERS: [&str; 5] = ["{text_file}", "{out}", "{voice}", "{lang}", "{rate}"];

/// Slowest and fastest speaking rate accepted, in words per minute (espeak-ng's own range).
pub const RATE_RANGE: std::ops::RangeInclusive<u32> = 80..=450;

/// Longest sentence or paragraph pause accepted, in seconds.
pub const MAX_PAUSE: f64 = 10.0;

/// Longest engine timeout accepted, in seconds.
pub const MAX_TIMEOUT: f64 = 3600.0;

/// Which synthesiser runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Deserialize)]
pub enum Engine {
    /// `espeak-ng`, found on `PATH`.
    #[default]
    #[serde(rename = "espeak-ng")]
    EspeakNg,
    /// Any program, run through the `command` template.
    #[serde(rename = "command")]
    Command,
}

impl Engine {
    /// The name used in `narrate.toml`.
    pub fn name(self) -> &'static str {
        match self {
            Engine::EspeakNg => "espeak-ng",
            Engine::Command => "command",
        }
    }
}

/// Speech synthesis settings: the `[speech]` table.
///
/// ```toml
/// [speech]
/// engine = "command"                      # default "espeak-ng"
/// command = ["piper", "--model", "{voice}", "--output_file", "{out}"]
/// stdin = true                            # text on standard input, not {text_file}
/// rate = 140                              # words per minute
/// sentence_pause = 0.5                    # seconds (espeak-ng only)
/// paragraph_pause = 1.0                   # seconds of digital silence
/// timeout = 120                           # seconds per engine run
///
/// [speech.voice]                          # voice per episode language
/// en = "en-us"
/// fr = "fr-fr"
/// ```
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SpeechConfig {
    pub engine: Engine,
    /// Program and arguments for `engine = "command"`, with [`PLACEHOLDERS`].
    pub command: Vec<String>,
    /// Pipe each paragraph's text to the command's standard input.
    pub stdin: bool,
    /// Speaking rate in words per minute.
    pub rate: u32,
    /// Pause at the end of a sentence inside a paragraph, in seconds. espeak-ng receives
    /// it as an SSML `<break>`; a `command` engine gets `{rate}` only and makes its own.
    pub sentence_pause: f64,
    /// Digital silence between paragraphs (blank-line separated), in seconds.
    pub paragraph_pause: f64,
    /// Voice per language (`en = "en-us"`). A language with no entry uses its own code
    /// as the voice name, which espeak-ng accepts (`en`, `fr`, `de`, …).
    pub voice: BTreeMap<String, String>,
    /// Seconds one engine run may take before it is stopped.
    pub timeout: f64,
}

impl Default for SpeechConfig {
    fn default() -> Self {
        SpeechConfig {
            engine: Engine::EspeakNg,
            command: Vec::new(),
            stdin: false,
            rate: 140,
            sentence_pause: 0.5,
            paragraph_pause: 1.0,
            voice: BTreeMap::new(),
            timeout: 120.0,
        }
    }
}

impl SpeechConfig {
    /// The voice for `language`: `explicit` when given, else the `[speech.voice]` entry for
    /// the language (exact, then case-insensitive, then its primary subtag: `en-GB` → `en`),
    /// else the language code itself, lower-cased.
    pub fn voice_for(&self, language: &str, explicit: Option<&str>) -> String {
        if let Some(voice) = explicit.filter(|v| !v.trim().is_empty()) {
            return voice.trim().to_string();
        }
        let primary = language.split(['-', '_']).next().unwrap_or(language);
        [language, primary]
            .iter()
            .find_map(|lang| {
                self.voice.get(*lang).or_else(|| {
                    self.voice
                        .iter()
                        .find(|(k, _)| k.eq_ignore_ascii_case(lang))
                        .map(|(_, v)| v)
                })
            })
            .cloned()
            .unwrap_or_else(|| language.trim().to_lowercase())
    }

    /// A short description for reports and tags, e.g. `espeak-ng voice en-us, 140 wpm`.
    pub fn describe(&self, voice: &str) -> String {
        let engine = match self.engine {
            Engine::EspeakNg => "espeak-ng",
            Engine::Command => self.command.first().map_or("command", String::as_str),
        };
        format!("{engine} voice {voice}, {} wpm", self.rate)
    }

    /// Checks the settings; errors name the `[speech]` key and how to fix it. The caller
    /// adds the manifest's path with [`Error::or_file`].
    pub fn validate(&self) -> Result<()> {
        let bad = |key: &str, message: String, fix: &str| {
            Err(Error::new(message)
                .at(format!("[speech] {key}"))
                .with_fix(fix.to_string()))
        };
        if !RATE_RANGE.contains(&self.rate) {
            return bad(
                "rate",
                format!(
                    "speaking rate {} words per minute is out of range",
                    self.rate
                ),
                &format!(
                    "give a rate from {} to {} words per minute (140 suits older listeners)",
                    RATE_RANGE.start(),
                    RATE_RANGE.end()
                ),
            );
        }
        for (key, value) in [
            ("sentence_pause", self.sentence_pause),
            ("paragraph_pause", self.paragraph_pause),
        ] {
            if !(value.is_finite() && (0.0..=MAX_PAUSE).contains(&value)) {
                return bad(
                    key,
                    format!("`{key}` is {value} seconds"),
                    &format!("give a number of seconds from 0 to {MAX_PAUSE}"),
                );
            }
        }
        if !(self.timeout.is_finite() && self.timeout > 0.0 && self.timeout <= MAX_TIMEOUT) {
            return bad(
                "timeout",
                format!("`timeout` is {} seconds", self.timeout),
                &format!("give a number of seconds above 0 and up to {MAX_TIMEOUT}"),
            );
        }
        if let Some((lang, _)) = self.voice.iter().find(|(_, v)| v.trim().is_empty()) {
            return bad(
                "voice",
                format!("the voice for `{lang}` is empty"),
                "name a voice, e.g. `en = \"en-us\"`, or remove the entry",
            );
        }
        match self.engine {
            Engine::EspeakNg if !self.command.is_empty() || self.stdin => bad(
                "command",
                "`command` and `stdin` are used only with engine = \"command\"".into(),
                "add `engine = \"command\"` to [speech] to run your command, or remove \
                 `command` and `stdin` to use espeak-ng",
            ),
            Engine::EspeakNg => Ok(()),
            Engine::Command => self.validate_command(),
        }
    }

    fn validate_command(&self) -> Result<()> {
        let example = "e.g. command = [\"piper\", \"--model\", \"{voice}\", \"--output_file\", \
                       \"{out}\"] with stdin = true";
        let bad = |message: String| {
            Err(Error::new(message)
                .at("[speech] command")
                .with_fix(format!("list the program and its arguments, {example}")))
        };
        let Some(program) = self.command.first() else {
            return bad("engine = \"command\" needs a `command`".into());
        };
        if program.trim().is_empty() {
            return bad("the command's program (its first element) is empty".into());
        }
        for arg in &self.command {
            if let Some(unknown) = unknown_placeholder(arg) {
                return bad(format!(
                    "`{unknown}` in `{arg}` is not a placeholder; known ones are {}",
                    PLACEHOLDERS.join(", ")
                ));
            }
        }
        let uses = |p: &str| self.command.iter().any(|a| a.contains(p));
        if !uses("{out}") {
            return bad("the command never names `{out}`, the WAV file it must write".into());
        }
        if !self.stdin && !uses("{text_file}") {
            return bad(
                "the command gets no text: it names no `{text_file}` and `stdin` is false".into(),
            );
        }
        Ok(())
    }
}

/// The first `{name}` in `arg` (lower-case letters and `_`) that is not a placeholder.
fn unknown_placeholder(arg: &str) -> Option<&str> {
    let mut rest = arg;
    while let Some(open) = rest.find('{') {
        let after = &rest[open + 1..];
        let Some(close) = after.find('}') else {
            break;
        };
        let name = &after[..close];
        let candidate = &rest[open..open + close + 2];
        let looks_like_one =
            !name.is_empty() && name.chars().all(|c| c.is_ascii_lowercase() || c == '_');
        if looks_like_one && !PLACEHOLDERS.contains(&candidate) {
            return Some(candidate);
        }
        rest = &after[close + 1..];
    }
    None
}

/// `template` with every placeholder replaced.
pub(crate) fn fill(template: &str, values: &[(&str, &str); 5]) -> String {
    values
        .iter()
        .fold(template.to_string(), |s, (p, v)| s.replace(p, v))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn voice_lookup_falls_back_to_primary_subtag_then_language() {
        let mut c = SpeechConfig::default();
        c.voice.insert("en".into(), "en-us".into());
        c.voice.insert("FR-be".into(), "fr-be".into());
        assert_eq!(c.voice_for("en", None), "en-us");
        assert_eq!(c.voice_for("en-GB", None), "en-us");
        assert_eq!(c.voice_for("fr-BE", None), "fr-be");
        assert_eq!(c.voice_for("de", None), "de");
        assert_eq!(c.voice_for("en", Some("en-gb-x-rp")), "en-gb-x-rp");
    }

    #[test]
    fn finds_unknown_placeholders_only() {
        assert_eq!(unknown_placeholder("--out={out}"), None);
        assert_eq!(unknown_placeholder("{text_file}{lang}"), None);
        assert_eq!(unknown_placeholder("{json: 1}"), None);
        assert_eq!(unknown_placeholder("{outfile}"), Some("{outfile}"));
        assert_eq!(unknown_placeholder("a{voice}b{speed}"), Some("{speed}"));
    }

    #[test]
    fn fills_every_placeholder() {
        let values = [
            ("{text_file}", "t.txt"),
            ("{out}", "o.wav"),
            ("{voice}", "v"),
            ("{lang}", "en"),
            ("{rate}", "140"),
        ];
        assert_eq!(fill("--out={out},{rate}", &values), "--out=o.wav,140");
        assert_eq!(fill("{text_file}", &values), "t.txt");
    }

    #[test]
    fn validation_catches_unusable_commands() {
        let command = |args: &[&str], stdin: bool| SpeechConfig {
            engine: Engine::Command,
            command: args.iter().map(|s| s.to_string()).collect(),
            stdin,
            ..SpeechConfig::default()
        };
        assert!(command(&["tts", "{text_file}", "{out}"], false)
            .validate()
            .is_ok());
        assert!(command(&["tts", "{out}"], true).validate().is_ok());
        for (c, needle) in [
            (command(&[], false), "needs a `command`"),
            (command(&["tts", "{text_file}"], false), "{out}"),
            (command(&["tts", "{out}"], false), "no `{text_file}`"),
            (command(&["tts", "{out}", "{txt}"], true), "{txt}"),
        ] {
            let e = c.validate().unwrap_err();
            assert!(e.message.contains(needle), "{e}");
            assert!(e.fix.is_some());
        }
        let espeak_with_command = SpeechConfig {
            command: vec!["x".into()],
            ..SpeechConfig::default()
        };
        assert!(espeak_with_command.validate().is_err());
        let slow = SpeechConfig {
            rate: 20,
            ..SpeechConfig::default()
        };
        assert_eq!(
            slow.validate().unwrap_err().place.as_deref(),
            Some("[speech] rate")
        );
    }
}
