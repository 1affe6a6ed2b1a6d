//! Our streaming WAV writer: audio plus chapters (`cue `, `LIST`/`adtl`) and tags
//! (`LIST`/`INFO`), every chunk padded to an even size, RF64 past 4 GiB.
//!
//! Layout, in this order: `RIFF`/`WAVE`, `JUNK` (28 bytes, becomes `ds64` for RF64),
//! `fmt `, `LIST`/`INFO`, `cue `, `LIST`/`adtl`, `data`. The header is written by
//! [`WavWriter::new`]; samples stream after it; [`WavWriter::finish`] patches the sizes.

use std::io::{Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use crate::atomic;
use crate::error::{Error, Result};
use crate::g711;
use crate::meta::{EpisodeMeta, TagKey};
use crate::profile::SampleFormat;
use crate::timeline::Timeline;

/// The largest RIFF size a plain `RIFF` header can state; past it the file becomes RF64.
pub const RF64_THRESHOLD: u64 = u32::MAX as u64;

/// Payload size of the `JUNK` chunk reserved for `ds64`: RIFF size, data size and
/// sample count (u64 each) and a table length (u32) of 0.
const DS64_PAYLOAD: u32 = 28;

/// `WAVE_FORMAT_PCM`.
const FORMAT_PCM: u16 = 0x0001;
/// `WAVE_FORMAT_ALAW`.
const FORMAT_ALAW: u16 = 0x0006;
/// `WAVE_FORMAT_MULAW`.
const FORMAT_MULAW: u16 = 0x0007;
/// `WAVE_FORMAT_EXTENSIBLE`.
const FORMAT_EXTENSIBLE: u16 = 0xFFFE;
/// The tail of every `KSDATAFORMAT_SUBTYPE_*` GUID after its leading format tag (u16).
const SUBTYPE_GUID_TAIL: [u8; 14] = [
    0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x80, 0x00, 0x00, 0xAA, 0x00, 0x38, 0x9B, 0x71,
];

/// How the audio of a WAV is laid out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WavSpec {
    pub sample_rate: u32,
    pub channels: u16,
    pub format: SampleFormat,
}

impl WavSpec {
    /// Bytes of one frame (one sample per channel): the `fmt ` block align.
    pub fn block_align(&self) -> u64 {
        u64::from(self.channels) * u64::from(self.format.bytes_per_sample())
    }
}

/// The RIFF INFO id that carries `key`.
pub fn info_id(key: TagKey) -> &'static [u8; 4] {
    match key {
        TagKey::Title => b"INAM",
        TagKey::Album => b"IPRD",
        TagKey::Artist => b"IART",
        TagKey::Comment => b"ICMT",
        TagKey::Date => b"ICRD",
        TagKey::Language => b"ILNG",
        TagKey::Copyright => b"ICOP",
        TagKey::Software => b"ISFT",
    }
}

/// A WAV being written to `out`: create with [`WavWriter::new`], stream samples, then
/// call [`WavWriter::finish`] (without it the header's sizes stay wrong).
///
/// Errors carry the file given by [`WavWriter::file`], if any; otherwise callers add it
/// with [`Error::or_file`].
#[derive(Debug)]
pub struct WavWriter<W: Write + Seek> {
    out: W,
    spec: WavSpec,
    file: Option<PathBuf>,
    /// Where the RIFF header starts in `out`.
    start: u64,
    /// Offset from `start` of the `fact` chunk's sample count, for compressed formats.
    fact_at: Option<u64>,
    /// Offset from `start` of the `data` chunk's size field.
    data_size_at: u64,
    /// Offset from `start` of the first audio byte.
    data_at: u64,
    data_bytes: u64,
    samples: u64,
    expected_frames: u64,
    rf64_threshold: u64,
    buf: Vec<u8>,
}

impl<W: Write + Seek> WavWriter<W> {
    /// Checks the spec against the timeline and writes the whole header to `out`.
    pub fn new(mut out: W, spec: WavSpec, meta: &EpisodeMeta, timeline: &Timeline) -> Result<Self> {
        check_spec(&spec, timeline)?;
        let (header, fact_at) = header(&spec, meta, timeline)?;
        let start = out
            .stream_position()
            .map_err(|e| io_error(None, "find the write position", &e))?;
        out.write_all(&header)
            .map_err(|e| io_error(None, "write the WAV header", &e))?;
        let data_at = header.len() as u64;
        Ok(WavWriter {
            out,
            spec,
            file: None,
            start,
            fact_at,
            data_size_at: data_at - 4,
            data_at,
            data_bytes: 0,
            samples: 0,
            expected_frames: timeline.total_frames,
            rf64_threshold: RF64_THRESHOLD,
            buf: Vec::new(),
        })
    }

