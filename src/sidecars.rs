//! Sidecar files: an episode's chapter list in the formats other tools read.
//!
//! Every function here is pure: it returns the file's text (UTF-8, LF line ends, a final
//! newline) and the build writes it. All positions come from the [`Timeline`]'s frame
//! counts, converted by one helper per unit and always **rounded down**, so that seeking
//! to a chapter never lands after its first sample (never clips its first syllable):
//!
//! | unit | rule | used by |
//! | --- | --- | --- |
//! | millisecond | `⌊frame × 1000 / rate⌋` ([`Timeline::millis`]) | JSON (3 decimals), WebVTT, ffmetadata |
//! | microsecond | `⌊frame × 1 000 000 / rate⌋` | Audacity labels (6 decimals) |
//! | CD frame (1/75 s) | `⌊frame × 75 / rate⌋` | CUE sheet |
//! | second | `⌊frame / rate⌋` | transcript |
//!
//! A chapter ends where the next one starts, the last one at the end of the episode
//! ([`Timeline::chapter_end`]). Chapter titles are put on one line the same way everywhere:
//! each run of control characters (newline, tab, …) becomes one space and the ends are
//! trimmed; each format then escapes what it must.

use serde::Serialize;

use crate::meta::{EpisodeMeta, TagKey};
use crate::timeline::Timeline;

/// One kind of sidecar file, written beside the episode's audio as `<stem><suffix>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SidecarKind {
    /// Podcasting 2.0 JSON chapters.
    ChaptersJson,
    /// CUE sheet.
    Cue,
    /// WebVTT chapters.
    WebVtt,
    /// ffmpeg metadata (`;FFMETADATA1`).
    FfMetadata,
    /// Audacity label track.
    AudacityLabels,
    /// Plain-text transcript.
    Transcript,
}

impl SidecarKind {
    /// Every kind, in the order the build writes them.
    pub const ALL: [SidecarKind; 6] = [
        SidecarKind::ChaptersJson,
        SidecarKind::Cue,
        SidecarKind::WebVtt,
        SidecarKind::FfMetadata,
        SidecarKind::AudacityLabels,
        SidecarKind::Transcript,
    ];

    /// What follows the episode's file stem in the sidecar's file name.
    pub fn suffix(self) -> &'static str {
        match self {
            SidecarKind::ChaptersJson => ".chapters.json",
            SidecarKind::Cue => ".cue",
            SidecarKind::WebVtt => ".vtt",
            SidecarKind::FfMetadata => ".ffmeta",
            SidecarKind::AudacityLabels => ".labels.txt",
            SidecarKind::Transcript => ".txt",
        }
    }

    /// The sidecar's file name for an episode whose output files are named `stem.*`.
    pub fn file_name(self, stem: &str) -> String {
        format!("{stem}{}", self.suffix())
    }

    /// The sidecar's text. `audio_file` is the audio's file name as the sidecar should
    /// refer to it; `texts[i]` is the narration of chapter `i` (transcript only).
    pub fn render(
        self,
        meta: &EpisodeMeta,
        timeline: &Timeline,
        audio_file: &str,
        texts: &[&str],
    ) -> String {
        match self {
            SidecarKind::ChaptersJson => chapters_json(meta, timeline, audio_file),
            SidecarKind::Cue => cue_sheet(meta, timeline, audio_file),
            SidecarKind::WebVtt => webvtt(timeline),
            SidecarKind::FfMetadata => ffmetadata(meta, timeline),
            SidecarKind::AudacityLabels => audacity_labels(timeline),
            SidecarKind::Transcript => transcript(meta, timeline, texts),
        }
    }
}

// ---- Time: one conversion per unit (all floor), one formatter per format. ----

/// Whole `1/per_second`ths of a second from the start of the episode to `frame`, rounded down.
fn floor_units(timeline: &Timeline, frame: u64, per_second: u64) -> u64 {
    (u128::from(frame) * u128::from(per_second) / u128::from(timeline.sample_rate)) as u64
}

fn micros(timeline: &Timeline, frame: u64) -> u64 {
    floor_units(timeline, frame, 1_000_000)
}

