//! Decoding clips to interleaved `f32`: every WAV form, FLAC, MP3 (gapless) and Ogg Vorbis.
//!
//! Symphonia does the sample decoding. The container is recognised here, by content, from the
//! first bytes (the file extension only helps when that fails), and WAV headers are parsed here
//! too, for three reasons:
//!
//! - symphonia 0.6 mis-reads a `LIST` chunk of odd size before `data` (it skips the pad byte
//!   twice and then fails with "chunk length exceeds parent"); it rejects µ-law/A-law `fmt`
//!   chunks of 16 bytes, and µ-law/A-law inside `WAVE_FORMAT_EXTENSIBLE`; it does not read
//!   RF64/BW64;
//! - a truncated WAV is detected exactly, from the `data` chunk's declared length and the file
//!   size, instead of quietly decoding short audio;
//! - nothing is allocated from a header's claimed size.
//!
//! So for a WAV we walk the chunk headers ourselves, then hand symphonia a canonical stream,
//! `RIFF/WAVE` + `fmt ` + `data`, whose payload is read straight from the file (no copy). Other
//! formats get the file as it is, minus any leading ID3v2 tag.

use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};
use std::path::Path;

use symphonia::core::codecs::audio::well_known as codec_ids;
use symphonia::core::codecs::audio::{AudioCodecId, AudioCodecParameters, AudioDecoderOptions};
use symphonia::core::errors::Error as SymError;
use symphonia::core::formats::probe::{Hint, Probe};
use symphonia::core::formats::{FormatOptions, FormatReader, TrackType};
use symphonia::core::io::{MediaSource, MediaSourceStream, MediaSourceStreamOptions};
use symphonia::core::meta::MetadataOptions;
use symphonia::default::formats::{FlacReader, MpaReader, OggReader, WavReader};

use crate::audio::Audio;
use crate::error::{Error, Result};

/// What `narrate` can decode, for error messages.
pub const SUPPORTED: &str = "WAV (8/16/24/32-bit PCM, 32/64-bit float, µ-law, A-law, IMA/MS \
     ADPCM; RIFF, RF64, WAVE_FORMAT_EXTENSIBLE), FLAC, MP3 and Ogg Vorbis";

const FIX_CONVERT: &str = "convert the clip to WAV or FLAC (e.g. `ffmpeg -i IN -c:a pcm_s16le \
     OUT.wav`) and point the script at the converted file";
const FIX_REEXPORT: &str = "the file is damaged: export or copy the recording again";
const FIX_TRUNCATED: &str =
    "the file is incomplete (an interrupted copy, download or recording): copy or export it again";

/// Sample rates accepted, in Hz. Real recordings use 8 kHz (telephone) to 384 kHz; 768 kHz is
/// the highest any converter offers. Outside this range a header is damaged or hostile, and
/// converting from it would need absurd amounts of memory (the resampler's block grows with
/// the ratio of the rates).
pub const SAMPLE_RATES: std::ops::RangeInclusive<u32> = 1_000..=768_000;

/// Largest `fmt ` chunk we read; real ones are 16 to ~50 bytes.
const MAX_FMT_LEN: u32 = 4096;
/// A header's frame count is trusted for the up-front reservation only up to the larger of
/// this many samples and 16 samples per byte of file.
const MAX_RESERVE_SAMPLES: u64 = 1 << 24;

/// A clip's format, read from its header without decoding the audio.
#[derive(Debug, Clone, PartialEq)]
pub struct ClipInfo {
    /// Container: `WAV`, `FLAC`, `MP3` or `Ogg`.
    pub container: String,
    /// Codec in words, e.g. `16-bit PCM`, `µ-law`, `FLAC`, `Vorbis`.
    pub codec: String,
    pub sample_rate: u32,
    pub channels: u16,
    /// Bits per sample where the format has them (PCM, FLAC).
    pub bits_per_sample: Option<u32>,
    /// Frames (samples per channel), when the header says.
    pub frames: Option<u64>,
    /// Seconds, when the number of frames is known.
    pub duration_seconds: Option<f64>,
}

/// Reads a clip's format and length from its header, without decoding the audio.
///
/// For WAV this also catches truncation, since the declared and actual data sizes are compared.
pub fn probe_file(path: &Path) -> Result<ClipInfo> {
    let Opened {
        file,
        file_len,
        kind,
    } = open(path)?;
    match kind {
        Kind::Wav(wav) => Ok(wav.info()),
        Kind::Other { start } => {
            let reader = open_other(path, file, file_len, start)?;
            let track = audio_track(path, reader.as_ref())?;
            let params = track_params(path, reader.as_ref())?;
            let (sample_rate, channels) = check_spec(path, &params)?;
            if symphonia::default::get_codecs()
                .get_audio_decoder(params.codec)
                .is_none()
            {
                return Err(unsupported_codec(path, params.codec));
            }
            let codec = codec_name(params.codec);
            let container = container_name(reader.format_info().short_name);
            Ok(ClipInfo {
                container,
                codec,
                sample_rate,
                channels,
                bits_per_sample: params.bits_per_sample,
                frames: track.num_frames,
                duration_seconds: track.num_frames.map(|n| n as f64 / f64::from(sample_rate)),
            })
        }
    }
}

/// Decodes a whole clip to interleaved `f32` (see [`Decoder`] for the conversion rules).
pub fn decode_file(path: &Path) -> Result<Audio> {
    let mut decoder = Decoder::open(path)?;
    let ch = u64::from(decoder.channels());
    // Reserve from the header's claim, capped by what a file this size could decode to, and
    // only if the memory is there: a hostile header cannot make us allocate.
    let reserve = decoder
        .declared_frames
        .unwrap_or(0)
        .saturating_mul(ch)
        .min(decoder.file_len.saturating_mul(16).max(MAX_RESERVE_SAMPLES));
    let mut samples: Vec<f32> = Vec::new();
    let _ = samples.try_reserve_exact(usize::try_from(reserve).unwrap_or(0));
    while let Some(chunk) = decoder.next_chunk()? {
        samples.extend_from_slice(chunk);
    }
    samples.shrink_to_fit();
    Ok(Audio {
        sample_rate: decoder.sample_rate(),
        channels: decoder.channels(),
        samples,
    })
}

