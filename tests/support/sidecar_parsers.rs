//! Small, strict readers for every sidecar narrate writes, and the documented title rules,
//! written independently of `src/sidecars.rs` so that a writer bug cannot hide in them.
//!
//! Shared by `tests/hostile_inputs.rs`, `tests/properties.rs` and the `sidecars` fuzz target
//! (each includes this file with `#[path]`). Every parser returns `Err` with a reason when
//! the text is not valid in its format; none of them panics.
#![allow(dead_code)]

/// One chapter as a sidecar states it: start (and end, where the format has one) in the
/// format's own unit, and the title as a reader gets it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mark {
    pub start: u64,
    pub end: Option<u64>,
    pub title: String,
}

// ---- The documented title rules ----

/// `one_line` as documented in `src/sidecars.rs`: each run of control characters (and
/// U+2028/U+2029), with the spaces around it, becomes one space; the ends are trimmed.
pub fn one_line(text: &str) -> String {
    text.split(|c: char| c.is_control() || c == '\u{2028}' || c == '\u{2029}')
        .map(str::trim)
        .filter(|part| !part.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

/// The CUE title rule: one line; `"` becomes “ at the start of a word (after whitespace or
/// `([{`) and ” elsewhere; `\` becomes `/`; more than 80 characters are cut to 79 (trailing
/// spaces dropped) plus `…`.
pub fn cue_title(text: &str) -> String {
    let mut out = String::new();
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
    if out.chars().count() <= 80 {
        return out;
    }
    let mut cut: String = out.chars().take(79).collect();
    cut.truncate(cut.trim_end().len());
    cut.push('…');
    cut
}

/// The ffmetadata rule for a chapter title: one line, trailing backslashes become `/`.
pub fn ffmeta_title(text: &str) -> String {
    trailing_backslashes_to_slashes(&one_line(text))
}

/// The ffmetadata rule for a tag value (kept multi-line): NUL is dropped, then CR and CRLF
/// become LF and trailing backslashes become `/`.
pub fn ffmeta_tag(value: &str) -> String {
    let value = value
        .replace('\0', "")
        .replace("\r\n", "\n")
        .replace('\r', "\n");
    trailing_backslashes_to_slashes(&value)
}

fn trailing_backslashes_to_slashes(text: &str) -> String {
    let kept = text.trim_end_matches('\\');
    let mut out = kept.to_string();
    out.extend(std::iter::repeat_n('/', text.len() - kept.len()));
    out
}

// ---- JSON chapters ----

/// Podcasting 2.0 chapters: `startTime`/`endTime` in seconds (at most 3 decimals) as whole
/// milliseconds, and the title. Also returns the document for further checks.
pub fn json_chapters(text: &str) -> Result<(serde_json::Value, Vec<Mark>), String> {
    let doc: serde_json::Value = serde_json::from_str(text).map_err(|e| e.to_string())?;
    let chapters = doc["chapters"]
        .as_array()
        .ok_or("no `chapters` array")?
        .iter()
        .map(|c| {
            let ms = |key: &str| -> Result<u64, String> {
                let v = &c[key];
                let printed = v.to_string();
                let decimals = printed.split('.').nth(1).map_or(0, str::len);
                if decimals > 3 || printed.contains(['e', 'E']) {
                    return Err(format!("{key} {printed} has more than 3 decimals"));
                }
                let seconds = v.as_f64().ok_or(format!("{key} is not a number"))?;
                if seconds.is_nan() || seconds < 0.0 {
                    return Err(format!("{key} {seconds} is negative"));
                }
                Ok((seconds * 1000.0).round() as u64)
            };
            Ok(Mark {
                start: ms("startTime")?,
                end: Some(ms("endTime")?),
                title: c["title"]
                    .as_str()
                    .ok_or("title is not a string")?
                    .to_string(),
            })
        })
        .collect::<Result<_, String>>()?;
    Ok((doc, chapters))
}

// ---- CUE sheet ----

/// A quoted CUE string that must make up the rest of the line: no escapes exist, so the
/// contents may hold no `"`.
fn cue_quoted(rest: &str) -> Result<String, String> {
    let inner = rest
        .strip_prefix('"')
        .and_then(|r| r.strip_suffix('"'))
        .ok_or_else(|| format!("not a quoted string: {rest:?}"))?;
    if inner.contains('"') {
        return Err(format!("a quote inside a CUE string: {rest:?}"));
    }
    Ok(inner.to_string())
}

/// A CUE sheet: the top-level `TITLE`, and per track its `TITLE` and `INDEX 01` in CD frames
/// (1/75 s). Strict: every line is a known command, tracks are numbered 01, 02, …, each has
/// exactly one `TITLE` and one `INDEX 01`, and there is exactly one `FILE … WAVE`.
pub fn cue_sheet(text: &str) -> Result<(String, Vec<Mark>), String> {
    if !text.ends_with('\n') || text.contains('\r') {
        return Err("a CUE sheet must be LF-terminated lines".into());
    }
    let mut title = None;
    let mut files = 0;
    let mut tracks: Vec<(Option<String>, Option<u64>)> = Vec::new();
    for line in text.lines() {
        if line.chars().any(char::is_control) {
            return Err(format!("a control character in {line:?}"));
        }
        let trimmed = line.trim_start();
        let (command, rest) = trimmed.split_once(' ').unwrap_or((trimmed, ""));
        match command {
            "REM" => {
                if !tracks.is_empty() {
                    return Err("REM after the first track".into());
                }
            }
            "PERFORMER" => {
                cue_quoted(rest)?;
            }
            "TITLE" => {
                let value = cue_quoted(rest)?;
                match tracks.last_mut() {
                    None if title.is_none() => title = Some(value),
                    Some((t @ None, _)) => *t = Some(value),
                    _ => return Err(format!("a second TITLE: {line:?}")),
                }
            }
            "FILE" => {
                let name = rest
                    .strip_suffix(" WAVE")
                    .ok_or_else(|| format!("FILE without WAVE: {line:?}"))?;
                cue_quoted(name)?;
                files += 1;
            }
            "TRACK" => {
                let expected = format!("{:02} AUDIO", tracks.len() + 1);
                if rest != expected || files != 1 {
                    return Err(format!("bad TRACK line {line:?}"));
                }
                tracks.push((None, None));
            }
            "INDEX" => {
                let msf = rest
                    .strip_prefix("01 ")
                    .ok_or_else(|| format!("not INDEX 01: {line:?}"))?;
                let parts: Vec<&str> = msf.split(':').collect();
                let [m, s, f] = parts.as_slice() else {
                    return Err(format!("bad INDEX time {msf:?}"));
                };
                let num = |x: &str, min_len: usize| -> Result<u64, String> {
                    if x.len() < min_len || !x.bytes().all(|b| b.is_ascii_digit()) {
                        return Err(format!("bad INDEX field {x:?}"));
                    }
                    x.parse().map_err(|_| format!("bad INDEX field {x:?}"))
                };
                let (m, s, f) = (num(m, 2)?, num(s, 2)?, num(f, 2)?);
                if s >= 60 || f >= 75 || s > 99 {
                    return Err(format!("INDEX out of range {msf:?}"));
                }
                match tracks.last_mut() {
                    Some((_, i @ None)) => *i = Some((m * 60 + s) * 75 + f),
                    _ => return Err(format!("INDEX outside a track or twice: {line:?}")),
                }
            }
            _ => return Err(format!("unknown CUE command in {line:?}")),
        }
    }
    let title = title.ok_or("no TITLE")?;
    let marks = tracks
        .into_iter()
        .map(|(t, i)| match (t, i) {
            (Some(title), Some(start)) => Ok(Mark {
                start,
                end: None,
                title,
            }),
            _ => Err("a track without TITLE or INDEX 01".to_string()),
        })
        .collect::<Result<_, _>>()?;
    Ok((title, marks))
}

// ---- WebVTT ----

/// `HH:MM:SS.mmm` (hours may have more digits) as milliseconds.
fn vtt_time(text: &str) -> Result<u64, String> {
    let bad = || format!("bad WebVTT time {text:?}");
    let (hms, ms) = text.split_once('.').ok_or_else(bad)?;
    let parts: Vec<&str> = hms.split(':').collect();
    let [h, m, s] = parts.as_slice() else {
        return Err(bad());
    };
    let digits = |x: &str, len: Option<usize>| {
        !x.is_empty() && x.bytes().all(|b| b.is_ascii_digit()) && len.is_none_or(|l| x.len() == l)
    };
    let well_formed = digits(h, None)
        && h.len() >= 2
        && digits(m, Some(2))
        && digits(s, Some(2))
        && digits(ms, Some(3));
    if !well_formed {
        return Err(bad());
    }
    let n = |x: &str| x.parse::<u64>().map_err(|_| bad());
    let (h, m, s, ms) = (n(h)?, n(m)?, n(s)?, n(ms)?);
    if m >= 60 || s >= 60 {
        return Err(bad());
    }
    Ok(((h * 60 + m) * 60 + s) * 1000 + ms)
}

/// Cue text with the three character references narrate uses decoded, in one pass. Any
/// other `&`, or a `<` or `>` (a tag), is invalid in a plain chapter title.
fn vtt_unescape(text: &str) -> Result<String, String> {
    if text.contains('<') || text.contains('>') {
        return Err(format!("a tag or bare `>` in cue text {text:?}"));
    }
    let mut out = String::new();
    let mut rest = text;
    while let Some(i) = rest.find('&') {
        out.push_str(&rest[..i]);
        rest = &rest[i..];
        let (entity, c) = [("&amp;", '&'), ("&lt;", '<'), ("&gt;", '>')]
            .into_iter()
            .find(|(e, _)| rest.starts_with(e))
            .ok_or_else(|| format!("a bare `&` in cue text {text:?}"))?;
        out.push(c);
        rest = &rest[entity.len()..];
    }
    out.push_str(rest);
    Ok(out)
}

/// WebVTT chapters: `WEBVTT`, then blocks separated by one blank line, each an identifier,
/// a `start --> end` line and at most one line of text.
pub fn webvtt(text: &str) -> Result<Vec<Mark>, String> {
    if text.contains('\r') || text.contains('\0') {
        return Err("CR or NUL in a WebVTT file".into());
    }
    let body = text
        .strip_prefix("WEBVTT\n")
        .ok_or("does not start with WEBVTT")?;
    if body.is_empty() {
        return Ok(Vec::new());
    }
    let body = body
        .strip_prefix('\n')
        .ok_or("no blank line after the header")?;
    let body = body.strip_suffix('\n').ok_or("no final newline")?;
    body.split("\n\n")
        .enumerate()
        .map(|(i, block)| {
            let lines: Vec<&str> = block.split('\n').collect();
            if lines.len() < 2 || lines.len() > 3 || lines.iter().any(|l| l.is_empty()) {
                return Err(format!("bad cue block {block:?}"));
            }
            if lines[0] != (i + 1).to_string() {
                return Err(format!("cue {} has identifier {:?}", i + 1, lines[0]));
            }
            let (start, end) = lines[1]
                .split_once(" --> ")
                .ok_or_else(|| format!("bad timing line {:?}", lines[1]))?;
            let title = match lines.get(2) {
                Some(t) if t.contains("-->") => return Err(format!("`-->` in cue text {t:?}")),
                Some(t) => vtt_unescape(t)?,
                None => String::new(),
            };
            let (start, end) = (vtt_time(start)?, vtt_time(end)?);
            if end < start {
                return Err(format!("cue {} ends before it starts", i + 1));
            }
            Ok(Mark {
                start,
                end: Some(end),
                title,
            })
        })
        .collect()
}

// ---- ffmetadata ----

/// What an ffmetadata file says: global tags in order, and chapters.
#[derive(Debug, Default)]
pub struct FfMeta {
    pub tags: Vec<(String, String)>,
    pub chapters: Vec<FfChapter>,
}

#[derive(Debug, Default, Clone)]
pub struct FfChapter {
    pub timebase: Option<String>,
    pub start: Option<u64>,
    pub end: Option<u64>,
    pub tags: Vec<(String, String)>,
}

impl FfChapter {
    pub fn tag(&self, key: &str) -> Option<&str> {
        self.tags
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }
}

/// ffmpeg's line reader (libavformat/ffmetadec.c): a line ends at CR, LF or NUL unless the
/// previous byte is a backslash; CRLF counts as one end.
fn ffmeta_lines(bytes: &[u8]) -> Vec<Vec<u8>> {
    let mut lines = Vec::new();
    let mut line = Vec::new();
    let mut prev = b' ';
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        i += 1;
        if prev != b'\\' && matches!(c, b'\r' | b'\n' | b'\0') {
            if c == b'\r' && bytes.get(i) == Some(&b'\n') {
                i += 1;
            }
            lines.push(std::mem::take(&mut line));
        } else {
            line.push(c);
        }
        prev = c;
    }
    if !line.is_empty() {
        lines.push(line);
    }
    lines
}

/// ffmpeg's `unescape`: a backslash takes the next byte literally.
fn ffmeta_unescape(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'\\' {
            i += 1;
        }
        if let Some(&b) = bytes.get(i) {
            out.push(b);
        }
        i += 1;
    }
    out
}