    /// Names the file being written, for error messages.
    #[must_use]
    pub fn file(mut self, path: impl AsRef<Path>) -> Self {
        self.file = Some(path.as_ref().to_path_buf());
        self
    }

    /// Switches to RF64 once the RIFF size would pass `bytes` instead of 4 GiB (for tests).
    #[doc(hidden)]
    #[must_use]
    pub fn with_rf64_threshold(mut self, bytes: u64) -> Self {
        self.rf64_threshold = bytes;
        self
    }

    /// Appends interleaved 16-bit samples (any number; frames may span calls).
    /// µ-law and A-law files get each sample companded with G.711.
    pub fn write_i16(&mut self, samples: &[i16]) -> Result<()> {
        const BLOCK: usize = 8192;
        for block in samples.chunks(BLOCK) {
            self.buf.clear();
            match self.spec.format {
                SampleFormat::Pcm16 => self.buf.extend(block.iter().flat_map(|s| s.to_le_bytes())),
                SampleFormat::MuLaw => self
                    .buf
                    .extend(block.iter().map(|&s| g711::linear_to_ulaw(s))),
                SampleFormat::ALaw => self
                    .buf
                    .extend(block.iter().map(|&s| g711::linear_to_alaw(s))),
            }
            self.out
                .write_all(&self.buf)
                .map_err(|e| io_error(self.file.as_deref(), "write the audio", &e))?;
        }
        self.samples += samples.len() as u64;
        self.data_bytes += samples.len() as u64 * u64::from(self.spec.format.bytes_per_sample());
        Ok(())
    }

    /// Number of whole frames written so far.
    pub fn frames_written(&self) -> u64 {
        self.samples / u64::from(self.spec.channels)
    }

    /// Pads the data chunk, patches every size (rewriting the header as RF64 when the
    /// file passes the threshold), flushes and gives `out` back, positioned at the end.
    pub fn finish(mut self) -> Result<W> {
        let file = self.file.clone();
        let file = file.as_deref();
        let channels = u64::from(self.spec.channels);
        if self.samples % channels != 0 {
            return Err(writer_error(
                file,
                format!(
                    "the audio ends inside a frame: {} samples is not a whole number of \
                     {channels}-channel frames",
                    self.samples
                ),
            ));
        }
        let frames = self.samples / channels;
        if frames != self.expected_frames {
            return Err(writer_error(
                file,
                format!(
                    "{frames} frames of audio were written but the chapter timeline says \
                     {}: the chapters would not match the audio",
                    self.expected_frames
                ),
            ));
        }
        let pad = self.data_bytes % 2;
        if pad == 1 {
            self.out
                .write_all(&[0])
                .map_err(|e| io_error(file, "write the audio", &e))?;
        }
        let end = self.data_at + self.data_bytes + pad;
        let riff_size = end - 8;
        let mut patches: Vec<(u64, Vec<u8>)> = Vec::new();
        if riff_size > self.rf64_threshold {
            let mut ds64 = Vec::with_capacity(36);
            ds64.extend_from_slice(b"ds64");
            ds64.extend_from_slice(&DS64_PAYLOAD.to_le_bytes());
            ds64.extend_from_slice(&riff_size.to_le_bytes());
            ds64.extend_from_slice(&self.data_bytes.to_le_bytes());
            ds64.extend_from_slice(&frames.to_le_bytes());
            ds64.extend_from_slice(&0u32.to_le_bytes());
            let mut riff = b"RF64".to_vec();
            riff.extend_from_slice(&u32::MAX.to_le_bytes());
            patches.push((0, riff));
            patches.push((12, ds64));
            patches.push((self.data_size_at, u32::MAX.to_le_bytes().to_vec()));
        } else {
            // Both fit: checked against the threshold, which is at most u32::MAX here
            // unless a test forced a larger one.
            let riff32 = u32::try_from(riff_size).map_err(|_| too_big(file))?;
            let data32 = u32::try_from(self.data_bytes).map_err(|_| too_big(file))?;
            patches.push((4, riff32.to_le_bytes().to_vec()));
            patches.push((self.data_size_at, data32.to_le_bytes().to_vec()));
        }
        if let Some(at) = self.fact_at {
            // The fact chunk counts frames; past u32 the ds64 sample count is the truth.
            let count = u32::try_from(frames).unwrap_or(u32::MAX);
            patches.push((at, count.to_le_bytes().to_vec()));
        }
        for (at, bytes) in patches {
            self.out
                .seek(SeekFrom::Start(self.start + at))
                .and_then(|_| self.out.write_all(&bytes))
                .map_err(|e| io_error(file, "update the WAV header", &e))?;
        }
        self.out
            .seek(SeekFrom::Start(self.start + end))
            .and_then(|_| self.out.flush())
            .map_err(|e| io_error(file, "finish the WAV file", &e))?;
        Ok(self.out)
    }
}

