//! `narrate init [DIR] [--from FILE.txt]`: a new project that checks and builds as it is.
//!
//! Without a source document the project holds one episode with two sample sections: the
//! first with a stand-in recording spoken by the speech synthesiser (when it can run), the
//! second left to be synthesised at build time, so both ways of working are shown.
//!
//! With `--from`, a plain-text document (such as a hospital's patient-information page) is
//! cut into one proposed section script per heading by [`propose`]:
//! - the first non-blank line is the document's title: the project's and the episode's
//!   title, and the episode id is its slug;
//! - a *heading* is a paragraph of one line (blank lines around it) of at most 12 words and
//!   80 characters, starting with a capital or a digit, ending in a letter, digit, closing
//!   bracket or quote, or `?` (never `.` `,` `;` `:` `!`), and not a bullet;
//! - each section runs from its heading to the next; paragraphs without a heading of their
//!   own stay in the section above them (the document's own structure, never a guess).
//!   Text before the first heading becomes a section titled "Introduction"; a document
//!   without headings becomes one section titled like the document;
//! - bullet lines (`•`, `-`, `*`, `–`, `◦`, `▪`) after a lead-in ending in `:` become one
//!   sentence (`…including: bleeding; infection; and stroke.`) when every item is short
//!   and a single phrase; otherwise each item stays on its own line, ending in a full stop;
//! - web-page leftovers are dropped: lines such as "View more" or "Share", everything from
//!   a "Related articles" or "See also" line on, and a lead-in ending in `:` that points
//!   at a link ("…see:", "visit:") with no list after it;
//! - a heading with no text under it is left out. The summary lists everything dropped,
//!   and suggests splitting sections longer than 250 words.

use std::fmt;
use std::fs;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::lock::toml_string;
use crate::project::MANIFEST;
use crate::speech::{self, Lexicon, SpeechConfig, SpeechRequest};

/// Title of the section made of the text before a document's first heading.
pub const INTRO_TITLE: &str = "Introduction";
/// Sections longer than this many words get a note suggesting a split.
pub const LONG_SECTION_WORDS: usize = 250;
const MAX_HEADING_WORDS: usize = 12;
const MAX_HEADING_CHARS: usize = 80;
/// Longest list item, in words, that is joined into its lead-in sentence.
const MAX_JOINED_ITEM_WORDS: usize = 25;
const MAX_SLUG_CHARS: usize = 40;
/// One-line paragraphs that web pages leave in copied text; dropped.
const LEFTOVERS: [&str; 13] = [
    "view more",
    "read more",
    "see more",
    "show more",
    "learn more",
    "find out more",
    "back to top",
    "print",
    "print this page",
    "share",
    "share this page",
    "skip to content",
    "advertisement",
];
/// One-line paragraphs after which a web page lists other pages; they end the document.
const END_MARKERS: [&str; 8] = [
    "related articles",
    "related links",
    "related pages",
    "related content",
    "related topics",
    "you may also like",
    "see also",
    "more articles",
];
/// Words that make a lead-in ending in `:` a pointer to a link.
const LINK_WORDS: [&str; 7] = [
    "see", "visit", "click", "website", "link", "links", "download",
];
const BULLETS: [char; 8] = ['•', '◦', '▪', '‣', '·', '–', '-', '*'];

/// A project proposed from a document.
#[derive(Debug, Clone, PartialEq)]
pub struct Proposal {
    /// The document's title: the project's title.
    pub title: String,
    /// The episode id: the title's slug.
    pub episode: String,
    /// The episode's title: the document's title too.
    pub episode_title: String,
    pub sections: Vec<ProposedSection>,
    /// What was dropped or deserves a look, in plain words.
    pub notes: Vec<String>,
}

/// One proposed section script.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProposedSection {
    /// File stem, `NN-slug`.
    pub stem: String,
    pub title: String,
    /// The narration text: paragraphs separated by blank lines.
    pub text: String,
}