/// A `key=value` line split at the first unescaped `=`, both unescaped.
fn ffmeta_tag_line(line: &[u8]) -> Result<(String, String), String> {
    let mut i = 0;
    while i < line.len() && line[i] != b'=' {
        if line[i] == b'\\' {
            i += 1;
        }
        i += 1;
    }
    if i >= line.len() {
        return Err(format!(
            "a line without `=`: {:?}",
            String::from_utf8_lossy(line)
        ));
    }
    let text = |b: &[u8]| String::from_utf8(ffmeta_unescape(b)).map_err(|e| e.to_string());
    Ok((text(&line[..i])?, text(&line[i + 1..])?))
}

/// An ffmetadata file read the way ffmpeg reads it. Lines starting with `;` or `#`, and
/// empty lines, are comments; `[CHAPTER]` starts a chapter.
pub fn ffmetadata(text: &str) -> Result<FfMeta, String> {
    let bytes = text.as_bytes();
    let header = b";FFMETADATA1\n";
    if !bytes.starts_with(header) {
        return Err("no ;FFMETADATA1 header".into());
    }
    let mut meta = FfMeta::default();
    let mut chapter: Option<FfChapter> = None;
    for line in ffmeta_lines(&bytes[header.len()..]) {
        if line.is_empty() || line[0] == b';' || line[0] == b'#' {
            continue;
        }
        if line == b"[CHAPTER]" {
            meta.chapters.extend(chapter.take());
            chapter = Some(FfChapter::default());
            continue;
        }
        if line.first() == Some(&b'[') {
            return Err(format!(
                "an unknown section {:?}",
                String::from_utf8_lossy(&line)
            ));
        }
        let (key, value) = ffmeta_tag_line(&line)?;
        match &mut chapter {
            None => meta.tags.push((key, value)),
            Some(ch) => match key.as_str() {
                "TIMEBASE" => ch.timebase = Some(value),
                "START" => ch.start = Some(value.parse().map_err(|_| "bad START")?),
                "END" => ch.end = Some(value.parse().map_err(|_| "bad END")?),
                _ => ch.tags.push((key, value)),
            },
        }
    }
    meta.chapters.extend(chapter);
    Ok(meta)
}

