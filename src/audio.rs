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

/// Cuts interleaved samples, handed over in pieces of any length, into whole frames: a frame
/// split between two pieces is held back until it is complete.
#[derive(Debug, Clone, Default)]
pub struct WholeFrames {
    channels: usize,
    pending: Vec<f32>,
}

impl WholeFrames {
    pub fn new(channels: u16) -> Self {
        let channels = usize::from(channels.max(1));
        WholeFrames {
            channels,
            pending: Vec::with_capacity(channels),
        }
    }

    /// Calls `whole` on the whole frames of `samples` in order (first the held frame, if
    /// `samples` completes it), and holds back a trailing part of a frame.
    pub fn split(&mut self, samples: &[f32], mut whole: impl FnMut(&[f32])) {
        let mut rest = samples;
        if !self.pending.is_empty() {
            let need = (self.channels - self.pending.len()).min(rest.len());
            self.pending.extend_from_slice(&rest[..need]);
            rest = &rest[need..];
            if self.pending.len() < self.channels {
                return;
            }
            whole(&self.pending);
            self.pending.clear();
        }
        let n = rest.len() - rest.len() % self.channels;
        if n > 0 {
            whole(&rest[..n]);
        }
        self.pending.extend_from_slice(&rest[n..]);
    }

    /// Drops a held-back part of a frame.
    pub fn clear(&mut self) {
        self.pending.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whole_frames_however_the_samples_are_cut() {
        let samples: Vec<f32> = (0..30).map(|i| i as f32).collect();
        for piece in 1..=7 {
            let mut frames = WholeFrames::new(3);
            let mut seen = Vec::new();
            for chunk in samples.chunks(piece) {
                frames.split(chunk, |f| {
                    assert_eq!(f.len() % 3, 0);
                    seen.extend_from_slice(f);
                });
            }
            assert_eq!(seen, samples, "pieces of {piece}");
        }
    }
}
