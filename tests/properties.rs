//! Property-based tests (issue 7), the stable-CI twins of the fuzz targets in `fuzz/`:
//!
//! - sidecars: any titles (any Unicode, control characters, quotes, `-->`, `=;#\`) and any
//!   chapter positions give sidecars that parse back (with the strict readers in
//!   `tests/support/sidecar_parsers.rs`) to the same chapter count, the same times under
//!   the documented floor rules and the same one-line titles; the WAV labels round-trip
//!   through `narrate::wav::reader`;
//! - `wav_reader`: `parse_wav_info` on any bytes, and on damaged real WAVs, never panics, and
//!   what it reports lies inside the file;
//! - `decode`: `decode_file` on the same never panics, and what it decodes is whole frames at
//!   a rate it accepts;
//! - `manifest`: `parse_manifest_str` and `parse_section_bytes` on any text never panic, and
//!   a well-formed script gives back its title.
//!
//! Case counts are fixed and small so the whole file runs in seconds; the fuzz targets run
//! the same checks for as long as one likes.

#[path = "support/sidecar_parsers.rs"]
mod parsers;

use std::io::Cursor;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};

use proptest::prelude::*;
use proptest::test_runner::{Config, RngSeed};

use narrate::meta::{EpisodeMeta, TagKey};
use narrate::profile::SampleFormat;
use narrate::sidecars::SidecarKind;
use narrate::timeline::{Chapter, Timeline};
use narrate::wav::reader::parse_wav_info;
use narrate::wav::writer::{WavSpec, WavWriter};

/// `cases` cases from a fixed seed, so that CI is repeatable; `PROPTEST_CASES` and
/// `PROPTEST_RNG_SEED` override both (e.g. `PROPTEST_CASES=100000` for a long run).
fn config(cases: u32) -> Config {
    let env = |name: &str| std::env::var(name).ok().and_then(|v| v.parse::<u64>().ok());
    Config {
        cases: env("PROPTEST_CASES").map_or(cases, |n| n as u32),
        rng_seed: RngSeed::Fixed(env("PROPTEST_RNG_SEED").unwrap_or(0x1550_e007)),
        failure_persistence: None,
        ..Config::default()
    }
}

// ---------------------------------------------------------------------------------------------
// Strategies.

/// Pieces that each sidecar format must escape or normalise.
fn nasty_piece() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("\"".to_string()),
        Just("\"\"".to_string()),
        Just("-->".to_string()),
        Just("--".to_string()),
        Just(">".to_string()),
        Just("=".to_string()),
        Just(";".to_string()),
        Just("#".to_string()),
        Just("\\".to_string()),
        Just("\\\\".to_string()),
        Just("\n".to_string()),
        Just("\r\n".to_string()),
        Just("\r".to_string()),
        Just("\t".to_string()),
        Just("\0".to_string()),
        Just(" ".to_string()),
        Just("\u{a0}".to_string()),
        Just("\u{85}".to_string()),
        Just("\u{2028}".to_string()),
        Just("\u{3000}".to_string()),
        Just("&amp;".to_string()),
        Just("&".to_string()),
        Just("<b>".to_string()),
        Just("[CHAPTER]".to_string()),
        Just("(".to_string()),
        Just("שלום".to_string()),
        Just("مرحبا".to_string()),
        Just("\u{202e}".to_string()),
        Just("\u{feff}".to_string()),
        Just("é".to_string()),
        Just("🫀".to_string()),
        "[a-zA-Z0-9 ]{1,8}",
        any::<char>().prop_map(String::from),
    ]
}

/// Any string: arbitrary Unicode, or a run of nasty pieces (sometimes long, for CUE's cut).
fn title() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        prop::collection::vec(nasty_piece(), 0..24).prop_map(|v| v.concat()),
        prop::collection::vec(nasty_piece(), 20..60).prop_map(|v| v.concat()),
    ]
}

