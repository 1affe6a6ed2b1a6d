//! Output profiles: where the audio goes decides its format, level and rules.
//!
//! A profile is data. The built-ins below can be overridden, and new profiles defined,
//! in `narrate.toml` under `[profiles.<name>]`.

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::timeline::Timeline;

/// How samples are stored in the output WAV.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SampleFormat {
    /// 16-bit signed PCM, TPDF-dithered from float.
    Pcm16,
    /// 8-bit G.711 µ-law (telephony), companded from dithered 16-bit PCM.
    #[serde(alias = "ulaw")]
    MuLaw,
    /// 8-bit G.711 A-law (telephony), companded from dithered 16-bit PCM.
    ALaw,
}

impl SampleFormat {
    pub fn bits_per_sample(self) -> u16 {
        match self {
            SampleFormat::Pcm16 => 16,
            SampleFormat::MuLaw | SampleFormat::ALaw => 8,
        }
    }

    pub fn bytes_per_sample(self) -> u16 {
        self.bits_per_sample() / 8
    }
}

/// How a profile turns episodes into files.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Layout {
    /// One file per episode.
    Episodes,
    /// All chosen episodes in one file, `loop.wav`, that repeats seamlessly: the pause
    /// between sections also closes the file, and one gain levels everything.
    Loop,
    /// One file per episode laid out for an audio CD: chapter starts on 588-sample CD
    /// frame boundaries, every track at least 4 s, at most 99 tracks and 79:48.
    Cd,
}

/// Frames per CD frame (sector) at 44.1 kHz: CD track starts fall on multiples of it.
pub const CD_FRAME: u64 = 588;
/// Shortest CD track, seconds (Red Book).
pub const CD_MIN_TRACK_SECONDS: f64 = 4.0;
/// Most tracks on a CD.
pub const CD_MAX_TRACKS: usize = 99;
/// Longest programme that fits a 80-minute CD-R with its lead-out, seconds (79:48).
pub const CD_MAX_SECONDS: f64 = 79.0 * 60.0 + 48.0;

/// A target for rendered episodes.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Profile {
    pub name: String,
    pub sample_rate: u32,
    pub channels: u16,
    pub format: SampleFormat,
    /// Integrated loudness (ITU-R BS.1770-4, gated) the programme is brought to, LUFS.
    pub target_lufs: f64,
    /// The highest true peak (4× oversampled) allowed, dBTP.
    pub true_peak_dbtp: f64,
    /// Bring every narration take to the same loudness before mastering, so quiet and hot
    /// takes end up alike.
    pub level_clips: bool,
    /// Band-limit every clip to 300–3400 Hz before resampling (telephony).
    pub telephone_band: bool,
    pub layout: Layout,
    /// Longest output allowed, seconds.
    pub max_seconds: Option<f64>,
    /// Largest output file allowed, bytes.
    pub max_bytes: Option<u64>,
}

impl Profile {
    /// The built-in profiles.
    pub fn builtin() -> Vec<Profile> {
        let guide = Profile {
            name: "guide".into(),
            sample_rate: 44_100,
            channels: 1,
            format: SampleFormat::Pcm16,
            target_lufs: -16.0,
            true_peak_dbtp: -1.0,
            level_clips: true,
            telephone_band: false,
            layout: Layout::Episodes,
            max_seconds: None,
            max_bytes: None,
        };
        // G.711 puts 0 dBm0 at a sine 3.17 dB below full scale; speech at −19 dBm0 is
        // about −25 LUFS (gated, mono, telephone band). Peaks stay under −3 dBFS.
        let hold_line = Profile {
            name: "hold-line".into(),
            sample_rate: 8_000,
            format: SampleFormat::MuLaw,
            target_lufs: -25.0,
            true_peak_dbtp: -3.0,
            telephone_band: true,
            ..guide.clone()
        };
        vec![
            guide.clone(),
            Profile {
                name: "waiting-room".into(),
                sample_rate: 48_000,
                channels: 2,
                target_lufs: -18.0,
                layout: Layout::Loop,
                ..guide.clone()
            },
            hold_line.clone(),
            Profile {
                name: "hold-line-alaw".into(),
                format: SampleFormat::ALaw,
                ..hold_line.clone()
            },
            Profile {
                name: "hold-line-pcm".into(),
                format: SampleFormat::Pcm16,
                ..hold_line
            },
            Profile {
                name: "cd".into(),
                channels: 2,
                layout: Layout::Cd,
                ..guide
            },
        ]
    }

