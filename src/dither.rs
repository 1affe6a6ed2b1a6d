//! Float → 16-bit with TPDF dither: deterministic, and digital silence stays silent.
//!
//! Each sample gets triangular noise of ±1 LSB (the sum of two independent uniform ±½ LSB
//! values) before rounding, which makes the quantisation error independent of the signal: a
//! tone far below 1 LSB survives as a tone in noise instead of vanishing or turning into
//! distortion. The noise comes from a hand-written SplitMix64 generator, so the same seed
//! gives the same bytes on every machine. Input that is exactly 0.0 becomes 0 with no noise
//! added, so pauses are true digital silence.

/// Full scale: an `f32` of 1.0 is this many LSBs.
const SCALE: f64 = 32768.0;

/// Streaming quantiser; feed it chunk by chunk, the result is the same as all at once.
#[derive(Debug, Clone)]
pub struct Quantizer {
    state: u64,
}

impl Quantizer {
    pub fn new(seed: u64) -> Self {
        Quantizer { state: seed }
    }

    /// SplitMix64 (Steele, Lea & Flood 2014): one 64-bit output per call.
    fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Triangular noise in (−1, 1) LSB: the sum of two uniform values in [−½, ½), one from
    /// each 32-bit half of one generator output.
    fn tpdf(&mut self) -> f64 {
        let r = self.next_u64();
        // Through `u32`: the same exact value as `u64 as f64`, without the slow unsigned
        // 64-bit conversion.
        let unit = |bits: u32| (f64::from(bits) + 0.5) * (1.0 / 4_294_967_296.0) - 0.5;
        unit((r >> 32) as u32) + unit(r as u32)
    }

    /// Quantises `input` and appends the result to `out`.
    ///
    /// The generator advances once per sample, silent or not, so the noise at any position
    /// does not depend on what came before it.
    pub fn process(&mut self, input: &[f32], out: &mut Vec<i16>) {
        out.extend(input.iter().map(|&x| quantize(x, self.tpdf())));
    }
}

/// `x` plus `d` LSB of dither, rounded half away from zero and clamped to 16 bits; exactly
/// 0.0 (either sign) gives 0, NaN gives 0.
///
/// The same as `(x·SCALE + d).round().clamp(…) as i16`, without a call to libm's `round`:
/// rounding is monotonic and leaves the (integer) clamp bounds where they are, so clamping
/// first changes nothing, and within ±2¹⁵ the fraction `v − trunc(v)` is exact.
#[inline]
fn quantize(x: f32, d: f64) -> i16 {
    // NaN stays NaN through the clamp and becomes 0 in `as` (which saturates).
    let v = (f64::from(x) * SCALE + d).clamp(-SCALE, SCALE - 1.0);
    let t = v as i32;
    let fraction = v - f64::from(t);
    let rounded = t + i32::from(fraction >= 0.5) - i32::from(fraction <= -0.5);
    if x == 0.0 {
        0
    } else {
        rounded as i16
    }
}

