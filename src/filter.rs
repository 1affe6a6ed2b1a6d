//! Biquad filters (RBJ Audio EQ Cookbook) and the telephone band-pass built from them.
//!
//! State is per channel and in `f64`; tiny state values are flushed to zero so that a filter
//! fed digital silence settles to exact 0.0 (and never crawls through denormals).

use crate::audio::Audio;

/// Butterworth Qs of the two second-order sections of a 4th-order filter.
const BUTTERWORTH4_Q: [f64; 2] = [0.541_196_100_146_197, 1.306_562_964_876_376_8];

/// A section whose two state values are both below this is reset to zero (−400 dB).
const FLUSH: f64 = 1e-20;

/// Lower and upper edges of the telephone band, Hz.
pub const TELEPHONE_LOW_HZ: f64 = 300.0;
pub const TELEPHONE_HIGH_HZ: f64 = 3400.0;

/// One second-order section, normalised so that a0 = 1.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Biquad {
    pub b0: f64,
    pub b1: f64,
    pub b2: f64,
    pub a1: f64,
    pub a2: f64,
}

impl Biquad {
    fn from_raw(b: [f64; 3], a: [f64; 3]) -> Self {
        Biquad {
            b0: b[0] / a[0],
            b1: b[1] / a[0],
            b2: b[2] / a[0],
            a1: a[1] / a[0],
            a2: a[2] / a[0],
        }
    }

    fn omega(rate: f64, freq: f64, q: f64) -> (f64, f64) {
        let w0 = 2.0 * std::f64::consts::PI * freq / rate;
        (w0.cos(), w0.sin() / (2.0 * q))
    }

    /// Second-order low-pass at `freq` Hz with quality `q`.
    pub fn lowpass(rate: f64, freq: f64, q: f64) -> Self {
        let (cos, alpha) = Self::omega(rate, freq, q);
        let b1 = 1.0 - cos;
        Self::from_raw(
            [b1 / 2.0, b1, b1 / 2.0],
            [1.0 + alpha, -2.0 * cos, 1.0 - alpha],
        )
    }

    /// Second-order high-pass at `freq` Hz with quality `q`.
    pub fn highpass(rate: f64, freq: f64, q: f64) -> Self {
        let (cos, alpha) = Self::omega(rate, freq, q);
        let b1 = -(1.0 + cos);
        Self::from_raw(
            [-b1 / 2.0, b1, -b1 / 2.0],
            [1.0 + alpha, -2.0 * cos, 1.0 - alpha],
        )
    }

    /// Magnitude response at `freq` Hz.
    pub fn gain_at(&self, rate: f64, freq: f64) -> f64 {
        let w = 2.0 * std::f64::consts::PI * freq / rate;
        let (c1, s1, c2, s2) = (w.cos(), w.sin(), (2.0 * w).cos(), (2.0 * w).sin());
        let num = (
            self.b0 + self.b1 * c1 + self.b2 * c2,
            -(self.b1 * s1 + self.b2 * s2),
        );
        let den = (
            1.0 + self.a1 * c1 + self.a2 * c2,
            -(self.a1 * s1 + self.a2 * s2),
        );
        (num.0.hypot(num.1)) / (den.0.hypot(den.1))
    }
}

/// A chain of biquads applied to interleaved audio, with its own state per channel.
#[derive(Debug, Clone)]
pub struct Cascade {
    stages: Vec<Biquad>,
    channels: usize,
    /// Transposed direct form II state, `[s1, s2]` per (channel, stage), channel-major.
    state: Vec<[f64; 2]>,
    /// Channel of the next sample to arrive.
    next_channel: usize,
}

impl Cascade {
    pub fn new(stages: Vec<Biquad>, channels: u16) -> Self {
        let channels = usize::from(channels.max(1));
        Cascade {
            state: vec![[0.0; 2]; stages.len() * channels],
            stages,
            channels,
            next_channel: 0,
        }
    }

