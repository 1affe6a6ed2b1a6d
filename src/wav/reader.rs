//! A chunk reader for any WAV file, ours or another tool's: format, sizes, tags, cue
//! points with their labels, notes and regions, the chunk list, and warnings.
//!
//! Hostile input is expected: every size is checked against what the file holds, no
//! buffer is sized from a header without a bound, and garbage gives an error or a
//! warning, never a panic. Audio samples are not read (decoding lives in `decode`).

use std::collections::HashMap;
use std::fs::File;
use std::io::{BufReader, Cursor, Read, Seek, SeekFrom};
use std::path::Path;

use serde::Serialize;

use crate::error::{Error, Result};

/// The largest metadata chunk (`LIST`, `cue `, `fmt `…) read into memory.
const MAX_META_CHUNK: u64 = 16 << 20;
/// The most chunks listed before the walk stops.
const MAX_CHUNKS: usize = 100_000;
/// The most entries taken from a `ds64` size table.
const MAX_DS64_TABLE: u64 = 1024;

/// The outer header of the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Container {
    /// A plain `RIFF` file (at most 4 GiB).
    #[serde(rename = "RIFF")]
    Riff,
    /// EBU Tech 3306 `RF64`: 64-bit sizes in a `ds64` chunk.
    #[serde(rename = "RF64")]
    Rf64,
    /// ITU-R BS.2088 `BW64`: RF64 by another name.
    #[serde(rename = "BW64")]
    Bw64,
}

impl Container {
    /// `RIFF`, `RF64` or `BW64`.
    pub fn name(self) -> &'static str {
        match self {
            Container::Riff => "RIFF",
            Container::Rf64 => "RF64",
            Container::Bw64 => "BW64",
        }
    }
}

/// How samples are coded, with `WAVE_FORMAT_EXTENSIBLE` resolved to its sub-format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Encoding {
    /// Integer PCM (unsigned at 8 bits, signed above).
    Pcm,
    /// IEEE floating point.
    Float,
    /// G.711 µ-law.
    MuLaw,
    /// G.711 A-law.
    ALaw,
    /// Any other format tag (ADPCM, MP3…), or 0xFFFE with an unknown sub-format GUID.
    Other(u16),
}

/// The `fmt ` chunk.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Format {
    /// `wFormatTag` as written (0xFFFE for extensible).
    pub tag: u16,
    pub encoding: Encoding,
    /// The sub-format GUID of an extensible `fmt `.
    pub sub_format: Option<String>,
    pub channels: u16,
    pub sample_rate: u32,
    pub byte_rate: u32,
    pub block_align: u16,
    /// Bits per sample as stored (the container size for extensible).
    pub bits_per_sample: u16,
    /// Bits that carry signal, from an extensible `fmt `.
    pub valid_bits: Option<u16>,
    pub channel_mask: Option<u32>,
}

impl Format {
    /// Bits that carry signal.
    pub fn bits(&self) -> u16 {
        self.valid_bits
            .filter(|&v| v > 0)
            .unwrap_or(self.bits_per_sample)
    }

    /// Plain words: `PCM 16-bit`, `IEEE float 32-bit`, `µ-law`, `IMA ADPCM`…
    pub fn describe(&self) -> String {
        let bits = self.bits();
        match self.encoding {
            Encoding::Pcm => format!("PCM {bits}-bit"),
            Encoding::Float => format!("IEEE float {bits}-bit"),
            Encoding::MuLaw => "µ-law".into(),
            Encoding::ALaw => "A-law".into(),
            Encoding::Other(tag) => match tag {
                0x0002 => "Microsoft ADPCM".into(),
                0x0011 => "IMA ADPCM".into(),
                0x0031 => "GSM 6.10".into(),
                0x0050 => "MPEG audio".into(),
                0x0055 => "MP3".into(),
                0x2000 => "AC-3".into(),
                0xFFFE => match &self.sub_format {
                    Some(guid) => format!("extensible, sub-format {guid}"),
                    None => "extensible, unknown sub-format".into(),
                },
                _ => format!("format 0x{tag:04X}"),
            },
        }
    }

    /// Whether frames can be counted from the data size (uncompressed, fixed-size frames).
    fn is_uncompressed(&self) -> bool {
        matches!(
            self.encoding,
            Encoding::Pcm | Encoding::Float | Encoding::MuLaw | Encoding::ALaw
        )
    }
}

/// One chunk of the file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Chunk {
    /// The four-character id, such as `fmt ` or `LIST`.
    pub id: String,
    /// Byte offset of the chunk header in the file.
    pub offset: u64,
    /// Payload size (from `ds64` where the header says 0xFFFFFFFF), pad byte excluded.
    pub size: u64,
    /// The list type of a `LIST` chunk (`INFO`, `adtl`…).
    pub list_type: Option<String>,
}