/// A clip being decoded, a packet at a time, to interleaved `f32`: memory stays that of one
/// packet however long the clip is.
///
/// Integers are scaled by 1/2^(bits−1) (an `i16` x becomes x/32768), unsigned 8-bit is
/// re-centred first, floats pass unchanged, µ-law/A-law go through G.711 to 16-bit first.
/// MP3 and Vorbis encoder delay and padding are removed. A clip that decodes to fewer frames
/// than its header declares, to no frames at all, or to samples that are not numbers is an
/// error (from [`Decoder::next_chunk`], once the end shows it), not short or silent audio.
pub struct Decoder {
    path: std::path::PathBuf,
    file_len: u64,
    reader: Box<dyn FormatReader>,
    decoder: Box<dyn symphonia::core::codecs::audio::AudioDecoder>,
    track_id: u32,
    declared_frames: Option<u64>,
    /// ADPCM pads its last block; the `fact` chunk says where the audio really ends.
    frame_limit: Option<u64>,
    sample_rate: u32,
    channels: u16,
    chunk: Vec<f32>,
    /// Frames handed out so far.
    frames: u64,
    /// The first sample that is not a number (frame), and how many there are.
    not_numbers: Option<(u64, u64)>,
    done: bool,
}

impl Decoder {
    /// Opens `path`, recognising the format by content, and reads its header.
    pub fn open(path: &Path) -> Result<Decoder> {
        let Opened {
            file,
            file_len,
            kind,
        } = open(path)?;
        let frame_limit = match &kind {
            Kind::Wav(wav) if wav.codec == WavCodec::Adpcm => Some(wav.frames()),
            _ => None,
        };
        let reader: Box<dyn FormatReader> = match kind {
            Kind::Wav(wav) => {
                let stream = wav.stream(file);
                let mss =
                    MediaSourceStream::new(Box::new(stream), MediaSourceStreamOptions::default());
                Box::new(
                    WavReader::try_new(mss, FormatOptions::default())
                        .map_err(|e| from_symphonia(path, e, "read the WAV header"))?,
                )
            }
            Kind::Other { start } => open_other(path, file, file_len, start)?,
        };
        let track = audio_track(path, reader.as_ref())?;
        let (track_id, declared_frames) = (track.id, track.num_frames);
        let params = track_params(path, reader.as_ref())?;
        let (sample_rate, channels) = check_spec(path, &params)?;
        let decoder = symphonia::default::get_codecs()
            .make_audio_decoder(&params, &AudioDecoderOptions::default())
            .map_err(|e| match e {
                SymError::Unsupported(_) => unsupported_codec(path, params.codec),
                other => from_symphonia(path, other, "set up the decoder"),
            })?;
        Ok(Decoder {
            path: path.to_path_buf(),
            file_len,
            reader,
            decoder,
            track_id,
            declared_frames,
            frame_limit,
            sample_rate,
            channels,
            chunk: Vec::new(),
            frames: 0,
            not_numbers: None,
            done: false,
        })
    }

    pub fn sample_rate(&self) -> u32 {
        self.sample_rate
    }

    pub fn channels(&self) -> u16 {
        self.channels
    }

    /// Frames handed out so far.
    pub fn frames(&self) -> u64 {
        self.frames
    }

    /// The next decoded samples (whole frames), or `None` at the end of a clip that decoded
    /// whole. After an error or the end, there is nothing more.
    pub fn next_chunk(&mut self) -> Result<Option<&[f32]>> {
        if self.done {
            return Ok(None);
        }
        loop {
            match self.next_packet() {
                Ok(true) if self.not_numbers.is_some() => continue,
                Ok(true) if self.chunk.is_empty() => continue,
                Ok(true) => return Ok(Some(&self.chunk)),
                Ok(false) => {
                    self.done = true;
                    return self.finish().map(|()| None);
                }
                Err(e) => {
                    self.done = true;
                    return Err(e);
                }
            }
        }
    }

    /// Decodes the next packet of the track into `chunk`; false at the end of the stream.
    fn next_packet(&mut self) -> Result<bool> {
        let path = self.path.as_path();
        let ch = u64::from(self.channels);
        let at = format!("{:.2} s", seconds(self.frames, self.sample_rate));
        let truncated = |frames| truncated(path, self.declared_frames, frames, self.sample_rate);
        let packet = loop {
            match self.reader.next_packet() {
                Ok(Some(packet)) if packet.track_id != self.track_id => continue,
                Ok(Some(packet)) => break packet,
                Ok(None) => return Ok(false),
                Err(SymError::IoError(e)) if e.kind() == io::ErrorKind::UnexpectedEof => {
                    return Err(truncated(self.frames));
                }
                Err(SymError::ResetRequired) => {
                    return Err(Error::in_file(
                        path,
                        "the audio format changes part-way through the file",
                    )
                    .at(at)
                    .with_fix(FIX_CONVERT));
                }
                Err(e) => return Err(from_symphonia(path, e, "read the audio").at(at)),
            }
        };
        let buf = match self.decoder.decode(&packet) {
            Ok(buf) => buf,
            Err(SymError::IoError(e)) if e.kind() == io::ErrorKind::UnexpectedEof => {
                return Err(truncated(self.frames));
            }
            Err(e) => return Err(from_symphonia(path, e, "decode the audio").at(at)),
        };
        let spec = buf.spec();
        if spec.rate() != self.sample_rate || spec.channels().count() as u64 != ch {
            return Err(Error::in_file(
                path,
                format!(
                    "the audio format changes part-way through the file (from {} Hz, \
                     {ch} channels to {} Hz, {} channels)",
                    self.sample_rate,
                    spec.rate(),
                    spec.channels().count()
                ),
            )
            .at(at)
            .with_fix(FIX_CONVERT));
        }
        buf.copy_to_vec_interleaved::<f32>(&mut self.chunk);
        if let Some(limit) = self.frame_limit {
            let keep = limit.saturating_sub(self.frames).saturating_mul(ch);
            self.chunk
                .truncate(usize::try_from(keep).unwrap_or(usize::MAX));
        }
        let first = self.frames;
        self.frames += self.chunk.len() as u64 / ch.max(1);
        // A float WAV can hold NaN or infinity; one such sample silently wrecks the loudness
        // measurement and the gain of the whole episode.
        let bad = self.chunk.iter().filter(|x| !x.is_finite()).count() as u64;
        match &mut self.not_numbers {
            _ if bad == 0 => {}
            Some((_, count)) => *count += bad,
            None => {
                let i = self.chunk.iter().position(|x| !x.is_finite()).unwrap_or(0);
                self.not_numbers = Some((first + i as u64 / ch.max(1), bad));
            }
        }
        Ok(true)
    }

