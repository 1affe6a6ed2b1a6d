//! Reading a narration project: `narrate.toml` and `scripts/<episode>/NN-slug.md`.
//!
//! Everything is validated here, with errors that name the file, the place and the fix,
//! so that the later stages can trust what they are given.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Component, Path, PathBuf};

use serde::Deserialize;

use crate::error::{Error, Result};
use crate::governance::Governance;
use crate::profile::{Profile, ProfileTable};
use crate::speech::{Lexicon, SpeechConfig};

/// The manifest's file name, at the project root.
pub const MANIFEST: &str = "narrate.toml";
/// Extensions searched, in this order, when a section's recording is found by convention.
pub const CLIP_EXTENSIONS: [&str; 5] = ["wav", "flac", "mp3", "ogg", "oga"];
/// Longest pause or gap accepted, in seconds.
pub const MAX_PAUSE_SECONDS: f64 = 600.0;
/// Most silence (pauses and gaps added up) one episode may hold, in seconds. Episodes are
/// rendered in memory, so this bounds what a project's numbers alone can make a build
/// allocate; no spoken guide comes near it.
pub const MAX_EPISODE_SILENCE_SECONDS: f64 = 2.0 * 3600.0;

/// A loaded, validated project.
#[derive(Debug, Clone)]
pub struct Project {
    /// The project folder, canonicalised.
    pub root: PathBuf,
    pub title: String,
    pub organisation: Option<String>,
    pub language: Option<String>,
    pub date: Option<String>,
    pub copyright: Option<String>,
    pub defaults: Defaults,
    /// Episodes in manifest key order (alphabetical).
    pub episodes: Vec<Episode>,
    /// Built-in profiles with the manifest's overrides, then the manifest's own.
    pub profiles: Vec<Profile>,
    /// How sections without a recording are synthesised.
    pub speech: SpeechConfig,
    /// How words are to be pronounced by the synthesiser.
    pub lexicon: Lexicon,
    /// Refuse to build episodes that still have synthesised sections.
    pub require_recordings: bool,
    /// Problems that do not stop a build.
    pub warnings: Vec<String>,
}

/// Project-wide defaults from `[defaults]`.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct Defaults {
    /// Profiles built when none is named on the command line.
    pub profiles: Vec<String>,
    /// Seconds of silence between sections.
    pub pause: f64,
    /// Edge-silence trimming of narration clips.
    pub trim: TrimSettings,
    /// Days before an episode's review date from which `check` and `build` warn.
    pub review_warning_days: u32,
}

impl Default for Defaults {
    fn default() -> Self {
        Defaults {
            profiles: vec!["guide".into()],
            pause: 1.5,
            trim: TrimSettings::default(),
            review_warning_days: crate::governance::DEFAULT_WARN_DAYS,
        }
    }
}

/// How leading and trailing near-silence is trimmed from a clip.
#[derive(Debug, Clone, Copy, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct TrimSettings {
    /// Samples quieter than this (dBFS, peak) count as silence.
    pub threshold_db: f64,
    /// Seconds of the quiet edge kept before the first and after the last loud sample.
    pub margin: f64,
}

impl Default for TrimSettings {
    fn default() -> Self {
        TrimSettings {
            threshold_db: -50.0,
            margin: 0.15,
        }
    }
}

/// One episode: an ordered list of sections.
#[derive(Debug, Clone)]
pub struct Episode {
    /// Folder name under `scripts/`, and the output file stem.
    pub id: String,
    pub title: String,
    pub description: Option<String>,
    pub language: Option<String>,
    /// The synthesiser voice for sections without a recording (default: by language).
    pub voice: Option<String>,
    /// Version, approval and review dates, source document.
    pub governance: Governance,
    pub sections: Vec<Section>,
}

/// One section: a chapter of the episode.
#[derive(Debug, Clone)]
pub struct Section {
    /// File stem of the script, e.g. `03-risks`.
    pub stem: String,
    /// The script file.
    pub script: PathBuf,
    pub title: String,
    /// The approved narration text.
    pub text: String,
    /// The narration recording; `None` when there is none yet and the text is synthesised.
    pub clip: Option<PathBuf>,
    /// Whether the narration's edge silence is trimmed.
    pub trim: bool,
    /// Extra seconds of silence before this section.
    pub pause_before: f64,
    /// Seconds of silence after this section.
    pub pause_after: f64,
    /// Items played before the narration, inside the chapter.
    pub before: Vec<Extra>,
    /// Items played after the narration, inside the chapter.
    pub after: Vec<Extra>,
}