/// What `init` did.
#[derive(Debug, Clone, PartialEq)]
pub struct InitSummary {
    /// The project folder.
    pub root: PathBuf,
    pub episode: String,
    /// Files written, relative to the project, in order.
    pub created: Vec<String>,
    /// Files among `created` that are synthetic stand-ins for recordings.
    pub stand_ins: Vec<String>,
    /// The sections: stem and title.
    pub sections: Vec<(String, String)>,
    pub notes: Vec<String>,
}

impl fmt::Display for InitSummary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "created a narrate project in {}:", self.root.display())?;
        for file in &self.created {
            let stand_in = if self.stand_ins.contains(file) {
                " (synthetic stand-in: replace it with a real take)"
            } else {
                ""
            };
            writeln!(f, "  {file}{stand_in}")?;
        }
        let n = self.sections.len();
        let noun = if n == 1 { "section" } else { "sections" };
        writeln!(f, "episode `{}`, {n} {noun}:", self.episode)?;
        for (stem, title) in &self.sections {
            writeln!(f, "  {stem}  {title}")?;
        }
        for note in &self.notes {
            writeln!(f, "note: {note}")?;
        }
        write!(
            f,
            "next: edit the scripts, then run `narrate build --project {}`",
            self.root.display()
        )
    }
}

/// Creates a project in `dir` (made if needed), from the document `from` if given.
/// Refuses to overwrite an existing `narrate.toml` or any file it would write.
pub fn init(dir: &Path, from: Option<&Path>) -> Result<InitSummary> {
    let (proposal, source) = match from {
        Some(path) => {
            let text = read_document(path)?;
            let proposal = propose(&text).map_err(|message| {
                Error::in_file(path, message).with_fix(
                    "give a plain-text document: a title line, then headings and paragraphs",
                )
            })?;
            let name = path.file_name().map(|n| n.to_string_lossy().into_owned());
            (proposal, name)
        }
        None => (sample(), None),
    };
    fs::create_dir_all(dir).map_err(|e| Error::io(dir, "create the project folder", &e))?;
    let root = dir
        .canonicalize()
        .map_err(|e| Error::io(dir, "open the project folder", &e))?;
    let manifest = root.join(MANIFEST);
    if manifest.exists() {
        return Err(
            Error::in_file(&manifest, "a narrate project already exists in this folder")
                .with_fix("edit it as it is, or run `narrate init NEW-FOLDER` for a new project"),
        );
    }

    let episode = &proposal.episode;
    let mut files = vec![(
        MANIFEST.to_string(),
        manifest_text(&proposal, source.as_deref()),
    )];
    for (i, s) in proposal.sections.iter().enumerate() {
        let comment = match (&source, i) {
            (Some(source), _) => format!(
                "# Proposed from {source}: adapt the wording for listening.\n\
                 # Until it is recorded (as audio/{episode}/{}.wav or .flac),\n\
                 # `narrate build` speaks it with a synthetic voice.\n",
                s.stem
            ),
            (None, 0) => format!(
                "# Its recording is audio/{episode}/{}.wav: replace it with a real take.\n",
                s.stem
            ),
            (None, _) => format!(
                "# No recording yet: `narrate build` speaks this text with a synthetic voice.\n\
                 # Record it as audio/{episode}/{}.wav (or .flac) to replace it.\n",
                s.stem
            ),
        };
        files.push((
            format!("scripts/{episode}/{}.md", s.stem),
            format!(
                "+++\ntitle = {}\n{comment}+++\n{}\n",
                toml_string(&s.title),
                s.text
            ),
        ));
    }
    for (rel, _) in &files {
        let path = root.join(rel);
        if path.exists() {
            return Err(
                Error::in_file(&path, "the file already exists; init never overwrites")
                    .with_fix("move it away, or run `narrate init NEW-FOLDER` for a new project"),
            );
        }
    }

    let mut summary = InitSummary {
        root: root.clone(),
        episode: episode.clone(),
        created: Vec::new(),
        stand_ins: Vec::new(),
        sections: proposal
            .sections
            .iter()
            .map(|s| (s.stem.clone(), s.title.clone()))
            .collect(),
        notes: proposal.notes.clone(),
    };
    for (rel, content) in files {
        crate::atomic::write_bytes(&root.join(&rel), content.as_bytes())?;
        summary.created.push(rel);
    }
    if update_gitignore(&root)? {
        summary.created.push(".gitignore".into());
    }

    let first = &proposal.sections[0];
    let speech_ready = if source.is_none() {
        let rel = format!("audio/{episode}/{}.wav", first.stem);
        let script = root.join(format!("scripts/{episode}/{}.md", first.stem));
        let made = stand_in(&root, &first.text, &script, &root.join(&rel));
        if made.is_ok() {
            summary.created.push(rel.clone());
            summary.stand_ins.push(rel);
        }
        made
    } else {
        speech::engine_available(&SpeechConfig::default()).map(drop)
    };
    summary.notes.push(match speech_ready {
        Ok(()) => format!(
            "sections without a recording are spoken by {} until they are recorded; `narrate sheet {episode}` lists what to record",
            speech::ESPEAK
        ),
        Err(e) => format!(
            "no speech synthesiser could run ({}): `narrate build` will speak sections without a recording once one is set up (install {} or set [speech] in narrate.toml)",
            e.message, speech::ESPEAK
        ),
    });
    Ok(summary)
}

