//! Output profiles: where the audio goes decides its format.

use serde::Serialize;

/// How samples are stored in the output WAV.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum SampleFormat {
    /// 16-bit signed PCM, TPDF-dithered from float.
    Pcm16,
}

impl SampleFormat {
    pub fn bits_per_sample(self) -> u16 {
        match self {
            SampleFormat::Pcm16 => 16,
        }
    }

    pub fn bytes_per_sample(self) -> u16 {
        self.bits_per_sample() / 8
    }
}

/// A target format for rendered episodes.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Profile {
    pub name: String,
    pub sample_rate: u32,
    pub channels: u16,
    pub format: SampleFormat,
}

impl Profile {
    /// `guide`: 44.1 kHz, 16-bit, mono, for listening at home on a phone or speaker.
    pub fn guide() -> Self {
        Profile {
            name: "guide".into(),
            sample_rate: 44_100,
            channels: 1,
            format: SampleFormat::Pcm16,
        }
    }

    /// The built-in profiles.
    pub fn builtin() -> Vec<Profile> {
        vec![Profile::guide()]
    }

    /// A built-in profile by name.
    pub fn named(name: &str) -> Option<Profile> {
        Profile::builtin().into_iter().find(|p| p.name == name)
    }
}