/// A marker: a `cue ` point with what `LIST`/`adtl` says about it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CuePoint {
    /// `dwName`: the id `labl`, `note` and `ltxt` refer to.
    pub id: u32,
    /// `dwPosition`: the position in play order.
    pub position: u32,
    /// `fccChunk`: normally `data`.
    pub chunk: String,
    pub chunk_start: u32,
    pub block_start: u32,
    /// `dwSampleOffset`: the frame within the data chunk.
    pub sample_offset: u32,
    /// `labl`: the marker's name.
    pub label: Option<String>,
    /// `note`: a longer comment.
    pub note: Option<String>,
    /// `ltxt`: the length in frames of the region that starts here.
    pub length: Option<u32>,
    /// `ltxt` purpose, such as `rgn `.
    pub purpose: Option<String>,
    /// `ltxt` text, when there is any.
    pub region_text: Option<String>,
}

impl CuePoint {
    /// The frame the marker points at: `dwSampleOffset`, or `dwPosition` when a tool
    /// left the offset 0 and filled only the position.
    pub fn frame(&self) -> u64 {
        if self.sample_offset == 0 && self.chunk_start == 0 && self.block_start == 0 {
            u64::from(self.position)
        } else {
            u64::from(self.sample_offset)
        }
    }
}

/// What a WAV file holds, as read from its chunks.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WavInfo {
    pub container: Container,
    /// Bytes in the file.
    pub file_size: u64,
    pub format: Format,
    /// Byte offset of the first audio byte (0 when there is no `data` chunk).
    pub data_offset: u64,
    /// Audio bytes present in the file (less than declared when truncated).
    pub data_size: u64,
    /// Frames of audio (one sample per channel).
    pub frames: u64,
    /// `LIST`/`INFO` entries in file order: (id such as `INAM`, value).
    pub tags: Vec<(String, String)>,
    /// Cue points in file order.
    pub cues: Vec<CuePoint>,
    /// Every top-level chunk in file order.
    pub chunks: Vec<Chunk>,
    /// Problems that did not stop the reading, in plain words.
    pub warnings: Vec<String>,
}

impl WavInfo {
    /// Duration in seconds (0 when the sample rate is 0).
    pub fn duration_seconds(&self) -> f64 {
        if self.format.sample_rate == 0 {
            0.0
        } else {
            self.frames as f64 / f64::from(self.format.sample_rate)
        }
    }

    /// The first `INFO` value with `id` (such as `INAM`).
    pub fn tag(&self, id: &str) -> Option<&str> {
        self.tags
            .iter()
            .find(|(k, _)| k == id)
            .map(|(_, v)| v.as_str())
    }
}

/// Reads the chunks of the WAV file at `path`.
pub fn read_wav_info(path: &Path) -> Result<WavInfo> {
    // Opening a FIFO or a device would block or read forever: only plain files are read.
    let meta = std::fs::metadata(path).map_err(|e| Error::io(path, "open", &e))?;
    if !meta.is_file() {
        return Err(Error::in_file(
            path,
            if meta.is_dir() {
                "this is a folder, not a WAV file"
            } else {
                "this is not a plain file (a pipe, socket or device), so it cannot be read as WAV"
            },
        )
        .with_fix("give the path of a WAV file"));
    }
    let file = File::open(path).map_err(|e| Error::io(path, "open", &e))?;
    read_wav_info_from(BufReader::new(file)).map_err(|e| e.or_file(path))
}

/// Reads the chunks of a WAV held in memory (for tests and fuzzing).
pub fn parse_wav_info(bytes: &[u8]) -> Result<WavInfo> {
    read_wav_info_from(Cursor::new(bytes))
}

/// Reads the chunks of a WAV from any seekable input. Errors name no file.
pub fn read_wav_info_from<R: Read + Seek>(input: R) -> Result<WavInfo> {
    let mut walker = Walker::new(input)?;
    walker.walk()?;
    walker.finish()
}

/// Sizes from an RF64 `ds64` chunk.
#[derive(Default)]
struct Ds64 {
    riff_size: u64,
    data_size: u64,
    sample_count: u64,
    table: Vec<([u8; 4], u64)>,
}

/// Label, note and region of one cue id, from `LIST`/`adtl`.
#[derive(Default)]
struct Adtl {
    label: Option<String>,
    note: Option<String>,
    region: Option<(u32, String, Option<String>)>,
}

struct Walker<R> {
    input: R,
    len: u64,
    container: Container,
    riff_end: u64,
    ds64: Option<Ds64>,
    format: Option<Format>,
    data: Option<(u64, u64)>,
    fact_samples: Option<u64>,
    tags: Vec<(String, String)>,
    cues: Vec<CuePoint>,
    adtl: HashMap<u32, Adtl>,
    chunks: Vec<Chunk>,
    warnings: Vec<String>,
}

fn invalid(message: impl Into<String>) -> Error {
    Error::new(message).with_fix(
        "check that this is a WAV file and that it was copied whole; export it again \
         from the program that made it",
    )
}

fn io_failed(err: &std::io::Error) -> Error {
    Error::new(format!("cannot read: {err}"))
        .with_fix("check the file and the disk, then run the command again")
}

/// Four bytes as text, for messages and ids.
fn fourcc(id: &[u8]) -> String {
    id.iter()
        .map(|&b| {
            if (0x20..0x7F).contains(&b) {
                char::from(b)
            } else {
                '?'
            }
        })
        .collect()
}

/// Whether `id` is plausible as a chunk id: four printable ASCII characters.
fn looks_like_id(id: &[u8]) -> bool {
    id.len() >= 4 && id[..4].iter().all(|b| (0x20..0x7F).contains(b))
}

