//! ITU-T G.711 µ-law and A-law companding of 16-bit samples, bit-exact with the ITU-T
//! reference software (G.191 Software Tool Library, `g711.c`).
//!
//! µ-law keeps the 14 most significant bits, A-law the 13 most significant. A negative
//! sample is taken as its one's complement (`!x`), as the reference does, so `x` and
//! `-x - 1` get the same magnitude code and −1 is the negative twin of 0. The classic Sun
//! `g711.c` (bias 0x84, clip 32635) negates instead: it gives the same byte for every
//! non-negative input and for all but 127 negative ones (those exactly on a negative
//! decision level, −4, −12, …, −31612), which it rounds one level up. Decoding is the same
//! in both: each code gives the middle of its interval, so a round trip loses at most half
//! a quantisation step.

/// µ-law bias: 33 in the 14-bit domain (0x84 = 132 in 16-bit units).
const ULAW_BIAS: i32 = 33;
/// Largest biased µ-law magnitude (14-bit domain).
const ULAW_MAX: i32 = 0x1FFF;

/// Encodes one 16-bit sample as a G.711 µ-law byte.
pub fn linear_to_ulaw(sample: i16) -> u8 {
    let x = i32::from(sample);
    let magnitude = if x < 0 { !x } else { x } >> 2;
    let biased = (magnitude + ULAW_BIAS).min(ULAW_MAX);
    // Segment 0..=7: biased magnitudes 33..=63 are segment 0, then one per octave.
    let segment = (32 - (biased >> 6).leading_zeros()) as i32;
    let mantissa = (biased >> (segment + 1)) & 0x0F;
    let code = ((segment << 4) | mantissa) as u8;
    let sign = if x >= 0 { 0x80 } else { 0x00 };
    sign | (0x7F ^ code)
}

/// Decodes one G.711 µ-law byte to a 16-bit sample (the middle of its interval).
pub fn ulaw_to_linear(code: u8) -> i16 {
    let c = !code;
    let segment = i32::from((c >> 4) & 0x07);
    let mantissa = i32::from(c & 0x0F);
    // 16-bit units: ((2·mantissa + 33) << segment) − 33, times 4.
    let magnitude = (((mantissa << 3) + 4 * ULAW_BIAS) << segment) - 4 * ULAW_BIAS;
    let v = if code & 0x80 != 0 {
        magnitude
    } else {
        -magnitude
    };
    v as i16
}

/// Encodes one 16-bit sample as a G.711 A-law byte (even bits inverted, XOR 0x55).
pub fn linear_to_alaw(sample: i16) -> u8 {
    let x = i32::from(sample);
    // 12-bit magnitude, 0..=2047.
    let magnitude = if x < 0 { !x } else { x } >> 4;
    let code = if magnitude < 16 {
        magnitude
    } else {
        // Segment s ≥ 1 holds magnitudes 16·2^(s−1) ..< 16·2^s.
        let segment = (32 - magnitude.leading_zeros()) as i32 - 4;
        let mantissa = (magnitude >> (segment - 1)) & 0x0F;
        (segment << 4) | mantissa
    };
    let sign = if x >= 0 { 0x80 } else { 0x00 };
    ((sign | code) ^ 0x55) as u8
}