    /// The checks only the end of the stream can make.
    fn finish(&self) -> Result<()> {
        let path = self.path.as_path();
        if let Some(declared) = self.declared_frames {
            // ADPCM's declared count is the padded one; the limit already cut it.
            if self.frames < declared.min(self.frame_limit.unwrap_or(u64::MAX)) {
                return Err(truncated(
                    path,
                    self.declared_frames,
                    self.frames,
                    self.sample_rate,
                ));
            }
        }
        if let Some((first, count)) = self.not_numbers {
            let at = seconds(first, self.sample_rate);
            return Err(Error::in_file(
                path,
                format!(
                    "the audio holds {count} sample{} that are not numbers (NaN or infinity), \
                     the first at {at:.3} s",
                    if count == 1 { "" } else { "s" },
                ),
            )
            .at(format!("{at:.3} s"))
            .with_fix(FIX_REEXPORT));
        }
        if self.frames == 0 {
            return Err(empty_clip(path));
        }
        Ok(())
    }
}

// ---------------------------------------------------------------------------------------------
// Opening and recognising the file.

struct Opened {
    file: File,
    file_len: u64,
    kind: Kind,
}

enum Kind {
    Wav(WavLayout),
    /// FLAC, MP3, Ogg (or, on the extension's word, something symphonia may find further in).
    /// `start` skips a leading ID3v2 tag.
    Other {
        start: u64,
    },
}

fn open(path: &Path) -> Result<Opened> {
    let meta = std::fs::metadata(path).map_err(|e| Error::io(path, "open the clip", &e))?;
    if meta.is_dir() {
        return Err(Error::in_file(path, "is a folder, not an audio file")
            .with_fix("point the script's `clip` at an audio file inside it"));
    }
    if !meta.is_file() {
        // A FIFO or a device would block the open or never end.
        return Err(Error::in_file(
            path,
            "is not a plain file (a pipe, socket or device), so it holds no recording",
        )
        .with_fix("point the script's `clip` at an audio file"));
    }
    let mut file = File::open(path).map_err(|e| Error::io(path, "open the clip", &e))?;
    let file_len = meta.len();
    if file_len == 0 {
        return Err(
            Error::in_file(path, "the file is empty (0 bytes), so it holds no audio")
                .with_fix("record or export the clip again; the copy here is empty"),
        );
    }

    let mut head = vec![0u8; 4096.min(file_len as usize)];
    read_exact_at(&mut file, 0, &mut head).map_err(|e| Error::io(path, "read the clip", &e))?;

    // A WAV cut inside its first four bytes still starts like one: call it truncated.
    let wav_magic = [b"RIFF", b"RF64", b"BW64"]
        .iter()
        .any(|magic| magic.starts_with(&head[..head.len().min(4)]));
    let kind = match wav_magic {
        true => Kind::Wav(WavLayout::read(path, &mut file, file_len)?),
        false => {
            let start = skip_id3v2(&mut file, file_len)
                .map_err(|e| Error::io(path, "read the clip", &e))?;
            let mut at_start = [0u8; 12];
            let n = (file_len - start).min(12) as usize;
            read_exact_at(&mut file, start, &mut at_start[..n])
                .map_err(|e| Error::io(path, "read the clip", &e))?;
            if start > 0 && n == 0 {
                return Err(
                    Error::in_file(path, "the file holds only an ID3 tag and no audio")
                        .with_fix("export the recording again"),
                );
            }
            match sniff(&at_start[..n]) {
                Sniff::Known => Kind::Other { start },
                Sniff::Unsupported(what) => {
                    return Err(Error::in_file(
                        path,
                        format!("{what} files are not supported; narrate reads {SUPPORTED}"),
                    )
                    .with_fix(FIX_CONVERT))
                }
                Sniff::Unknown if extension_is_audio(path) && !looks_like_text(&head) => {
                    // Trust the extension enough to let symphonia search past leading junk.
                    Kind::Other { start }
                }
                Sniff::Unknown => return Err(not_audio(path, &head)),
            }
        }
    };
    Ok(Opened {
        file,
        file_len,
        kind,
    })
}

enum Sniff {
    Known,
    Unsupported(&'static str),
    Unknown,
}

/// Recognises a container from its first bytes.
fn sniff(b: &[u8]) -> Sniff {
    let at = |i: usize, magic: &[u8]| b.len() >= i + magic.len() && &b[i..i + magic.len()] == magic;
    if at(0, b"fLaC") || at(0, b"OggS") || is_mpeg_sync(b) {
        Sniff::Known
    } else if at(0, b"FORM") && (at(8, b"AIFF") || at(8, b"AIFC")) {
        Sniff::Unsupported("AIFF")
    } else if at(4, b"ftyp") {
        Sniff::Unsupported("MP4/M4A (AAC or ALAC)")
    } else if at(0, b"caff") {
        Sniff::Unsupported("Core Audio (CAF)")
    } else if at(0, &[0x1A, 0x45, 0xDF, 0xA3]) {
        Sniff::Unsupported("Matroska/WebM")
    } else if at(0, b"wvpk") {
        Sniff::Unsupported("WavPack")
    } else if at(0, b"MAC ") {
        Sniff::Unsupported("Monkey's Audio (APE)")
    } else if at(0, b"#!AMR") {
        Sniff::Unsupported("AMR")
    } else if at(0, b".snd") {
        Sniff::Unsupported("Sun/NeXT (.au)")
    } else if at(0, &[0x30, 0x26, 0xB2, 0x75]) {
        Sniff::Unsupported("Windows Media (WMA/ASF)")
    } else {
        Sniff::Unknown
    }
}

/// An MPEG audio frame header: 11 sync bits, a valid version, layer, bitrate and rate.
fn is_mpeg_sync(b: &[u8]) -> bool {
    b.len() >= 4
        && b[0] == 0xFF
        && b[1] & 0xE0 == 0xE0
        && (b[1] >> 3) & 0b11 != 0b01
        && (b[1] >> 1) & 0b11 != 0
        && b[2] >> 4 != 0b1111
        && (b[2] >> 2) & 0b11 != 0b11
}

/// Offset of the first byte after any ID3v2 tags (and zero padding) at the start of the file.
fn skip_id3v2(file: &mut File, file_len: u64) -> io::Result<u64> {
    let mut pos = 0u64;
    // A few tags back to back is possible; more is hostile.
    for _ in 0..8 {
        let mut h = [0u8; 10];
        if pos + 10 > file_len {
            break;
        }
        read_exact_at(file, pos, &mut h)?;
        if &h[..3] != b"ID3" || h[6..10].iter().any(|b| b & 0x80 != 0) {
            break;
        }
        let size = h[6..10]
            .iter()
            .fold(0u64, |acc, b| (acc << 7) | u64::from(*b));
        let footer = if h[5] & 0x10 != 0 { 10 } else { 0 };
        pos = (pos + 10 + size + footer).min(file_len);
    }
    // Some taggers leave zero padding after the tag; skip up to 1 MiB of it.
    if pos > 0 {
        let mut buf = [0u8; 4096];
        let limit = (pos + (1 << 20)).min(file_len);
        while pos < limit {
            let n = (limit - pos).min(buf.len() as u64) as usize;
            read_exact_at(file, pos, &mut buf[..n])?;
            match buf[..n].iter().position(|&b| b != 0) {
                Some(i) => return Ok(pos + i as u64),
                None => pos += n as u64,
            }
        }
    }
    Ok(pos)
}

fn extension_is_audio(path: &Path) -> bool {
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase);
    matches!(
        ext.as_deref(),
        Some("mp3" | "mp2" | "mpga" | "flac" | "ogg" | "oga")
    )
}