/// CD frames per second (the CUE sheet's `ff`).
const CD_FRAMES_PER_SECOND: u64 = 75;

fn cd_frames(timeline: &Timeline, frame: u64) -> u64 {
    floor_units(timeline, frame, CD_FRAMES_PER_SECOND)
}

fn whole_seconds(timeline: &Timeline, frame: u64) -> u64 {
    floor_units(timeline, frame, 1)
}

/// Milliseconds as JSON seconds: `ms / 1000` is the double nearest the 3-decimal value,
/// which serde_json prints back with at most 3 decimals (`2799` → `2.799`, `0` → `0.0`).
fn json_seconds(ms: u64) -> f64 {
    ms as f64 / 1000.0
}

/// `HH:MM:SS.mmm` (hours grow past two digits when needed).
fn vtt_time(ms: u64) -> String {
    let s = ms / 1000;
    format!(
        "{:02}:{:02}:{:02}.{:03}",
        s / 3600,
        s / 60 % 60,
        s % 60,
        ms % 1000
    )
}

/// `mm:ss:ff`. Minutes are not capped at 99: a CD holds about 80 minutes (the `cd` profile
/// keeps to that), and for longer files libcue-based readers accept more digits.
fn cue_msf(cd_frames: u64) -> String {
    let s = cd_frames / CD_FRAMES_PER_SECOND;
    format!(
        "{:02}:{:02}:{:02}",
        s / 60,
        s % 60,
        cd_frames % CD_FRAMES_PER_SECOND
    )
}

/// Seconds with 6 decimals.
fn label_seconds(us: u64) -> String {
    format!("{}.{:06}", us / 1_000_000, us % 1_000_000)
}