impl Section {
    /// Number of words in the narration text.
    pub fn words(&self) -> usize {
        self.text.split_whitespace().count()
    }
}

/// A clip such as a chime or music played around a section's narration.
#[derive(Debug, Clone, PartialEq)]
pub struct Extra {
    pub clip: PathBuf,
    /// Seconds of silence after the item.
    pub gap: f64,
    /// Whether its edge silence is trimmed (off by default: chimes and music keep theirs).
    pub trim: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ManifestFile {
    project: ProjectTable,
    #[serde(default)]
    defaults: Defaults,
    #[serde(default)]
    episodes: BTreeMap<String, EpisodeTable>,
    #[serde(default)]
    profiles: BTreeMap<String, ProfileTable>,
    #[serde(default)]
    speech: SpeechConfig,
    #[serde(default)]
    lexicon: Lexicon,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ProjectTable {
    title: String,
    organisation: Option<String>,
    language: Option<String>,
    date: Option<String>,
    copyright: Option<String>,
    #[serde(default)]
    require_recordings: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct EpisodeTable {
    title: String,
    description: Option<String>,
    language: Option<String>,
    voice: Option<String>,
    order: Option<Vec<String>>,
    pause: Option<f64>,
    #[serde(default)]
    governance: Governance,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FrontMatter {
    title: Option<String>,
    clip: Option<String>,
    trim: Option<bool>,
    pause_before: Option<f64>,
    pause_after: Option<f64>,
    #[serde(default)]
    before: Vec<ExtraTable>,
    #[serde(default)]
    after: Vec<ExtraTable>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum ExtraTable {
    Path(String),
    Full {
        clip: String,
        gap: Option<f64>,
        trim: Option<bool>,
    },
}

/// Default silence after an extra item, in seconds.
const DEFAULT_EXTRA_GAP: f64 = 0.5;

impl Project {
    /// Loads and validates the project in `dir`.
    pub fn load(dir: &Path) -> Result<Project> {
        let root = dir.canonicalize().map_err(|e| {
            Error::io(dir, "open the project folder", &e)
                .with_fix("run narrate inside a project folder, or pass --project DIR")
        })?;
        let manifest_path = root.join(MANIFEST);
        check_inside(&root, &manifest_path)?;
        let source = read_text(&manifest_path).map_err(|e| {
            if manifest_path.exists() {
                e
            } else {
                Error::in_file(&manifest_path, "no narrate.toml in the project folder")
                    .with_fix("run narrate inside a project folder, or pass --project DIR")
            }
        })?;
        let manifest = parse_manifest(&source, &manifest_path)?;

        let mut warnings = Vec::new();
        let scripts_dir = root.join("scripts");
        let mut episodes = Vec::new();
        for (id, table) in &manifest.episodes {
            episodes.push(load_episode(
                &root,
                id,
                table,
                &manifest.defaults,
                &manifest_path,
            )?);
        }
        if episodes.is_empty() {
            return Err(
                Error::in_file(&manifest_path, "the project has no episodes").with_fix(
                    "add an [episodes.<name>] table with a title, and scripts in scripts/<name>/",
                ),
            );
        }
        if let Ok(entries) = fs::read_dir(&scripts_dir) {
            let mut unlisted: Vec<String> = entries
                .flatten()
                .filter(|e| e.path().is_dir())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|name| !name.starts_with('.') && !manifest.episodes.contains_key(name))
                .collect();
            unlisted.sort();
            for name in unlisted {
                warnings.push(format!(
                    "scripts/{name}/ is not an episode in narrate.toml and is not built; add [episodes.{name}] to build it"
                ));
            }
        }

        let mut profiles = Profile::builtin();
        for (name, table) in &manifest.profiles {
            let profile = table.resolve(name, &manifest_path)?;
            match profiles.iter_mut().find(|p| &p.name == name) {
                Some(slot) => *slot = profile,
                None => profiles.push(profile),
            }
        }
        for name in &manifest.defaults.profiles {
            if !profiles.iter().any(|p| &p.name == name) {
                return Err(Error::in_file(
                    &manifest_path,
                    format!("defaults.profiles names `{name}`, which is not a profile"),
                )
                .with_fix(format!(
                    "choose from: {}",
                    profiles
                        .iter()
                        .map(|p| p.name.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                )));
            }
        }

        manifest
            .speech
            .validate()
            .map_err(|e| e.or_file(&manifest_path))?;
        let p = manifest.project;
        Ok(Project {
            profiles,
            speech: manifest.speech,
            lexicon: manifest.lexicon,
            require_recordings: p.require_recordings,
            root,
            title: p.title,
            organisation: p.organisation,
            language: p.language,
            date: p.date,
            copyright: p.copyright,
            defaults: manifest.defaults,
            episodes,
            warnings,
        })
    }

    /// The profile called `name`.
    pub fn profile(&self, name: &str) -> Option<&Profile> {
        self.profiles.iter().find(|p| p.name == name)
    }

    /// The episodes named by `ids`, in that order; all of them when `ids` is empty.
    pub fn select(&self, ids: &[String]) -> Result<Vec<&Episode>> {
        if ids.is_empty() {
            return Ok(self.episodes.iter().collect());
        }
        ids.iter()
            .map(|id| {
                self.episode(id).ok_or_else(|| {
                    let known: Vec<&str> = self.episodes.iter().map(|e| e.id.as_str()).collect();
                    Error::new(format!("there is no episode `{id}`"))
                        .with_fix(format!("choose one of: {}", known.join(", ")))
                })
            })
            .collect()
    }

    /// The episode called `id`.
    pub fn episode(&self, id: &str) -> Option<&Episode> {
        self.episodes.iter().find(|e| e.id == id)
    }

    /// Path relative to the project root, for messages and reports.
    pub fn relative<'a>(&self, path: &'a Path) -> &'a Path {
        path.strip_prefix(&self.root).unwrap_or(path)
    }
}

fn check_defaults(defaults: &Defaults, manifest: &Path) -> Result<()> {
    check_seconds(defaults.pause, "defaults.pause", manifest)?;
    check_seconds(defaults.trim.margin, "defaults.trim.margin", manifest)?;
    let t = defaults.trim.threshold_db;
    if !(-120.0..=0.0).contains(&t) {
        return Err(Error::in_file(
            manifest,
            format!("defaults.trim.threshold_db is {t}, outside -120..0 dBFS"),
        )
        .with_fix("use a level such as -50 (quieter than speech, louder than room noise)"));
    }
    Ok(())
}

/// Refuses a negative, non-finite or absurdly long duration.
fn check_seconds(value: f64, key: &str, file: &Path) -> Result<()> {
    if value.is_finite() && (0.0..=MAX_PAUSE_SECONDS).contains(&value) {
        Ok(())
    } else {
        Err(
            Error::in_file(file, format!("`{key}` is {value} seconds")).with_fix(format!(
                "give a number of seconds from 0 to {MAX_PAUSE_SECONDS}"
            )),
        )
    }
}

/// Parses and checks the manifest's text (everything that needs no other file).
fn parse_manifest(source: &str, manifest_path: &Path) -> Result<ManifestFile> {
    let manifest: ManifestFile = parse_toml(source, manifest_path, 0)?;
    check_defaults(&manifest.defaults, manifest_path)?;
    let p = &manifest.project;
    for (key, value) in [
        ("project.title", Some(&p.title)),
        ("project.organisation", p.organisation.as_ref()),
        ("project.language", p.language.as_ref()),
        ("project.date", p.date.as_ref()),
        ("project.copyright", p.copyright.as_ref()),
    ] {
        check_no_nul(value, key, manifest_path)?;
    }
    Ok(manifest)
}

/// Parses and checks `narrate.toml` text as [`Project::load`] does, without reading any
/// other file: the manifest, its defaults, each episode table and each profile. For fuzzing
/// and property tests.
#[doc(hidden)]
pub fn parse_manifest_str(source: &str) -> Result<()> {
    let path = Path::new(MANIFEST);
    let manifest = parse_manifest(source, path)?;
    for (id, table) in &manifest.episodes {
        check_episode_table(id, table, &manifest.defaults, path)?;
    }
    for (name, table) in &manifest.profiles {
        table.resolve(name, path)?;
    }
    Ok(())
}

/// A section script's bytes parsed and checked as [`Project::load`] does, without looking
/// for its recording: returns the title and the narration text. For fuzzing and property
/// tests.
#[doc(hidden)]
pub fn parse_section_bytes(bytes: &[u8]) -> Result<(String, String)> {
    let path = Path::new("scripts/e/01-a.md");
    let source = text_from_bytes(bytes.to_vec(), path)?;
    let parsed = parse_section(&source, path, Defaults::default().pause)?;
    Ok((parsed.title, parsed.text))
}

/// Refuses a NUL character in a text that goes into WAV tags or labels, which cannot hold it.
fn check_no_nul(value: Option<&String>, key: &str, file: &Path) -> Result<()> {
    match value {
        Some(v) if v.contains('\0') => Err(Error::in_file(
            file,
            format!("`{key}` contains a NUL character (\\u0000)"),
        )
        .with_fix("remove the \\u0000 from the text: WAV tags and chapter titles cannot hold it")),
        _ => Ok(()),
    }
}

/// Seconds of silence an episode's own numbers put in it: every `pause_before`, every gap
/// beside an extra item, and every `pause_after` but the last section's (nothing follows it).
fn episode_silence(sections: &[Section]) -> f64 {
    sections
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let after = if i + 1 < sections.len() {
                s.pause_after
            } else {
                0.0
            };
            let gaps: f64 = s.before.iter().chain(&s.after).map(|e| e.gap).sum();
            s.pause_before + after + gaps
        })
        .sum()
}

fn load_episode(
    root: &Path,
    id: &str,
    table: &EpisodeTable,
    defaults: &Defaults,
    manifest: &Path,
) -> Result<Episode> {
    let pause = check_episode_table(id, table, defaults, manifest)?;
    let place = format!("[episodes.{id}]");

    let dir = root.join("scripts").join(id);
    check_inside(root, &dir)?;
    let scripts = ordered_scripts(&dir, table.order.as_deref(), manifest, &place)?;
    let mut sections = Vec::with_capacity(scripts.len());
    for (stem, script) in scripts {
        sections.push(load_section(root, id, stem, script, pause)?);
    }
    let silence = episode_silence(&sections);
    if silence > MAX_EPISODE_SILENCE_SECONDS {
        return Err(Error::in_file(
            manifest,
            format!(
                "the pauses and gaps of episode `{id}` add up to {:.1} hours of silence, more \
                 than the {} hours an episode may hold",
                silence / 3600.0,
                MAX_EPISODE_SILENCE_SECONDS / 3600.0
            ),
        )
        .at(place)
        .with_fix(
            "shorten the pauses (`pause`, `pause_before`, `pause_after`, `gap`), or split the \
             episode",
        ));
    }
    Ok(Episode {
        id: id.to_string(),
        title: table.title.clone(),
        description: table.description.clone(),
        language: table.language.clone(),
        voice: table.voice.clone(),
        governance: table.governance.clone(),
        sections,
    })
}

/// Checks an episode's table; returns its pause after each section.
fn check_episode_table(
    id: &str,
    table: &EpisodeTable,
    defaults: &Defaults,
    manifest: &Path,
) -> Result<f64> {
    let place = format!("[episodes.{id}]");
    if !is_safe_name(id) {
        return Err(Error::in_file(
            manifest,
            format!("episode name `{id}` is not a plain folder name"),
        )
        .at(place)
        .with_fix("use letters, digits, '-' and '_' only"));
    }
    if table.title.trim().is_empty() {
        return Err(Error::in_file(manifest, "the episode's title is empty")
            .at(place)
            .with_fix("give the episode a title"));
    }
    for (key, value) in [
        ("title", Some(&table.title)),
        ("description", table.description.as_ref()),
        ("language", table.language.as_ref()),
    ] {
        check_no_nul(value, &format!("episodes.{id}.{key}"), manifest)?;
    }
    let pause = table.pause.unwrap_or(defaults.pause);
    check_seconds(pause, &format!("episodes.{id}.pause"), manifest)?;
    Ok(pause)
}

fn is_safe_name(name: &str) -> bool {
    !name.is_empty()
        && !name.starts_with('.')
        && name
            .chars()
            .all(|c| c.is_alphanumeric() || c == '-' || c == '_' || c == '.')
}

/// The section scripts of an episode folder, in play order: by numeric prefix, or by the
/// manifest's `order` list. A duplicate or ambiguous position is an error.
fn ordered_scripts(
    dir: &Path,
    order: Option<&[String]>,
    manifest: &Path,
    place: &str,
) -> Result<Vec<(String, PathBuf)>> {
    let entries = fs::read_dir(dir).map_err(|e| {
        Error::io(dir, "read the episode's script folder", &e)
            .with_fix("create the folder with one NN-slug.md file per section")
    })?;
    let mut found: BTreeMap<String, PathBuf> = BTreeMap::new();
    for entry in entries {
        let entry = entry.map_err(|e| Error::io(dir, "read the episode's script folder", &e))?;
        let path = entry.path();
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with('.') || path.extension().and_then(|e| e.to_str()) != Some("md") {
            continue;
        }
        let stem = name.trim_end_matches(".md").to_string();
        found.insert(stem, path);
    }
    if found.is_empty() {
        return Err(Error::in_file(dir, "the episode has no section scripts")
            .with_fix("add one NN-slug.md file per section, e.g. 01-welcome.md"));
    }

    if let Some(order) = order {
        let mut result = Vec::with_capacity(order.len());
        for (i, stem) in order.iter().enumerate() {
            if order[..i].contains(stem) {
                return Err(Error::in_file(
                    manifest,
                    format!("`{stem}` appears twice in the order list"),
                )
                .at(place)
                .with_fix("list each section once"));
            }
            let path = found.remove(stem).ok_or_else(|| {
                Error::in_file(
                    manifest,
                    format!("the order list names `{stem}`, but there is no {stem}.md"),
                )
                .at(place)
                .with_fix(format!(
                    "create {}, or remove it from the list",
                    dir.join(format!("{stem}.md")).display()
                ))
            })?;
            result.push((stem.clone(), path));
        }
        if let Some((stem, path)) = found.into_iter().next() {
            return Err(
                Error::in_file(path, "this section is not in the episode's order list")
                    .at(place)
                    .with_fix(format!(
                        "add \"{stem}\" to `order` in narrate.toml, or remove the file"
                    )),
            );
        }
        return Ok(result);
    }

    let mut numbered: BTreeMap<u64, (String, PathBuf)> = BTreeMap::new();
    for (stem, path) in found {
        let digits: String = stem.chars().take_while(|c| c.is_ascii_digit()).collect();
        let position = digits
            .parse::<u64>()
            .ok()
            .filter(|_| stem[digits.len()..].starts_with('-') || stem.len() == digits.len());
        let Some(position) = position else {
            return Err(Error::in_file(&path, "the file name does not start with a section number")
                .with_fix("rename it NN-slug.md (e.g. 03-risks.md), or list the episode's sections in `order`"));
        };
        if let Some((other, _)) = numbered.get(&position) {
            return Err(Error::in_file(
                &path,
                format!("section number {position} is used twice (also by {other}.md)"),
            )
            .with_fix("give every section its own number"));
        }
        numbered.insert(position, (stem, path));
    }
    Ok(numbered.into_values().collect())
}

fn load_section(
    root: &Path,
    episode: &str,
    stem: String,
    script: PathBuf,
    default_pause: f64,
) -> Result<Section> {
    check_inside(root, &script)?;
    let source = read_text(&script)?;
    let ParsedSection {
        fm,
        title,
        text,
        pause_before,
        pause_after,
    } = parse_section(&source, &script, default_pause)?;

    let clip = match &fm.clip {
        Some(clip) => Some(resolve_clip(root, clip, &script)?),
        None => find_clip_by_convention(root, episode, &stem, &script)?,
    };
    let extras = |list: &[ExtraTable]| -> Result<Vec<Extra>> {
        list.iter()
            .map(|item| {
                let (clip, gap, trim) = match item {
                    ExtraTable::Path(clip) => (clip, None, None),
                    ExtraTable::Full { clip, gap, trim } => (clip, *gap, *trim),
                };
                let gap = gap.unwrap_or(DEFAULT_EXTRA_GAP);
                check_seconds(gap, "gap", &script)?;
                Ok(Extra {
                    clip: resolve_clip(root, clip, &script)?,
                    gap,
                    trim: trim.unwrap_or(false),
                })
            })
            .collect()
    };
    Ok(Section {
        before: extras(&fm.before)?,
        after: extras(&fm.after)?,
        stem,
        script,
        title,
        text,
        clip,
        trim: fm.trim.unwrap_or(true),
        pause_before,
        pause_after,
    })
}

/// A section script's own content, checked.
struct ParsedSection {
    fm: FrontMatter,
    title: String,
    text: String,
    pause_before: f64,
    pause_after: f64,
}

/// Parses and checks a section script's text (everything that needs no other file).
fn parse_section(source: &str, script: &Path, default_pause: f64) -> Result<ParsedSection> {
    let (front, text, front_line) = split_front_matter(source, script)?;
    let fm: FrontMatter = parse_toml(front, script, front_line)?;
    let title = fm
        .title
        .as_deref()
        .map(|t| t.trim().to_string())
        .unwrap_or_default();
    check_no_nul(Some(&title), "title", script)?;
    if title.is_empty() {
        return Err(Error::in_file(script, "the section has no title")
            .at("front matter")
            .with_fix("add a line such as title = \"What to expect\" between the +++ lines"));
    }
    let text = text.trim().to_string();
    if text.is_empty() {
        return Err(
            Error::in_file(script, "the section has no narration text").with_fix(
                "write the words to be said after the closing +++ line, or remove the section",
            ),
        );
    }
    let pause_before = fm.pause_before.unwrap_or(0.0);
    let pause_after = fm.pause_after.unwrap_or(default_pause);
    check_seconds(pause_before, "pause_before", script)?;
    check_seconds(pause_after, "pause_after", script)?;
    Ok(ParsedSection {
        fm,
        title,
        text,
        pause_before,
        pause_after,
    })
}

/// Splits `+++`-delimited front matter from the text. Returns the front matter, the text,
/// and the 0-based line where the front matter starts.
fn split_front_matter<'a>(source: &'a str, file: &Path) -> Result<(&'a str, &'a str, usize)> {
    let missing = || {
        Error::in_file(file, "the script does not start with front matter")
            .at("line 1")
            .with_fix("start the file with a +++ line, title = \"…\", and a closing +++ line, then the text")
    };
    let mut lines = source.split_inclusive('\n');
    let first = lines.next().ok_or_else(missing)?;
    if first.trim_end() != "+++" {
        return Err(missing());
    }
    let start = first.len();
    let mut offset = start;
    for line in lines {
        if line.trim_end() == "+++" {
            return Ok((&source[start..offset], &source[offset + line.len()..], 1));
        }
        offset += line.len();
    }
    Err(Error::in_file(file, "the front matter is never closed")
        .with_fix("add a +++ line after the front matter"))
}