    /// 4th-order Butterworth high-pass (two sections).
    pub fn butterworth_highpass(rate: u32, freq: f64, channels: u16) -> Self {
        let r = f64::from(rate);
        Self::new(
            BUTTERWORTH4_Q
                .iter()
                .map(|&q| Biquad::highpass(r, freq, q))
                .collect(),
            channels,
        )
    }

    /// 4th-order Butterworth low-pass (two sections).
    pub fn butterworth_lowpass(rate: u32, freq: f64, channels: u16) -> Self {
        let r = f64::from(rate);
        Self::new(
            BUTTERWORTH4_Q
                .iter()
                .map(|&q| Biquad::lowpass(r, freq, q))
                .collect(),
            channels,
        )
    }

    /// The stages of both cascades, one after the other, on the same channels.
    pub fn then(mut self, other: Cascade) -> Self {
        self.stages.extend(other.stages);
        self.state = vec![[0.0; 2]; self.stages.len() * self.channels];
        self.next_channel = 0;
        self
    }

    /// Magnitude response of the whole chain at `freq` Hz.
    pub fn gain_at(&self, rate: u32, freq: f64) -> f64 {
        self.stages
            .iter()
            .map(|s| s.gain_at(f64::from(rate), freq))
            .product()
    }

    /// Filters interleaved samples in place; call again with the next chunk to continue
    /// (a chunk may end inside a frame).
    pub fn process(&mut self, samples: &mut [f32]) {
        let n = self.stages.len();
        if n == 0 {
            return;
        }
        let mut c = self.next_channel;
        for sample in samples.iter_mut() {
            let mut x = f64::from(*sample);
            for (st, s) in self
                .stages
                .iter()
                .zip(self.state[c * n..(c + 1) * n].iter_mut())
            {
                let y = st.b0 * x + s[0];
                s[0] = st.b1 * x - st.a1 * y + s[1];
                s[1] = st.b2 * x - st.a2 * y;
                if s[0].abs() < FLUSH && s[1].abs() < FLUSH {
                    *s = [0.0; 2];
                }
                x = y;
            }
            *sample = x as f32;
            c += 1;
            if c == self.channels {
                c = 0;
            }
        }
        self.next_channel = c;
    }

    /// Forgets all state.
    pub fn reset(&mut self) {
        self.state.iter_mut().for_each(|s| *s = [0.0; 2]);
        self.next_channel = 0;
    }
}

/// A band-pass: 4th-order Butterworth high-pass at `low_hz` and low-pass at `high_hz`.
/// An edge at or above Nyquist is left out (there is nothing there to remove).
#[derive(Debug, Clone)]
pub struct BandPass(Cascade);

impl BandPass {
    pub fn new(rate: u32, channels: u16, low_hz: f64, high_hz: f64) -> Self {
        let nyquist = f64::from(rate) / 2.0;
        let mut c = Cascade::new(Vec::new(), channels);
        if low_hz > 0.0 && low_hz < nyquist {
            c = c.then(Cascade::butterworth_highpass(rate, low_hz, channels));
        }
        if high_hz > 0.0 && high_hz < nyquist * 0.98 {
            c = c.then(Cascade::butterworth_lowpass(rate, high_hz, channels));
        }
        BandPass(c)
    }

    /// The 300–3400 Hz telephone band.
    pub fn telephone(rate: u32, channels: u16) -> Self {
        Self::new(rate, channels, TELEPHONE_LOW_HZ, TELEPHONE_HIGH_HZ)
    }

    /// Filters interleaved samples in place, continuing from the previous call.
    pub fn process(&mut self, samples: &mut [f32]) {
        self.0.process(samples);
    }

    /// Magnitude response at `freq` Hz for a filter built for `rate`.
    pub fn gain_at(&self, rate: u32, freq: f64) -> f64 {
        self.0.gain_at(rate, freq)
    }
}