fn u16_at(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_le_bytes(b.get(at..at + 2)?.try_into().ok()?))
}

fn u32_at(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(b.get(at..at + 4)?.try_into().ok()?))
}

fn u64_at(b: &[u8], at: usize) -> Option<u64> {
    Some(u64::from_le_bytes(b.get(at..at + 8)?.try_into().ok()?))
}

/// A text field: up to the first NUL, UTF-8 if valid, else Latin-1.
pub fn decode_text(bytes: &[u8]) -> String {
    let end = bytes.iter().position(|&b| b == 0).unwrap_or(bytes.len());
    let bytes = &bytes[..end];
    match std::str::from_utf8(bytes) {
        Ok(text) => text.to_string(),
        Err(_) => bytes.iter().map(|&b| char::from(b)).collect(),
    }
}

/// Sub-chunks of a `LIST` payload (after its list type): (id, payload, offset in `buf`).
/// Tolerates a missing pad byte after an odd-sized sub-chunk; warns about damage.
fn sub_chunks<'a>(
    buf: &'a [u8],
    base: u64,
    warnings: &mut Vec<String>,
) -> Vec<([u8; 4], &'a [u8])> {
    let mut out = Vec::new();
    let mut at = 0usize;
    while at < buf.len() {
        let Some(header) = buf.get(at..at + 8) else {
            if buf[at..].iter().any(|&b| b != 0) {
                warnings.push(format!(
                    "{} stray bytes at byte {} inside a LIST chunk were ignored",
                    buf.len() - at,
                    base + at as u64
                ));
            }
            break;
        };
        let id: [u8; 4] = [header[0], header[1], header[2], header[3]];
        if !looks_like_id(&id) {
            warnings.push(format!(
                "unreadable data at byte {} inside a LIST chunk; the rest of that list \
                 was ignored",
                base + at as u64
            ));
            break;
        }
        let size = u32::from_le_bytes([header[4], header[5], header[6], header[7]]) as usize;
        let body_start = at + 8;
        let available = buf.len() - body_start;
        if size > available {
            warnings.push(format!(
                "the {} entry at byte {} is cut short ({size} bytes declared, {available} \
                 present)",
                fourcc(&id),
                base + at as u64
            ));
            out.push((id, &buf[body_start..]));
            break;
        }
        out.push((id, &buf[body_start..body_start + size]));
        let unpadded = body_start + size;
        at = unpadded;
        if size % 2 == 1 && unpadded < buf.len() {
            if buf[unpadded] != 0 && buf.get(unpadded..unpadded + 4).is_some_and(looks_like_id) {
                warnings.push(format!(
                    "the {} entry at byte {} has an odd size but no pad byte",
                    fourcc(&id),
                    base + at as u64 - size as u64 - 8
                ));
            } else {
                at += 1;
            }
        }
    }
    out
}

impl<R: Read + Seek> Walker<R> {
    fn new(mut input: R) -> Result<Self> {
        let len = input.seek(SeekFrom::End(0)).map_err(|e| io_failed(&e))?;
        let mut walker = Walker {
            input,
            len,
            container: Container::Riff,
            riff_end: len,
            ds64: None,
            format: None,
            data: None,
            fact_samples: None,
            tags: Vec::new(),
            cues: Vec::new(),
            adtl: HashMap::new(),
            chunks: Vec::new(),
            warnings: Vec::new(),
        };
        if len < 12 {
            return Err(invalid(format!(
                "this is not a WAV file: it holds only {len} bytes"
            )));
        }
        let head = walker.read_at(0, 12)?;
        walker.container = match &head[0..4] {
            b"RIFF" => Container::Riff,
            b"RF64" => Container::Rf64,
            b"BW64" => Container::Bw64,
            b"RIFX" => {
                return Err(
                    invalid("this is a big-endian (RIFX) WAV file, which is not supported")
                        .with_fix("convert it to an ordinary WAV file first"),
                )
            }
            other => {
                return Err(invalid(format!(
                    "this is not a WAV file: it starts with \"{}\", not \"RIFF\"",
                    fourcc(other)
                ))
                .at("byte 0"))
            }
        };
        if &head[8..12] != b"WAVE" {
            return Err(invalid(format!(
                "this RIFF file holds \"{}\", not WAVE audio",
                fourcc(&head[8..12])
            ))
            .at("byte 8"));
        }
        let riff_size = u64::from(u32::from_le_bytes([head[4], head[5], head[6], head[7]]));
        let riff_size = if walker.container == Container::Riff {
            riff_size
        } else {
            walker.read_ds64()?;
            match &walker.ds64 {
                Some(ds64) if riff_size == u64::from(u32::MAX) => ds64.riff_size,
                _ => riff_size,
            }
        };
        let riff_end = riff_size.saturating_add(8);
        if riff_end > len {
            walker.warnings.push(format!(
                "the file is {} bytes shorter than its header says: it may have been cut \
                 short while copying",
                riff_end - len
            ));
            walker.riff_end = len;
        } else if riff_size < 4 {
            walker.warnings.push(format!(
                "the header gives an impossible size ({riff_size} bytes); the whole file \
                 was read"
            ));
        } else {
            walker.riff_end = riff_end;
        }
        Ok(walker)
    }