/// Reads a UTF-8 text file, dropping a byte-order mark.
fn read_text(path: &Path) -> Result<String> {
    let bytes = fs::read(path).map_err(|e| Error::io(path, "read", &e))?;
    text_from_bytes(bytes, path)
}

/// UTF-8 text from a file's bytes, without a byte-order mark.
fn text_from_bytes(bytes: Vec<u8>, path: &Path) -> Result<String> {
    let text = String::from_utf8(bytes).map_err(|e| {
        let offset = e.utf8_error().valid_up_to();
        let (line, col) = line_col(&String::from_utf8_lossy(&e.into_bytes()[..offset]), offset);
        Error::in_file(path, "the file is not valid UTF-8 text")
            .at(format!("line {line}, column {col}"))
            .with_fix("save the file as UTF-8 in your editor")
    })?;
    Ok(match text.strip_prefix('\u{feff}') {
        Some(rest) => rest.to_string(),
        None => text,
    })
}

/// Parses TOML, reporting errors at their line and column in the file. `first_line` is
/// the 0-based line of the file where `source` starts.
fn parse_toml<T: serde::de::DeserializeOwned>(
    source: &str,
    file: &Path,
    first_line: usize,
) -> Result<T> {
    toml::from_str(source).map_err(|e| {
        let mut err = Error::in_file(file, e.message().trim().to_string())
            .with_fix("correct the TOML at that place (see the narrate README for the format)");
        if let Some(span) = e.span() {
            let (line, col) = line_col(source, span.start);
            err = err.at(format!("line {}, column {col}", line + first_line));
        }
        err
    })
}