/// The exact size in bytes of the WAV file [`WavWriter`] writes for `frames` frames.
pub fn file_size(spec: &WavSpec, meta: &EpisodeMeta, timeline: &Timeline) -> Result<u64> {
    let (header, _) = header(spec, meta, timeline)?;
    let data = timeline.total_frames * spec.block_align();
    Ok(header.len() as u64 + data + data % 2)
}

/// Writes a whole WAV file atomically from interleaved 16-bit samples.
pub fn write_wav_file(
    path: &Path,
    spec: WavSpec,
    meta: &EpisodeMeta,
    timeline: &Timeline,
    samples: &[i16],
) -> Result<()> {
    atomic::write_with(path, |out| {
        let mut writer = WavWriter::new(out, spec, meta, timeline)
            .map_err(|e| e.or_file(path))?
            .file(path);
        writer.write_i16(samples)?;
        writer.finish()?;
        Ok(())
    })
}

fn io_error(file: Option<&Path>, doing: &str, err: &std::io::Error) -> Error {
    match file {
        Some(file) => Error::io(file, doing, err),
        None => Error::new(format!("cannot {doing}: {err}"))
            .with_fix("check the disk, then run the command again"),
    }
}

fn writer_error(file: Option<&Path>, message: String) -> Error {
    let err = Error::new(message)
        .at("WAV writer")
        .with_fix("this is a bug in narrate: please report it with the episode that caused it");
    match file {
        Some(file) => err.or_file(file),
        None => err,
    }
}

fn too_big(file: Option<&Path>) -> Error {
    writer_error(file, "the WAV sizes do not fit a RIFF header".into())
}

/// Rejects specs and timelines a WAV header cannot state exactly.
fn check_spec(spec: &WavSpec, timeline: &Timeline) -> Result<()> {
    let invalid = |message: String, fix: &str| {
        Err(Error::new(message)
            .at("WAV format")
            .with_fix(fix.to_string()))
    };
    if spec.channels == 0 || spec.sample_rate == 0 {
        return invalid(
            format!(
                "cannot write a WAV with {} channels at {} Hz",
                spec.channels, spec.sample_rate
            ),
            "set a sample rate and at least one channel in the profile",
        );
    }
    if u16::try_from(spec.block_align()).is_err()
        || u32::try_from(spec.block_align() * u64::from(spec.sample_rate)).is_err()
    {
        return invalid(
            format!(
                "{} channels at {} Hz are too many for a WAV header",
                spec.channels, spec.sample_rate
            ),
            "use fewer channels or a lower sample rate in the profile",
        );
    }
    if timeline.sample_rate != spec.sample_rate {
        return Err(writer_error(
            None,
            format!(
                "the chapter timeline counts frames at {} Hz but the WAV is {} Hz",
                timeline.sample_rate, spec.sample_rate
            ),
        ));
    }
    let mut previous: Option<u64> = None;
    for (i, chapter) in timeline.chapters.iter().enumerate() {
        let place = format!("chapter {} \"{}\"", i + 1, chapter.title);
        if previous.is_some_and(|p| chapter.start < p) || chapter.start > timeline.total_frames {
            return Err(writer_error(
                None,
                format!(
                    "{place} starts at frame {}, out of order or past the end ({} frames)",
                    chapter.start, timeline.total_frames
                ),
            ));
        }
        previous = Some(chapter.start);
        if u32::try_from(timeline.chapter_end(i)).is_err() {
            return Err(Error::new(format!(
                "{place} lies past frame {}, the last a WAV cue point can mark",
                u32::MAX
            ))
            .at("WAV chapters")
            .with_fix("split the episode into shorter ones"));
        }
        if chapter.title.contains('\0') {
            return invalid(
                format!("{place} has a NUL character in its title"),
                "remove the NUL character from the section's title",
            );
        }
    }
    Ok(())
}