/// `h:mm:ss`.
fn clock(s: u64) -> String {
    format!("{}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60)
}

// ---- Text ----

/// `text` on one line: each run of control characters (and Unicode line or paragraph
/// separators), with the spaces around it, becomes one space; the ends are trimmed.
fn one_line(text: &str) -> String {
    text.split(|c: char| c.is_control() || c == '\u{2028}' || c == '\u{2029}')
        .map(str::trim)
        .filter(|part| !part.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

/// The title of chapter `index`, on one line.
fn chapter_title(timeline: &Timeline, index: usize) -> String {
    one_line(&timeline.chapters[index].title)
}

// ---- Podcasting 2.0 JSON chapters ----

/// Version of the JSON chapters format we write.
const JSON_CHAPTERS_VERSION: &str = "1.2.0";

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct JsonChapters<'a> {
    version: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    author: Option<String>,
    title: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    podcast_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    description: Option<&'a str>,
    file_name: &'a str,
    chapters: Vec<JsonChapter>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct JsonChapter {
    start_time: f64,
    title: String,
    end_time: f64,
}

/// Podcasting 2.0 JSON chapters (format 1.2.0), pretty-printed with a fixed key order.
///
/// Top level: `version`, then `author` (Artist), `title`, `podcastName` (Album),
/// `description` (Comment) when set, `fileName`, `chapters`. Each chapter: `startTime`,
/// `title`, `endTime`, in seconds with at most 3 decimals (whole milliseconds, floored).
pub fn chapters_json(meta: &EpisodeMeta, timeline: &Timeline, audio_file: &str) -> String {
    let chapters = (0..timeline.chapters.len())
        .map(|i| JsonChapter {
            start_time: json_seconds(timeline.millis(timeline.chapters[i].start)),
            title: chapter_title(timeline, i),
            end_time: json_seconds(timeline.millis(timeline.chapter_end(i))),
        })
        .collect();
    let doc = JsonChapters {
        version: JSON_CHAPTERS_VERSION,
        author: meta.get(TagKey::Artist).map(one_line),
        title: one_line(meta.title()),
        podcast_name: meta.get(TagKey::Album).map(one_line),
        description: meta.get(TagKey::Comment),
        file_name: audio_file,
        chapters,
    };
    let mut text = serde_json::to_string_pretty(&doc).expect("chapters always serialise");
    text.push('\n');
    text
}

// ---- CUE sheet ----

/// Most tracks a CUE sheet can hold.
const CUE_MAX_TRACKS: usize = 99;
/// Longest TITLE or PERFORMER the CUE format allows (CD-TEXT), in characters.
const CUE_MAX_TEXT: usize = 80;

/// A CUE string's contents. CUE has no escapes, so: one line; `"` becomes a typographic
/// quote (“ at the start of a word, ” elsewhere); `\` becomes `/` (libcue and cuetools
/// read `\"` as an escaped quote, so a trailing backslash would swallow the closing quote).
fn cue_string(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut prev: Option<char> = None;
    for c in one_line(text).chars() {
        out.push(match c {
            '"' if prev.is_none_or(|p| p.is_whitespace() || "([{".contains(p)) => '“',
            '"' => '”',
            '\\' => '/',
            c => c,
        });
        prev = Some(c);
    }
    out
}

/// A TITLE or PERFORMER value: [`cue_string`], cut to 80 characters (ending in `…`).
fn cue_text(text: &str) -> String {
    let text = cue_string(text);
    if text.chars().count() <= CUE_MAX_TEXT {
        return text;
    }
    let mut cut: String = text.chars().take(CUE_MAX_TEXT - 1).collect();
    cut.truncate(cut.trim_end().len());
    cut.push('…');
    cut
}

/// A CUE sheet for one WAVE file: `REM DATE`/`REM COMMENT` (Date, Software) and
/// `PERFORMER` (Artist) when set, `TITLE`, `FILE "<audio_file>" WAVE`, then per chapter
/// `TRACK nn AUDIO`, `TITLE`, `INDEX 01 mm:ss:ff` (CD frames, floored). LF line ends;
/// UTF-8 without BOM. Chapters past the 99th cannot be tracks: a `REM` line says so.
pub fn cue_sheet(meta: &EpisodeMeta, timeline: &Timeline, audio_file: &str) -> String {
    let mut out = String::new();
    if let Some(date) = meta.get(TagKey::Date) {
        out.push_str(&format!("REM DATE {}\n", cue_string(date)));
    }
    if let Some(software) = meta.get(TagKey::Software) {
        out.push_str(&format!("REM COMMENT \"{}\"\n", cue_text(software)));
    }
    let chapters = timeline.chapters.len();
    if chapters > CUE_MAX_TRACKS {
        out.push_str(&format!(
            "REM NOTE \"chapters {}-{chapters} left out: a CUE sheet holds at most {CUE_MAX_TRACKS} tracks\"\n",
            CUE_MAX_TRACKS + 1
        ));
    }
    if let Some(artist) = meta.get(TagKey::Artist) {
        out.push_str(&format!("PERFORMER \"{}\"\n", cue_text(artist)));
    }
    out.push_str(&format!("TITLE \"{}\"\n", cue_text(meta.title())));
    out.push_str(&format!("FILE \"{}\" WAVE\n", cue_string(audio_file)));
    for (i, chapter) in timeline.chapters.iter().enumerate().take(CUE_MAX_TRACKS) {
        out.push_str(&format!(
            "  TRACK {:02} AUDIO\n    TITLE \"{}\"\n    INDEX 01 {}\n",
            i + 1,
            cue_text(&chapter.title),
            cue_msf(cd_frames(timeline, chapter.start))
        ));
    }
    out
}

// ---- WebVTT ----

/// Cue text: one line, with `&`, `<` and `>` as character references (so no tag and no
/// `-->` can appear).
fn vtt_text(text: &str) -> String {
    one_line(text)
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// WebVTT chapters: `WEBVTT`, then one cue per chapter, numbered from 1, from its start
/// to the next chapter's start (or the end of the episode), in floored milliseconds.
/// A chapter with an empty title gets a cue without a text line.
pub fn webvtt(timeline: &Timeline) -> String {
    let mut out = String::from("WEBVTT\n");
    for (i, chapter) in timeline.chapters.iter().enumerate() {
        out.push_str(&format!(
            "\n{}\n{} --> {}\n",
            i + 1,
            vtt_time(timeline.millis(chapter.start)),
            vtt_time(timeline.millis(timeline.chapter_end(i)))
        ));
        let text = vtt_text(&chapter.title);
        if !text.is_empty() {
            out.push_str(&text);
            out.push('\n');
        }
    }
    out
}

// ---- ffmetadata ----

/// The ffmetadata key for each tag.
fn ffmeta_key(key: TagKey) -> &'static str {
    match key {
        TagKey::Title => "title",
        TagKey::Album => "album",
        TagKey::Artist => "artist",
        TagKey::Comment => "comment",
        TagKey::Date => "date",
        TagKey::Language => "language",
        TagKey::Copyright => "copyright",
        TagKey::Software => "encoder",
    }
}

/// A value with `=`, `;`, `#`, `\` and newline escaped by a backslash, as ffmpeg's
/// ffmetadata format requires. CR and CRLF become newlines; NUL (ends a line for ffmpeg)
/// is dropped. Trailing backslashes become `/`: ffmpeg's reader takes the newline after
/// an escaped backslash as part of the value, so they cannot end a line. NUL goes first, so
/// that a backslash it hid cannot end the line either (found by the property test: `a\` + NUL ran
/// the value on into the next tag).
fn ffmeta_escape(value: &str) -> String {
    let value: String = value.chars().filter(|&c| c != '\0').collect();
    let kept = value.trim_end_matches('\\');
    let mut out = String::with_capacity(value.len() + 8);
    let mut chars = kept.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\r' => {
                chars.next_if_eq(&'\n');
                out.push_str("\\\n");
            }
            '=' | ';' | '#' | '\\' | '\n' => {
                out.push('\\');
                out.push(c);
            }
            c => out.push(c),
        }
    }
    out.extend(std::iter::repeat_n('/', value.len() - kept.len()));
    out
}