/// Decodes one G.711 A-law byte to a 16-bit sample (the middle of its interval).
pub fn alaw_to_linear(code: u8) -> i16 {
    let c = code ^ 0x55;
    let segment = i32::from((c >> 4) & 0x07);
    let mantissa = i32::from(c & 0x0F);
    let magnitude = match segment {
        0 => (mantissa << 4) + 8,
        s => ((mantissa << 4) + 0x108) << (s - 1),
    };
    let v = if c & 0x80 != 0 { magnitude } else { -magnitude };
    v as i16
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Independent µ-law reference from the G.711 tables: in the 14-bit magnitude domain the
    /// segment ends are 31, 95, 223, 479, 991, 2015, 4063, 8159 with steps 2, 4, …, 256
    /// (the first interval of segment 0 is 0..1). Code = sign | NOT(segment, interval).
    fn ref_ulaw(x: i16) -> u8 {
        const ENDS: [i32; 8] = [31, 95, 223, 479, 991, 2015, 4063, 8159];
        let x = i32::from(x);
        let m = if x < 0 { -x - 1 } else { x } / 4;
        let (segment, interval) = match ENDS.iter().position(|&e| m < e) {
            Some(s) => {
                let step = 2 << s;
                let start = ENDS[s] - 16 * step;
                (s as i32, (m - start) / step)
            }
            None => (7, 15),
        };
        let sign = if x >= 0 { 0x80 } else { 0 };
        (sign | (0x7F - (segment * 16 + interval))) as u8
    }

    /// Decoded µ-law value: middle of the interval, in 16-bit units.
    fn ref_ulaw_decode(code: u8) -> i16 {
        const ENDS: [i32; 8] = [31, 95, 223, 479, 991, 2015, 4063, 8159];
        let v = 0x7F - i32::from(code & 0x7F);
        let (s, k) = ((v / 16) as usize, v % 16);
        let step = 2 << s;
        let start = ENDS[s] - 16 * step;
        // Interval [start + k·step, start + (k+1)·step).
        // (The first interval of segment 0 is [−1, 1): its middle is 0.)
        let mid4 = 4 * (start + k * step) + 2 * step; // 4 × midpoint
        (if code & 0x80 != 0 { mid4 } else { -mid4 }) as i16
    }

    /// Independent A-law reference: 12-bit magnitude, segment 0 and 1 step 1 (0..16, 16..32),
    /// then steps 2, 4, …, 64 per octave up to 2048; even bits inverted.
    fn ref_alaw(x: i16) -> u8 {
        let x = i32::from(x);
        let m = if x < 0 { -x - 1 } else { x } / 16;
        let mut start = 0;
        let mut code = 0;
        for s in 0..8 {
            let width = if s == 0 { 16 } else { 16 << (s - 1) };
            let step = width / 16;
            if m < start + width {
                code = s * 16 + (m - start) / step;
                break;
            }
            start += width;
        }
        let sign = if x >= 0 { 0x80 } else { 0 };
        ((sign | code) ^ 0x55) as u8
    }

    fn ref_alaw_decode(code: u8) -> i16 {
        let c = i32::from(code ^ 0x55);
        let (s, k) = ((c >> 4) & 7, c & 15);
        let (start, step) = if s == 0 {
            (0, 1)
        } else {
            (16 << (s - 1), 1 << (s - 1))
        };
        let mid16 = 16 * (start + k * step) + 8 * step; // 16 × midpoint
        (if c & 0x80 != 0 { mid16 } else { -mid16 }) as i16
    }

    #[test]
    fn ulaw_matches_reference_for_every_input() {
        for x in i16::MIN..=i16::MAX {
            assert_eq!(linear_to_ulaw(x), ref_ulaw(x), "input {x}");
        }
        for c in 0..=255u8 {
            assert_eq!(ulaw_to_linear(c), ref_ulaw_decode(c), "code {c:#04x}");
        }
    }

    #[test]
    fn alaw_matches_reference_for_every_input() {
        for x in i16::MIN..=i16::MAX {
            assert_eq!(linear_to_alaw(x), ref_alaw(x), "input {x}");
        }
        for c in 0..=255u8 {
            assert_eq!(alaw_to_linear(c), ref_alaw_decode(c), "code {c:#04x}");
        }
    }

    #[test]
    fn fixed_points() {
        assert_eq!(linear_to_ulaw(0), 0xFF);
        assert_eq!(linear_to_ulaw(-1), 0x7F);
        assert_eq!(linear_to_ulaw(i16::MAX), 0x80);
        assert_eq!(linear_to_ulaw(i16::MIN), 0x00);
        assert_eq!(ulaw_to_linear(0xFF), 0);
        assert_eq!(ulaw_to_linear(0x7F), 0);
        assert_eq!(ulaw_to_linear(0x80), 32124);
        assert_eq!(ulaw_to_linear(0x00), -32124);
        assert_eq!(linear_to_alaw(0), 0xD5);
        assert_eq!(linear_to_alaw(-1), 0x55);
        assert_eq!(linear_to_alaw(i16::MAX), 0xAA);
        assert_eq!(linear_to_alaw(i16::MIN), 0x2A);
        assert_eq!(alaw_to_linear(0xD5), 8);
        assert_eq!(alaw_to_linear(0x55), -8);
        assert_eq!(alaw_to_linear(0xAA), 32256);
        assert_eq!(alaw_to_linear(0x2A), -32256);
    }

    #[test]
    fn decoded_values_encode_back_to_their_code() {
        for c in 0..=255u8 {
            let u = ulaw_to_linear(c);
            // 0x7F decodes to 0, the positive zero 0xFF.
            let expect = if c == 0x7F { 0xFF } else { c };
            assert_eq!(linear_to_ulaw(u), expect, "µ-law {c:#04x} → {u}");
            assert_eq!(linear_to_alaw(alaw_to_linear(c)), c, "A-law {c:#04x}");
        }
    }

    #[test]
    fn round_trip_error_is_within_half_a_step() {
        for x in i16::MIN..=i16::MAX {
            let xi = i32::from(x);
            let u = i32::from(ulaw_to_linear(linear_to_ulaw(x)));
            let a = i32::from(alaw_to_linear(linear_to_alaw(x)));
            // Largest steps: 1024 (µ-law, 256 × 4) and 1024 (A-law, 64 × 16), plus the clip.
            let clip = |v: i32, lim: i32| v.clamp(-lim, lim);
            assert!((u - clip(xi, 32124)).abs() <= 512 + 4, "µ-law {x} → {u}");
            assert!((a - clip(xi, 32256)).abs() <= 512 + 16, "A-law {x} → {a}");
        }
    }

    #[test]
    fn classic_sun_formulation_agrees_except_on_negative_decision_levels() {
        // Sun g711.c: magnitude −x for negatives, bias 0x84, clip 32635.
        fn sun(x: i16) -> u8 {
            let (mut m, mask) = if x < 0 {
                (-i32::from(x), 0x7F)
            } else {
                (i32::from(x), 0xFF)
            };
            m = m.min(32635) + 0x84;
            let exp = (0..8).rev().find(|e| m & (0x80 << e) != 0).unwrap_or(0);
            let man = (m >> (exp + 3)) & 0x0F;
            (((exp << 4) | man) ^ mask) as u8
        }
        let differ: Vec<i16> = (i16::MIN..=i16::MAX)
            .filter(|&x| sun(x) != linear_to_ulaw(x))
            .collect();
        assert_eq!(differ.len(), 127);
        assert!(differ.iter().all(|&x| x < 0 && x % 4 == 0));
    }
}