/// Text if it has no NUL bytes, is UTF-8 (allowing a cut last character) and mostly printable.
fn looks_like_text(head: &[u8]) -> bool {
    if head.is_empty() || head.contains(&0) {
        return false;
    }
    let valid = match std::str::from_utf8(head) {
        Ok(s) => s,
        Err(e) if e.error_len().is_none() => match std::str::from_utf8(&head[..e.valid_up_to()]) {
            Ok(s) => s,
            Err(_) => return false,
        },
        Err(_) => return false,
    };
    let total = valid.chars().count().max(1);
    let printable = valid
        .chars()
        .filter(|c| !c.is_control() || matches!(c, '\n' | '\r' | '\t'))
        .count();
    printable * 100 >= total * 95
}

fn not_audio(path: &Path, head: &[u8]) -> Error {
    if looks_like_text(head) {
        Error::in_file(path, "this is a text file, not audio").with_fix(format!(
            "point the script's `clip` at the recording itself ({SUPPORTED})"
        ))
    } else {
        Error::in_file(
            path,
            "not a recognised audio file (its first bytes match no audio format)",
        )
        .with_fix(format!(
            "check the file is the recording (narrate reads {SUPPORTED}); if it is, {FIX_REEXPORT}"
        ))
    }
}

fn read_exact_at(file: &mut File, pos: u64, buf: &mut [u8]) -> io::Result<()> {
    file.seek(SeekFrom::Start(pos))?;
    file.read_exact(buf)
}

/// The formats symphonia may find in a file that does not start as a WAV: FLAC, MPEG audio
/// and Ogg. Not WAV: symphonia's probe searches the stream for any known marker, and its own
/// WAV reader overflows on a hostile `fmt ` chunk (found by fuzzing: an MPEG sync word, then
/// `RIFF…WAVE` with 65,535 channels). WAVs are read by [`WavLayout`] only.
static OTHER_FORMATS: std::sync::LazyLock<Probe> = std::sync::LazyLock::new(|| {
    let mut probe = Probe::default();
    probe.register_format::<FlacReader<'_>>();
    probe.register_format::<MpaReader<'_>>();
    probe.register_format::<OggReader<'_>>();
    probe
});

/// Opens a non-WAV file with symphonia's probe.
fn open_other(path: &Path, file: File, file_len: u64, start: u64) -> Result<Box<dyn FormatReader>> {
    let stream = Window::new(Vec::new(), file, start, file_len - start);
    let mss = MediaSourceStream::new(Box::new(stream), MediaSourceStreamOptions::default());
    let mut hint = Hint::new();
    if let Some(ext) = path.extension().and_then(|e| e.to_str()) {
        hint.with_extension(ext);
    }
    OTHER_FORMATS
        .probe(
            &hint,
            mss,
            FormatOptions::default(),
            MetadataOptions::default(),
        )
        .map_err(|e| match e {
            SymError::Unsupported(_) => Error::in_file(
                path,
                "not a recognised audio file (no audio format found in it)",
            )
            .with_fix(format!(
                "check the file is the recording (narrate reads {SUPPORTED}); if it is, \
                 {FIX_REEXPORT}"
            )),
            other => from_symphonia(path, other, "read the header"),
        })
}

fn audio_track<'a>(
    path: &Path,
    reader: &'a dyn FormatReader,
) -> Result<&'a symphonia::core::formats::Track> {
    reader
        .default_track(TrackType::Audio)
        .or_else(|| reader.first_track(TrackType::Audio))
        .ok_or_else(|| {
            Error::in_file(path, "the file holds no audio track")
                .with_fix(format!("use a file with audio in it ({SUPPORTED})"))
        })
}

fn track_params(path: &Path, reader: &dyn FormatReader) -> Result<AudioCodecParameters> {
    audio_track(path, reader)?
        .codec_params
        .as_ref()
        .and_then(|p| p.audio())
        .cloned()
        .ok_or_else(|| {
            Error::in_file(path, "the audio track's codec could not be determined")
                .with_fix(FIX_CONVERT)
        })
}

/// The sample rate and channel count, both non-zero.
fn check_spec(path: &Path, params: &AudioCodecParameters) -> Result<(u32, u16)> {
    let rate = params.sample_rate.unwrap_or(0);
    check_rate(path, rate)?;
    let channels = params.channels.as_ref().map_or(0, |c| c.count());
    if channels == 0 {
        return Err(
            Error::in_file(path, "the header says the audio has 0 channels").with_fix(FIX_REEXPORT),
        );
    }
    let channels = u16::try_from(channels).map_err(|_| {
        Error::in_file(path, format!("the header claims {channels} channels"))
            .with_fix(FIX_REEXPORT)
    })?;
    Ok((rate, channels))
}