    /// Reads `n` bytes at `offset`; callers bound `n` by the file's length.
    fn read_at(&mut self, offset: u64, n: u64) -> Result<Vec<u8>> {
        let n = n.min(self.len.saturating_sub(offset));
        let mut buf = vec![0; n as usize];
        self.input
            .seek(SeekFrom::Start(offset))
            .and_then(|_| self.input.read_exact(&mut buf))
            .map_err(|e| io_failed(&e).at(format!("byte {offset}")))?;
        Ok(buf)
    }

    /// Reads the `ds64` chunk that must follow an RF64 header.
    fn read_ds64(&mut self) -> Result<()> {
        let name = self.container.name();
        let head = self.read_at(12, 8)?;
        if head.len() < 8 || &head[0..4] != b"ds64" {
            self.warnings.push(format!(
                "this {name} file has no ds64 chunk after its header, so its large sizes \
                 are unknown"
            ));
            return Ok(());
        }
        let size = u64::from(u32::from_le_bytes([head[4], head[5], head[6], head[7]]));
        let body = self.read_at(20, size.min(28 + 12 * MAX_DS64_TABLE))?;
        let (Some(riff_size), Some(data_size), Some(sample_count)) =
            (u64_at(&body, 0), u64_at(&body, 8), u64_at(&body, 16))
        else {
            self.warnings
                .push("the ds64 chunk is too short to hold the file's sizes".into());
            return Ok(());
        };
        let entries = u64::from(u32_at(&body, 24).unwrap_or(0)).min(MAX_DS64_TABLE);
        let table = (0..entries as usize)
            .map_while(|i| {
                let at = 28 + 12 * i;
                let id = body.get(at..at + 4)?;
                Some(([id[0], id[1], id[2], id[3]], u64_at(&body, at + 4)?))
            })
            .collect();
        self.ds64 = Some(Ds64 {
            riff_size,
            data_size,
            sample_count,
            table,
        });
        Ok(())
    }

    /// The real size of a chunk whose header says `size`.
    fn chunk_size(&mut self, id: &[u8; 4], size: u32, offset: u64) -> u64 {
        if size != u32::MAX || self.container == Container::Riff {
            return u64::from(size);
        }
        let from_ds64 = self.ds64.as_ref().and_then(|ds64| {
            if id == b"data" {
                Some(ds64.data_size)
            } else {
                ds64.table.iter().find(|(t, _)| t == id).map(|(_, s)| *s)
            }
        });
        from_ds64.unwrap_or_else(|| {
            self.warnings.push(format!(
                "the {} chunk at byte {offset} has no size in ds64; it was taken to run \
                 to the end of the file",
                fourcc(id)
            ));
            self.len.saturating_sub(offset + 8)
        })
    }

    fn walk(&mut self) -> Result<()> {
        let mut at = 12u64;
        let mut end = self.riff_end;
        loop {
            if at.saturating_add(8) > end {
                // A writer that got the RIFF size wrong may have put data past it.
                if self.data.is_none() && end < self.len && at.saturating_add(8) <= self.len {
                    self.warnings.push(
                        "the RIFF size in the header is too small; chunks past it were read".into(),
                    );
                    end = self.len;
                    continue;
                }
                if at < end && self.read_at(at, end - at)?.iter().any(|&b| b != 0) {
                    self.warnings.push(format!(
                        "{} stray bytes at byte {at} were ignored",
                        end - at
                    ));
                }
                break;
            }
            if self.chunks.len() >= MAX_CHUNKS {
                self.warnings.push(format!(
                    "more than {MAX_CHUNKS} chunks; the rest of the file was not read"
                ));
                break;
            }
            let head = self.read_at(at, 8)?;
            let id = [head[0], head[1], head[2], head[3]];
            if !looks_like_id(&id) {
                self.warnings.push(format!(
                    "unreadable data at byte {at}; the rest of the file was ignored"
                ));
                break;
            }
            let declared = u32::from_le_bytes([head[4], head[5], head[6], head[7]]);
            let size = self.chunk_size(&id, declared, at);
            let body = at + 8;
            let available = end.saturating_sub(body);
            let present = size.min(available);
            if size > available {
                self.warnings.push(if &id == b"data" {
                    format!(
                        "the audio data is cut short: {size} bytes declared, {available} \
                         present; the file may be truncated"
                    )
                } else {
                    format!(
                        "the {} chunk at byte {at} is cut short: {size} bytes declared, \
                         {available} present",
                        fourcc(&id)
                    )
                });
            }
            let list_type = self.read_chunk(&id, at, body, present)?;
            self.chunks.push(Chunk {
                id: fourcc(&id),
                offset: at,
                size,
                list_type,
            });
            if size > available {
                break;
            }
            at = body + size;
            if size % 2 == 1 && at < end {
                let next = self.read_at(at, 5)?;
                if next.first().is_some_and(|&pad| pad != 0) && looks_like_id(&next) {
                    self.warnings.push(format!(
                        "the {} chunk at byte {} has an odd size but no pad byte",
                        fourcc(&id),
                        body - 8
                    ));
                } else {
                    at += 1;
                }
            }
        }
        if self.riff_end < self.len && end == self.riff_end {
            let extra = self.len - self.riff_end;
            // A writer that left the last pad byte outside the RIFF size is harmless.
            if extra > 1 {
                self.warnings.push(format!(
                    "{extra} bytes after the end of the RIFF chunk were ignored"
                ));
            }
        }
        Ok(())
    }

