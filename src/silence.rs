//! Trimming near-silence from the edges of a clip.

use crate::audio::Audio;
use crate::project::TrimSettings;

/// What [`trim_edges`] removed, in frames.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Trimmed {
    pub head: u64,
    pub tail: u64,
}

/// The first and last frame (inclusive) where any channel's magnitude exceeds `threshold`
/// (linear), or `None` when the whole clip is quieter.
pub fn loud_span(audio: &Audio, threshold: f32) -> Option<(u64, u64)> {
    let mut edges = LoudEdges::new(threshold, audio.channels);
    edges.add(&audio.samples);
    edges.span()
}

/// [`loud_span`] of a stream, fed a chunk (of whole frames) at a time.
#[derive(Debug, Clone)]
pub struct LoudEdges {
    threshold: f32,
    channels: usize,
    frames: u64,
    span: Option<(u64, u64)>,
}

impl LoudEdges {
    pub fn new(threshold: f32, channels: u16) -> Self {
        LoudEdges {
            threshold,
            channels: usize::from(channels.max(1)),
            frames: 0,
            span: None,
        }
    }

    pub fn add(&mut self, samples: &[f32]) {
        let loud = |frame: &[f32]| frame.iter().any(|s| s.abs() > self.threshold);
        let frames = samples.chunks_exact(self.channels);
        if let Some(last) = frames.clone().rposition(loud) {
            let last = self.frames + last as u64;
            let first = match self.span {
                Some((first, _)) => first,
                None => self.frames + frames.clone().position(loud).unwrap_or(0) as u64,
            };
            self.span = Some((first, last));
        }
        self.frames += frames.len() as u64;
    }

    /// The first and last loud frame so far.
    pub fn span(&self) -> Option<(u64, u64)> {
        self.span
    }

    /// Frames seen so far.
    pub fn frames(&self) -> u64 {
        self.frames
    }

    /// What trimming with `settings` removes from the stream so far (at `sample_rate`), or
    /// `None` when nothing in it is loud.
    pub fn trimmed(&self, settings: &TrimSettings, sample_rate: u32) -> Option<Trimmed> {
        let (first, last) = self.span?;
        let margin = (settings.margin * f64::from(sample_rate)).round() as u64;
        let keep_from = first.saturating_sub(margin);
        let keep_to = (last + 1 + margin).min(self.frames);
        Some(Trimmed {
            head: keep_from,
            tail: self.frames - keep_to,
        })
    }
}

/// The linear threshold of `settings`.
pub fn threshold(settings: &TrimSettings) -> f32 {
    10f64.powf(settings.threshold_db / 20.0) as f32
}

/// Removes leading and trailing near-silence, keeping `settings.margin` seconds of it on
/// each side. A clip with nothing above the threshold is left alone and `None` returned.
pub fn trim_edges(audio: &mut Audio, settings: &TrimSettings) -> Option<Trimmed> {
    let mut edges = LoudEdges::new(threshold(settings), audio.channels);
    edges.add(&audio.samples);
    let trimmed = edges.trimmed(settings, audio.sample_rate)?;
    let channels = usize::from(audio.channels.max(1));
    let keep_to = (audio.frames() - trimmed.tail) as usize;
    audio.samples.truncate(keep_to * channels);
    audio.samples.drain(..trimmed.head as usize * channels);
    Some(trimmed)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn clip(samples: Vec<f32>) -> Audio {
        Audio {
            sample_rate: 1000,
            channels: 1,
            samples,
        }
    }

    #[test]
    fn keeps_the_margin_around_the_loud_part() {
        let mut samples = vec![0.0; 500];
        samples.extend(vec![0.5; 100]);
        samples.extend(vec![0.001; 400]); // -60 dBFS: below the -50 dB threshold
        let mut a = clip(samples);
        let t = trim_edges(
            &mut a,
            &TrimSettings {
                threshold_db: -50.0,
                margin: 0.1,
            },
        )
        .unwrap();
        assert_eq!(
            t,
            Trimmed {
                head: 400,
                tail: 300
            }
        );
        assert_eq!(a.frames(), 300);
        assert_eq!(a.samples[100], 0.5);
        assert_eq!(a.samples[199], 0.5);
    }

    #[test]
    fn margin_is_clamped_to_the_clip() {
        let mut a = clip(vec![0.5; 10]);
        let t = trim_edges(&mut a, &TrimSettings::default()).unwrap();
        assert_eq!(t, Trimmed::default());
        assert_eq!(a.frames(), 10);
    }

    #[test]
    fn silent_clip_is_reported() {
        let mut a = clip(vec![0.0; 10]);
        assert_eq!(trim_edges(&mut a, &TrimSettings::default()), None);
        assert_eq!(a.frames(), 10);
    }

    #[test]
    fn streamed_edges_are_those_of_the_whole() {
        let mut samples = vec![0.0f32; 2000];
        for (i, v) in [(301, 0.2), (302, -0.3), (1500, 0.01), (1777, -0.5)] {
            samples[i] = v;
        }
        let whole = loud_span(&clip(samples.clone()), 0.003);
        assert_eq!(whole, Some((301, 1777)));
        for piece in [1, 2, 300, 301, 302, 1999] {
            let mut edges = LoudEdges::new(0.003, 1);
            samples.chunks(piece).for_each(|c| edges.add(c));
            assert_eq!(edges.span(), whole, "pieces of {piece}");
            assert_eq!(edges.frames(), 2000);
        }
    }

    #[test]
    fn any_channel_counts() {
        let mut a = Audio {
            sample_rate: 1000,
            channels: 2,
            samples: vec![0.0, 0.0, 0.0, 0.9, 0.0, 0.0],
        };
        let t = trim_edges(
            &mut a,
            &TrimSettings {
                threshold_db: -50.0,
                margin: 0.0,
            },
        )
        .unwrap();
        assert_eq!(t, Trimmed { head: 1, tail: 1 });
        assert_eq!(a.samples, vec![0.0, 0.9]);
    }
}