/// Appends a chunk (`id`, size, payload and pad byte when the size is odd).
fn push_chunk(out: &mut Vec<u8>, id: &[u8; 4], payload: &[u8]) {
    out.extend_from_slice(id);
    // Header chunks are built from titles and tags, far below 4 GiB.
    out.extend_from_slice(&(payload.len() as u32).to_le_bytes());
    out.extend_from_slice(payload);
    if payload.len() % 2 == 1 {
        out.push(0);
    }
}

/// Text as a NUL-terminated UTF-8 string.
fn zstr(text: &str) -> Vec<u8> {
    let mut bytes = Vec::with_capacity(text.len() + 1);
    bytes.extend_from_slice(text.as_bytes());
    bytes.push(0);
    bytes
}

/// Everything before the first audio byte, with RIFF and data sizes still 0, and the
/// offset of the `fact` sample count when the format needs one.
fn header(
    spec: &WavSpec,
    meta: &EpisodeMeta,
    timeline: &Timeline,
) -> Result<(Vec<u8>, Option<u64>)> {
    let mut out = Vec::with_capacity(512);
    out.extend_from_slice(b"RIFF");
    out.extend_from_slice(&0u32.to_le_bytes());
    out.extend_from_slice(b"WAVE");
    push_chunk(&mut out, b"JUNK", &[0; DS64_PAYLOAD as usize]);
    push_chunk(&mut out, b"fmt ", &fmt_payload(spec));
    let fact_at = match spec.format {
        SampleFormat::Pcm16 => None,
        SampleFormat::MuLaw | SampleFormat::ALaw => {
            push_chunk(&mut out, b"fact", &0u32.to_le_bytes());
            Some(out.len() as u64 - 4)
        }
    };

    let info = info_payload(meta)?;
    if info.len() > 4 {
        push_chunk(&mut out, b"LIST", &info);
    }
    if !timeline.chapters.is_empty() {
        push_chunk(&mut out, b"cue ", &cue_payload(timeline));
        push_chunk(&mut out, b"LIST", &adtl_payload(timeline));
    }
    out.extend_from_slice(b"data");
    out.extend_from_slice(&0u32.to_le_bytes());
    Ok((out, fact_at))
}

/// The `fmt ` payload: plain PCM (16 bytes), `WAVE_FORMAT_EXTENSIBLE` (40 bytes) when
/// there are more than two channels or more than 16 bits, or G.711 (18 bytes, cbSize 0).
fn fmt_payload(spec: &WavSpec) -> Vec<u8> {
    let tag = match spec.format {
        SampleFormat::Pcm16 => FORMAT_PCM,
        SampleFormat::MuLaw => FORMAT_MULAW,
        SampleFormat::ALaw => FORMAT_ALAW,
    };
    let bits = spec.format.bits_per_sample();
    let container_bits = spec.format.bytes_per_sample() * 8;
    // Checked in `check_spec`: both fit.
    let block_align = spec.block_align() as u16;
    let byte_rate = u32::from(block_align) * spec.sample_rate;
    let extensible = tag == FORMAT_PCM && (spec.channels > 2 || bits > 16);
    let mut p = Vec::with_capacity(40);
    p.extend_from_slice(&(if extensible { FORMAT_EXTENSIBLE } else { tag }).to_le_bytes());
    p.extend_from_slice(&spec.channels.to_le_bytes());
    p.extend_from_slice(&spec.sample_rate.to_le_bytes());
    p.extend_from_slice(&byte_rate.to_le_bytes());
    p.extend_from_slice(&block_align.to_le_bytes());
    p.extend_from_slice(&container_bits.to_le_bytes());
    if extensible {
        p.extend_from_slice(&22u16.to_le_bytes());
        p.extend_from_slice(&bits.to_le_bytes());
        p.extend_from_slice(&channel_mask(spec.channels).to_le_bytes());
        p.extend_from_slice(&tag.to_le_bytes());
        p.extend_from_slice(&SUBTYPE_GUID_TAIL);
    } else if tag != FORMAT_PCM {
        p.extend_from_slice(&0u16.to_le_bytes());
    }
    p
}