/// Limits `audio` to the 300–3400 Hz telephone band (4th-order Butterworth edges), in place.
pub fn telephone_band(audio: &mut Audio) {
    BandPass::telephone(audio.sample_rate, audio.channels).process(&mut audio.samples);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tone(rate: u32, channels: u16, freq: f64, seconds: f64) -> Audio {
        let frames = (seconds * f64::from(rate)) as usize;
        let mut samples = Vec::with_capacity(frames * usize::from(channels));
        for i in 0..frames {
            let v = 0.5 * (2.0 * std::f64::consts::PI * freq * i as f64 / f64::from(rate)).sin();
            // Second channel in opposite phase: the state must be per channel.
            for c in 0..channels {
                samples.push(if c % 2 == 0 { v } else { -v } as f32);
            }
        }
        Audio {
            sample_rate: rate,
            channels,
            samples,
        }
    }

    /// Output/input RMS in dB of one channel over the last half (after settling).
    fn gain_db(rate: u32, channels: u16, freq: f64) -> f64 {
        let input = tone(rate, channels, freq, 1.0);
        let mut out = input.clone();
        telephone_band(&mut out);
        let ch = usize::from(channels);
        let rms = |s: &[f32], c: usize| {
            let half = &s[s.len() / 2..];
            let v: Vec<f64> = half
                .iter()
                .skip(c)
                .step_by(ch)
                .map(|&x| f64::from(x))
                .collect();
            (v.iter().map(|x| x * x).sum::<f64>() / v.len() as f64).sqrt()
        };
        let g0 = 20.0 * (rms(&out.samples, 0) / rms(&input.samples, 0)).log10();
        for c in 1..ch {
            let gc = 20.0 * (rms(&out.samples, c) / rms(&input.samples, c)).log10();
            assert!((gc - g0).abs() < 1e-6, "channel {c} differs");
        }
        g0
    }

    #[test]
    fn passes_the_voice_band() {
        for rate in [8000, 44100, 48000] {
            let g = gain_db(rate, 2, 1000.0);
            assert!(g.abs() < 0.5, "{rate} Hz: 1 kHz at {g:.2} dB");
        }
    }

    #[test]
    fn removes_rumble_and_treble() {
        for rate in [44100, 48000] {
            let low = gain_db(rate, 1, 100.0);
            let high = gain_db(rate, 2, 6000.0);
            assert!(low < -15.0, "{rate} Hz: 100 Hz at {low:.1} dB");
            assert!(high < -15.0, "{rate} Hz: 6 kHz at {high:.1} dB");
        }
        assert!(gain_db(8000, 1, 100.0) < -15.0);
    }

    #[test]
    fn measured_response_matches_the_design() {
        let f = BandPass::telephone(44100, 1);
        for freq in [150.0, 300.0, 1000.0, 3400.0, 5000.0] {
            let designed = 20.0 * f.gain_at(44100, freq).log10();
            let measured = gain_db(44100, 1, freq);
            assert!(
                (designed - measured).abs() < 0.1,
                "{freq} Hz: {designed} vs {measured}"
            );
        }
        // Butterworth edges: −3 dB at each corner (plus a little from the other edge).
        let edge = 20.0 * f.gain_at(44100, 300.0).log10();
        assert!((edge + 3.0).abs() < 0.2, "{edge}");
    }

    #[test]
    fn chunked_equals_whole_and_silence_settles_to_zero() {
        let mut a = tone(48000, 2, 440.0, 0.5);
        a.samples.extend(std::iter::repeat_n(0.0, 48000 * 2 * 2));
        let mut whole = a.clone();
        telephone_band(&mut whole);
        let mut f = BandPass::telephone(48000, 2);
        for chunk in a.samples.chunks_mut(1001) {
            f.process(chunk);
        }
        assert_eq!(a, whole);
        let tail = &whole.samples[whole.samples.len() - 48000..];
        assert!(tail.iter().all(|&x| x == 0.0));
    }
}