/// The chapters of an ffmetadata file as marks in milliseconds (`TIMEBASE=1/1000` required).
pub fn ffmeta_marks(meta: &FfMeta) -> Result<Vec<Mark>, String> {
    meta.chapters
        .iter()
        .map(|c| {
            if c.timebase.as_deref() != Some("1/1000") {
                return Err(format!("chapter timebase {:?}", c.timebase));
            }
            Ok(Mark {
                start: c.start.ok_or("no START")?,
                end: Some(c.end.ok_or("no END")?),
                title: c.tag("title").ok_or("no title")?.to_string(),
            })
        })
        .collect()
}

// ---- Audacity labels ----

/// `S.ffffff` (6 decimals) as microseconds.
fn label_time(text: &str) -> Result<u64, String> {
    let (s, f) = text
        .split_once('.')
        .ok_or_else(|| format!("bad label time {text:?}"))?;
    if s.is_empty() || f.len() != 6 || !(s.bytes().chain(f.bytes())).all(|b| b.is_ascii_digit()) {
        return Err(format!("bad label time {text:?}"));
    }
    let n = |x: &str| x.parse::<u64>().map_err(|e| e.to_string());
    Ok(n(s)? * 1_000_000 + n(f)?)
}

/// Audacity labels: one `start\tend\ttitle` line per label, times in microseconds.
pub fn audacity_labels(text: &str) -> Result<Vec<Mark>, String> {
    if !text.is_empty() && !text.ends_with('\n') {
        return Err("no final newline".into());
    }
    text.lines()
        .map(|line| {
            let fields: Vec<&str> = line.split('\t').collect();
            let [start, end, title] = fields.as_slice() else {
                return Err(format!("not three tab-separated fields: {line:?}"));
            };
            if title.contains(['\r', '\0']) {
                return Err(format!("CR or NUL in a label: {line:?}"));
            }
            Ok(Mark {
                start: label_time(start)?,
                end: Some(label_time(end)?),
                title: (*title).to_string(),
            })
        })
        .collect()
}

#[cfg(test)]
mod self_tests {
    use super::*;

    #[test]
    fn ffmpeg_line_rule() {
        let text = ";FFMETADATA1\ntitle=a\\\nb\\=c\\\\d\n\n[CHAPTER]\nTIMEBASE=1/1000\nSTART=1\nEND=2\ntitle=x\n";
        let m = ffmetadata(text).unwrap();
        assert_eq!(m.tags, vec![("title".into(), "a\nb=c\\d".into())]);
        assert_eq!(ffmeta_marks(&m).unwrap()[0].title, "x");
        // ffmpeg's quirk: an escaped backslash at the end of a line swallows the line end.
        let m = ffmetadata(";FFMETADATA1\na=x\\\\\nb=y\n").unwrap();
        assert_eq!(m.tags, vec![("a".into(), "x\\\nb=y".into())]);
    }
}