/// The usual speaker positions for `channels` channels (0, unassigned, past 7.1).
pub fn channel_mask(channels: u16) -> u32 {
    match channels {
        1 => 0x4,   // FC
        2 => 0x3,   // FL FR
        3 => 0x7,   // FL FR FC
        4 => 0x33,  // FL FR BL BR
        5 => 0x37,  // FL FR FC BL BR
        6 => 0x3F,  // FL FR FC LFE BL BR
        7 => 0x70F, // FL FR FC LFE BC SL SR
        8 => 0x63F, // FL FR FC LFE BL BR SL SR
        _ => 0,
    }
}

/// `INFO` + one sub-chunk per set tag (NUL-terminated UTF-8).
fn info_payload(meta: &EpisodeMeta) -> Result<Vec<u8>> {
    let mut p = b"INFO".to_vec();
    for (key, value) in &meta.tags {
        if value.is_empty() {
            continue;
        }
        if value.contains('\0') {
            return Err(
                Error::new(format!("the {key:?} tag has a NUL character in its value"))
                    .at("WAV tags")
                    .with_fix("remove the NUL character from the project's metadata"),
            );
        }
        push_chunk(&mut p, info_id(*key), &zstr(value));
    }
    Ok(p)
}

/// One cue point per chapter, ids 1…n, at the chapter's start frame in `data`.
fn cue_payload(timeline: &Timeline) -> Vec<u8> {
    let mut p = Vec::with_capacity(4 + 24 * timeline.chapters.len());
    p.extend_from_slice(&(timeline.chapters.len() as u32).to_le_bytes());
    for (i, chapter) in timeline.chapters.iter().enumerate() {
        // Checked in `check_spec`: starts fit in u32.
        let start = chapter.start as u32;
        p.extend_from_slice(&(i as u32 + 1).to_le_bytes());
        p.extend_from_slice(&start.to_le_bytes());
        p.extend_from_slice(b"data");
        p.extend_from_slice(&0u32.to_le_bytes());
        p.extend_from_slice(&0u32.to_le_bytes());
        p.extend_from_slice(&start.to_le_bytes());
    }
    p
}

/// `adtl`: every `labl` (title), then one `ltxt` region (length) per chapter.
fn adtl_payload(timeline: &Timeline) -> Vec<u8> {
    let mut p = b"adtl".to_vec();
    for (i, chapter) in timeline.chapters.iter().enumerate() {
        let mut labl = (i as u32 + 1).to_le_bytes().to_vec();
        labl.extend_from_slice(&zstr(&chapter.title));
        push_chunk(&mut p, b"labl", &labl);
    }
    for (i, chapter) in timeline.chapters.iter().enumerate() {
        // Checked in `check_spec`: ends fit in u32.
        let length = (timeline.chapter_end(i) - chapter.start) as u32;
        let mut ltxt = Vec::with_capacity(20);
        ltxt.extend_from_slice(&(i as u32 + 1).to_le_bytes());
        ltxt.extend_from_slice(&length.to_le_bytes());
        ltxt.extend_from_slice(b"rgn ");
        ltxt.extend_from_slice(&[0; 8]); // country, language, dialect, code page
        push_chunk(&mut p, b"ltxt", &ltxt);
    }
    p
}

#[cfg(test)]
mod tests {
    use std::io::Cursor;

    use super::*;
    use crate::timeline::Chapter;

    fn spec(channels: u16) -> WavSpec {
        WavSpec {
            sample_rate: 8000,
            channels,
            format: SampleFormat::Pcm16,
        }
    }

    fn timeline(total: u64, chapters: &[(&str, u64)]) -> Timeline {
        Timeline {
            sample_rate: 8000,
            total_frames: total,
            chapters: chapters
                .iter()
                .map(|(t, s)| Chapter {
                    title: t.to_string(),
                    start: *s,
                    length: 0,
                })
                .collect(),
        }
    }

    fn meta(tags: &[(TagKey, &str)]) -> EpisodeMeta {
        EpisodeMeta {
            id: "ep".into(),
            tags: tags.iter().map(|(k, v)| (*k, v.to_string())).collect(),
        }
    }

