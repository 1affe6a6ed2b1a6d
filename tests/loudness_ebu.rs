//! EBU Tech 3341 (loudness metering) and Tech 3342 (loudness range) compliance signals that
//! are defined by formula, generated here and measured with `narrate::loudness`.
//!
//! Levels are those of the specs: a sine "at −23 dBFS" has a peak of 10^(−23/20) in each
//! channel it is in, and a stereo 1 kHz sine at −23 dBFS reads −23 LUFS. The signals from
//! the specs' audio files (authentic programme, cases 7 and 8 of 3341 and 5 onwards of 3342)
//! are not here: they cannot be generated.

use std::f64::consts::PI;

use narrate::audio::Audio;
use narrate::loudness::{measure, Loudness, Meter};

const RATE: u32 = 48_000;

/// A 1 kHz sine in every channel, one (seconds, dBFS) segment after another, phase
/// continuous across segments.
fn tone(rate: u32, channels: u16, segments: &[(f64, f64)]) -> Audio {
    let mut samples = Vec::new();
    let mut n = 0u64;
    for &(seconds, dbfs) in segments {
        let amp = 10f64.powf(dbfs / 20.0);
        let frames = (seconds * f64::from(rate)).round() as u64;
        for _ in 0..frames {
            let v = (amp * (2.0 * PI * 1000.0 * n as f64 / f64::from(rate)).sin()) as f32;
            samples.extend(std::iter::repeat_n(v, usize::from(channels)));
            n += 1;
        }
    }
    Audio {
        sample_rate: rate,
        channels,
        samples,
    }
}

fn stereo(segments: &[(f64, f64)]) -> Audio {
    tone(RATE, 2, segments)
}

fn integrated(audio: &Audio) -> f64 {
    measure(audio)
        .expect("measure")
        .integrated_lufs
        .expect("gated loudness")
}

fn assert_within(what: &str, got: f64, expected: f64, tol: f64) {
    assert!(
        (got - expected).abs() <= tol,
        "{what}: measured {got:.3}, expected {expected} ± {tol}"
    );
    println!("{what}: measured {got:.3}, expected {expected}");
}

// ---- Tech 3341, minimum requirements (integrated loudness within ±0.1 LU) ----

#[test]
fn tech3341_case1_stereo_sine_minus_23() {
    let l = measure(&stereo(&[(20.0, -23.0)])).unwrap();
    assert_within("3341 case 1 I", l.integrated_lufs.unwrap(), -23.0, 0.1);
}

#[test]
fn tech3341_case2_stereo_sine_minus_33() {
    let l = measure(&stereo(&[(20.0, -33.0)])).unwrap();
    assert_within("3341 case 2 I", l.integrated_lufs.unwrap(), -33.0, 0.1);
}

#[test]
fn tech3341_case3_relative_gate_quiet_edges() {
    let a = stereo(&[(10.0, -36.0), (60.0, -23.0), (10.0, -36.0)]);
    assert_within("3341 case 3 I", integrated(&a), -23.0, 0.1);
}

#[test]
fn tech3341_case4_absolute_and_relative_gates() {
    let a = stereo(&[
        (10.0, -72.0),
        (10.0, -36.0),
        (60.0, -23.0),
        (10.0, -36.0),
        (10.0, -72.0),
    ]);
    assert_within("3341 case 4 I", integrated(&a), -23.0, 0.1);
}

#[test]
fn tech3341_case5_gating_with_20_1_seconds() {
    let a = stereo(&[(20.0, -26.0), (20.1, -20.0), (20.0, -26.0)]);
    assert_within("3341 case 5 I", integrated(&a), -23.0, 0.1);
}

#[test]
fn tech3341_case6_five_channels() {
    // L, R at −28 dBFS, C at −24, Ls, Rs at −30 (surrounds weighted +1.5 dB), 20 s.
    let levels = [-28.0, -28.0, -24.0, -30.0, -30.0];
    let frames = 20 * RATE as usize;
    let mut samples = Vec::with_capacity(frames * 5);
    for n in 0..frames {
        let s = (2.0 * PI * 1000.0 * n as f64 / f64::from(RATE)).sin();
        for db in levels {
            samples.push((10f64.powf(db / 20.0) * s) as f32);
        }
    }
    let a = Audio {
        sample_rate: RATE,
        channels: 5,
        samples,
    };
    assert_within("3341 case 6 I", integrated(&a), -23.0, 0.1);
}