    /// Reads what we use from one chunk; returns the list type of a `LIST`.
    fn read_chunk(
        &mut self,
        id: &[u8; 4],
        at: u64,
        body: u64,
        present: u64,
    ) -> Result<Option<String>> {
        match id {
            b"data" => {
                if self.data.is_some() {
                    self.warnings
                        .push(format!("a second data chunk at byte {at} was ignored"));
                } else {
                    self.data = Some((body, present));
                }
            }
            b"fmt " => {
                let bytes = self.read_at(body, present.min(4096))?;
                if self.format.is_some() {
                    self.warnings
                        .push(format!("a second fmt chunk at byte {at} was ignored"));
                } else {
                    self.format = Some(parse_fmt(&bytes).map_err(|e| e.at(format!("byte {at}")))?);
                }
            }
            b"fact" => {
                let bytes = self.read_at(body, present.min(4))?;
                self.fact_samples = u32_at(&bytes, 0).map(u64::from);
            }
            b"ds64" if at != 12 => {
                self.warnings.push(format!(
                    "a ds64 chunk at byte {at} is not where RF64 puts it and was ignored"
                ));
            }
            b"cue " => {
                if let Some(bytes) = self.read_meta(id, at, body, present)? {
                    if self.cues.is_empty() {
                        self.parse_cue(&bytes, at);
                    } else {
                        self.warnings
                            .push(format!("a second cue chunk at byte {at} was ignored"));
                    }
                }
            }
            b"LIST" => {
                let Some(bytes) = self.read_meta(id, at, body, present)? else {
                    return Ok(None);
                };
                let Some(kind) = bytes.get(0..4) else {
                    self.warnings
                        .push(format!("the LIST chunk at byte {at} is empty"));
                    return Ok(None);
                };
                let kind = fourcc(kind);
                let mut warnings = Vec::new();
                let items = sub_chunks(&bytes[4..], body + 4, &mut warnings);
                self.warnings.append(&mut warnings);
                match kind.as_str() {
                    "INFO" => {
                        for (id, value) in items {
                            self.tags.push((fourcc(&id), decode_text(value)));
                        }
                    }
                    "adtl" => self.parse_adtl(&items),
                    _ => {}
                }
                return Ok(Some(kind));
            }
            _ => {}
        }
        Ok(None)
    }

    /// The payload of a metadata chunk, or `None` (with a warning) when it is too large.
    fn read_meta(
        &mut self,
        id: &[u8; 4],
        at: u64,
        body: u64,
        present: u64,
    ) -> Result<Option<Vec<u8>>> {
        if present > MAX_META_CHUNK {
            self.warnings.push(format!(
                "the {} chunk at byte {at} is too large ({present} bytes) and was skipped",
                fourcc(id)
            ));
            return Ok(None);
        }
        self.read_at(body, present).map(Some)
    }

    fn parse_cue(&mut self, bytes: &[u8], at: u64) {
        let declared = u32_at(bytes, 0).unwrap_or(0) as usize;
        let fit = bytes.len().saturating_sub(4) / 24;
        if declared > fit {
            self.warnings.push(format!(
                "the cue chunk at byte {at} declares {declared} cue points but holds {fit}"
            ));
        }
        // A set, not a scan of the list: a 16 MiB cue chunk holds 700,000 points, and a
        // quadratic check took minutes (100,000 points: 13 s).
        let mut seen = std::collections::HashSet::new();
        for i in 0..declared.min(fit) {
            let p = &bytes[4 + 24 * i..4 + 24 * (i + 1)];
            let field = |k: usize| u32_at(p, 4 * k).unwrap_or(0);
            let id = field(0);
            if !seen.insert(id) {
                self.warnings
                    .push(format!("cue id {id} appears twice; the second was ignored"));
                continue;
            }
            self.cues.push(CuePoint {
                id,
                position: field(1),
                chunk: fourcc(&p[8..12]),
                chunk_start: field(3),
                block_start: field(4),
                sample_offset: field(5),
                label: None,
                note: None,
                length: None,
                purpose: None,
                region_text: None,
            });
        }
    }

    fn parse_adtl(&mut self, items: &[([u8; 4], &[u8])]) {
        for (kind, body) in items {
            let Some(id) = u32_at(body, 0) else {
                continue;
            };
            let entry = self.adtl.entry(id).or_default();
            match kind {
                b"labl" => {
                    entry.label.get_or_insert_with(|| decode_text(&body[4..]));
                }
                b"note" => {
                    entry.note.get_or_insert_with(|| decode_text(&body[4..]));
                }
                b"ltxt" => {
                    if let (Some(length), Some(purpose)) = (u32_at(body, 4), body.get(8..12)) {
                        let text = body.get(20..).filter(|t| !t.is_empty()).map(decode_text);
                        entry.region.get_or_insert((length, fourcc(purpose), text));
                    }
                }
                _ => {}
            }
        }
    }