/// ffmpeg metadata: `;FFMETADATA1`, `title` then the other tags in their order (Software
/// as `encoder`), then per chapter a `[CHAPTER]` with `TIMEBASE=1/1000`, `START`, `END`
/// (floored milliseconds) and `title`. Tag values keep their newlines (escaped).
pub fn ffmetadata(meta: &EpisodeMeta, timeline: &Timeline) -> String {
    let mut out = String::from(";FFMETADATA1\n");
    out.push_str(&format!(
        "title={}\n",
        ffmeta_escape(&one_line(meta.title()))
    ));
    for (key, value) in meta.tags.iter().filter(|(k, _)| *k != TagKey::Title) {
        out.push_str(&format!("{}={}\n", ffmeta_key(*key), ffmeta_escape(value)));
    }
    for (i, chapter) in timeline.chapters.iter().enumerate() {
        out.push_str(&format!(
            "\n[CHAPTER]\nTIMEBASE=1/1000\nSTART={}\nEND={}\ntitle={}\n",
            timeline.millis(chapter.start),
            timeline.millis(timeline.chapter_end(i)),
            ffmeta_escape(&chapter_title(timeline, i))
        ));
    }
    out
}

// ---- Audacity labels ----

/// Audacity labels: one `start\tend\ttitle` line per chapter, seconds with 6 decimals
/// (floored microseconds), the chapter spanning to the next one's start.
pub fn audacity_labels(timeline: &Timeline) -> String {
    (0..timeline.chapters.len())
        .map(|i| {
            format!(
                "{}\t{}\t{}\n",
                label_seconds(micros(timeline, timeline.chapters[i].start)),
                label_seconds(micros(timeline, timeline.chapter_end(i))),
                chapter_title(timeline, i)
            )
        })
        .collect()
}

// ---- Transcript ----

/// Narration text as paragraphs: line ends normalised to LF, trailing spaces removed,
/// runs of blank lines made one, blank lines at either end dropped. Lines are kept as
/// written, not re-wrapped.
fn paragraphs(text: &str) -> String {
    let text = text.replace("\r\n", "\n").replace('\r', "\n");
    let mut out = String::with_capacity(text.len());
    let mut blank = false;
    for line in text.lines().map(str::trim_end) {
        if line.is_empty() {
            blank = !out.is_empty();
            continue;
        }
        if blank {
            out.push('\n');
            blank = false;
        }
        out.push_str(line);
        out.push('\n');
    }
    out
}

