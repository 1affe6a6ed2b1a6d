//! `narrate inspect FILE.wav`: what any WAV file holds (format, duration, tags,
//! chapters, problems), as text a non-engineer can read at a glance, or as JSON.

use std::fmt::Write as _;
use std::path::Path;

use serde::Serialize;

use crate::decode::Decoder;
use crate::error::{Error, Result};
use crate::loudness::{self, Loudness};
use crate::wav::reader::{read_wav_info, WavInfo};

/// Everything `inspect` reports about one file.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Inspection {
    pub file: String,
    /// `RIFF` or `RF64` (`BW64`).
    pub container: String,
    /// In plain words: `PCM 16-bit`, `µ-law`, `IEEE float 32-bit`…
    pub format: String,
    pub sample_rate: u32,
    pub channels: u16,
    pub frames: u64,
    pub duration_seconds: f64,
    /// `h:mm:ss.mmm`.
    pub duration: String,
    pub tags: Vec<Tag>,
    /// Markers in time order.
    pub chapters: Vec<ChapterMark>,
    /// Loudness and peaks of the audio, when it decodes.
    pub loudness: Option<Loudness>,
    pub warnings: Vec<String>,
}

/// One `INFO` tag.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Tag {
    /// The RIFF id, such as `INAM`.
    pub id: String,
    /// A friendly name (`Title`), or the id when it is not a known one.
    pub name: String,
    pub value: String,
}

/// One chapter marker (a cue point).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ChapterMark {
    /// 1-based, in time order.
    pub index: usize,
    /// `h:mm:ss.mmm`.
    pub start: String,
    pub start_frame: u64,
    /// `h:mm:ss.mmm`.
    pub length: String,
    /// From the marker's `ltxt` region, else up to the next marker or the end.
    pub length_frames: u64,
    /// The marker's label (empty when it has none).
    pub title: String,
    pub note: Option<String>,
}

/// Reads `path` and describes it.
///
/// The audio is decoded and measured too (integrated loudness, true peak, loudness range,
/// sample peak); a file whose chunks read but whose audio does not decode gets a warning.
pub fn inspect(path: &Path) -> Result<Inspection> {
    let info = read_wav_info(path)?;
    let mut inspection = Inspection::from_info(path, &info);
    match measure_file(path) {
        Ok(measured) => inspection.loudness = Some(measured),
        Err(err) => inspection
            .warnings
            .push(format!("the audio could not be measured: {}", err.message)),
    }
    Ok(inspection)
}

/// The loudness figures of the audio in `path`, decoded and measured a packet at a time.
fn measure_file(path: &Path) -> Result<Loudness> {
    let mut decoder = Decoder::open(path)?;
    let (rate, channels) = (decoder.sample_rate(), decoder.channels());
    let (decoded, measured) = loudness::measure_while(rate, channels, |sink| -> Result<()> {
        while let Some(chunk) = decoder.next_chunk()? {
            sink(chunk);
        }
        Ok(())
    })?;
    decoded.map(|()| measured)
}

impl Inspection {
    /// Describes what the reader found in `file`.
    pub fn from_info(file: &Path, info: &WavInfo) -> Self {
        let rate = info.format.sample_rate;
        let mut cues: Vec<_> = info.cues.iter().collect();
        cues.sort_by_key(|c| c.frame());
        let chapters = cues
            .iter()
            .enumerate()
            .map(|(i, cue)| {
                let start = cue.frame();
                let next = cues.get(i + 1).map_or(info.frames, |n| n.frame());
                let length = cue.length.map_or(next.saturating_sub(start), u64::from);
                ChapterMark {
                    index: i + 1,
                    start: clock(start, rate),
                    start_frame: start,
                    length: clock(length, rate),
                    length_frames: length,
                    title: cue.label.clone().unwrap_or_default(),
                    note: cue.note.clone(),
                }
            })
            .collect();
        Inspection {
            file: file.display().to_string(),
            container: info.container.name().into(),
            format: info.format.describe(),
            sample_rate: rate,
            channels: info.format.channels,
            frames: info.frames,
            duration_seconds: info.duration_seconds(),
            duration: clock(info.frames, rate),
            tags: info
                .tags
                .iter()
                .map(|(id, value)| Tag {
                    id: id.clone(),
                    name: tag_name(id).unwrap_or(id).to_string(),
                    value: value.clone(),
                })
                .collect(),
            chapters,
            loudness: None,
            warnings: info.warnings.clone(),
        }
    }
}