    fn finish(mut self) -> Result<WavInfo> {
        let Some(format) = self.format.take() else {
            return Err(invalid(
                "this WAV file has no fmt chunk, so how its audio is stored is unknown",
            ));
        };
        let (data_offset, data_size) = self.data.unwrap_or_else(|| {
            self.warnings
                .push("there is no data chunk: the file holds no audio".into());
            (0, 0)
        });
        let frames = if format.is_uncompressed() {
            if format.block_align == 0 {
                self.warnings
                    .push("the fmt chunk gives a block size of 0; frames cannot be counted".into());
                0
            } else {
                let align = u64::from(format.block_align);
                if data_size % align != 0 {
                    self.warnings.push(format!(
                        "the audio data ends with a partial frame ({} stray bytes)",
                        data_size % align
                    ));
                }
                data_size / align
            }
        } else {
            let from_ds64 = self
                .ds64
                .as_ref()
                .map(|d| d.sample_count)
                .filter(|&n| n > 0);
            match from_ds64.or(self.fact_samples) {
                Some(n) => n,
                None => {
                    self.warnings.push(
                        "the file is compressed and has no fact chunk: its length is unknown"
                            .into(),
                    );
                    0
                }
            }
        };
        let mut cues = std::mem::take(&mut self.cues);
        for cue in &mut cues {
            if let Some(extra) = self.adtl.remove(&cue.id) {
                cue.label = extra.label;
                cue.note = extra.note;
                if let Some((length, purpose, text)) = extra.region {
                    cue.length = Some(length);
                    cue.purpose = Some(purpose);
                    cue.region_text = text;
                }
            }
            if cue.frame() > frames {
                let name = cue.label.as_deref().unwrap_or("");
                self.warnings.push(format!(
                    "cue point {} \"{name}\" at frame {} lies past the end of the audio \
                     ({frames} frames)",
                    cue.id,
                    cue.frame()
                ));
            } else if let Some(length) = cue.length {
                if cue.frame() + u64::from(length) > frames {
                    self.warnings.push(format!(
                        "the region of cue point {} runs past the end of the audio",
                        cue.id
                    ));
                }
            }
        }
        let mut orphans: Vec<u32> = self.adtl.keys().copied().collect();
        orphans.sort_unstable();
        for id in orphans {
            self.warnings.push(format!(
                "a label or note refers to cue id {id}, which has no cue point"
            ));
        }
        if format.channels == 0 || format.sample_rate == 0 {
            self.warnings.push(format!(
                "the fmt chunk gives {} channels at {} Hz, which cannot be played",
                format.channels, format.sample_rate
            ));
        } else if !crate::decode::SAMPLE_RATES.contains(&format.sample_rate) {
            self.warnings.push(format!(
                "the fmt chunk gives a sample rate of {} Hz, outside what audio uses ({} to \
                 {} Hz): the header is probably damaged",
                format.sample_rate,
                crate::decode::SAMPLE_RATES.start(),
                crate::decode::SAMPLE_RATES.end()
            ));
        }
        Ok(WavInfo {
            container: self.container,
            file_size: self.len,
            format,
            data_offset,
            data_size,
            frames,
            tags: self.tags,
            cues,
            chunks: self.chunks,
            warnings: self.warnings,
        })
    }
}

/// Parses a `fmt ` payload.
fn parse_fmt(b: &[u8]) -> Result<Format> {
    let (
        Some(tag),
        Some(channels),
        Some(sample_rate),
        Some(byte_rate),
        Some(block_align),
        Some(bits),
    ) = (
        u16_at(b, 0),
        u16_at(b, 2),
        u32_at(b, 4),
        u32_at(b, 8),
        u16_at(b, 12),
        u16_at(b, 14),
    )
    else {
        return Err(invalid(format!(
            "the fmt chunk is too short ({} bytes, at least 16 needed)",
            b.len()
        )));
    };
    let mut format = Format {
        tag,
        encoding: encoding(tag),
        sub_format: None,
        channels,
        sample_rate,
        byte_rate,
        block_align,
        bits_per_sample: bits,
        valid_bits: None,
        channel_mask: None,
    };
    if tag == 0xFFFE {
        if let (Some(valid), Some(mask), Some(guid)) = (u16_at(b, 18), u32_at(b, 20), b.get(24..40))
        {
            format.valid_bits = Some(valid);
            format.channel_mask = Some(mask);
            format.sub_format = Some(guid_text(guid));
            let standard =
                guid[2..] == [0, 0, 0, 0, 0x10, 0, 0x80, 0, 0, 0xAA, 0, 0x38, 0x9B, 0x71];
            let sub = u16::from_le_bytes([guid[0], guid[1]]);
            format.encoding = if standard {
                encoding(sub)
            } else {
                Encoding::Other(tag)
            };
        }
    }
    Ok(format)
}

fn encoding(tag: u16) -> Encoding {
    match tag {
        0x0001 => Encoding::Pcm,
        0x0003 => Encoding::Float,
        0x0006 => Encoding::ALaw,
        0x0007 => Encoding::MuLaw,
        other => Encoding::Other(other),
    }
}