    fn write(spec: WavSpec, meta: &EpisodeMeta, tl: &Timeline, samples: &[i16]) -> Vec<u8> {
        let mut w = WavWriter::new(Cursor::new(Vec::new()), spec, meta, tl).unwrap();
        w.write_i16(samples).unwrap();
        w.finish().unwrap().into_inner()
    }

    /// (id, offset of header, size) of each top-level chunk, checking pad bytes.
    fn chunks(bytes: &[u8]) -> Vec<(String, usize, u32)> {
        let mut out = Vec::new();
        let mut at = 12;
        while at + 8 <= bytes.len() {
            let id = String::from_utf8_lossy(&bytes[at..at + 4]).into_owned();
            let size = u32::from_le_bytes(bytes[at + 4..at + 8].try_into().unwrap());
            out.push((id, at, size));
            let size = if size == u32::MAX {
                (bytes.len() - at - 8) as u32
            } else {
                size
            };
            at += 8 + size as usize + (size % 2) as usize;
        }
        assert_eq!(at, bytes.len(), "chunks end exactly at the end of the file");
        out
    }

    #[test]
    fn layout_order_sizes_and_pads() {
        let tl = timeline(10, &[("Intro", 0), ("Après", 4)]);
        let m = meta(&[(TagKey::Title, "Odd"), (TagKey::Artist, "Even")]);
        let bytes = write(spec(1), &m, &tl, &[7; 10]);
        assert_eq!(&bytes[0..4], b"RIFF");
        assert_eq!(
            u32::from_le_bytes(bytes[4..8].try_into().unwrap()) as usize,
            bytes.len() - 8
        );
        let ids: Vec<_> = chunks(&bytes).into_iter().map(|c| c.0).collect();
        assert_eq!(ids, ["JUNK", "fmt ", "LIST", "cue ", "LIST", "data"]);
        let c = chunks(&bytes);
        assert_eq!(c[0].2, 28);
        assert_eq!(c[1].2, 16);
        assert_eq!(c[3].2, 4 + 2 * 24);
        assert_eq!(c[5].2, 20);
        // "Odd\0" is 4 bytes, "Even\0" is 5 and gets a pad byte.
        let info = &bytes[c[2].1 + 8..c[2].1 + 8 + c[2].2 as usize];
        assert_eq!(&info[..4], b"INFO");
        assert_eq!(&info[4..16], b"INAM\x04\0\0\0Odd\0");
        assert_eq!(&info[16..30], b"IART\x05\0\0\0Even\0\0");
        assert_eq!(info.len(), 30);
    }

    #[test]
    fn ltxt_lengths_run_to_the_next_chapter() {
        let tl = timeline(10, &[("A", 0), ("B", 4)]);
        let bytes = write(spec(1), &meta(&[]), &tl, &[0; 10]);
        let c = chunks(&bytes);
        let adtl = &bytes[c[3].1 + 8..c[3].1 + 8 + c[3].2 as usize];
        assert_eq!(&adtl[..4], b"adtl");
        // labl 1 "A\0" (6 bytes), labl 2, then ltxt 1 of 4 frames, ltxt 2 of 6.
        assert_eq!(&adtl[4..18], b"labl\x06\0\0\0\x01\0\0\0A\0");
        let ltxt = &adtl[32..];
        assert_eq!(&ltxt[..8], b"ltxt\x14\0\0\0");
        assert_eq!(&ltxt[8..16], &[1, 0, 0, 0, 4, 0, 0, 0]);
        assert_eq!(&ltxt[16..20], b"rgn ");
        assert_eq!(&ltxt[36..44], &[2, 0, 0, 0, 6, 0, 0, 0]);
    }

    #[test]
    fn no_chapters_no_cue_chunks() {
        let bytes = write(spec(2), &meta(&[]), &timeline(3, &[]), &[1, 2, 3, 4, 5, 6]);
        let ids: Vec<_> = chunks(&bytes).into_iter().map(|c| c.0).collect();
        assert_eq!(ids, ["JUNK", "fmt ", "data"]);
    }

    #[test]
    fn extensible_for_many_channels() {
        let bytes = write(spec(6), &meta(&[]), &timeline(1, &[]), &[0; 6]);
        let c = chunks(&bytes);
        assert_eq!(c[1].2, 40);
        let fmt = &bytes[c[1].1 + 8..c[1].1 + 48];
        assert_eq!(&fmt[0..2], &[0xFE, 0xFF]);
        assert_eq!(&fmt[20..24], &0x3Fu32.to_le_bytes());
        assert_eq!(&fmt[24..26], &[1, 0]);
    }