    /// A built-in profile by name.
    pub fn named(name: &str) -> Option<Profile> {
        Profile::builtin().into_iter().find(|p| p.name == name)
    }

    /// Frames that chapter starts are aligned to (1: no alignment).
    pub fn chapter_alignment(&self) -> u64 {
        match self.layout {
            Layout::Cd => CD_FRAME,
            Layout::Episodes | Layout::Loop => 1,
        }
    }

    /// Checks that the values make sense; `place` names where they came from.
    pub fn validate(&self, file: &std::path::Path, place: &str) -> Result<()> {
        let bad = |what: String, fix: &str| Err(Error::in_file(file, what).at(place).with_fix(fix));
        if !(8_000..=384_000).contains(&self.sample_rate) {
            return bad(
                format!("sample_rate {} Hz is not supported", self.sample_rate),
                "use a rate from 8000 to 384000 Hz, such as 44100 or 48000",
            );
        }
        if !(1..=8).contains(&self.channels) {
            return bad(
                format!("{} channels is not supported", self.channels),
                "use 1 (mono) or 2 (stereo) channels",
            );
        }
        if !(self.target_lufs.is_finite() && (-70.0..=0.0).contains(&self.target_lufs)) {
            return bad(
                format!("target_lufs {} is out of range", self.target_lufs),
                "use a loudness between -70 and 0 LUFS, such as -16",
            );
        }
        if !(self.true_peak_dbtp.is_finite() && (-40.0..=0.0).contains(&self.true_peak_dbtp)) {
            return bad(
                format!("true_peak_dbtp {} is out of range", self.true_peak_dbtp),
                "use a ceiling between -40 and 0 dBTP, such as -1",
            );
        }
        if self.layout == Layout::Cd
            && (self.sample_rate != 44_100
                || self.channels != 2
                || self.format != SampleFormat::Pcm16)
        {
            return bad(
                "a CD layout needs 44100 Hz, 2 channels and pcm16".into(),
                "set sample_rate = 44100, channels = 2 and format = \"pcm16\", or another layout",
            );
        }
        if self
            .max_seconds
            .is_some_and(|s| !(s.is_finite() && s > 0.0))
        {
            return bad(
                "max_seconds must be a positive number".into(),
                "give the longest allowed duration in seconds, such as 90",
            );
        }
        if self.max_bytes == Some(0) {
            return bad(
                "max_bytes must be positive".into(),
                "give the largest allowed file size in bytes, such as 5000000",
            );
        }
        Ok(())
    }
}

impl Profile {
    /// Checks a rendered output against the profile's rules: CD track limits, length and
    /// size caps. `bytes` is the size the WAV file will have.
    pub fn check_output(&self, timeline: &Timeline, bytes: u64) -> Result<()> {
        let place = format!("profile {}", self.name);
        let refuse =
            |what: String, fix: String| Err(Error::new(what).at(place.clone()).with_fix(fix));
        let seconds = timeline.duration_seconds();
        if self.layout == Layout::Cd {
            let tracks = timeline.chapters.len();
            if tracks > CD_MAX_TRACKS {
                return refuse(
                    format!(
                        "{tracks} chapters are more than the {CD_MAX_TRACKS} tracks a CD can hold"
                    ),
                    "split the episode, or merge sections".into(),
                );
            }
            for (i, chapter) in timeline.chapters.iter().enumerate() {
                let length = timeline.seconds(timeline.chapter_end(i) - chapter.start);
                if length < CD_MIN_TRACK_SECONDS {
                    return refuse(
                        format!(
                            "chapter {} \"{}\" would be a {length:.2} s track; CD tracks must last at least {CD_MIN_TRACK_SECONDS} s",
                            i + 1,
                            chapter.title
                        ),
                        "merge it with a neighbouring section, or lengthen its pause_after".into(),
                    );
                }
            }
            if seconds > CD_MAX_SECONDS {
                return refuse(
                    format!(
                        "the episode lasts {}, longer than the 79:48 a CD holds",
                        minutes(seconds)
                    ),
                    "split the episode into shorter ones".into(),
                );
            }
        }
        if let Some(max) = self.max_seconds.filter(|max| seconds > *max) {
            return refuse(
                format!("the output lasts {seconds:.1} s, over this profile's limit of max_seconds = {max}"),
                "shorten the episode, or raise max_seconds in [profiles] of narrate.toml".into(),
            );
        }
        if let Some(max) = self.max_bytes.filter(|max| bytes > *max) {
            return refuse(
                format!("the output would be {bytes} bytes, over this profile's limit of max_bytes = {max}"),
                "shorten the episode, or raise max_bytes in [profiles] of narrate.toml".into(),
            );
        }
        Ok(())
    }
}