/// The friendly name of a RIFF INFO id.
pub fn tag_name(id: &str) -> Option<&'static str> {
    Some(match id {
        "INAM" => "Title",
        "IPRD" => "Album",
        "IART" => "Artist",
        "ICMT" => "Comment",
        "ICRD" => "Date",
        "ILNG" => "Language",
        "ICOP" => "Copyright",
        "ISFT" => "Software",
        "IGNR" => "Genre",
        "ISBJ" => "Subject",
        "IKEY" => "Keywords",
        "IENG" => "Engineer",
        "ITCH" => "Technician",
        "ISRC" => "Source",
        "IPRT" | "ITRK" => "Track",
        _ => return None,
    })
}

/// `frames` at `rate` as `h:mm:ss.mmm`, milliseconds rounded down.
pub fn clock(frames: u64, rate: u32) -> String {
    let ms = if rate == 0 {
        0
    } else {
        u128::from(frames) * 1000 / u128::from(rate)
    };
    format!(
        "{}:{:02}:{:02}.{:03}",
        ms / 3_600_000,
        ms / 60_000 % 60,
        ms / 1000 % 60,
        ms % 1000
    )
}

/// `44.1 kHz`, `8 kHz`, `11.025 kHz`, `800 Hz`.
fn rate_text(rate: u32) -> String {
    if rate < 1000 {
        return format!("{rate} Hz");
    }
    let khz = format!("{}.{:03}", rate / 1000, rate % 1000);
    format!("{} kHz", khz.trim_end_matches('0').trim_end_matches('.'))
}

fn channels_text(channels: u16) -> String {
    match channels {
        1 => "mono".into(),
        2 => "stereo".into(),
        n => format!("{n} channels"),
    }
}