    #[test]
    fn forced_rf64() {
        let tl = timeline(5, &[("A", 0)]);
        let mut w = WavWriter::new(Cursor::new(Vec::new()), spec(1), &meta(&[]), &tl)
            .unwrap()
            .with_rf64_threshold(0);
        w.write_i16(&[1, 2, 3, 4, 5]).unwrap();
        let bytes = w.finish().unwrap().into_inner();
        assert_eq!(&bytes[0..8], b"RF64\xFF\xFF\xFF\xFF");
        assert_eq!(&bytes[12..20], b"ds64\x1C\0\0\0");
        let u64_at = |at: usize| u64::from_le_bytes(bytes[at..at + 8].try_into().unwrap());
        assert_eq!(u64_at(20) as usize, bytes.len() - 8);
        assert_eq!(u64_at(28), 10);
        assert_eq!(u64_at(36), 5);
        assert_eq!(&bytes[44..48], &[0; 4]);
        let data = bytes.len() - 10 - 8;
        assert_eq!(&bytes[data..data + 8], b"data\xFF\xFF\xFF\xFF");
    }

    #[test]
    fn rf64_only_past_the_threshold() {
        let tl = timeline(5, &[]);
        let riff_size = (12 + 36 + 24 + 8 + 10 - 8) as u64;
        for (threshold, magic) in [(riff_size, b"RIFF"), (riff_size - 1, b"RF64")] {
            let mut w = WavWriter::new(Cursor::new(Vec::new()), spec(1), &meta(&[]), &tl)
                .unwrap()
                .with_rf64_threshold(threshold);
            w.write_i16(&[0; 5]).unwrap();
            let bytes = w.finish().unwrap().into_inner();
            assert_eq!(bytes.len() as u64, riff_size + 8);
            assert_eq!(&bytes[0..4], magic);
        }
    }

    #[test]
    fn frame_count_must_match_the_timeline() {
        let tl = timeline(4, &[]);
        let mut w = WavWriter::new(Cursor::new(Vec::new()), spec(1), &meta(&[]), &tl).unwrap();
        w.write_i16(&[0; 3]).unwrap();
        let err = w.finish().unwrap_err();
        assert!(err.message.contains("3 frames"), "{err}");
        let mut w = WavWriter::new(Cursor::new(Vec::new()), spec(2), &meta(&[]), &tl).unwrap();
        w.write_i16(&[0; 7]).unwrap();
        assert!(w.finish().is_err());
    }

    #[test]
    fn bad_timelines_are_errors() {
        let out = || Cursor::new(Vec::new());
        let m = meta(&[]);
        let mut tl = timeline(4, &[("B", 2), ("A", 1)]);
        assert!(WavWriter::new(out(), spec(1), &m, &tl).is_err());
        tl = timeline(4, &[("A", 5)]);
        assert!(WavWriter::new(out(), spec(1), &m, &tl).is_err());
        tl = timeline(4, &[("A\0", 0)]);
        assert!(WavWriter::new(out(), spec(1), &m, &tl).is_err());
        tl = timeline(4, &[]);
        tl.sample_rate = 44_100;
        assert!(WavWriter::new(out(), spec(1), &m, &tl).is_err());
        assert!(WavWriter::new(out(), spec(0), &m, &timeline(4, &[])).is_err());
        let nul = meta(&[(TagKey::Title, "a\0b")]);
        assert!(WavWriter::new(out(), spec(1), &nul, &timeline(4, &[])).is_err());
    }

    #[test]
    fn write_wav_file_is_atomic_and_names_the_file() {
        let dir = std::env::temp_dir().join(format!("narrate-writer-{}", std::process::id()));
        let path = dir.join("x.wav");
        let tl = timeline(2, &[]);
        write_wav_file(&path, spec(1), &meta(&[]), &tl, &[1, 2]).unwrap();
        assert_eq!(
            std::fs::metadata(&path).unwrap().len(),
            12 + 36 + 24 + 8 + 4
        );
        let err = write_wav_file(&path, spec(1), &meta(&[]), &tl, &[1]).unwrap_err();
        assert_eq!(err.file.as_deref(), Some(path.as_path()));
        assert_eq!(std::fs::metadata(&path).unwrap().len(), 84, "old file kept");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