/// Reads a UTF-8 document, without a byte-order mark.
fn read_document(path: &Path) -> Result<String> {
    let bytes = fs::read(path).map_err(|e| Error::io(path, "read the source document", &e))?;
    let text = String::from_utf8(bytes).map_err(|_| {
        Error::in_file(path, "the document is not UTF-8 text")
            .with_fix("save it as plain UTF-8 text (.txt) in your editor")
    })?;
    Ok(text.trim_start_matches('\u{feff}').to_string())
}

/// Speaks `text` with the default synthesiser into `out` (a WAV).
fn stand_in(root: &Path, text: &str, script: &Path, out: &Path) -> Result<()> {
    let config = SpeechConfig::default();
    let lexicon = Lexicon::default();
    let request = SpeechRequest {
        text,
        language: "en",
        voice: None,
        config: &config,
        lexicon: &lexicon,
        script,
    };
    let spoken = speech::synthesize(&request, &root.join(".narrate-cache").join("speech"))?;
    let bytes = fs::read(&spoken.path).map_err(|e| Error::io(&spoken.path, "read", &e))?;
    crate::atomic::write_bytes(out, &bytes)
}

/// Adds `out/` and `.narrate-cache/` to the project's `.gitignore`, keeping what is there.
/// Returns whether the file is new.
fn update_gitignore(root: &Path) -> Result<bool> {
    let path = root.join(".gitignore");
    let existing = match fs::read_to_string(&path) {
        Ok(text) => Some(text),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => return Err(Error::io(&path, "read", &e)),
    };
    let old = existing.as_deref().unwrap_or("");
    let has = |entry: &str| {
        old.lines()
            .any(|l| l.trim().trim_start_matches('/').trim_end_matches('/') == entry)
    };
    let mut text = old.to_string();
    if !text.is_empty() && !text.ends_with('\n') {
        text.push('\n');
    }
    for entry in ["out", ".narrate-cache"] {
        if !has(entry) {
            text.push_str(&format!("{entry}/\n"));
        }
    }
    if text != old {
        crate::atomic::write_bytes(&path, text.as_bytes())?;
    }
    Ok(existing.is_none())
}

fn manifest_text(p: &Proposal, source: Option<&str>) -> String {
    let episode = &p.episode;
    let source_line = match source {
        Some(name) => format!("# source = {}\n", toml_string(name)),
        None => "# source = \"the approved document this was adapted from\"\n".into(),
    };
    format!(
        "# A narrate project. `narrate build` turns each episode's section scripts\n\
         # (scripts/<episode>/NN-slug.md) and recordings (audio/<episode>/NN-slug.wav) into\n\
         # out/guide/<episode>.wav with one chapter per section. Sections without a recording\n\
         # are spoken by a speech synthesiser until they are recorded. See the narrate README.\n\
         \n\
         [project]\n\
         title = {title}\n\
         language = \"en\"\n\
         # organisation = \"Your patient education team\"\n\
         \n\
         [defaults]\n\
         profiles = [\"guide\"]\n\
         pause = 1.5\n\
         \n\
         [episodes.{episode}]\n\
         title = {episode_title}\n\
         \n\
         # Content governance, once the wording is approved (`narrate check` warns before\n\
         # review_by and fails after it):\n\
         # [episodes.{episode}.governance]\n\
         # version = \"1\"\n\
         # approved_by = \"Name, role\"\n\
         # approved_on = YYYY-MM-DD\n\
         # review_by = YYYY-MM-DD\n\
         {source_line}",
        title = toml_string(&p.title),
        episode_title = toml_string(&p.episode_title),
    )
}

