//! Decoding real files: hand-built WAVs of every form, and FLAC/MP3/Ogg made by the reference
//! encoders (`flac`, `lame`, `oggenc`, `sox`; Debian packages flac, lame, vorbis-tools, sox).
//! Set `NARRATE_SKIP_CODEC_TOOLS=1` to skip the tests that need those tools.

use std::path::{Path, PathBuf};
use std::process::Command;

use narrate::decode::{decode_file, probe_file};
use narrate::Error;

// ---------------------------------------------------------------------------------------------
// Helpers.

fn tmp(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("decode_formats");
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

fn write(name: &str, bytes: &[u8]) -> PathBuf {
    let path = tmp(name);
    std::fs::write(&path, bytes).unwrap();
    path
}

/// One RIFF chunk, with its pad byte when the body is odd.
fn chunk(id: &[u8; 4], body: &[u8]) -> Vec<u8> {
    let mut v = id.to_vec();
    v.extend_from_slice(&(body.len() as u32).to_le_bytes());
    v.extend_from_slice(body);
    if body.len() % 2 == 1 {
        v.push(0);
    }
    v
}

fn riff(chunks: &[Vec<u8>]) -> Vec<u8> {
    let body = chunks.concat();
    let mut v = b"RIFF".to_vec();
    v.extend_from_slice(&(body.len() as u32 + 4).to_le_bytes());
    v.extend_from_slice(b"WAVE");
    v.extend(body);
    v
}

/// A `fmt ` chunk; `extra` adds cbSize and the extension bytes.
fn fmt(tag: u16, channels: u16, rate: u32, bits: u16, extra: Option<&[u8]>) -> Vec<u8> {
    let align = channels * bits.div_ceil(8);
    let mut b = Vec::new();
    b.extend_from_slice(&tag.to_le_bytes());
    b.extend_from_slice(&channels.to_le_bytes());
    b.extend_from_slice(&rate.to_le_bytes());
    b.extend_from_slice(&(rate * u32::from(align)).to_le_bytes());
    b.extend_from_slice(&align.to_le_bytes());
    b.extend_from_slice(&bits.to_le_bytes());
    if let Some(extra) = extra {
        b.extend_from_slice(&(extra.len() as u16).to_le_bytes());
        b.extend_from_slice(extra);
    }
    chunk(b"fmt ", &b)
}

/// WAVE_FORMAT_EXTENSIBLE with sub-format `sub` (1 PCM, 3 float, 6 A-law, 7 µ-law).
fn fmt_ext(channels: u16, rate: u32, bits: u16, valid: u16, mask: u32, sub: u16) -> Vec<u8> {
    let mut ext = Vec::new();
    ext.extend_from_slice(&valid.to_le_bytes());
    ext.extend_from_slice(&mask.to_le_bytes());
    ext.extend_from_slice(&sub.to_le_bytes());
    ext.extend_from_slice(&[
        0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x80, 0x00, 0x00, 0xAA, 0x00, 0x38, 0x9B, 0x71,
    ]);
    fmt(0xFFFE, channels, rate, bits, Some(&ext))
}

fn le16(v: &[i16]) -> Vec<u8> {
    v.iter().flat_map(|s| s.to_le_bytes()).collect()
}

fn le24(v: &[i32]) -> Vec<u8> {
    v.iter()
        .flat_map(|s| s.to_le_bytes()[..3].to_vec())
        .collect()
}

fn le32(v: &[i32]) -> Vec<u8> {
    v.iter().flat_map(|s| s.to_le_bytes()).collect()
}

const RAMP16: [i16; 8] = [-32768, -16384, -1, 0, 1, 256, 16384, 32767];

fn expect16(v: &[i16]) -> Vec<f32> {
    v.iter().map(|&s| f32::from(s) / 32768.0).collect()
}

/// Asserts the error names `path`, says something containing `needle`, and gives a fix.
fn assert_clear_error(err: &Error, path: &Path, needle: &str) {
    assert_eq!(
        err.file.as_deref(),
        Some(path),
        "error must name the file: {err}"
    );
    assert!(
        err.message.to_lowercase().contains(&needle.to_lowercase()),
        "expected `{needle}` in: {err}"
    );
    assert!(
        err.fix.as_deref().is_some_and(|f| !f.is_empty()),
        "error must give a fix: {err}"
    );
}

fn skip_tools() -> bool {
    std::env::var_os("NARRATE_SKIP_CODEC_TOOLS").is_some()
}

fn run(cmd: &mut Command, package: &str) {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?} ({e}); install the Debian package `{package}` or set NARRATE_SKIP_CODEC_TOOLS=1"));
    assert!(
        out.status.success(),
        "{cmd:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A 16-bit mono sine WAV written with hound; returns its path and samples.
fn sine_wav(name: &str, rate: u32, freq: f64, frames: usize, amp: f64) -> (PathBuf, Vec<i16>) {
    let path = tmp(name);
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate: rate,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut w = hound::WavWriter::create(&path, spec).unwrap();
    let mut samples = Vec::with_capacity(frames);
    for i in 0..frames {
        let x = amp * (2.0 * std::f64::consts::PI * freq * i as f64 / f64::from(rate)).sin();
        let s = (x * 32767.0).round() as i16;
        samples.push(s);
        w.write_sample(s).unwrap();
    }
    w.finalize().unwrap();
    (path, samples)
}

/// Power of `freq` in `x` (Goertzel), normalised by length.
fn goertzel(x: &[f32], rate: u32, freq: f64) -> f64 {
    let w = 2.0 * std::f64::consts::PI * freq / f64::from(rate);
    let c = 2.0 * w.cos();
    let (mut s1, mut s2) = (0.0f64, 0.0f64);
    for &v in x {
        let s0 = f64::from(v) + c * s1 - s2;
        s2 = s1;
        s1 = s0;
    }
    (s1 * s1 + s2 * s2 - c * s1 * s2) / (x.len() as f64).powi(2)
}

fn assert_tone(x: &[f32], rate: u32, freq: f64) {
    let on = goertzel(x, rate, freq);
    for off in [freq * 0.5, freq * 1.7, 1000.0] {
        let p = goertzel(x, rate, off);
        assert!(
            on > 1000.0 * p,
            "tone at {freq} Hz not dominant: {on} vs {p} at {off} Hz"
        );
    }
    // Amplitude about 0.5: power of a sine of amplitude A is A²/4.
    assert!(
        (on.sqrt() * 2.0 - 0.5).abs() < 0.05,
        "amplitude {}",
        on.sqrt() * 2.0
    );
}

// ---------------------------------------------------------------------------------------------
// WAV forms.

#[test]
fn pcm8_unsigned() {
    let path = write(
        "pcm8.wav",
        &riff(&[fmt(1, 1, 8000, 8, None), chunk(b"data", &[0, 1, 128, 255])]),
    );
    let a = decode_file(&path).unwrap();
    assert_eq!((a.sample_rate, a.channels), (8000, 1));
    assert_eq!(a.samples, vec![-1.0, -127.0 / 128.0, 0.0, 127.0 / 128.0]);
}

#[test]
fn pcm16_stereo_interleaved() {
    let path = write(
        "pcm16.wav",
        &riff(&[fmt(1, 2, 44100, 16, None), chunk(b"data", &le16(&RAMP16))]),
    );
    let a = decode_file(&path).unwrap();
    assert_eq!((a.sample_rate, a.channels, a.frames()), (44100, 2, 4));
    assert_eq!(a.samples, expect16(&RAMP16));
}

#[test]
fn pcm24() {
    let v = [-8_388_608, -1, 0, 1, 4_194_304, 8_388_607];
    let path = write(
        "pcm24.wav",
        &riff(&[fmt(1, 1, 48000, 24, None), chunk(b"data", &le24(&v))]),
    );
    let a = decode_file(&path).unwrap();
    let want: Vec<f32> = v.iter().map(|&s| s as f32 / 8_388_608.0).collect();
    assert_eq!(a.samples, want);
}

#[test]
fn pcm32() {
    let v = [i32::MIN, -65536, 0, 65536, 1 << 30, i32::MAX];
    let path = write(
        "pcm32.wav",
        &riff(&[fmt(1, 1, 48000, 32, None), chunk(b"data", &le32(&v))]),
    );
    let a = decode_file(&path).unwrap();
    let want: Vec<f32> = v
        .iter()
        .map(|&s| (s as f64 / 2_147_483_648.0) as f32)
        .collect();
    assert_eq!(a.samples, want);
}

#[test]
fn float32_and_float64() {
    let v = [-1.0f32, -0.5, 0.0, 0.25, 0.999, 1.5];
    let b32: Vec<u8> = v.iter().flat_map(|s| s.to_le_bytes()).collect();
    let b64: Vec<u8> = v.iter().flat_map(|s| f64::from(*s).to_le_bytes()).collect();
    let p32 = write(
        "f32.wav",
        &riff(&[
            fmt(3, 2, 48000, 32, Some(&[])),
            chunk(b"fact", &3u32.to_le_bytes()),
            chunk(b"data", &b32),
        ]),
    );
    let p64 = write(
        "f64.wav",
        &riff(&[fmt(3, 1, 48000, 64, None), chunk(b"data", &b64)]),
    );
    assert_eq!(decode_file(&p32).unwrap().samples, v);
    let a = decode_file(&p64).unwrap();
    assert_eq!(a.samples, v);
    assert_eq!(a.channels, 1);
}

#[test]
fn extensible_pcm_float_and_20_bit() {
    let p16 = write(
        "ext16.wav",
        &riff(&[
            fmt_ext(2, 44100, 16, 16, 0x3, 1),
            chunk(b"data", &le16(&RAMP16)),
        ]),
    );
    assert_eq!(decode_file(&p16).unwrap().samples, expect16(&RAMP16));

    // 20 valid bits, MSB-aligned in 24-bit words: scale is still 1/2^23.
    let v = [-8_388_608, -16, 0, 16, 8_388_592];
    let p20 = write(
        "ext20.wav",
        &riff(&[fmt_ext(1, 96000, 24, 20, 0x4, 1), chunk(b"data", &le24(&v))]),
    );
    let a = decode_file(&p20).unwrap();
    assert_eq!(
        a.samples,
        v.iter()
            .map(|&s| s as f32 / 8_388_608.0)
            .collect::<Vec<_>>()
    );
    let info = probe_file(&p20).unwrap();
    assert_eq!(info.bits_per_sample, Some(20));
    assert_eq!(info.sample_rate, 96000);

    let f: Vec<u8> = [0.5f32, -0.25, 0.125, 0.0, 0.0, 1.0]
        .iter()
        .flat_map(|s| s.to_le_bytes())
        .collect();
    let pf = write(
        "extf.wav",
        &riff(&[fmt_ext(6, 48000, 32, 32, 0x3F, 3), chunk(b"data", &f)]),
    );
    let a = decode_file(&pf).unwrap();
    assert_eq!((a.channels, a.frames()), (6, 1));
    assert_eq!(a.samples, vec![0.5, -0.25, 0.125, 0.0, 0.0, 1.0]);
}

/// G.711 code → 16-bit value pairs from the ITU-T G.711 tables.
const MULAW: [(u8, i16); 8] = [
    (0x00, -32124),
    (0x0F, -16764),
    (0x70, -120),
    (0x7E, -8),
    (0x7F, 0),
    (0x80, 32124),
    (0xF0, 120),
    (0xFF, 0),
];
const ALAW: [(u8, i16); 7] = [
    (0xD5, 8),
    (0x55, -8),
    (0xAA, 32256),
    (0x2A, -32256),
    (0x80, 5504),
    (0x00, -5504),
    (0xD4, 24),
];

fn g711_check(path: &Path, pairs: &[(u8, i16)]) {
    let a = decode_file(path).unwrap();
    let got: Vec<f32> = a.samples.clone();
    let want: Vec<f32> = pairs.iter().map(|&(_, v)| f32::from(v) / 32768.0).collect();
    assert_eq!(got, want, "{}", path.display());
}

#[test]
fn mulaw_and_alaw_all_header_forms() {
    let mu: Vec<u8> = MULAW.iter().map(|p| p.0).collect();
    let al: Vec<u8> = ALAW.iter().map(|p| p.0).collect();
    // 18-byte fmt with cbSize = 0, and a fact chunk: the standard form.
    let p = write(
        "mulaw.wav",
        &riff(&[
            fmt(7, 1, 8000, 8, Some(&[])),
            chunk(b"fact", &8u32.to_le_bytes()),
            chunk(b"data", &mu),
        ]),
    );
    g711_check(&p, &MULAW);
    let p = write(
        "alaw.wav",
        &riff(&[fmt(6, 1, 8000, 8, Some(&[])), chunk(b"data", &al)]),
    );
    g711_check(&p, &ALAW);
    // 16-byte fmt (no cbSize): symphonia 0.6 alone rejects this.
    let p = write(
        "mulaw16.wav",
        &riff(&[fmt(7, 1, 8000, 8, None), chunk(b"data", &mu)]),
    );
    g711_check(&p, &MULAW);
    let p = write(
        "alaw16.wav",
        &riff(&[fmt(6, 1, 8000, 8, None), chunk(b"data", &al)]),
    );
    g711_check(&p, &ALAW);
    // Inside WAVE_FORMAT_EXTENSIBLE: symphonia 0.6 alone fails ("unexpected bits per sample").
    let p = write(
        "mulaw_ext.wav",
        &riff(&[fmt_ext(1, 8000, 8, 8, 0x4, 7), chunk(b"data", &mu)]),
    );
    g711_check(&p, &MULAW);
    let p = write(
        "alaw_ext.wav",
        &riff(&[fmt_ext(1, 8000, 8, 8, 0x4, 6), chunk(b"data", &al)]),
    );
    g711_check(&p, &ALAW);
    let info = probe_file(&p).unwrap();
    assert_eq!((info.codec.as_str(), info.frames), ("A-law", Some(7)));
}

/// Every one of the 256 codes, against SoX's G.711 decoder.
#[test]
fn g711_all_codes_match_sox() {
    if skip_tools() {
        return;
    }
    for (tag, enc, name) in [(7u16, "u-law", "mu"), (6, "a-law", "a")] {
        let codes: Vec<u8> = (0..=255).collect();
        let p = write(
            &format!("g711_{name}.wav"),
            &riff(&[fmt(tag, 1, 8000, 8, Some(&[])), chunk(b"data", &codes)]),
        );
        let raw = tmp(&format!("g711_{name}.raw"));
        run(
            Command::new("sox")
                .arg(&p)
                .args(["-t", "raw", "-e", "signed", "-b", "16"])
                .arg(&raw),
            "sox",
        );
        let want: Vec<f32> = std::fs::read(&raw)
            .unwrap()
            .chunks(2)
            .map(|b| f32::from(i16::from_le_bytes([b[0], b[1]])) / 32768.0)
            .collect();
        assert_eq!(want.len(), 256, "{enc}");
        assert_eq!(decode_file(&p).unwrap().samples, want, "{enc}");
    }
}

#[test]
fn odd_sized_chunks_before_data() {
    let data = chunk(b"data", &le16(&RAMP16));
    let f = fmt(1, 1, 22050, 16, None);
    let cases: Vec<(&str, Vec<u8>)> = vec![
        // LIST/INFO of odd size (symphonia 0.6 alone fails on this: it skips the pad twice).
        (
            "list_info_odd.wav",
            riff(&[
                f.clone(),
                chunk(b"LIST", b"INFOINAM\x03\x00\x00\x00abc"),
                data.clone(),
            ]),
        ),
        (
            "list_adtl_odd.wav",
            riff(&[
                f.clone(),
                chunk(b"LIST", b"adtllabl\x05\x00\x00\x00\x01\x00\x00\x00x"),
                data.clone(),
            ]),
        ),
        // bext and JUNK of odd size, LIST before fmt.
        (
            "bext_junk.wav",
            riff(&[
                chunk(b"JUNK", &[0; 27]),
                f.clone(),
                chunk(b"bext", &[b'x'; 603]),
                chunk(b"JUNK", &[0; 7]),
                data.clone(),
            ]),
        ),
        (
            "list_first.wav",
            riff(&[
                chunk(b"LIST", b"INFOISFT\x01\x00\x00\x00a"),
                f.clone(),
                data.clone(),
            ]),
        ),
        // Chunks after data (odd data included) are never reached.
        (
            "after_data.wav",
            riff(&[
                f.clone(),
                data.clone(),
                chunk(b"LIST", b"INFOICMT\x01\x00\x00\x00z"),
            ]),
        ),
    ];
    for (name, bytes) in cases {
        let p = write(name, &bytes);
        let a = decode_file(&p).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(a.samples, expect16(&RAMP16), "{name}");
        assert_eq!(probe_file(&p).unwrap().frames, Some(8), "{name}");
    }

    // A writer that forgot the pad byte after an odd chunk.
    let mut unpadded = chunk(b"bext", b"abc");
    unpadded.pop();
    let p = write("unpadded.wav", &riff(&[f.clone(), unpadded, data.clone()]));
    assert_eq!(decode_file(&p).unwrap().samples, expect16(&RAMP16));

    // 8-bit mono with an odd number of samples, then an odd chunk.
    let p = write(
        "pcm8_odd.wav",
        &riff(&[
            fmt(1, 1, 8000, 8, None),
            chunk(b"data", &[128, 255, 0]),
            chunk(b"LIST", b"INFOINAM\x01\x00\x00\x00a"),
        ]),
    );
    assert_eq!(
        decode_file(&p).unwrap().samples,
        vec![0.0, 127.0 / 128.0, -1.0]
    );
}

#[test]
fn rf64_and_streamed_lengths() {
    let pcm = le16(&RAMP16);
    let mut ds64 = Vec::new();
    ds64.extend_from_slice(&0u64.to_le_bytes()); // riff size (unused)
    ds64.extend_from_slice(&(pcm.len() as u64).to_le_bytes());
    ds64.extend_from_slice(&8u64.to_le_bytes()); // sample count
    ds64.extend_from_slice(&0u32.to_le_bytes()); // table length
    let mut data = b"data".to_vec();
    data.extend_from_slice(&u32::MAX.to_le_bytes());
    data.extend_from_slice(&pcm);
    let mut bytes = riff(&[
        chunk(b"ds64", &ds64),
        fmt(1, 2, 48000, 16, None),
        data.clone(),
    ]);
    bytes[..4].copy_from_slice(b"RF64");
    bytes[4..8].copy_from_slice(&u32::MAX.to_le_bytes());
    // Trailing chunk after data must not be read as audio.
    bytes.extend(chunk(b"JUNK", &[9; 10]));
    let p = write("rf64.wav", &bytes);
    assert_eq!(decode_file(&p).unwrap().samples, expect16(&RAMP16));

    // A RIFF written to a pipe: both sizes 0xFFFFFFFF, audio runs to the end of the file.
    let mut bytes = riff(&[fmt(1, 2, 48000, 16, None), data]);
    bytes[4..8].copy_from_slice(&u32::MAX.to_le_bytes());
    let p = write("streamed.wav", &bytes);
    assert_eq!(decode_file(&p).unwrap().samples, expect16(&RAMP16));
}

#[test]
fn probe_reports_format_without_decoding() {
    let p = write(
        "probe24.wav",
        &riff(&[
            fmt(1, 2, 48000, 24, None),
            chunk(b"data", &le24(&[0; 96000 * 2])),
        ]),
    );
    let info = probe_file(&p).unwrap();
    assert_eq!(info.container, "WAV");
    assert_eq!(info.codec, "24-bit PCM");
    assert_eq!((info.sample_rate, info.channels), (48000, 2));
    assert_eq!(info.bits_per_sample, Some(24));
    assert_eq!(info.frames, Some(96000));
    assert_eq!(info.duration_seconds, Some(2.0));
}

// ---------------------------------------------------------------------------------------------
// Compressed formats made by the reference encoders.

#[test]
fn flac_is_bit_exact() {
    if skip_tools() {
        return;
    }
    let frames = 66_161; // not a multiple of any block size
    let (wav, pcm) = sine_wav("tone_flac.wav", 44100, 440.0, frames, 0.5);
    let out = tmp("tone.flac");
    run(
        Command::new("flac")
            .args(["-s", "-f", "-o"])
            .arg(&out)
            .arg(&wav),
        "flac",
    );
    let info = probe_file(&out).unwrap();
    assert_eq!(
        (info.container.as_str(), info.codec.as_str()),
        ("FLAC", "FLAC")
    );
    assert_eq!(
        (info.sample_rate, info.channels, info.frames),
        (44100, 1, Some(frames as u64))
    );
    let a = decode_file(&out).unwrap();
    assert_eq!(a.frames(), frames as u64);
    assert_eq!(a.samples, expect16(&pcm));
    assert_tone(&a.samples, 44100, 440.0);
}

#[test]
fn mp3_is_gapless_and_keeps_the_tone() {
    if skip_tools() {
        return;
    }
    let frames = 66_150; // 1.5 s
    let (wav, _) = sine_wav("tone_mp3.wav", 44100, 440.0, frames, 0.5);
    // With ID3v1 and ID3v2 tags, as taggers leave them.
    let out = tmp("tone.mp3");
    run(
        Command::new("lame")
            .args(["--quiet", "-b", "128", "--tt", "Risks", "--add-id3v2"])
            .arg(&wav)
            .arg(&out),
        "lame",
    );
    let info = probe_file(&out).unwrap();
    assert_eq!(
        (info.container.as_str(), info.codec.as_str()),
        ("MP3", "MP3")
    );
    let a = decode_file(&out).unwrap();
    assert_eq!(a.sample_rate, 44100);
    let diff = (a.frames() as i64 - frames as i64).abs();
    assert!(
        diff <= 44,
        "gapless MP3 off by {diff} frames (more than 1 ms)"
    );
    assert_tone(&a.samples[4410..a.samples.len() - 4410], 44100, 440.0);
    // Encoder delay removed: the decoded tone lines up with the original to the sample.
    // (LAME at 128 kb/s leaves the tone about 5% quieter; ffmpeg decodes the same.)
    let reference =
        |i: usize| (0.5 * (2.0 * std::f64::consts::PI * 440.0 * i as f64 / 44100.0).sin()) as f32;
    let (lag, gain) = (-100i64..100)
        .map(|lag| {
            let (mut dot, mut norm) = (0.0f64, 0.0f64);
            for i in 441..441 + 8820 {
                let r = f64::from(reference(i));
                dot += f64::from(a.samples[(i as i64 + lag) as usize]) * r;
                norm += r * r;
            }
            (lag, dot / norm)
        })
        .fold((0, f64::MIN), |best, x| if x.1 > best.1 { x } else { best });
    assert_eq!(lag, 0, "MP3 not time-aligned (gain {gain})");
    assert!(gain > 0.9, "MP3 tone too weak: {gain}");
}

#[test]
fn ogg_vorbis_length_and_tone() {
    if skip_tools() {
        return;
    }
    let frames = 70_001;
    let (wav, _) = sine_wav("tone_ogg.wav", 48000, 440.0, frames, 0.5);
    let out = tmp("tone.ogg");
    run(
        Command::new("oggenc")
            .args(["-Q", "-q", "4", "-o"])
            .arg(&out)
            .arg(&wav),
        "vorbis-tools",
    );
    let info = probe_file(&out).unwrap();
    assert_eq!(
        (info.container.as_str(), info.codec.as_str()),
        ("Ogg", "Vorbis")
    );
    let a = decode_file(&out).unwrap();
    assert_eq!(a.sample_rate, 48000);
    let diff = (a.frames() as i64 - frames as i64).abs();
    assert!(diff <= 48, "Ogg Vorbis off by {diff} frames");
    assert_tone(&a.samples[4800..a.samples.len() - 4800], 48000, 440.0);
}

#[test]
fn adpcm_wav_from_sox() {
    if skip_tools() {
        return;
    }
    let frames = 16_000;
    let (wav, _) = sine_wav("tone_adpcm_src.wav", 16000, 440.0, frames, 0.5);
    for enc in ["ima-adpcm", "ms-adpcm"] {
        let out = tmp(&format!("tone_{enc}.wav"));
        run(
            Command::new("sox").arg(&wav).args(["-e", enc]).arg(&out),
            "sox",
        );
        let a = decode_file(&out).unwrap_or_else(|e| panic!("{enc}: {e}"));
        // The last block is padded; the `fact` chunk gives the true length.
        assert_eq!(a.frames(), frames as u64, "{enc}");
        assert_eq!(
            probe_file(&out).unwrap().frames,
            Some(frames as u64),
            "{enc}"
        );
        assert_tone(&a.samples[1600..14400], 16000, 440.0);
    }
}

// ---------------------------------------------------------------------------------------------
// Bad input: a clear error naming the file and the fix, never a panic.

#[test]
fn missing_file() {
    let p = tmp("no-such-clip.wav");
    let e = decode_file(&p).unwrap_err();
    assert_clear_error(&e, &p, "cannot");
    assert!(e.fix.unwrap().contains("exists"));
    assert_clear_error(&probe_file(&p).unwrap_err(), &p, "cannot");
}

#[test]
fn empty_file() {
    let p = write("empty.wav", b"");
    assert_clear_error(&decode_file(&p).unwrap_err(), &p, "empty");
    assert_clear_error(&probe_file(&p).unwrap_err(), &p, "empty");
}

#[test]
fn text_named_wav() {
    let p = write(
        "notes.wav",
        "Section 3: risks.\nRead slowly – pause after each item.\n".as_bytes(),
    );
    assert_clear_error(&decode_file(&p).unwrap_err(), &p, "text file");
    let p = write("notes.mp3", b"not really an mp3\n");
    assert_clear_error(&decode_file(&p).unwrap_err(), &p, "text file");
}

#[test]
fn garbage_bytes() {
    // Deterministic noise (xorshift), with no audio magic at the start.
    let mut x = 0x9E37_79B9_7F4A_7C15u64;
    let bytes: Vec<u8> = (0..65536)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect();
    for name in ["garbage.wav", "garbage.bin", "garbage.mp3", "garbage.flac"] {
        let p = write(name, &bytes);
        let e = decode_file(&p).unwrap_err();
        assert_eq!(e.file.as_deref(), Some(p.as_path()), "{e}");
        assert!(e.fix.is_some(), "{e}");
    }
    let p = tmp("garbage.wav");
    assert_clear_error(
        &decode_file(&p).unwrap_err(),
        &p,
        "not a recognised audio file",
    );
}

#[test]
fn truncated_wav() {
    let mut bytes = riff(&[
        fmt(1, 1, 8000, 16, None),
        chunk(b"data", &le16(&[1000; 8000])),
    ]);
    bytes.truncate(44 + 5000);
    let p = write("truncated.wav", &bytes);
    let e = decode_file(&p).unwrap_err();
    assert_clear_error(&e, &p, "truncated");
    assert!(
        e.message.contains("16000") && e.message.contains("5000"),
        "{e}"
    );
    assert!(e.place.as_deref().unwrap().contains("byte 36"), "{e:?}");
    assert_clear_error(&probe_file(&p).unwrap_err(), &p, "truncated");

    // Cut inside the header.
    let p = write("truncated_header.wav", &bytes[..30]);
    assert_clear_error(&decode_file(&p).unwrap_err(), &p, "truncated");
    let p = write("truncated_riff.wav", &bytes[..10]);
    assert_clear_error(&decode_file(&p).unwrap_err(), &p, "truncated");
}

#[test]
fn truncated_compressed() {
    if skip_tools() {
        return;
    }
    let (wav, _) = sine_wav("tone_trunc.wav", 44100, 440.0, 88200, 0.5);
    let flac = tmp("trunc_src.flac");
    run(
        Command::new("flac")
            .args(["-s", "-f", "-o"])
            .arg(&flac)
            .arg(&wav),
        "flac",
    );
    let mp3 = tmp("trunc_src.mp3");
    run(
        Command::new("lame")
            .args(["--quiet", "-b", "128"])
            .arg(&wav)
            .arg(&mp3),
        "lame",
    );
    for (name, src) in [("trunc.flac", flac), ("trunc.mp3", mp3)] {
        let bytes = std::fs::read(&src).unwrap();
        let p = write(name, &bytes[..bytes.len() / 2]);
        assert_clear_error(&decode_file(&p).unwrap_err(), &p, "truncated");
    }
}

#[test]
fn zero_channels_and_zero_rate() {
    let p = write(
        "zero_ch.wav",
        &riff(&[fmt(1, 0, 8000, 16, None), chunk(b"data", &le16(&RAMP16))]),
    );
    assert_clear_error(&decode_file(&p).unwrap_err(), &p, "0 channels");
    assert_clear_error(&probe_file(&p).unwrap_err(), &p, "0 channels");
    let p = write(
        "zero_rate.wav",
        &riff(&[fmt(1, 1, 0, 16, None), chunk(b"data", &le16(&RAMP16))]),
    );
    assert_clear_error(&decode_file(&p).unwrap_err(), &p, "0 Hz");
}

#[test]
fn empty_clip_and_structural_errors() {
    let p = write(
        "no_frames.wav",
        &riff(&[fmt(1, 1, 8000, 16, None), chunk(b"data", &[])]),
    );
    assert_clear_error(&decode_file(&p).unwrap_err(), &p, "empty clip");
    let p = write(
        "no_data.wav",
        &riff(&[fmt(1, 1, 8000, 16, None), chunk(b"LIST", b"INFO")]),
    );
    assert_clear_error(&decode_file(&p).unwrap_err(), &p, "no `data` chunk");
    let p = write(
        "data_first.wav",
        &riff(&[chunk(b"data", &le16(&RAMP16)), fmt(1, 1, 8000, 16, None)]),
    );
    assert_clear_error(&decode_file(&p).unwrap_err(), &p, "before any `fmt `");
    let p = write(
        "gsm.wav",
        &riff(&[
            fmt(0x31, 1, 8000, 0, Some(&[0x40, 0x01])),
            chunk(b"data", &[0; 65]),
        ]),
    );
    let e = decode_file(&p).unwrap_err();
    assert_clear_error(&e, &p, "GSM 6.10");
    assert!(
        e.message.contains("FLAC"),
        "should list what is supported: {e}"
    );
    let p = write(
        "pcm40.wav",
        &riff(&[fmt(1, 1, 8000, 40, None), chunk(b"data", &[0; 10])]),
    );
    assert_clear_error(&decode_file(&p).unwrap_err(), &p, "40-bit PCM");
    let aiff = [b"FORM".as_slice(), &[0, 0, 0, 4], b"AIFF"].concat();
    let p = write("clip.aiff", &aiff);
    assert_clear_error(&decode_file(&p).unwrap_err(), &p, "AIFF");
}

#[test]
fn hostile_sizes_do_not_allocate() {
    // fmt claims 4 GB; LIST claims 4 GB; data claims 4 GB: all in a 60-byte file.
    let mut huge_fmt = fmt(1, 1, 8000, 16, None);
    huge_fmt[4..8].copy_from_slice(&0xFFFF_FFF0u32.to_le_bytes());
    let p = write("huge_fmt.wav", &riff(&[huge_fmt]));
    assert!(decode_file(&p).is_err());
    let mut list = chunk(b"LIST", b"INFO");
    list[4..8].copy_from_slice(&0xFFFF_FFF0u32.to_le_bytes());
    let p = write("huge_list.wav", &riff(&[fmt(1, 1, 8000, 16, None), list]));
    let e = decode_file(&p).unwrap_err();
    assert_clear_error(&e, &p, "`LIST` chunk");
    assert_clear_error(&e, &p, "past the end");
    let mut data = chunk(b"data", &[0; 4]);
    data[4..8].copy_from_slice(&0xFFFF_FFF0u32.to_le_bytes());
    let p = write("huge_data.wav", &riff(&[fmt(1, 1, 8000, 16, None), data]));
    assert_clear_error(&decode_file(&p).unwrap_err(), &p, "truncated");
}

#[test]
fn folder_is_not_a_clip() {
    let p = tmp("a_folder.wav");
    std::fs::create_dir_all(&p).unwrap();
    assert_clear_error(&decode_file(&p).unwrap_err(), &p, "folder");
}