fn rate() -> impl Strategy<Value = u32> {
    prop_oneof![
        Just(8_000u32),
        Just(44_100),
        Just(48_000),
        1u32..=768_000,
        Just(1u32),
        Just(u32::MAX),
    ]
}

/// A timeline: any rate, any length (up to 2^40 frames), sorted chapter starts inside it.
fn timeline() -> impl Strategy<Value = Timeline> {
    (
        rate(),
        0u64..=(1 << 40),
        prop::collection::vec((any::<u64>(), title()), 0..12),
    )
        .prop_map(|(sample_rate, total_frames, raw)| {
            let mut starts: Vec<u64> = raw.iter().map(|(s, _)| s % (total_frames + 1)).collect();
            starts.sort_unstable();
            Timeline {
                sample_rate,
                total_frames,
                chapters: starts
                    .into_iter()
                    .zip(raw.into_iter().map(|(_, t)| t))
                    .map(|(start, title)| Chapter {
                        title,
                        start,
                        length: 0,
                    })
                    .collect(),
            }
        })
}

fn meta() -> impl Strategy<Value = EpisodeMeta> {
    (
        title(),
        prop::option::of(title()),
        prop::option::of(title()),
        prop::option::of(title()),
    )
        .prop_map(|(title, album, artist, comment)| {
            let mut tags = vec![(TagKey::Title, title)];
            tags.extend(album.map(|v| (TagKey::Album, v)));
            tags.extend(artist.map(|v| (TagKey::Artist, v)));
            tags.extend(comment.map(|v| (TagKey::Comment, v)));
            tags.push((TagKey::Software, "narrate 0.1.0".into()));
            EpisodeMeta {
                id: "ep".into(),
                tags,
            }
        })
}

// ---------------------------------------------------------------------------------------------
// Sidecars: the twin of fuzz target `sidecars`.