/// The plain `init` project: one episode, two short sections.
fn sample() -> Proposal {
    let sections = [
        (
            "Welcome",
            "Welcome. This is a short audio guide, made with narrate. Each part of the guide \
             is a chapter, so you can skip straight to the part you need, and come back to it \
             at any time.",
        ),
        (
            "Before your visit",
            "Before your visit, please read your appointment letter, and bring a list of the \
             medicines you take.\n\nIf you would like someone with you, you are welcome to \
             bring a relative or a friend.",
        ),
    ];
    Proposal {
        title: "Patient audio guides".into(),
        episode: "welcome".into(),
        episode_title: "Welcome to your audio guide".into(),
        sections: sections
            .iter()
            .enumerate()
            .map(|(i, (title, text))| ProposedSection {
                stem: format!("{:02}-{}", i + 1, slug(title)),
                title: (*title).into(),
                text: (*text).into(),
            })
            .collect(),
        notes: Vec::new(),
    }
}

/// A paragraph of the source: a heading, text, or a bullet list.
#[derive(Debug, Clone, PartialEq)]
enum Block {
    Heading(String),
    Text(String),
    List(Vec<String>),
}

/// A section's paragraph: running text, or list items kept on their own lines.
#[derive(Debug, Clone, PartialEq)]
enum Para {
    Text(String),
    Lines(Vec<String>),
}

struct Draft {
    /// `None` for the text before the first heading.
    title: Option<String>,
    paras: Vec<Para>,
}

/// Proposes one section per heading of `document` (see the module documentation for the
/// rules). Errors when the document has no text.
pub fn propose(document: &str) -> std::result::Result<Proposal, String> {
    let document = document
        .replace("\r\n", "\n")
        .replace(['\r', '\u{a0}'], " ");
    let mut lines = document.lines();
    let doc_title = lines
        .by_ref()
        .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
        .find(|l| !l.is_empty())
        .ok_or("the document is empty")?;
    let mut notes = Vec::new();
    let blocks = blocks(lines, &mut notes);

    let mut drafts = vec![Draft {
        title: None,
        paras: Vec::new(),
    }];
    for block in blocks {
        let Some(draft) = drafts.last_mut() else {
            continue;
        };
        match block {
            Block::Heading(heading) => {
                drop_link_lead_in(draft, &mut notes);
                drafts.push(Draft {
                    title: Some(heading),
                    paras: Vec::new(),
                });
            }
            Block::Text(text) => {
                drop_link_lead_in(draft, &mut notes);
                draft.paras.push(Para::Text(text));
            }
            Block::List(items) => match draft.paras.last_mut() {
                Some(Para::Text(lead)) if lead.ends_with(':') && joinable(&items) => {
                    *lead = join_list(lead, &items);
                }
                _ => draft
                    .paras
                    .push(Para::Lines(items.iter().map(|i| sentence(i)).collect())),
            },
        }
    }
    if let Some(draft) = drafts.last_mut() {
        drop_link_lead_in(draft, &mut notes);
    }

    let any_heading = drafts.len() > 1;
    let mut kept = Vec::new();
    for draft in drafts {
        match (draft.title, draft.paras.is_empty()) {
            (None, true) => {}
            (Some(title), true) => notes.push(format!(
                "the heading \"{title}\" has no text under it and is left out"
            )),
            (title, false) => {
                let title = match title {
                    Some(title) => title,
                    None if any_heading => INTRO_TITLE.to_string(),
                    None => doc_title.clone(),
                };
                kept.push((title, render(&draft.paras)));
            }
        }
    }
    if kept.is_empty() {
        return Err("the document has a title but no text under it".into());
    }

    let width = kept.len().to_string().len().max(2);
    let rate = SpeechConfig::default().rate;
    let sections: Vec<ProposedSection> = kept
        .into_iter()
        .enumerate()
        .map(|(i, (title, text))| ProposedSection {
            stem: format!("{:0width$}-{}", i + 1, slug_or(&title, "section")),
            title,
            text,
        })
        .collect();
    for s in &sections {
        let words = s.text.split_whitespace().count();
        if words > LONG_SECTION_WORDS {
            let seconds = speech::estimate_seconds(words, f64::from(rate)).round() as u64;
            notes.push(format!(
                "{} has {words} words (about {} min {:02} s at {rate} words per minute) and no heading inside it in the source: consider splitting it into shorter sections",
                s.stem,
                seconds / 60,
                seconds % 60
            ));
        }
    }
    Ok(Proposal {
        episode: slug_or(&doc_title, "guide"),
        episode_title: doc_title.clone(),
        title: doc_title,
        sections,
        notes,
    })
}