/// Quantises `samples` (nominally −1.0..=1.0) to `i16` with TPDF dither from `seed`.
pub fn quantize_i16(samples: &[f32], seed: u64) -> Vec<i16> {
    let mut out = Vec::with_capacity(samples.len());
    Quantizer::new(seed).process(samples, &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sine(n: usize, amp_lsb: f64, freq: f64, rate: f64) -> Vec<f32> {
        (0..n)
            .map(|i| {
                (amp_lsb / SCALE * (2.0 * std::f64::consts::PI * freq * i as f64 / rate).sin())
                    as f32
            })
            .collect()
    }

    #[test]
    fn deterministic_and_chunk_independent() {
        let x = sine(10_000, 1000.0, 997.0, 44100.0);
        let a = quantize_i16(&x, 42);
        assert_eq!(a, quantize_i16(&x, 42));
        assert_ne!(a, quantize_i16(&x, 43));
        let mut q = Quantizer::new(42);
        let mut b = Vec::new();
        for chunk in x.chunks(333) {
            q.process(chunk, &mut b);
        }
        assert_eq!(a, b);
    }

    #[test]
    fn silence_stays_digital_silence() {
        let x = vec![0.0f32; 10_000];
        assert!(quantize_i16(&x, 7).iter().all(|&s| s == 0));
        assert_eq!(quantize_i16(&[-0.0], 7), vec![0]);
        // A tiny non-zero value is dithered like any other (not forced to zero).
        let tiny = vec![1e-9f32; 10_000];
        assert!(quantize_i16(&tiny, 7).iter().any(|&s| s != 0));
    }

    #[test]
    fn rounding_is_libm_round() {
        let reference = |x: f32, d: f64| {
            if x == 0.0 {
                return 0;
            }
            (f64::from(x) * SCALE + d)
                .round()
                .clamp(-SCALE, SCALE - 1.0) as i16
        };
        let mut q = Quantizer::new(5);
        let mut xs = vec![
            0.5 / SCALE as f32,
            -0.5 / SCALE as f32,
            1.5 / SCALE as f32,
            -1.5 / SCALE as f32,
            1.0,
            -1.0,
            2.0,
            -2.0,
            f32::INFINITY,
            f32::NEG_INFINITY,
            f32::NAN,
            f32::MIN_POSITIVE,
            -1e-30,
        ];
        xs.extend((0..200_000).map(|i| ((i as f32) * 0.618_034).sin() * (i % 7) as f32 * 0.3));
        for x in xs {
            for d in [
                0.0,
                0.5,
                -0.5,
                0.499_999_999_999_999_9,
                -0.499_999_999_999_999_9,
                q.tpdf(),
            ] {
                assert_eq!(quantize(x, d), reference(x, d), "{x} + {d}");
            }
        }
    }

    #[test]
    fn clipping_clamps() {
        let x = [1.0f32, 1.5, 100.0, -1.0, -1.5, -100.0, f32::NAN];
        let y = quantize_i16(&x, 1);
        assert_eq!(&y[..3], &[32767, 32767, 32767]);
        assert!(y[3] == -32768 || y[3] == -32767);
        assert_eq!(&y[4..6], &[-32768, -32768]);
        assert_eq!(y[6], 0);
    }

    #[test]
    fn error_is_unbiased_bounded_and_signal_independent() {
        let n = 200_000;
        for offset in [0.1, 0.3, 0.5, 0.9, 123.25, -7.75] {
            let x = vec![(offset / SCALE) as f32; n];
            let target = f64::from(x[0]) * SCALE;
            let y = quantize_i16(&x, 99);
            let errs: Vec<f64> = y.iter().map(|&s| f64::from(s) - target).collect();
            let mean = errs.iter().sum::<f64>() / n as f64;
            let var = errs.iter().map(|e| (e - mean).powi(2)).sum::<f64>() / n as f64;
            assert!(errs.iter().all(|e| e.abs() < 1.5), "error beyond ±1.5 LSB");
            // Unbiased: plain rounding would give a mean error of up to ±0.5 LSB.
            assert!(mean.abs() < 0.01, "offset {offset}: mean error {mean}");
            // TPDF: total error power is 1/4 LSB² whatever the input (no noise modulation).
            assert!(
                (var - 0.25).abs() < 0.01,
                "offset {offset}: error variance {var}"
            );
        }
    }

    #[test]
    fn tone_below_one_lsb_survives() {
        // A 1 kHz sine at −100 dBFS is about 0.33 LSB: rounding alone erases it.
        let amp = 32768.0 * 10f64.powf(-100.0 / 20.0);
        let (n, rate, freq) = (441_000, 44100.0, 1000.0);
        let x = sine(n, amp, freq, rate);
        assert!(x.iter().all(|&v| (f64::from(v) * SCALE).round() == 0.0));
        let y = quantize_i16(&x, 2024);
        // Least-squares amplitude of the sine in the output (in LSB).
        let (mut dot, mut norm) = (0.0, 0.0);
        for (i, &s) in y.iter().enumerate() {
            let r = (2.0 * std::f64::consts::PI * freq * i as f64 / rate).sin();
            dot += f64::from(s) * r;
            norm += r * r;
        }
        let fitted = dot / norm;
        assert!(
            (fitted - amp).abs() < 0.05 * amp,
            "tone amplitude {fitted} LSB, expected {amp}"
        );
    }
}