/// 1-based line and column (in characters) of byte `offset` in `text`.
fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, col)
}

/// Refuses a project file or folder (the manifest, an episode's script folder, a script) that
/// a link leads outside the project folder `root` (canonical): narrate reads only what lies
/// in the project. A path that does not exist passes: reading it reports that.
fn check_inside(root: &Path, path: &Path) -> Result<()> {
    match path.canonicalize() {
        Ok(real) if !real.starts_with(root) => Err(Error::in_file(
            path,
            format!(
                "a link leads outside the project folder (to {})",
                real.display()
            ),
        )
        .with_fix("copy the file or folder into the project instead of linking to it")),
        _ => Ok(()),
    }
}

/// Resolves a project-relative clip path, refusing anything outside the project folder.
pub fn resolve_clip(root: &Path, clip: &str, script: &Path) -> Result<PathBuf> {
    let relative = Path::new(clip);
    let outside = || {
        Error::in_file(script, format!("clip path `{clip}` leads outside the project folder"))
            .at("front matter, `clip`")
            .with_fix("copy the recording into the project's audio/ folder and give its path relative to the project")
    };
    if relative.is_absolute()
        || relative.components().any(|c| {
            matches!(
                c,
                Component::ParentDir | Component::Prefix(_) | Component::RootDir
            )
        })
    {
        return Err(outside());
    }
    let path = root.join(relative);
    let real = path.canonicalize().map_err(|e| {
        Error::in_file(
            script,
            format!("the recording `{clip}` cannot be opened: {e}"),
        )
        .at("front matter, `clip`")
        .with_fix("check the path, relative to the project folder")
    })?;
    if !real.starts_with(root) {
        return Err(outside());
    }
    if !real.is_file() {
        return Err(
            Error::in_file(script, format!("the recording `{clip}` is not a file"))
                .at("front matter, `clip`")
                .with_fix("point `clip` at an audio file"),
        );
    }
    Ok(real)
}