/// Cuts the lines after the title into blocks at blank lines, dropping web leftovers.
fn blocks<'a>(lines: impl Iterator<Item = &'a str>, notes: &mut Vec<String>) -> Vec<Block> {
    let mut chunks: Vec<Vec<&str>> = vec![Vec::new()];
    for line in lines {
        let line = line.trim_end();
        match chunks.last_mut() {
            Some(chunk) if !line.trim().is_empty() => chunk.push(line),
            Some(chunk) if !chunk.is_empty() => chunks.push(Vec::new()),
            _ => {}
        }
    }
    let mut out = Vec::new();
    let mut leftovers: Vec<(String, usize)> = Vec::new();
    let mut ended = None;
    for (index, chunk) in chunks.iter().enumerate().filter(|(_, c)| !c.is_empty()) {
        if let [line] = chunk.as_slice() {
            let line = line.split_whitespace().collect::<Vec<_>>().join(" ");
            let key = leftover_key(&line);
            if END_MARKERS.contains(&key.as_str()) {
                let rest = chunks[index + 1..]
                    .iter()
                    .filter(|c| match c.as_slice() {
                        [] => false,
                        [line] => !LEFTOVERS.contains(&leftover_key(line).as_str()),
                        _ => true,
                    })
                    .count();
                ended = Some((line, rest));
                break;
            }
            if LEFTOVERS.contains(&key.as_str()) {
                match leftovers.iter_mut().find(|(l, _)| *l == line) {
                    Some((_, n)) => *n += 1,
                    None => leftovers.push((line, 1)),
                }
                continue;
            }
            if bullet(&line).is_none() && is_heading(&line) {
                out.push(Block::Heading(line));
                continue;
            }
        }
        split_chunk(chunk, &mut out);
    }
    for (line, n) in leftovers {
        let times = if n == 1 {
            String::new()
        } else {
            format!(" ({n} times)")
        };
        notes.push(format!("dropped the web-page leftover \"{line}\"{times}"));
    }
    if let Some((line, rest)) = ended {
        notes.push(format!(
            "dropped everything from \"{line}\" on ({rest} paragraphs about other pages)"
        ));
    }
    out
}

/// A one-line paragraph as compared with [`LEFTOVERS`] and [`END_MARKERS`].
fn leftover_key(line: &str) -> String {
    words(line)
        .trim_end_matches(['.', ':', '…', '!', '›', '»', '>'])
        .trim()
        .to_lowercase()
}

/// Splits a multi-line chunk into running text and bullet lists.
fn split_chunk(chunk: &[&str], out: &mut Vec<Block>) {
    let mut text: Vec<&str> = Vec::new();
    let mut items: Vec<String> = Vec::new();
    let flush_text = |text: &mut Vec<&str>, out: &mut Vec<Block>| {
        if !text.is_empty() {
            out.push(Block::Text(words(&text.join(" "))));
            text.clear();
        }
    };
    for line in chunk {
        if let Some(item) = bullet(line) {
            flush_text(&mut text, out);
            items.push(words(item));
        } else if line.starts_with(char::is_whitespace) && !items.is_empty() {
            // An indented line after a bullet continues its item.
            if let Some(last) = items.last_mut() {
                *last = words(&format!("{last} {line}"));
            }
        } else {
            if !items.is_empty() {
                out.push(Block::List(std::mem::take(&mut items)));
            }
            text.push(line);
        }
    }
    flush_text(&mut text, out);
    if !items.is_empty() {
        out.push(Block::List(items));
    }
}

