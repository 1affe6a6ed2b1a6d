//! Decoded audio in memory: interleaved 32-bit float frames at a known rate.

/// Interleaved float samples, nominally in −1.0..=1.0.
#[derive(Debug, Clone, PartialEq)]
pub struct Audio {
    pub sample_rate: u32,
    pub channels: u16,
    /// `frames() * channels` samples, channel-interleaved.
    pub samples: Vec<f32>,
}

impl Audio {
    /// `frames` frames of digital silence.
    pub fn silence(sample_rate: u32, channels: u16, frames: u64) -> Self {
        Audio {
            sample_rate,
            channels,
            samples: vec![0.0; frames as usize * usize::from(channels)],
        }
    }

    pub fn frames(&self) -> u64 {
        (self.samples.len() / usize::from(self.channels.max(1))) as u64
    }

    pub fn duration_seconds(&self) -> f64 {
        self.frames() as f64 / f64::from(self.sample_rate)
    }
}