/// Every sidecar of `meta` and `t` parses back to the same chapters, times and titles.
fn check_sidecars(meta: &EpisodeMeta, t: &Timeline) -> Result<(), TestCaseError> {
    let render = |kind: SidecarKind| kind.render(meta, t, "ep.wav", &[]);
    let floor = |frame: u64, per_second: u64| {
        (u128::from(frame) * u128::from(per_second) / u128::from(t.sample_rate)) as u64
    };
    let n = t.chapters.len();
    let end = |i: usize| t.chapters.get(i + 1).map_or(t.total_frames, |c| c.start);
    let one_line = |i: usize| parsers::one_line(&t.chapters[i].title);

    // JSON: milliseconds, one-line titles.
    let (doc, json) =
        parsers::json_chapters(&render(SidecarKind::ChaptersJson)).map_err(TestCaseError::fail)?;
    prop_assert_eq!(json.len(), n);
    for (i, mark) in json.iter().enumerate() {
        prop_assert_eq!(mark.start, floor(t.chapters[i].start, 1000));
        prop_assert_eq!(mark.end, Some(floor(end(i), 1000)));
        prop_assert_eq!(&mark.title, &one_line(i));
    }
    prop_assert_eq!(
        doc["title"].as_str(),
        Some(&*parsers::one_line(meta.title()))
    );
    prop_assert_eq!(
        doc["author"].as_str().map(String::from),
        meta.get(TagKey::Artist).map(parsers::one_line)
    );
    prop_assert_eq!(doc["description"].as_str(), meta.get(TagKey::Comment));

    // CUE: CD frames, the quote rule, at most 99 tracks.
    let (cue_title, cue) =
        parsers::cue_sheet(&render(SidecarKind::Cue)).map_err(TestCaseError::fail)?;
    prop_assert_eq!(cue_title, parsers::cue_title(meta.title()));
    prop_assert_eq!(cue.len(), n.min(99));
    for (i, mark) in cue.iter().enumerate() {
        prop_assert_eq!(mark.start, floor(t.chapters[i].start, 75));
        prop_assert_eq!(&mark.title, &parsers::cue_title(&t.chapters[i].title));
    }

    // WebVTT: milliseconds, one-line titles.
    let vtt = parsers::webvtt(&render(SidecarKind::WebVtt)).map_err(TestCaseError::fail)?;
    prop_assert_eq!(vtt.len(), n);
    for (i, mark) in vtt.iter().enumerate() {
        prop_assert_eq!(mark.start, floor(t.chapters[i].start, 1000));
        prop_assert_eq!(mark.end, Some(floor(end(i), 1000)));
        prop_assert_eq!(&mark.title, &one_line(i));
    }

    // ffmetadata, read the way ffmpeg reads it: tags keep their lines.
    let ff = parsers::ffmetadata(&render(SidecarKind::FfMetadata)).map_err(TestCaseError::fail)?;
    let mut expected = vec![("title".to_string(), parsers::ffmeta_title(meta.title()))];
    for (key, value) in meta.tags.iter().filter(|(k, _)| *k != TagKey::Title) {
        let name = match key {
            TagKey::Album => "album",
            TagKey::Artist => "artist",
            TagKey::Comment => "comment",
            TagKey::Software => "encoder",
            other => unreachable!("{other:?}"),
        };
        expected.push((name.to_string(), parsers::ffmeta_tag(value)));
    }
    prop_assert_eq!(&ff.tags, &expected);
    let marks = parsers::ffmeta_marks(&ff).map_err(TestCaseError::fail)?;
    prop_assert_eq!(marks.len(), n);
    for (i, mark) in marks.iter().enumerate() {
        prop_assert_eq!(mark.start, floor(t.chapters[i].start, 1000));
        prop_assert_eq!(mark.end, Some(floor(end(i), 1000)));
        prop_assert_eq!(&mark.title, &parsers::ffmeta_title(&t.chapters[i].title));
    }

    // Audacity labels: microseconds, one-line titles.
    let labels = parsers::audacity_labels(&render(SidecarKind::AudacityLabels))
        .map_err(TestCaseError::fail)?;
    prop_assert_eq!(labels.len(), n);
    for (i, mark) in labels.iter().enumerate() {
        prop_assert_eq!(mark.start, floor(t.chapters[i].start, 1_000_000));
        prop_assert_eq!(mark.end, Some(floor(end(i), 1_000_000)));
        prop_assert_eq!(&mark.title, &one_line(i));
    }

    // Transcript (no narration here): the title, then per chapter a blank line and
    // `[h:mm:ss] Title` in floored seconds.
    let transcript = SidecarKind::Transcript.render(meta, t, "ep.wav", &[]);
    let lines: Vec<&str> = transcript.split('\n').collect();
    prop_assert_eq!(lines.len(), 2 + 2 * n, "{:?}", transcript);
    prop_assert_eq!(lines[0], parsers::one_line(meta.title()));
    for i in 0..n {
        let s = floor(t.chapters[i].start, 1);
        let stamp = format!("[{}:{:02}:{:02}]", s / 3600, s / 60 % 60, s % 60);
        let title = one_line(i);
        let expected = if title.is_empty() {
            stamp
        } else {
            format!("{stamp} {title}")
        };
        prop_assert_eq!(lines[1 + 2 * i], "");
        prop_assert_eq!(lines[2 + 2 * i], expected);
    }
    prop_assert_eq!(*lines.last().unwrap(), "");
    Ok(())
}

proptest! {
    #![proptest_config(config(512))]

    #[test]
    fn sidecars_round_trip(meta in meta(), t in timeline()) {
        check_sidecars(&meta, &t)?;
    }
}