/// Feeds `audio` to a fresh meter in 100 ms steps, calling `check(seconds_fed, meter)`
/// after each.
fn stepwise(audio: &Audio, mut check: impl FnMut(f64, &Meter)) -> Loudness {
    let mut meter = Meter::new(audio.sample_rate, audio.channels).unwrap();
    let step = (audio.sample_rate / 10) as usize * usize::from(audio.channels);
    for (i, chunk) in audio.samples.chunks(step).enumerate() {
        meter.add(chunk);
        check((i + 1) as f64 * 0.1, &meter);
    }
    meter.finish()
}

#[test]
fn tech3341_short_term_of_alternating_bursts_is_constant() {
    // 3341 case 9: 20 × (1.34 s at −20 dBFS, 1.66 s at −30 dBFS); short-term loudness is
    // −23.0 ± 0.1 LUFS from 3 s on.
    let mut segs = Vec::new();
    for _ in 0..20 {
        segs.push((1.34, -20.0));
        segs.push((1.66, -30.0));
    }
    let a = stereo(&segs);
    let mut worst: f64 = 0.0;
    let l = stepwise(&a, |t, m| {
        if t >= 3.0 - 1e-9 {
            let s = m.shortterm_lufs().unwrap();
            assert!((s + 23.0).abs() <= 0.1, "S at {t:.1} s is {s:.3}");
            worst = worst.max((s + 23.0).abs());
        }
    });
    println!("3341 case 9: short-term within {worst:.3} LU of -23 from 3 s on");
    assert_within("3341 case 9 I", l.integrated_lufs.unwrap(), -23.0, 0.1);
}

#[test]
fn tech3341_momentary_of_alternating_bursts_is_constant() {
    // 3341 momentary case: 25 × (0.18 s at −20 dBFS, 0.22 s at −30 dBFS); momentary
    // loudness is −23.0 ± 0.1 LUFS from 1 s on. Checked at every 100 ms step; the 400 ms
    // window always holds exactly one period.
    let mut segs = Vec::new();
    for _ in 0..25 {
        segs.push((0.18, -20.0));
        segs.push((0.22, -30.0));
    }
    let a = stereo(&segs);
    let mut worst: f64 = 0.0;
    stepwise(&a, |t, m| {
        if t >= 1.0 - 1e-9 {
            let v = m.momentary_lufs().unwrap();
            assert!((v + 23.0).abs() <= 0.1, "M at {t:.1} s is {v:.3}");
            worst = worst.max((v + 23.0).abs());
        }
    });
    println!("3341 momentary bursts: within {worst:.3} LU of -23 from 1 s on");
}

#[test]
fn steady_sines_read_the_same_momentary_and_short_term() {
    // Cases 1 and 2 also require M and S to read the level of a steady tone.
    for level in [-23.0, -33.0] {
        let a = stereo(&[(20.0, level)]);
        stepwise(&a, |t, m| {
            if t >= 3.0 - 1e-9 {
                let (mo, st) = (m.momentary_lufs().unwrap(), m.shortterm_lufs().unwrap());
                assert!((mo - level).abs() <= 0.1, "M {mo} at {t} s");
                assert!((st - level).abs() <= 0.1, "S {st} at {t} s");
            }
        });
    }
}

#[test]
fn cases_1_to_5_at_44_1_khz_and_mono() {
    // Not in the spec (it is written for 48 kHz), but the guide profile is 44.1 kHz mono.
    let cases: [&[(f64, f64)]; 3] = [
        &[(20.0, -23.0)],
        &[(10.0, -36.0), (60.0, -23.0), (10.0, -36.0)],
        &[(20.0, -26.0), (20.1, -20.0), (20.0, -26.0)],
    ];
    for segs in cases {
        assert_within(
            "44.1 kHz stereo",
            integrated(&tone(44100, 2, segs)),
            -23.0,
            0.1,
        );
        // One channel carries half the power of two: 3.01 dB less.
        let mono = integrated(&tone(44100, 1, segs));
        assert_within("44.1 kHz mono", mono, -23.0 - 10.0 * 2f64.log10(), 0.1);
    }
}