/// Refuses a sample rate outside [`SAMPLE_RATES`].
fn check_rate(path: &Path, rate: u32) -> Result<()> {
    if rate == 0 {
        return Err(
            Error::in_file(path, "the header gives a sample rate of 0 Hz").with_fix(FIX_REEXPORT),
        );
    }
    if !SAMPLE_RATES.contains(&rate) {
        return Err(Error::in_file(
            path,
            format!(
                "the header gives a sample rate of {rate} Hz; narrate reads {} Hz to {} Hz",
                SAMPLE_RATES.start(),
                SAMPLE_RATES.end()
            ),
        )
        .with_fix(format!(
            "if the file plays, convert it to a usual rate (e.g. `ffmpeg -i IN -ar 48000 \
             OUT.wav`); otherwise {FIX_REEXPORT}"
        )));
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Error helpers.

fn seconds(frames: u64, rate: u32) -> f64 {
    frames as f64 / f64::from(rate)
}

fn truncated(path: &Path, declared: Option<u64>, got: u64, rate: u32) -> Error {
    let message = match declared {
        Some(declared) => format!(
            "the file is truncated: its header declares {declared} frames ({:.2} s) but the \
             audio ends after {got} ({:.2} s)",
            declared as f64 / f64::from(rate),
            seconds(got, rate)
        ),
        None => format!(
            "the file is truncated: the audio stops mid-frame after {:.2} s",
            seconds(got, rate)
        ),
    };
    Error::in_file(path, message)
        .at(format!("{:.2} s", seconds(got, rate)))
        .with_fix(FIX_TRUNCATED)
}

fn empty_clip(path: &Path) -> Error {
    Error::in_file(
        path,
        "empty clip: the file has a valid header but no audio frames",
    )
    .with_fix("record or export the clip again; this copy holds no sound")
}

fn unsupported_codec(path: &Path, codec: AudioCodecId) -> Error {
    Error::in_file(
        path,
        format!(
            "the audio is {}, which narrate cannot decode; it reads {SUPPORTED}",
            codec_name(codec)
        ),
    )
    .with_fix(FIX_CONVERT)
}

/// Turns a symphonia error into one that names the file and the fix.
fn from_symphonia(path: &Path, err: SymError, doing: &str) -> Error {
    match err {
        SymError::IoError(e) if e.kind() == io::ErrorKind::UnexpectedEof => Error::in_file(
            path,
            format!("the file ends unexpectedly (while trying to {doing}): it is truncated"),
        )
        .with_fix(FIX_TRUNCATED),
        SymError::IoError(e) => Error::io(path, doing, &e),
        SymError::DecodeError(what) => Error::in_file(
            path,
            format!("corrupt audio data (could not {doing}: {what})"),
        )
        .with_fix(FIX_REEXPORT),
        SymError::Unsupported(what) => Error::in_file(
            path,
            format!("unsupported audio feature ({what}); narrate reads {SUPPORTED}"),
        )
        .with_fix(FIX_CONVERT),
        SymError::LimitError(what) => {
            Error::in_file(path, format!("the file exceeds a safety limit ({what})"))
                .with_fix(FIX_CONVERT)
        }
        other => Error::in_file(path, format!("cannot {doing}: {other}")).with_fix(FIX_REEXPORT),
    }
}

fn container_name(short: &str) -> String {
    match short {
        "wave" => "WAV".into(),
        "flac" => "FLAC".into(),
        "ogg" => "Ogg".into(),
        "mp1" | "mp2" | "mp3" => short.to_ascii_uppercase(),
        other => other.into(),
    }
}

/// A codec in words.
fn codec_name(codec: AudioCodecId) -> String {
    use codec_ids::*;
    let name = match codec {
        CODEC_ID_PCM_U8 => "8-bit PCM",
        CODEC_ID_PCM_S16LE | CODEC_ID_PCM_S16BE => "16-bit PCM",
        CODEC_ID_PCM_S24LE | CODEC_ID_PCM_S24BE => "24-bit PCM",
        CODEC_ID_PCM_S32LE | CODEC_ID_PCM_S32BE => "32-bit PCM",
        CODEC_ID_PCM_F32LE | CODEC_ID_PCM_F32BE => "32-bit float",
        CODEC_ID_PCM_F64LE | CODEC_ID_PCM_F64BE => "64-bit float",
        CODEC_ID_PCM_MULAW => "µ-law",
        CODEC_ID_PCM_ALAW => "A-law",
        CODEC_ID_ADPCM_MS => "Microsoft ADPCM",
        CODEC_ID_ADPCM_IMA_WAV => "IMA ADPCM",
        CODEC_ID_FLAC => "FLAC",
        CODEC_ID_MP1 => "MP1",
        CODEC_ID_MP2 => "MP2",
        CODEC_ID_MP3 => "MP3",
        CODEC_ID_VORBIS => "Vorbis",
        CODEC_ID_OPUS => "Opus",
        CODEC_ID_SPEEX => "Speex",
        CODEC_ID_AAC => "AAC",
        CODEC_ID_ALAC => "ALAC",
        other => return format!("an unknown codec ({other})"),
    };
    name.to_string()
}

// ---------------------------------------------------------------------------------------------
// WAV: chunk walk and canonical header.

/// How a WAV's samples are coded, as far as the canonical header is concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum WavCodec {
    /// Integer PCM in `container_bits`-bit words (8 is unsigned).
    Pcm,
    Float,
    MuLaw,
    ALaw,
    /// Passed to symphonia with the original `fmt ` chunk.
    Adpcm,
}

#[derive(Debug, Clone)]
struct WavLayout {
    codec: WavCodec,
    /// Format tag for the canonical header (never 0xFFFE).
    tag: u16,
    channels: u16,
    sample_rate: u32,
    /// Bits per sample the header states (valid bits for EXTENSIBLE).
    bits: u16,
    /// Bits per stored sample word.
    container_bits: u16,
    block_align: u16,
    /// The original `fmt ` body, for ADPCM.
    fmt_body: Vec<u8>,
    /// Byte offset of the audio data, and its usable length (whole frames or blocks).
    data_start: u64,
    data_len: u64,
    /// The `fact` chunk's frame count: trusted only for ADPCM, whose last block is padded.
    fact_frames: Option<u64>,
}

impl WavLayout {
    /// Walks the chunk headers up to `data`. Reads only headers and a capped `fmt ` body.
    fn read(path: &Path, file: &mut File, file_len: u64) -> Result<WavLayout> {
        let io_err = |e: io::Error| Error::io(path, "read the clip", &e);
        let damaged = |msg: String, at: u64| {
            Error::in_file(path, msg)
                .at(format!("byte {at}"))
                .with_fix(FIX_REEXPORT)
        };
        if file_len < 12 {
            return Err(Error::in_file(
                path,
                format!("the file is truncated: only {file_len} bytes, not even a WAV header"),
            )
            .with_fix(FIX_TRUNCATED));
        }
        let mut riff = [0u8; 12];
        read_exact_at(file, 0, &mut riff).map_err(io_err)?;
        if &riff[8..12] != b"WAVE" {
            return Err(Error::in_file(
                path,
                format!(
                    "a RIFF file but not WAV audio (its form is `{}`)",
                    String::from_utf8_lossy(&riff[8..12])
                ),
            )
            .at("byte 8")
            .with_fix(FIX_CONVERT));
        }
        let rf64 = &riff[0..4] != b"RIFF";

        let mut fmt: Option<(u64, Vec<u8>)> = None;
        let mut ds64_data_len: Option<u64> = None;
        let mut fact_frames: Option<u64> = None;
        let mut pos = 12u64;
        loop {
            if pos + 8 > file_len {
                let msg = if fmt.is_some() {
                    "the file ends before its audio data (no `data` chunk): it is truncated"
                } else {
                    "the file ends before its format and audio data (no `fmt ` or `data` chunk): it is \
                     truncated"
                };
                return Err(Error::in_file(path, msg)
                    .at(format!("byte {pos}"))
                    .with_fix(FIX_TRUNCATED));
            }
            let mut header = [0u8; 8];
            read_exact_at(file, pos, &mut header).map_err(io_err)?;
            let id = [header[0], header[1], header[2], header[3]];
            let size = u32::from_le_bytes([header[4], header[5], header[6], header[7]]);
            let body = pos + 8;
            match &id {
                b"fmt " => {
                    if size < 16 {
                        return Err(damaged(
                            format!("the `fmt ` chunk is {size} bytes; it needs at least 16"),
                            pos,
                        ));
                    }
                    if size > MAX_FMT_LEN {
                        return Err(damaged(
                            format!("the `fmt ` chunk claims {size} bytes, far more than a format needs"),
                            pos,
                        ));
                    }
                    if body + u64::from(size) > file_len {
                        return Err(Error::in_file(
                            path,
                            "the file ends inside its `fmt ` chunk: it is truncated",
                        )
                        .at(format!("byte {pos}"))
                        .with_fix(FIX_TRUNCATED));
                    }
                    let mut buf = vec![0u8; size as usize];
                    read_exact_at(file, body, &mut buf).map_err(io_err)?;
                    fmt = Some((pos, buf));
                }
                b"fact" if size >= 4 && body + 4 <= file_len => {
                    let mut buf = [0u8; 4];
                    read_exact_at(file, body, &mut buf).map_err(io_err)?;
                    fact_frames = Some(u64::from(u32::from_le_bytes(buf)));
                }
                b"ds64" if rf64 => {
                    if size >= 16 && body + 16 <= file_len {
                        let mut buf = [0u8; 16];
                        read_exact_at(file, body, &mut buf).map_err(io_err)?;
                        let mut data = [0u8; 8];
                        data.copy_from_slice(&buf[8..16]);
                        ds64_data_len = Some(u64::from_le_bytes(data));
                    }
                }
                b"data" => {
                    let Some((fmt_pos, fmt_body)) = fmt else {
                        return Err(damaged(
                            "the `data` chunk comes before any `fmt ` chunk, so the audio \
                             format is unknown"
                                .into(),
                            pos,
                        ));
                    };
                    let mut layout = WavLayout::from_fmt(path, fmt_pos, fmt_body)?;
                    layout.fact_frames = fact_frames;
                    let available = file_len - body;
                    let declared = if rf64 && size == u32::MAX {
                        ds64_data_len
                    } else if size == u32::MAX {
                        // Written by a streaming encoder that never came back to fill it in.
                        None
                    } else {
                        Some(u64::from(size))
                    };
                    let len = match declared {
                        Some(declared) if declared > available => {
                            let secs = |bytes: u64| match layout.codec {
                                WavCodec::Adpcm => String::new(),
                                _ => format!(
                                    " ({:.2} s)",
                                    (bytes / u64::from(layout.block_align)) as f64
                                        / f64::from(layout.sample_rate)
                                ),
                            };
                            return Err(Error::in_file(
                                path,
                                format!(
                                    "the file is truncated: its `data` chunk declares {declared} \
                                     bytes{} but the file ends after {available}{}",
                                    secs(declared),
                                    secs(available)
                                ),
                            )
                            .at(format!("`data` chunk at byte {pos}"))
                            .with_fix(FIX_TRUNCATED));
                        }
                        Some(declared) => declared,
                        None => available,
                    };
                    layout.data_start = body;
                    layout.data_len = len - len % u64::from(layout.block_align);
                    if layout.data_len == 0 {
                        let mut msg = String::from(
                            "empty clip: the `data` chunk holds no complete audio frame",
                        );
                        if len == 0 && available > 0 {
                            msg.push_str(&format!(
                                " (it declares 0 bytes though {available} bytes follow: the \
                                 recording was probably never finalised)"
                            ));
                        }
                        return Err(Error::in_file(path, msg)
                            .at(format!("`data` chunk at byte {pos}"))
                            .with_fix(
                                "record or export the clip again; this copy holds no sound",
                            ));
                    }
                    return Ok(layout);
                }
                _ => {
                    if body + u64::from(size) > file_len {
                        return Err(Error::in_file(
                            path,
                            format!(
                                "the `{}` chunk claims {size} bytes, past the end of the file \
                                 ({file_len} bytes) and before any audio: the file is truncated \
                                 or damaged",
                                String::from_utf8_lossy(&id)
                            ),
                        )
                        .at(format!("byte {pos}"))
                        .with_fix(FIX_TRUNCATED));
                    }
                }
            }
            pos = next_chunk(file, body, size, file_len).map_err(io_err)?;
        }
    }

    /// Interprets a `fmt ` chunk body.
    fn from_fmt(path: &Path, fmt_pos: u64, b: Vec<u8>) -> Result<WavLayout> {
        let u16_at = |i: usize| u16::from_le_bytes([b[i], b[i + 1]]);
        let u32_at = |i: usize| u32::from_le_bytes([b[i], b[i + 1], b[i + 2], b[i + 3]]);
        let place = format!("`fmt ` chunk at byte {fmt_pos}");
        let unsupported = |what: String| {
            Error::in_file(
                path,
                format!("the audio is {what}, which narrate cannot decode; it reads {SUPPORTED}"),
            )
            .at(place.clone())
            .with_fix(FIX_CONVERT)
        };
        let mut tag = u16_at(0);
        let channels = u16_at(2);
        let sample_rate = u32_at(4);
        let block_align = u16_at(12);
        let bits = u16_at(14);
        if channels == 0 {
            return Err(
                Error::in_file(path, "the header says the audio has 0 channels")
                    .at(place)
                    .with_fix(FIX_REEXPORT),
            );
        }
        check_rate(path, sample_rate).map_err(|e| e.at(place.clone()))?;
        let mut valid_bits = bits;
        if tag == 0xFFFE {
            const KS_SUFFIX: [u8; 14] = [
                0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x80, 0x00, 0x00, 0xAA, 0x00, 0x38, 0x9B, 0x71,
            ];
            if b.len() < 40 {
                return Err(Error::in_file(
                    path,
                    format!(
                        "the WAVE_FORMAT_EXTENSIBLE `fmt ` chunk is {} bytes; it needs 40",
                        b.len()
                    ),
                )
                .at(place)
                .with_fix(FIX_REEXPORT));
            }
            valid_bits = match u16_at(18) {
                0 => bits,
                v => v,
            };
            if b[26..40] != KS_SUFFIX {
                return Err(unsupported(
                    "a WAVE_FORMAT_EXTENSIBLE sub-format narrate does not know".into(),
                ));
            }
            tag = u16_at(24);
        }
        // Sample word size: from block_align when it is consistent (24-in-32 exists), else
        // the bits rounded up to whole bytes. Samples are MSB-aligned in the word.
        let per_channel = block_align / channels;
        let bytes_per_sample = if block_align % channels == 0
            && (1..=4).contains(&per_channel)
            && per_channel * 8 >= bits
        {
            per_channel
        } else {
            bits.div_ceil(8)
        };
        let (codec, canonical_tag, container_bits) = match tag {
            0x0001 => {
                if !(1..=32).contains(&bits) || valid_bits > bits {
                    return Err(unsupported(format!("{bits}-bit PCM")));
                }
                (WavCodec::Pcm, 0x0001, bytes_per_sample * 8)
            }
            0x0003 => {
                if bits != 32 && bits != 64 {
                    return Err(unsupported(format!("{bits}-bit floating point")));
                }
                (WavCodec::Float, 0x0003, bits)
            }
            0x0006 | 0x0007 => {
                let codec = if tag == 6 {
                    WavCodec::ALaw
                } else {
                    WavCodec::MuLaw
                };
                if bits != 8 {
                    return Err(unsupported(format!(
                        "{bits}-bit {}",
                        if tag == 6 { "A-law" } else { "µ-law" }
                    )));
                }
                (codec, tag, 8)
            }
            0x0002 | 0x0011 if u16_at(0) != 0xFFFE => (WavCodec::Adpcm, tag, bits),
            other => return Err(unsupported(wav_format_name(other))),
        };
        let block_align = match codec {
            WavCodec::Adpcm => block_align,
            // A hostile channel count can overflow the 16-bit frame size.
            _ => channels.checked_mul(container_bits / 8).ok_or_else(|| {
                Error::in_file(
                    path,
                    format!(
                        "the header claims {channels} channels of {container_bits}-bit audio, \
                         more than a WAV frame can hold"
                    ),
                )
                .at(place.clone())
                .with_fix(FIX_REEXPORT)
            })?,
        };
        if block_align == 0 {
            return Err(
                Error::in_file(path, "the header gives a block size of 0 bytes")
                    .at(place)
                    .with_fix(FIX_REEXPORT),
            );
        }
        Ok(WavLayout {
            codec,
            tag: canonical_tag,
            channels,
            sample_rate,
            bits: valid_bits,
            container_bits,
            block_align,
            fmt_body: b,
            data_start: 0,
            data_len: 0,
            fact_frames: None,
        })
    }

    fn frames(&self) -> u64 {
        match self.codec {
            WavCodec::Adpcm => {
                let ch = u64::from(self.channels);
                let align = u64::from(self.block_align);
                let per_block = if self.tag == 0x0002 {
                    (8 * align.saturating_sub(7 * ch)) / (4 * ch) + 2
                } else {
                    (8 * align.saturating_sub(4 * ch)) / (4 * ch) + 1
                };
                let whole_blocks = self.data_len / align * per_block;
                self.fact_frames
                    .map_or(whole_blocks, |n| n.min(whole_blocks))
            }
            _ => self.data_len / u64::from(self.block_align),
        }
    }

    fn info(&self) -> ClipInfo {
        let codec = match self.codec {
            WavCodec::Pcm => format!("{}-bit PCM", self.bits),
            WavCodec::Float => format!("{}-bit float", self.bits),
            WavCodec::MuLaw => "µ-law".into(),
            WavCodec::ALaw => "A-law".into(),
            WavCodec::Adpcm if self.tag == 0x0002 => "Microsoft ADPCM".into(),
            WavCodec::Adpcm => "IMA ADPCM".into(),
        };
        let frames = self.frames();
        ClipInfo {
            container: "WAV".into(),
            codec,
            sample_rate: self.sample_rate,
            channels: self.channels,
            bits_per_sample: match self.codec {
                WavCodec::Adpcm => None,
                _ => Some(u32::from(self.bits)),
            },
            frames: Some(frames),
            duration_seconds: Some(frames as f64 / f64::from(self.sample_rate)),
        }
    }

    /// The canonical stream symphonia reads: a fresh header, then the file's audio bytes.
    fn stream(&self, file: File) -> Window {
        let mut fmt = Vec::with_capacity(40);
        if self.codec == WavCodec::Adpcm {
            fmt.extend_from_slice(&self.fmt_body);
        } else {
            let bytes_per_frame = u32::from(self.block_align);
            fmt.extend_from_slice(&self.tag.to_le_bytes());
            fmt.extend_from_slice(&self.channels.to_le_bytes());
            fmt.extend_from_slice(&self.sample_rate.to_le_bytes());
            fmt.extend_from_slice(&self.sample_rate.wrapping_mul(bytes_per_frame).to_le_bytes());
            fmt.extend_from_slice(&self.block_align.to_le_bytes());
            fmt.extend_from_slice(&self.container_bits.to_le_bytes());
            if matches!(self.codec, WavCodec::MuLaw | WavCodec::ALaw) {
                // symphonia wants WAVEFORMATEX (18 bytes) for G.711.
                fmt.extend_from_slice(&0u16.to_le_bytes());
            }
        }
        let fmt_padded = fmt.len() + fmt.len() % 2;
        // Sizes beyond 32 bits become "unknown" (0xFFFFFFFF): symphonia then reads to the end
        // of the stream, which the window ends exactly at the data's end.
        let data_field = u32::try_from(self.data_len)
            .ok()
            .filter(|&n| n != u32::MAX)
            .unwrap_or(u32::MAX);
        let riff_len = (4 + 8 + fmt_padded as u64 + 8)
            .checked_add(self.data_len)
            .and_then(|n| u32::try_from(n).ok())
            .filter(|&n| n != u32::MAX && data_field != u32::MAX)
            .unwrap_or(u32::MAX);
        let mut header = Vec::with_capacity(64);
        header.extend_from_slice(b"RIFF");
        header.extend_from_slice(&riff_len.to_le_bytes());
        header.extend_from_slice(b"WAVE");
        header.extend_from_slice(b"fmt ");
        header.extend_from_slice(&(fmt.len() as u32).to_le_bytes());
        header.extend_from_slice(&fmt);
        if fmt.len() % 2 == 1 {
            header.push(0);
        }
        header.extend_from_slice(b"data");
        header.extend_from_slice(&data_field.to_le_bytes());
        Window::new(header, file, self.data_start, self.data_len)
    }
}

/// Offset of the chunk after one whose body starts at `body` with `size` bytes.
///
/// RIFF pads odd-sized chunks with one byte. Some writers forget the pad; if the padded offset
/// does not hold a plausible chunk id but the unpadded one does, the unpadded one is used.
fn next_chunk(file: &mut File, body: u64, size: u32, file_len: u64) -> io::Result<u64> {
    let end = body + u64::from(size);
    if size % 2 == 0 {
        return Ok(end);
    }
    let plausible = |file: &mut File, at: u64| -> io::Result<bool> {
        if at + 8 > file_len {
            return Ok(false);
        }
        let mut id = [0u8; 4];
        read_exact_at(file, at, &mut id)?;
        Ok(id.iter().all(|b| b.is_ascii_alphanumeric() || *b == b' '))
    };
    if !plausible(file, end + 1)? && plausible(file, end)? {
        Ok(end)
    } else {
        Ok(end + 1)
    }
}

/// A WAV format tag in words.
fn wav_format_name(tag: u16) -> String {
    let name = match tag {
        0x0000 => "format 0 (unknown)",
        0x0022 => "DSP Group TrueSpeech",
        0x0031 => "GSM 6.10",
        0x0040 | 0x0064 | 0x0045 => "G.721/G.726 ADPCM",
        0x0050 => "MPEG audio in WAV",
        0x0055 => "MP3 in WAV",
        0x0092 => "Dolby AC-3 in WAV",
        0x0160..=0x0163 => "Windows Media Audio in WAV",
        0x1610 | 0x00FF => "AAC in WAV",
        0xF1AC => "FLAC in WAV",
        _ => return format!("WAV format 0x{tag:04X}"),
    };
    name.to_string()
}

// ---------------------------------------------------------------------------------------------
// A byte stream made of a small in-memory header followed by a window of the file.

struct Window {
    header: Vec<u8>,
    file: File,
    start: u64,
    len: u64,
    pos: u64,
    /// Where the file's cursor is, to skip redundant seeks.
    file_pos: Option<u64>,
}

impl Window {
    fn new(header: Vec<u8>, file: File, start: u64, len: u64) -> Self {
        Window {
            header,
            file,
            start,
            len,
            pos: 0,
            file_pos: None,
        }
    }

    fn total(&self) -> u64 {
        self.header.len() as u64 + self.len
    }
}

impl Read for Window {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let hlen = self.header.len() as u64;
        if self.pos >= self.total() || buf.is_empty() {
            return Ok(0);
        }
        if self.pos < hlen {
            let from = &self.header[self.pos as usize..];
            let n = from.len().min(buf.len());
            buf[..n].copy_from_slice(&from[..n]);
            self.pos += n as u64;
            return Ok(n);
        }
        let offset = self.pos - hlen;
        let want = (self.len - offset).min(buf.len() as u64) as usize;
        let at = self.start + offset;
        if self.file_pos != Some(at) {
            self.file.seek(SeekFrom::Start(at))?;
        }
        let n = self.file.read(&mut buf[..want])?;
        self.pos += n as u64;
        self.file_pos = Some(at + n as u64);
        Ok(n)
    }
}

