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
    let channels = usize::from(audio.channels.max(1));
    let loud = |frame: &[f32]| frame.iter().any(|s| s.abs() > threshold);
    let mut frames = audio.samples.chunks_exact(channels);
    let first = frames.position(loud)?;
    let last = audio.samples.chunks_exact(channels).rposition(loud)?;
    Some((first as u64, last as u64))
}

/// Removes leading and trailing near-silence, keeping `settings.margin` seconds of it on
/// each side. A clip with nothing above the threshold is left alone and `None` returned.
pub fn trim_edges(audio: &mut Audio, settings: &TrimSettings) -> Option<Trimmed> {
    let threshold = 10f64.powf(settings.threshold_db / 20.0) as f32;
    let (first, last) = loud_span(audio, threshold)?;
    let margin = (settings.margin * f64::from(audio.sample_rate)).round() as u64;
    let frames = audio.frames();
    let keep_from = first.saturating_sub(margin);
    let keep_to = (last + 1 + margin).min(frames);
    let channels = usize::from(audio.channels);
    audio.samples.truncate(keep_to as usize * channels);
    audio.samples.drain(..keep_from as usize * channels);
    Some(Trimmed {
        head: keep_from,
        tail: frames - keep_to,
    })
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