// ---- Tech 3341, true peak (+0.2 / −0.4 dB) ----

/// A sine at a quarter of the sample rate (4 samples a period), stereo, with a phase offset
/// in degrees, scaled so that its true (analogue) peak is `peak_db`.
fn quarter_rate_sine(phase_deg: f64, peak_db: f64) -> Audio {
    let amp = 10f64.powf(peak_db / 20.0);
    let phase = phase_deg.to_radians();
    let frames = RATE as usize; // 1 s
    let mut samples = Vec::with_capacity(frames * 2);
    for n in 0..frames {
        let v = (amp * (PI / 2.0 * n as f64 + phase).sin()) as f32;
        samples.extend([v, v]);
    }
    Audio {
        sample_rate: RATE,
        channels: 2,
        samples,
    }
}

fn assert_true_peak(what: &str, a: &Audio, expected: f64) {
    let l = measure(a).unwrap();
    let tp = l.true_peak_dbtp.unwrap();
    println!(
        "{what}: true peak {tp:.3} dBTP (sample peak {:.3} dBFS), expected {expected}",
        l.sample_peak_dbfs.unwrap()
    );
    assert!(
        tp <= expected + 0.2 && tp >= expected - 0.4,
        "{what}: true peak {tp:.3}, expected {expected} +0.2/−0.4"
    );
}

#[test]
fn tech3341_true_peak_quarter_rate_sines_at_minus_6() {
    // 3341 cases 15–18: 12 kHz at 48 kHz, phase 0°, 45°, 60°, 67.5°, true peak −6 dBTP.
    // The sample peaks fall to −9.03 dBFS at 45°: a sample-peak meter reads up to 3 dB low.
    for phase in [0.0, 45.0, 60.0, 67.5] {
        assert_true_peak(
            &format!("quarter-rate sine {phase}°"),
            &quarter_rate_sine(phase, -6.0),
            -6.0,
        );
    }
}

#[test]
fn true_peak_quarter_rate_sine_at_full_scale() {
    // Formula check in the spirit of 3341 case 19: every sample at ±0.707 (−3.01 dBFS),
    // the waveform between them reaching 0 dBTP.
    let a = quarter_rate_sine(45.0, 0.0);
    let l = measure(&a).unwrap();
    assert!((l.sample_peak_dbfs.unwrap() + 3.01).abs() < 0.01);
    assert_true_peak("quarter-rate sine 45° at 0 dBTP", &a, 0.0);
}

// ---- Tech 3342, loudness range (±1 LU) ----

fn assert_lra(what: &str, segments: &[(f64, f64)], expected: f64) {
    let l = measure(&stereo(segments)).unwrap();
    assert_within(what, l.loudness_range_lu, expected, 1.0);
}

#[test]
fn tech3342_case1_minus_20_then_minus_30() {
    assert_lra("3342 case 1 LRA", &[(20.0, -20.0), (20.0, -30.0)], 10.0);
}

#[test]
fn tech3342_case2_minus_20_then_minus_15() {
    assert_lra("3342 case 2 LRA", &[(20.0, -20.0), (20.0, -15.0)], 5.0);
}

#[test]
fn tech3342_case3_minus_40_then_minus_20() {
    assert_lra("3342 case 3 LRA", &[(20.0, -40.0), (20.0, -20.0)], 20.0);
}

#[test]
fn tech3342_case4_five_levels_with_gated_edges() {
    assert_lra(
        "3342 case 4 LRA",
        &[
            (20.0, -50.0),
            (20.0, -35.0),
            (20.0, -20.0),
            (20.0, -35.0),
            (20.0, -50.0),
        ],
        15.0,
    );
}