/// A GUID in its usual text form.
fn guid_text(g: &[u8]) -> String {
    let d1 = u32::from_le_bytes([g[0], g[1], g[2], g[3]]);
    let d2 = u16::from_le_bytes([g[4], g[5]]);
    let d3 = u16::from_le_bytes([g[6], g[7]]);
    let tail: String = g[10..16].iter().map(|b| format!("{b:02X}")).collect();
    format!("{d1:08X}-{d2:04X}-{d3:04X}-{:02X}{:02X}-{tail}", g[8], g[9])
}

#[cfg(test)]
mod tests {
    use std::io::Cursor;

    use super::*;
    use crate::meta::{EpisodeMeta, TagKey};
    use crate::profile::SampleFormat;
    use crate::timeline::{Chapter, Timeline};
    use crate::wav::writer::{WavSpec, WavWriter};

    fn ours(rf64: bool) -> Vec<u8> {
        let timeline = Timeline {
            sample_rate: 8000,
            total_frames: 9,
            chapters: vec![
                Chapter {
                    title: "Après la procédure".into(),
                    start: 0,
                    length: 3,
                },
                Chapter {
                    title: "Odd".into(),
                    start: 4,
                    length: 5,
                },
            ],
        };
        let meta = EpisodeMeta {
            id: "x".into(),
            tags: vec![
                (TagKey::Title, "Guide".into()),
                (TagKey::Comment, "Né".into()),
            ],
        };
        let spec = WavSpec {
            sample_rate: 8000,
            channels: 1,
            format: SampleFormat::Pcm16,
        };
        let mut w = WavWriter::new(Cursor::new(Vec::new()), spec, &meta, &timeline).unwrap();
        if rf64 {
            w = w.with_rf64_threshold(0);
        }
        w.write_i16(&[1; 9]).unwrap();
        w.finish().unwrap().into_inner()
    }

    /// A chunk with its pad byte.
    fn chunk(id: &[u8; 4], body: &[u8]) -> Vec<u8> {
        let mut out = id.to_vec();
        out.extend_from_slice(&(body.len() as u32).to_le_bytes());
        out.extend_from_slice(body);
        if body.len() % 2 == 1 {
            out.push(0);
        }
        out
    }

    fn riff(chunks: &[Vec<u8>]) -> Vec<u8> {
        let body: Vec<u8> = chunks.concat();
        let mut out = b"RIFF".to_vec();
        out.extend_from_slice(&(body.len() as u32 + 4).to_le_bytes());
        out.extend_from_slice(b"WAVE");
        out.extend_from_slice(&body);
        out
    }

    fn fmt(tag: u16, channels: u16, rate: u32, bits: u16) -> Vec<u8> {
        let align = channels * bits.div_ceil(8);
        let mut p = tag.to_le_bytes().to_vec();
        p.extend_from_slice(&channels.to_le_bytes());
        p.extend_from_slice(&rate.to_le_bytes());
        p.extend_from_slice(&(rate * u32::from(align)).to_le_bytes());
        p.extend_from_slice(&align.to_le_bytes());
        p.extend_from_slice(&bits.to_le_bytes());
        chunk(b"fmt ", &p)
    }

    #[test]
    fn reads_our_files() {
        for rf64 in [false, true] {
            let info = parse_wav_info(&ours(rf64)).unwrap();
            assert_eq!(
                info.container,
                if rf64 {
                    Container::Rf64
                } else {
                    Container::Riff
                }
            );
            assert!(info.warnings.is_empty(), "{:?}", info.warnings);
            assert_eq!(info.format.describe(), "PCM 16-bit");
            assert_eq!(info.frames, 9);
            assert_eq!(info.data_size, 18);
            assert_eq!(info.tag("INAM"), Some("Guide"));
            assert_eq!(info.tag("ICMT"), Some("Né"));
            let cues: Vec<_> = info
                .cues
                .iter()
                .map(|c| (c.id, c.frame(), c.label.as_deref(), c.length))
                .collect();
            assert_eq!(
                cues,
                [
                    (1, 0, Some("Après la procédure"), Some(4)),
                    (2, 4, Some("Odd"), Some(5))
                ]
            );
            let ids: Vec<_> = info.chunks.iter().map(|c| c.id.as_str()).collect();
            let first = if rf64 { "ds64" } else { "JUNK" };
            assert_eq!(ids, [first, "fmt ", "LIST", "cue ", "LIST", "data"]);
            assert_eq!(info.chunks[2].list_type.as_deref(), Some("INFO"));
        }
    }