/// Plain-text transcript: the episode's title, then per chapter a `[h:mm:ss] Title` line
/// (floored seconds) and its narration `texts[i]` (see [`paragraphs`]; not re-wrapped, so
/// readers and screen magnifiers reflow it), blocks separated by one blank line. A missing
/// `texts[i]` means no text; extra texts are ignored.
pub fn transcript(meta: &EpisodeMeta, timeline: &Timeline, texts: &[&str]) -> String {
    let mut out = one_line(meta.title());
    out.push('\n');
    for (i, chapter) in timeline.chapters.iter().enumerate() {
        let title = chapter_title(timeline, i);
        let time = clock(whole_seconds(timeline, chapter.start));
        out.push_str(&format!("\n[{time}]"));
        if !title.is_empty() {
            out.push(' ');
            out.push_str(&title);
        }
        out.push('\n');
        let text = paragraphs(texts.get(i).copied().unwrap_or(""));
        if !text.is_empty() {
            out.push('\n');
            out.push_str(&text);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::timeline::Chapter;

    fn chapter(title: &str, start: u64) -> Chapter {
        Chapter {
            title: title.to_string(),
            start,
            length: 0,
        }
    }

    /// 44.1 kHz; starts at 0 s, 1.5 s exactly and 2.799478… s; ends at 4.535147… s.
    fn timeline() -> Timeline {
        Timeline {
            sample_rate: 44100,
            total_frames: 200_000,
            chapters: vec![
                chapter("Welcome \"home\" (\"Après la procédure\")", 0),
                chapter("Risks --> <b>&</b> = ; # \\ end\tnow\r\nnext \\", 66150),
                chapter("  מה קורה אחרי ההליך\nبعد الإجراء  ", 123_457),
            ],
        }
    }

    fn meta() -> EpisodeMeta {
        EpisodeMeta {
            id: "mitraclip-fr".into(),
            tags: vec![
                (TagKey::Title, "MitraClip: \"votre\" procédure".into()),
                (TagKey::Album, "Guides cardiaques".into()),
                (TagKey::Artist, "Hôpital Saint-Exemple".into()),
                (
                    TagKey::Comment,
                    "Ligne un\nLigne deux = a;b #3 \\ fin".into(),
                ),
                (TagKey::Date, "2024-05-01".into()),
                (TagKey::Language, "fr".into()),
                (TagKey::Software, "narrate 0.1.0".into()),
            ],
        }
    }

    #[test]
    fn time_units_follow_one_floor_rule() {
        let t = timeline();
        for frame in [0, 1, 66150, 123_457, 200_000, u64::MAX / 2] {
            assert_eq!(floor_units(&t, frame, 1000), t.millis(frame));
        }
        assert_eq!(t.millis(123_457), 2799); // 2799.478… ms
        assert_eq!(micros(&t, 123_457), 2_799_478); // 2799478.45… µs
        assert_eq!(cd_frames(&t, 66150), 112); // 112.5 CD frames
        assert_eq!(cd_frames(&t, 123_457), 209); // 209.96… CD frames
        assert_eq!(whole_seconds(&t, 123_457), 2);
    }

    #[test]
    fn one_line_joins_lines_and_trims() {
        assert_eq!(one_line(" a \r\n\t b\u{2028}c  d\n"), "a b c  d");
        assert_eq!(one_line("\n\t"), "");
    }

    #[test]
    fn kinds_have_distinct_suffixes() {
        let suffixes: Vec<_> = SidecarKind::ALL.iter().map(|k| k.suffix()).collect();
        assert_eq!(
            suffixes,
            [
                ".chapters.json",
                ".cue",
                ".vtt",
                ".ffmeta",
                ".labels.txt",
                ".txt"
            ]
        );
        assert_eq!(SidecarKind::Cue.file_name("ep"), "ep.cue");
        let (m, t) = (meta(), timeline());
        assert_eq!(
            SidecarKind::WebVtt.render(&m, &t, "ep.wav", &[]),
            webvtt(&t)
        );
    }

    #[test]
    fn json_chapters_exact() {
        let text = chapters_json(&meta(), &timeline(), "mitraclip-fr.wav");
        let expected = r#"{
  "version": "1.2.0",
  "author": "Hôpital Saint-Exemple",
  "title": "MitraClip: \"votre\" procédure",
  "podcastName": "Guides cardiaques",
  "description": "Ligne un\nLigne deux = a;b #3 \\ fin",
  "fileName": "mitraclip-fr.wav",
  "chapters": [
    {
      "startTime": 0.0,
      "title": "Welcome \"home\" (\"Après la procédure\")",
      "endTime": 1.5
    },
    {
      "startTime": 1.5,
      "title": "Risks --> <b>&</b> = ; # \\ end now next \\",
      "endTime": 2.799
    },
    {
      "startTime": 2.799,
      "title": "מה קורה אחרי ההליך بعد الإجراء",
      "endTime": 4.535
    }
  ]
}
"#;
        assert_eq!(text, expected);
    }

    #[test]
    fn json_start_times_are_floored_milliseconds() {
        let t = Timeline {
            sample_rate: 48000,
            total_frames: 1 << 40,
            chapters: (0..50).map(|i| chapter("x", i * 7_654_321 + i)).collect(),
        };
        let doc: serde_json::Value =
            serde_json::from_str(&chapters_json(&meta(), &t, "a.wav")).unwrap();
        for (i, c) in doc["chapters"].as_array().unwrap().iter().enumerate() {
            let printed = c["startTime"].to_string();
            let decimals = printed.split('.').nth(1).map_or(0, str::len);
            assert!(decimals <= 3, "{printed}");
            let ms = (c["startTime"].as_f64().unwrap() * 1000.0).round() as u64;
            assert_eq!(ms, t.millis(t.chapters[i].start));
        }
    }

    #[test]
    fn cue_sheet_exact() {
        let text = cue_sheet(&meta(), &timeline(), "mitraclip-fr.wav");
        let expected = "REM DATE 2024-05-01
REM COMMENT \"narrate 0.1.0\"
PERFORMER \"Hôpital Saint-Exemple\"
TITLE \"MitraClip: “votre” procédure\"
FILE \"mitraclip-fr.wav\" WAVE
  TRACK 01 AUDIO
    TITLE \"Welcome “home” (“Après la procédure”)\"
    INDEX 01 00:00:00
  TRACK 02 AUDIO
    TITLE \"Risks --> <b>&</b> = ; # / end now next /\"
    INDEX 01 00:01:37
  TRACK 03 AUDIO
    TITLE \"מה קורה אחרי ההליך بعد الإجراء\"
    INDEX 01 00:02:59
";
        assert_eq!(text, expected);
    }

    #[test]
    fn cue_limits() {
        let long = "a".repeat(100);
        let t = Timeline {
            sample_rate: 44100,
            total_frames: 44100 * 9000,
            chapters: (0..101u64)
                .map(|i| chapter(&long, i * 44100 * 74))
                .collect(),
        };
        let text = cue_sheet(&meta(), &t, "a.wav");
        assert!(text.contains(
            "REM NOTE \"chapters 100-101 left out: a CUE sheet holds at most 99 tracks\"\n"
        ));
        assert!(text.contains("  TRACK 99 AUDIO\n"));
        assert!(!text.contains("TRACK 100"));
        // Track 99 starts at 98 × 74 s = 120:52.
        assert!(text.ends_with("    INDEX 01 120:52:00\n"));
        let title = format!("    TITLE \"{}…\"\n", "a".repeat(79));
        assert_eq!(text.matches(&title).count(), 99);
    }

    #[test]
    fn webvtt_exact() {
        let expected = "WEBVTT

1
00:00:00.000 --> 00:00:01.500
Welcome \"home\" (\"Après la procédure\")

2
00:00:01.500 --> 00:00:02.799
Risks --&gt; &lt;b&gt;&amp;&lt;/b&gt; = ; # \\ end now next \\

3
00:00:02.799 --> 00:00:04.535
מה קורה אחרי ההליך بعد الإجراء
";
        assert_eq!(webvtt(&timeline()), expected);
    }

    #[test]
    fn webvtt_long_and_empty() {
        let t = Timeline {
            sample_rate: 8000,
            total_frames: 8000 * 400_000,
            chapters: vec![chapter("\n", 0), chapter("x", 8000 * 7384 + 4004)],
        };
        assert_eq!(
            webvtt(&t),
            "WEBVTT\n\n1\n00:00:00.000 --> 02:03:04.500\n\n2\n02:03:04.500 --> 111:06:40.000\nx\n"
        );
        assert_eq!(
            transcript(&meta(), &t, &[]).lines().nth(4),
            Some("[2:03:04] x")
        );
        assert_eq!(
            audacity_labels(&t),
            "0.000000\t7384.500500\t\n7384.500500\t400000.000000\tx\n"
        );
    }

    #[test]
    fn ffmetadata_exact() {
        let expected = ";FFMETADATA1
title=MitraClip: \"votre\" procédure
album=Guides cardiaques
artist=Hôpital Saint-Exemple
comment=Ligne un\\
Ligne deux \\= a\\;b \\#3 \\\\ fin
date=2024-05-01
language=fr
encoder=narrate 0.1.0

[CHAPTER]
TIMEBASE=1/1000
START=0
END=1500
title=Welcome \"home\" (\"Après la procédure\")

[CHAPTER]
TIMEBASE=1/1000
START=1500
END=2799
title=Risks --> <b>&</b> \\= \\; \\# \\\\ end now next /

[CHAPTER]
TIMEBASE=1/1000
START=2799
END=4535
title=מה קורה אחרי ההליך بعد الإجراء
";
        assert_eq!(ffmetadata(&meta(), &timeline()), expected);
    }

    #[test]
    fn ffmeta_escape_line_ends() {
        assert_eq!(ffmeta_escape("a\r\nb\rc\0d"), "a\\\nb\\\ncd");
        assert_eq!(ffmeta_escape("a\\b\\\\"), "a\\\\b//");
        assert_eq!(ffmeta_escape("a\\\n"), "a\\\\\\\n");
        // A NUL after a backslash must not leave the backslash at the end of the line.
        assert_eq!(ffmeta_escape("a\\\0"), "a/");
        assert_eq!(ffmeta_escape("a\\\0\\\0"), "a//");
    }

    #[test]
    fn audacity_labels_exact() {
        let expected = "0.000000\t1.500000\tWelcome \"home\" (\"Après la procédure\")
1.500000\t2.799478\tRisks --> <b>&</b> = ; # \\ end now next \\
2.799478\t4.535147\tמה קורה אחרי ההליך بعد الإجراء
";
        assert_eq!(audacity_labels(&timeline()), expected);
    }

    #[test]
    fn transcript_exact() {
        let texts = [
            "\r\nBonjour.\r\nCeci est la suite.  \r\n\r\n\r\n\tDeuxième paragraphe.\n\n",
            "",
            "שלום.\n\nمرحبا.",
            "ignored",
        ];
        let expected = "MitraClip: \"votre\" procédure

[0:00:00] Welcome \"home\" (\"Après la procédure\")

Bonjour.
Ceci est la suite.

\tDeuxième paragraphe.

[0:00:01] Risks --> <b>&</b> = ; # \\ end now next \\

[0:00:02] מה קורה אחרי ההליך بعد الإجراء

שלום.

مرحبا.
";
        assert_eq!(transcript(&meta(), &timeline(), &texts), expected);
    }

    #[test]
    fn empty_timeline_stays_valid() {
        let t = Timeline {
            sample_rate: 44100,
            total_frames: 0,
            chapters: vec![],
        };
        let m = EpisodeMeta {
            id: "ep".into(),
            tags: vec![],
        };
        assert_eq!(webvtt(&t), "WEBVTT\n");
        assert_eq!(audacity_labels(&t), "");
        assert_eq!(ffmetadata(&m, &t), ";FFMETADATA1\ntitle=ep\n");
        assert_eq!(
            cue_sheet(&m, &t, "ep.wav"),
            "TITLE \"ep\"\nFILE \"ep.wav\" WAVE\n"
        );
        assert_eq!(transcript(&m, &t, &[]), "ep\n");
        let doc: serde_json::Value =
            serde_json::from_str(&chapters_json(&m, &t, "ep.wav")).unwrap();
        assert_eq!(doc["chapters"], serde_json::json!([]));
    }
}