/// The item text of a bullet line.
fn bullet(line: &str) -> Option<&str> {
    let trimmed = line.trim_start();
    let rest = trimmed.strip_prefix(BULLETS)?;
    rest.starts_with(char::is_whitespace)
        .then(|| rest.trim())
        .filter(|item| !item.is_empty())
}

/// Whether a one-line paragraph reads as a heading (see the module documentation).
fn is_heading(line: &str) -> bool {
    let first = line.chars().find(|c| c.is_alphanumeric());
    let last = line.chars().next_back();
    line.split_whitespace().count() <= MAX_HEADING_WORDS
        && line.chars().count() <= MAX_HEADING_CHARS
        && first.is_some_and(|c| c.is_uppercase() || c.is_ascii_digit())
        && last
            .is_some_and(|c| c.is_alphanumeric() || matches!(c, '?' | ')' | '"' | '\'' | '”' | '’'))
}

/// Removes a trailing lead-in that points at a link no longer there ("…see:").
fn drop_link_lead_in(draft: &mut Draft, notes: &mut Vec<String>) {
    let Some(Para::Text(text)) = draft.paras.last() else {
        return;
    };
    let points_at_link = text.ends_with(':')
        && text
            .split(|c: char| !c.is_alphanumeric())
            .any(|w| LINK_WORDS.contains(&w.to_lowercase().as_str()));
    if points_at_link {
        notes.push(format!(
            "dropped \"{text}\": it points at a link that plain text cannot carry"
        ));
        draft.paras.pop();
    }
}

/// Whether list items are short single phrases that read well joined into one sentence.
fn joinable(items: &[String]) -> bool {
    items.iter().all(|item| {
        let words: Vec<&str> = item.split_whitespace().collect();
        words.len() <= MAX_JOINED_ITEM_WORDS
            && !words
                .windows(2)
                .any(|w| w[0].ends_with(['.', '!', '?']) && w[1].starts_with(char::is_uppercase))
    })
}

/// `lead: a, b and c.` — items lower-cased where they start with a plain capitalised
/// word, separated by `;` when any holds a comma.
fn join_list(lead: &str, items: &[String]) -> String {
    let items: Vec<String> = items
        .iter()
        .map(|i| soften(i.trim_end_matches(['.', ';', ',']).trim()))
        .collect();
    let sep = if items.iter().any(|i| i.contains([',', ';'])) {
        "; "
    } else {
        ", "
    };
    let body = match items.as_slice() {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => {
            let and = if last.starts_with("and ") || last.starts_with("or ") {
                ""
            } else {
                "and "
            };
            let before_last = if init.len() == 1 && sep == ", " {
                " "
            } else {
                sep
            };
            format!("{}{before_last}{and}{last}", init.join(sep))
        }
    };
    format!("{lead} {body}.")
}

/// Lower-cases the first word when it is a plain capitalised word (`Infection`), not an
/// acronym or a name with inner capitals (`CVA`, `MitraClip`).
fn soften(item: &str) -> String {
    let first_word = item.split_whitespace().next().unwrap_or("");
    let mut chars = first_word.chars().filter(|c| c.is_alphabetic());
    let plain = chars.next().is_some_and(char::is_uppercase)
        && first_word.chars().filter(|c| c.is_alphabetic()).count() > 1
        && chars.all(char::is_lowercase);
    if !plain {
        return item.to_string();
    }
    let mut out = String::with_capacity(item.len());
    let mut done = false;
    for c in item.chars() {
        if !done && c.is_uppercase() {
            out.extend(c.to_lowercase());
            done = true;
        } else {
            out.push(c);
        }
    }
    out
}

/// A list item as a sentence of its own: ends with punctuation.
fn sentence(item: &str) -> String {
    if item.ends_with(['.', '!', '?', '…']) {
        item.to_string()
    } else {
        format!("{}.", item.trim_end_matches([';', ',', ':']))
    }
}