proptest! {
    #![proptest_config(config(128))]

    /// Chapter titles without NUL come back from the WAV's `labl` chunks as written, and
    /// tags from `INFO`; positions from `cue `.
    #[test]
    fn wav_labels_round_trip(
        titles in prop::collection::vec(title(), 0..8),
        tag in title(),
        total in 0u64..2_000,
    ) {
        let titles: Vec<String> = titles.into_iter().map(|t| t.replace('\0', "")).collect();
        let tag = tag.replace('\0', "");
        let n = titles.len() as u64;
        let t = Timeline {
            sample_rate: 8_000,
            total_frames: total,
            chapters: titles
                .iter()
                .enumerate()
                .map(|(i, title)| Chapter { title: title.clone(), start: total * i as u64 / n.max(1), length: 0 })
                .collect(),
        };
        let meta = EpisodeMeta { id: "ep".into(), tags: vec![(TagKey::Title, tag.clone())] };
        let spec = WavSpec { sample_rate: 8_000, channels: 1, format: SampleFormat::Pcm16 };
        let mut w = WavWriter::new(Cursor::new(Vec::new()), spec, &meta, &t).unwrap();
        w.write_i16(&vec![0; total as usize]).unwrap();
        let bytes = w.finish().unwrap().into_inner();
        let info = parse_wav_info(&bytes).unwrap();
        prop_assert!(info.warnings.is_empty(), "{:?}", info.warnings);
        prop_assert_eq!(info.frames, total);
        // An empty tag is left out.
        let expected_tag = Some(tag.as_str()).filter(|t| !t.is_empty());
        prop_assert_eq!(info.tag("INAM"), expected_tag);
        prop_assert_eq!(info.cues.len(), titles.len());
        for (cue, chapter) in info.cues.iter().zip(&t.chapters) {
            prop_assert_eq!(cue.label.as_deref(), Some(chapter.title.as_str()));
            prop_assert_eq!(cue.frame(), chapter.start);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// WAV reader and decoder: twins of fuzz targets `wav_reader` and `decode`.

/// A small valid WAV: 16-bit PCM, float or µ-law, with chapters and tags, to be damaged.
fn seed_wav(kind: u8, frames: usize) -> Vec<u8> {
    let chunk = |id: &[u8; 4], body: &[u8]| {
        let mut out = id.to_vec();
        out.extend_from_slice(&(body.len() as u32).to_le_bytes());
        out.extend_from_slice(body);
        if body.len() % 2 == 1 {
            out.push(0);
        }
        out
    };
    let (tag, bits): (u16, u16) = match kind % 3 {
        0 => (1, 16),
        1 => (3, 32),
        _ => (7, 8),
    };
    let align = bits / 8;
    let mut fmt = Vec::new();
    for v in [tag, 1] {
        fmt.extend_from_slice(&v.to_le_bytes());
    }
    for v in [8_000u32, 8_000 * u32::from(align)] {
        fmt.extend_from_slice(&v.to_le_bytes());
    }
    for v in [align, bits] {
        fmt.extend_from_slice(&v.to_le_bytes());
    }
    let data: Vec<u8> = (0..frames)
        .flat_map(|i| {
            let x = ((i as f32) * 0.3).sin() * 0.5;
            match kind % 3 {
                0 => ((x * 32767.0) as i16).to_le_bytes().to_vec(),
                1 => x.to_le_bytes().to_vec(),
                _ => vec![(i * 37) as u8],
            }
        })
        .collect();
    let mut cue = 1u32.to_le_bytes().to_vec();
    for v in [1u32, 0] {
        cue.extend_from_slice(&v.to_le_bytes());
    }
    cue.extend_from_slice(b"data");
    for v in [0u32, 0, 3] {
        cue.extend_from_slice(&v.to_le_bytes());
    }
    let mut adtl = b"adtl".to_vec();
    adtl.extend_from_slice(&chunk(b"labl", b"\x01\0\0\0Intro\0"));
    let mut info = b"INFO".to_vec();
    info.extend_from_slice(&chunk(b"INAM", b"Title\0"));
    let body = [
        chunk(b"fmt ", &fmt),
        chunk(b"LIST", &info),
        chunk(b"data", &data),
        chunk(b"cue ", &cue),
        chunk(b"LIST", &adtl),
    ]
    .concat();
    let mut out = b"RIFF".to_vec();
    out.extend_from_slice(&(body.len() as u32 + 4).to_le_bytes());
    out.extend_from_slice(b"WAVE");
    out.extend_from_slice(&body);
    out
}

/// Damage: overwrite bytes (header fields most of all), then maybe cut the file.
fn damaged_wav() -> impl Strategy<Value = Vec<u8>> {
    (
        any::<u8>(),
        1usize..300,
        prop::collection::vec((0usize..120, any::<u8>()), 0..8),
        prop::collection::vec((any::<usize>(), any::<u8>()), 0..4),
        prop::option::of(any::<usize>()),
    )
        .prop_map(|(kind, frames, head_edits, edits, cut)| {
            let mut bytes = seed_wav(kind, frames);
            let len = bytes.len();
            for (at, b) in head_edits {
                bytes[at % len] = b;
            }
            for (at, b) in edits {
                bytes[at % len] = b;
            }
            if let Some(cut) = cut {
                bytes.truncate(cut % (len + 1));
            }
            bytes
        })
}

/// Any bytes, damaged real WAVs, or a RIFF header over noise.
fn wav_like() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        prop::collection::vec(any::<u8>(), 0..256),
        damaged_wav(),
        prop::collection::vec(any::<u8>(), 0..256).prop_map(|noise| {
            let mut out = b"RIFF\xff\xff\xff\xffWAVE".to_vec();
            out.extend(noise);
            out
        }),
    ]
}

/// The twin of fuzz target `wav_reader`.
fn check_wav_reader(bytes: &[u8]) -> Result<(), TestCaseError> {
    if let Ok(info) = parse_wav_info(bytes) {
        let len = bytes.len() as u64;
        prop_assert_eq!(info.file_size, len);
        prop_assert!(info.data_offset + info.data_size <= len);
        for chunk in &info.chunks {
            prop_assert!(chunk.offset + 8 <= len);
        }
        // The report renders either way.
        let inspection =
            narrate::inspect::Inspection::from_info(std::path::Path::new("x.wav"), &info);
        let _ = narrate::inspect::render_text(&inspection);
        prop_assert!(narrate::inspect::render_json(&inspection).is_ok());
    }
    Ok(())
}

/// A unique scratch file for decoding.
fn scratch_file() -> PathBuf {
    static N: AtomicUsize = AtomicUsize::new(0);
    std::env::temp_dir().join(format!(
        "narrate-prop-{}-{}.wav",
        std::process::id(),
        N.fetch_add(1, Ordering::SeqCst)
    ))
}

/// The twin of fuzz target `decode`.
fn check_decode(bytes: &[u8]) -> Result<(), TestCaseError> {
    let path = scratch_file();
    std::fs::write(&path, bytes).unwrap();
    let decoded = narrate::decode::decode_file(&path);
    let probed = narrate::decode::probe_file(&path);
    std::fs::remove_file(&path).unwrap();
    match decoded {
        Ok(audio) => {
            prop_assert!(audio.channels > 0);
            prop_assert!(narrate::decode::SAMPLE_RATES.contains(&audio.sample_rate));
            prop_assert!(!audio.samples.is_empty());
            prop_assert_eq!(audio.samples.len() % usize::from(audio.channels), 0);
            // Whatever decodes also probes, with the same format.
            let info = probed.map_err(|e| TestCaseError::fail(e.to_string()))?;
            prop_assert_eq!(info.sample_rate, audio.sample_rate);
            prop_assert_eq!(info.channels, audio.channels);
        }
        Err(e) => {
            prop_assert!(e.file.is_some() && e.fix.is_some(), "{e:?}");
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(config(1024))]

    #[test]
    fn wav_reader_never_panics(bytes in wav_like()) {
        check_wav_reader(&bytes)?;
    }
}

proptest! {
    #![proptest_config(config(384))]

    #[test]
    fn decode_never_panics(bytes in wav_like()) {
        check_decode(&bytes)?;
    }
}

// ---------------------------------------------------------------------------------------------
// Manifest and scripts: the twin of fuzz target `manifest`.

/// TOML-ish text: real keys and tables with any values, or any string.
fn manifest_text() -> impl Strategy<Value = String> {
    let line = prop_oneof![
        Just("[project]".to_string()),
        Just("[defaults]".to_string()),
        Just("[episodes.e]".to_string()),
        Just("[episodes.\"../x\"]".to_string()),
        Just("[profiles.p]".to_string()),
        Just("[profiles.guide]".to_string()),
        Just("title = \"T\"".to_string()),
        Just("pause = 1e308".to_string()),
        Just("pause = nan".to_string()),
        Just("pause = -0.0".to_string()),
        Just("order = [\"a\", \"a\"]".to_string()),
        Just("profiles = [\"guide\", \"nope\"]".to_string()),
        Just("trim = { threshold_db = -50.0, margin = 0.15 }".to_string()),
        Just("sample_rate = 0".to_string()),
        Just("sample_rate = 4294967295".to_string()),
        Just("channels = 0".to_string()),
        Just("channels = 65535".to_string()),
        (
            prop_oneof![
                Just("title"),
                Just("organisation"),
                Just("pause"),
                Just("profiles"),
                Just("description"),
                Just("language"),
                Just("sample_rate"),
                Just("channels"),
                Just("loudness"),
                Just("true_peak"),
                Just("format"),
            ],
            prop_oneof![
                title().prop_map(|t| toml::Value::String(t).to_string()),
                any::<f64>().prop_map(|f| format!("{f:?}")),
                any::<i64>().prop_map(|i| i.to_string()),
                Just("[]".to_string()),
                Just("{}".to_string()),
            ]
        )
            .prop_map(|(k, v)| format!("{k} = {v}")),
        title(),
    ];
    prop::collection::vec(line, 0..16).prop_map(|lines| lines.join("\n"))
}

proptest! {
    #![proptest_config(config(1024))]

    #[test]
    fn manifest_parser_never_panics(text in manifest_text()) {
        if let Err(e) = narrate::project::parse_manifest_str(&text) {
            prop_assert!(e.file.is_some() && e.fix.is_some(), "{e:?}");
        }
    }

    #[test]
    fn section_parser_never_panics(bytes in prop::collection::vec(any::<u8>(), 0..200), front in manifest_text()) {
        for input in [bytes.clone(), format!("+++\n{front}\n+++\ntext").into_bytes()] {
            if let Err(e) = narrate::project::parse_section_bytes(&input) {
                prop_assert!(e.file.is_some() && e.fix.is_some(), "{e:?}");
            }
        }
    }

    /// A script with any title (TOML-escaped), any line ends and an optional BOM gives back
    /// the title trimmed, or a clear refusal when it is empty or holds a NUL.
    #[test]
    fn section_title_round_trips(title in title(), crlf in any::<bool>(), bom in any::<bool>(), text in "[a-z]{1,10}") {
        let nl = if crlf { "\r\n" } else { "\n" };
        let script = format!(
            "{}+++{nl}title = {}{nl}+++{nl}{text}{nl}",
            if bom { "\u{feff}" } else { "" },
            toml::Value::String(title.clone())
        );
        match narrate::project::parse_section_bytes(script.as_bytes()) {
            Ok((got, got_text)) => {
                prop_assert_eq!(got, title.trim());
                prop_assert_eq!(got_text, text);
            }
            Err(e) => {
                prop_assert!(title.trim().is_empty() || title.contains('\0'), "{e}");
            }
        }
    }
}