/// `m:ss`.
fn minutes(seconds: f64) -> String {
    let s = seconds.round() as u64;
    format!("{}:{:02}", s / 60, s % 60)
}

/// A `[profiles.<name>]` table: overrides of a built-in profile, or a new profile based on
/// one (`base`, default: the built-in of the same name, else `guide`).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProfileTable {
    pub base: Option<String>,
    pub sample_rate: Option<u32>,
    pub channels: Option<u16>,
    pub format: Option<SampleFormat>,
    pub target_lufs: Option<f64>,
    pub true_peak_dbtp: Option<f64>,
    pub level_clips: Option<bool>,
    pub telephone_band: Option<bool>,
    pub layout: Option<Layout>,
    pub max_seconds: Option<f64>,
    pub max_bytes: Option<u64>,
}

impl ProfileTable {
    /// The profile `name` this table describes.
    pub fn resolve(&self, name: &str, file: &std::path::Path) -> Result<Profile> {
        let place = format!("[profiles.{name}]");
        let base_name = self.base.clone().unwrap_or_else(|| {
            if Profile::named(name).is_some() {
                name.into()
            } else {
                "guide".into()
            }
        });
        let base = Profile::named(&base_name).ok_or_else(|| {
            Error::in_file(
                file,
                format!("`base = \"{base_name}\"` is not a built-in profile"),
            )
            .at(place.clone())
            .with_fix(format!("choose one of: {}", builtin_names().join(", ")))
        })?;
        let profile = Profile {
            name: name.to_string(),
            sample_rate: self.sample_rate.unwrap_or(base.sample_rate),
            channels: self.channels.unwrap_or(base.channels),
            format: self.format.unwrap_or(base.format),
            target_lufs: self.target_lufs.unwrap_or(base.target_lufs),
            true_peak_dbtp: self.true_peak_dbtp.unwrap_or(base.true_peak_dbtp),
            level_clips: self.level_clips.unwrap_or(base.level_clips),
            telephone_band: self.telephone_band.unwrap_or(base.telephone_band),
            layout: self.layout.unwrap_or(base.layout),
            max_seconds: self.max_seconds.or(base.max_seconds),
            max_bytes: self.max_bytes.or(base.max_bytes),
        };
        profile.validate(file, &place)?;
        Ok(profile)
    }
}

/// Names of the built-in profiles.
pub fn builtin_names() -> Vec<String> {
    Profile::builtin().into_iter().map(|p| p.name).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    #[test]
    fn builtins_are_valid() {
        for p in Profile::builtin() {
            p.validate(Path::new("x"), "builtin").unwrap();
        }
    }

    #[test]
    fn cd_programmes_longer_than_79_48_are_refused() {
        let cd = Profile::named("cd").unwrap();
        let chapter = |start: u64| crate::timeline::Chapter {
            title: "t".into(),
            start,
            length: 44_100 * 60,
        };
        let timeline = |minutes: u64| Timeline {
            sample_rate: 44_100,
            total_frames: 44_100 * 60 * minutes,
            chapters: vec![chapter(0), chapter(44_100 * 60)],
        };
        cd.check_output(&timeline(79), 0).unwrap();
        let err = cd.check_output(&timeline(80), 0).unwrap_err();
        assert!(
            err.message.contains("80:00, longer than the 79:48"),
            "{err}"
        );
    }

    #[test]
    fn tables_override_and_extend() {
        let t: ProfileTable = toml::from_str("target_lufs = -18.0").unwrap();
        let p = t.resolve("guide", Path::new("narrate.toml")).unwrap();
        assert_eq!((p.sample_rate, p.target_lufs), (44_100, -18.0));
        let t: ProfileTable =
            toml::from_str("base = \"hold-line\"\nformat = \"a-law\"\nmax_seconds = 90.0").unwrap();
        let p = t.resolve("ivr", Path::new("narrate.toml")).unwrap();
        assert_eq!(
            (p.name.as_str(), p.sample_rate, p.format, p.max_seconds),
            ("ivr", 8_000, SampleFormat::ALaw, Some(90.0))
        );
        let t: ProfileTable = toml::from_str("layout = \"cd\"").unwrap();
        let err = t.resolve("disc", Path::new("narrate.toml")).unwrap_err();
        assert!(err.message.contains("CD layout"), "{err}");
    }
}