/// Finds `audio/<episode>/<stem>.<ext>`: at most one supported extension may exist.
fn find_clip_by_convention(
    root: &Path,
    episode: &str,
    stem: &str,
    script: &Path,
) -> Result<Option<PathBuf>> {
    let dir = root.join("audio").join(episode);
    let candidates: Vec<PathBuf> = CLIP_EXTENSIONS
        .iter()
        .map(|ext| dir.join(format!("{stem}.{ext}")))
        .filter(|p| p.is_file())
        .collect();
    match candidates.as_slice() {
        [one] => {
            let rel = one
                .strip_prefix(root)
                .unwrap_or(one)
                .to_string_lossy()
                .into_owned();
            resolve_clip(root, &rel, script).map(Some)
        }
        [] => Ok(None),
        many => Err(Error::in_file(
            script,
            format!(
                "more than one recording matches the section: {}",
                many.iter()
                    .map(|p| p.strip_prefix(root).unwrap_or(p).display().to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        )
        .with_fix("keep one take, or choose with `clip = \"…\"` in the front matter")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_col_counts_from_one() {
        assert_eq!(line_col("ab\ncd", 0), (1, 1));
        assert_eq!(line_col("ab\ncd", 4), (2, 2));
        assert_eq!(line_col("é\nx", 3), (2, 1));
    }

    #[test]
    fn front_matter_splits_at_the_closing_line() {
        let src = "+++\ntitle = \"A\"\n+++\nHello\n";
        let (fm, text, line) = split_front_matter(src, Path::new("x.md")).unwrap();
        assert_eq!(fm, "title = \"A\"\n");
        assert_eq!(text, "Hello\n");
        assert_eq!(line, 1);
    }

    #[test]
    fn crlf_front_matter_is_accepted() {
        let src = "+++\r\ntitle = \"A\"\r\n+++\r\nHello\r\n";
        let (fm, text, _) = split_front_matter(src, Path::new("x.md")).unwrap();
        assert_eq!(fm.trim(), "title = \"A\"");
        assert_eq!(text.trim(), "Hello");
    }

    #[test]
    fn unclosed_front_matter_is_an_error() {
        let err = split_front_matter("+++\ntitle = \"A\"\n", Path::new("x.md")).unwrap_err();
        assert!(err.message.contains("never closed"));
    }
}