/// `1234567` as `1,234,567`.
fn grouped(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// The report as text, one section after another.
pub fn render_text(inspection: &Inspection) -> String {
    // Each section ends with a blank line.
    let sections = [
        overview(inspection),
        loudness_section(inspection),
        tags_section(inspection),
        chapters_section(inspection),
        warnings_section(inspection),
    ];
    sections.concat().trim_end().to_string() + "\n"
}

/// The report as pretty-printed JSON.
pub fn render_json(inspection: &Inspection) -> Result<String> {
    serde_json::to_string_pretty(inspection)
        .map_err(|e| Error::new(format!("cannot write the report as JSON: {e}")))
}

fn overview(i: &Inspection) -> String {
    let container = match i.container.as_str() {
        "RIFF" => "WAV".to_string(),
        other => format!("WAV, {other} for files over 4 GB"),
    };
    format!(
        "File       {}\nFormat     {}, {}, {} ({container})\nDuration   {} ({} frames)\n\n",
        i.file,
        i.format,
        channels_text(i.channels),
        rate_text(i.sample_rate),
        i.duration,
        grouped(i.frames),
    )
}

fn loudness_section(i: &Inspection) -> String {
    let Some(l) = &i.loudness else {
        return String::new();
    };
    let db =
        |v: Option<f64>, unit: &str| v.map_or("silent".to_string(), |v| format!("{v:.1} {unit}"));
    format!(
        "Loudness   {} integrated, range {:.1} LU\nPeaks      {} true peak, {} sample peak\n\n",
        db(l.integrated_lufs, "LUFS"),
        l.loudness_range_lu,
        db(l.true_peak_dbtp, "dBTP"),
        db(l.sample_peak_dbfs, "dBFS"),
    )
}

fn tags_section(i: &Inspection) -> String {
    if i.tags.is_empty() {
        return "Tags       none\n\n".into();
    }
    let mut out = String::from("Tags\n");
    for tag in &i.tags {
        let _ = writeln!(out, "  {:<11}{}", tag.name, tag.value);
    }
    out + "\n"
}

fn chapters_section(i: &Inspection) -> String {
    if i.chapters.is_empty() {
        return "Chapters   none\n\n".into();
    }
    let mut out = format!(
        "Chapters ({})\n  {:>3}  {:<13}{:<13}Title\n",
        i.chapters.len(),
        "#",
        "Start",
        "Length"
    );
    for c in &i.chapters {
        let title = if c.title.is_empty() {
            "(no title)"
        } else {
            &c.title
        };
        let _ = write!(
            out,
            "  {:>3}  {:<13}{:<13}{title}",
            c.index, c.start, c.length
        );
        if let Some(note) = &c.note {
            let _ = write!(out, " ({note})");
        }
        out.push('\n');
    }
    out + "\n"
}

fn warnings_section(i: &Inspection) -> String {
    if i.warnings.is_empty() {
        return "No problems found.\n".into();
    }
    let mut out = format!("Problems ({})\n", i.warnings.len());
    for w in &i.warnings {
        let _ = writeln!(out, "  - {w}");
    }
    out
}

#[cfg(test)]
mod tests {
    use std::io::Cursor;

    use super::*;
    use crate::meta::{EpisodeMeta, TagKey};
    use crate::profile::SampleFormat;
    use crate::timeline::{Chapter, Timeline};
    use crate::wav::reader::parse_wav_info;
    use crate::wav::writer::{WavSpec, WavWriter};

    fn sample() -> Inspection {
        let timeline = Timeline {
            sample_rate: 44_100,
            total_frames: 44_100 * 75 + 441,
            chapters: vec![
                Chapter {
                    title: "Introduction".into(),
                    start: 0,
                    length: 44_100,
                },
                Chapter {
                    title: "Après la procédure".into(),
                    start: 44_100 * 62,
                    length: 44_100,
                },
            ],
        };
        let meta = EpisodeMeta {
            id: "x".into(),
            tags: vec![
                (TagKey::Title, "Your MitraClip procedure".into()),
                (TagKey::Software, "narrate 0.1.0".into()),
            ],
        };
        let spec = WavSpec {
            sample_rate: 44_100,
            channels: 1,
            format: SampleFormat::Pcm16,
        };
        let mut w = WavWriter::new(Cursor::new(Vec::new()), spec, &meta, &timeline).unwrap();
        w.write_i16(&vec![0; timeline.total_frames as usize])
            .unwrap();
        let bytes = w.finish().unwrap().into_inner();
        Inspection::from_info(
            Path::new("out/guide/x.wav"),
            &parse_wav_info(&bytes).unwrap(),
        )
    }

    #[test]
    fn text_reads_at_a_glance() {
        let text = render_text(&sample());
        let expected = "\
File       out/guide/x.wav
Format     PCM 16-bit, mono, 44.1 kHz (WAV)
Duration   0:01:15.010 (3,307,941 frames)

Tags
  Title      Your MitraClip procedure
  Software   narrate 0.1.0

Chapters (2)
    #  Start        Length       Title
    1  0:00:00.000  0:01:02.000  Introduction
    2  0:01:02.000  0:00:13.010  Après la procédure

No problems found.
";
        assert_eq!(text, expected);
    }

    #[test]
    fn json_has_every_field() {
        let json: serde_json::Value =
            serde_json::from_str(&render_json(&sample()).unwrap()).unwrap();
        assert_eq!(json["container"], "RIFF");
        assert_eq!(json["format"], "PCM 16-bit");
        assert_eq!(json["sample_rate"], 44_100);
        assert_eq!(json["tags"][0]["name"], "Title");
        assert_eq!(json["tags"][0]["id"], "INAM");
        assert_eq!(json["chapters"][1]["start_frame"], 44_100 * 62);
        assert_eq!(json["chapters"][1]["title"], "Après la procédure");
        assert_eq!(json["warnings"].as_array().unwrap().len(), 0);
    }

    #[test]
    fn small_helpers() {
        assert_eq!(clock(44_100 * 3723 + 44, 44_100), "1:02:03.000");
        assert_eq!(clock(5, 0), "0:00:00.000");
        assert_eq!(rate_text(8000), "8 kHz");
        assert_eq!(rate_text(22_050), "22.05 kHz");
        assert_eq!(rate_text(44_100), "44.1 kHz");
        assert_eq!(rate_text(800), "800 Hz");
        assert_eq!(grouped(1_000), "1,000");
        assert_eq!(grouped(999), "999");
        assert_eq!(tag_name("IXYZ"), None);
    }
}