    #[test]
    fn cues_after_data_with_notes_and_latin1() {
        let mut cue = 2u32.to_le_bytes().to_vec();
        for (id, frame) in [(7u32, 2u32), (9, 50)] {
            for v in [id, frame] {
                cue.extend_from_slice(&v.to_le_bytes());
            }
            cue.extend_from_slice(b"data");
            cue.extend_from_slice(&[0; 8]);
            cue.extend_from_slice(&frame.to_le_bytes());
        }
        let mut adtl = b"adtl".to_vec();
        adtl.extend(chunk(b"labl", b"\x07\0\0\0Caf\xE9\0"));
        adtl.extend(chunk(b"note", b"\x07\0\0\0a note\0"));
        adtl.extend(chunk(b"labl", b"\x09\0\0\0Late\0"));
        adtl.extend(chunk(b"labl", b"\x0B\0\0\0Orphan\0"));
        let info = parse_wav_info(&riff(&[
            fmt(7, 1, 8000, 8),
            chunk(b"data", &[0xFF; 11]),
            chunk(b"cue ", &cue),
            chunk(b"LIST", &adtl),
        ]))
        .unwrap();
        assert_eq!(info.format.describe(), "µ-law");
        assert_eq!(info.frames, 11);
        assert_eq!(info.cues[0].label.as_deref(), Some("Café"));
        assert_eq!(info.cues[0].note.as_deref(), Some("a note"));
        assert_eq!(info.cues[1].frame(), 50);
        assert_eq!(info.warnings.len(), 2, "{:?}", info.warnings);
        assert!(info.warnings[0].contains("past the end"));
        assert!(info.warnings[1].contains("cue id 11"));
    }

    #[test]
    fn odd_chunk_without_pad_byte() {
        let mut info_list = b"INFO".to_vec();
        info_list.extend_from_slice(b"INAM\x02\0\0\0A\0ISFT\x03\0\0\0xyz");
        // The INFO entry "xyz" (odd) is last; then LIST itself is odd and unpadded.
        let mut list = b"LIST".to_vec();
        list.extend_from_slice(&(info_list.len() as u32).to_le_bytes());
        list.extend_from_slice(&info_list);
        let mut bytes = riff(&[fmt(1, 1, 8000, 16), list]);
        bytes.extend(chunk(b"data", &[0; 4]));
        let size = bytes.len() as u32 - 8;
        bytes[4..8].copy_from_slice(&size.to_le_bytes());
        let info = parse_wav_info(&bytes).unwrap();
        assert_eq!(info.tag("ISFT"), Some("xyz"));
        assert_eq!(info.frames, 2);
        assert_eq!(info.warnings.len(), 1, "{:?}", info.warnings);
        assert!(info.warnings[0].contains("no pad byte"));
    }

    #[test]
    fn extensible_float_and_truncation() {
        let mut p = 0xFFFEu16.to_le_bytes().to_vec();
        p.extend_from_slice(&2u16.to_le_bytes());
        p.extend_from_slice(&48_000u32.to_le_bytes());
        p.extend_from_slice(&(48_000u32 * 8).to_le_bytes());
        p.extend_from_slice(&8u16.to_le_bytes());
        p.extend_from_slice(&32u16.to_le_bytes());
        p.extend_from_slice(&22u16.to_le_bytes());
        p.extend_from_slice(&32u16.to_le_bytes());
        p.extend_from_slice(&3u32.to_le_bytes());
        p.extend_from_slice(&[
            3, 0, 0, 0, 0, 0, 0x10, 0, 0x80, 0, 0, 0xAA, 0, 0x38, 0x9B, 0x71,
        ]);
        let mut bytes = riff(&[chunk(b"fmt ", &p), chunk(b"data", &[0; 80])]);
        bytes.truncate(bytes.len() - 20);
        let info = parse_wav_info(&bytes).unwrap();
        assert_eq!(info.format.describe(), "IEEE float 32-bit");
        assert_eq!(
            info.format.sub_format.as_deref(),
            Some("00000003-0000-0010-8000-00AA00389B71")
        );
        assert_eq!(info.frames, 7);
        assert!(info
            .warnings
            .iter()
            .any(|w| w.contains("shorter than its header")));
        assert!(info.warnings.iter().any(|w| w.contains("cut short")));
        assert!(info.warnings.iter().any(|w| w.contains("partial frame")));
    }

    #[test]
    fn not_wav_is_an_error() {
        assert!(parse_wav_info(b"").is_err());
        assert!(parse_wav_info(b"ID3\x03\0\0\0\0\0\0\0\0\0\0").is_err());
        assert!(parse_wav_info(b"RIFF\x04\0\0\0AVI ").is_err());
        let err = parse_wav_info(&riff(&[chunk(b"data", &[0; 4])])).unwrap_err();
        assert!(err.message.contains("no fmt chunk"));
        assert!(err.fix.is_some());
    }

    /// A small deterministic generator for the garbage tests.
    fn xorshift(state: &mut u64) -> u64 {
        *state ^= *state << 13;
        *state ^= *state >> 7;
        *state ^= *state << 17;
        *state
    }

    #[test]
    fn garbage_never_panics() {
        let good = [ours(false), ours(true)];
        for file in &good {
            for cut in 0..file.len() {
                let _ = parse_wav_info(&file[..cut]);
            }
        }
        let mut state = 0x9E37_79B9_7F4A_7C15u64;
        for round in 0..20_000 {
            let mut bytes = good[round % 2].clone();
            for _ in 0..1 + xorshift(&mut state) % 4 {
                let at = (xorshift(&mut state) % bytes.len() as u64) as usize;
                bytes[at] = match xorshift(&mut state) % 4 {
                    0 => 0xFF,
                    1 => 0,
                    _ => xorshift(&mut state) as u8,
                };
            }
            let _ = parse_wav_info(&bytes);
        }
    }
}