/// Words joined by single spaces.
fn words(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn render(paras: &[Para]) -> String {
    paras
        .iter()
        .map(|p| match p {
            Para::Text(text) => text.clone(),
            Para::Lines(lines) => lines.join("\n"),
        })
        .collect::<Vec<_>>()
        .join("\n\n")
}

/// A file-name slug: lower-case letters and digits joined by `-`, accents folded, at most
/// 40 characters, cut at a word.
pub fn slug(text: &str) -> String {
    let mut out = String::new();
    for c in text.chars().flat_map(char::to_lowercase) {
        if matches!(c, '\'' | '’') {
            continue;
        }
        match fold(c) {
            Some(folded) => out.push_str(folded),
            None if c.is_alphanumeric() => out.push(c),
            None => {
                if !out.is_empty() && !out.ends_with('-') {
                    out.push('-');
                }
            }
        }
    }
    let mut slug = out.trim_end_matches('-').to_string();
    if slug.chars().count() > MAX_SLUG_CHARS {
        let cut: String = slug.chars().take(MAX_SLUG_CHARS + 1).collect();
        slug = match cut.rfind('-') {
            Some(at) if at > 0 => cut[..at].to_string(),
            _ => cut.chars().take(MAX_SLUG_CHARS).collect(),
        };
    }
    slug
}

fn slug_or(text: &str, fallback: &str) -> String {
    Some(slug(text))
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| fallback.to_string())
}

/// ASCII for common accented Latin letters.
fn fold(c: char) -> Option<&'static str> {
    Some(match c {
        'à' | 'á' | 'â' | 'ã' | 'ä' | 'å' => "a",
        'æ' => "ae",
        'ç' => "c",
        'è' | 'é' | 'ê' | 'ë' => "e",
        'ì' | 'í' | 'î' | 'ï' => "i",
        'ñ' => "n",
        'ò' | 'ó' | 'ô' | 'õ' | 'ö' | 'ø' => "o",
        'œ' => "oe",
        'ß' => "ss",
        'ù' | 'ú' | 'û' | 'ü' => "u",
        'ý' | 'ÿ' => "y",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_are_short_plain_and_cut_at_words() {
        assert_eq!(
            slug("What is a MitraClip Procedure?"),
            "what-is-a-mitraclip-procedure"
        );
        assert_eq!(slug("MITRACLIP \"mitralclip\""), "mitraclip-mitralclip");
        assert_eq!(slug("Anesthésie générale"), "anesthesie-generale");
        assert_eq!(slug("Don’t worry"), "dont-worry");
        assert_eq!(
            slug("The impact on the mitral leak is checked immediately"),
            "the-impact-on-the-mitral-leak-is-checked"
        );
        assert_eq!(slug("???"), "");
        assert_eq!(slug_or("???", "section"), "section");
    }

    #[test]
    fn headings_are_short_unpunctuated_capitalised_lines() {
        for yes in [
            "The mitral valve",
            "Are there risks?",
            "At home",
            "2 days after",
        ] {
            assert!(is_heading(yes), "{yes}");
        }
        for no in [
            "The procedure table may be uncomfortable.",
            "when you come",
            "risks, including:",
            "A nurse will insert an IV line in your arm, in order to be able to give medications during the procedure",
        ] {
            assert!(!is_heading(no), "{no}");
        }
    }

    #[test]
    fn lists_join_into_one_sentence_when_simple() {
        let items = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(
            join_list(
                "Risks are:",
                &items(&["Infection", "a stroke (CVA)", "CVA again."])
            ),
            "Risks are: infection, a stroke (CVA), and CVA again."
        );
        assert_eq!(
            join_list("Bring:", &items(&["Your letter", "MitraClip card"])),
            "Bring: your letter and MitraClip card."
        );
        assert_eq!(
            join_list("Risks:", &items(&["Bleeding", "Rarely, stroke"])),
            "Risks: bleeding; and rarely, stroke."
        );
        assert!(!joinable(&items(&["Rest. Then walk a little."])));
        assert_eq!(sentence("Rest for a day"), "Rest for a day.");
    }
}