impl Seek for Window {
    fn seek(&mut self, to: SeekFrom) -> io::Result<u64> {
        let target = match to {
            SeekFrom::Start(n) => Some(n),
            SeekFrom::End(d) => self.total().checked_add_signed(d),
            SeekFrom::Current(d) => self.pos.checked_add_signed(d),
        };
        let target = target.ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::InvalidInput,
                "seek before the start of the stream",
            )
        })?;
        self.pos = target;
        Ok(target)
    }
}

impl MediaSource for Window {
    fn is_seekable(&self) -> bool {
        true
    }

    fn byte_len(&self) -> Option<u64> {
        Some(self.total())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mpeg_sync_rejects_text_and_accepts_a_frame_header() {
        assert!(is_mpeg_sync(&[0xFF, 0xFB, 0x90, 0x64]));
        assert!(!is_mpeg_sync(b"RIFF"));
        assert!(!is_mpeg_sync(&[0xFF, 0xFF, 0xFF, 0xFF]));
    }

    #[test]
    fn text_detection() {
        assert!(looks_like_text(b"Hello, this is a script.\n"));
        assert!(looks_like_text("Ärztin – café\n".as_bytes()));
        assert!(!looks_like_text(&[0x52, 0x49, 0x46, 0x46, 0, 0, 0, 0]));
        assert!(!looks_like_text(&[0xFF, 0xFB, 0x90, 0x64]));
    }
}
