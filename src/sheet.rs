//! Recording sheets for the voice talent: what to record, into which file, how long it
//! should take, and how to say the difficult words.
//!
//! Two renderings of one [`SheetInput`]: a large-print, high-contrast, self-contained HTML
//! page ([`sheet_html`]) and plain text ([`sheet_text`]). Sections that need recording
//! (missing, stale or synthesised) come first, in play order, then the recorded ones;
//! with [`SheetInput::todo_only`] only those that need recording are listed.

use std::fmt::Write as _;

use crate::speech::{estimate_seconds, Lexicon};

/// Everything a recording sheet shows.
#[derive(Debug, Clone, PartialEq)]
pub struct SheetInput {
    /// The collection's title (`[project] title`).
    pub project_title: String,
    pub episode_id: String,
    pub episode_title: String,
    /// The content version, when governance gives one.
    pub version: Option<String>,
    /// Language code for the page, e.g. `en` (`en` when empty).
    pub language: String,
    /// The speaking rate the target durations assume.
    pub words_per_minute: f64,
    /// Every section of the episode, in play order.
    pub sections: Vec<SheetSection>,
    /// List only the sections that need recording.
    pub todo_only: bool,
}

/// One section on the sheet.
#[derive(Debug, Clone, PartialEq)]
pub struct SheetSection {
    /// The file to record into, relative to the project, e.g. `audio/mitraclip/04-risks.flac`.
    pub record_into: String,
    pub title: String,
    /// The approved narration text.
    pub text: String,
    /// Target duration in seconds; see [`target_seconds`].
    pub target_seconds: f64,
    pub status: SheetStatus,
    /// How to say the lexicon's words that occur in the text; see [`pronunciations_in`].
    pub pronunciations: Vec<Pronunciation>,
}

/// Where a section's recording stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SheetStatus {
    /// No recording, and no synthesised stand-in.
    Missing,
    /// Recorded, but the text changed after the take was accepted.
    Stale,
    /// Recorded, and the take matches the text.
    Recorded,
    /// A synthetic voice stands in until it is recorded.
    Synthesised,
}

/// A word and how to say it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pronunciation {
    pub word: String,
    pub say: String,
}

impl SheetStatus {
    /// One word: `missing`, `stale`, `recorded`, `synthesised`.
    pub fn label(self) -> &'static str {
        match self {
            SheetStatus::Missing => "missing",
            SheetStatus::Stale => "stale",
            SheetStatus::Recorded => "recorded",
            SheetStatus::Synthesised => "synthesised",
        }
    }

    /// Whether the voice talent has to record this section.
    pub fn needs_recording(self) -> bool {
        self != SheetStatus::Recorded
    }

    /// What the status asks of the voice talent, in words (never colour alone).
    fn instruction(self) -> &'static str {
        match self {
            SheetStatus::Missing => "Missing: not recorded yet. Please record.",
            SheetStatus::Stale => {
                "Stale: the text changed after the last take. Please record again."
            }
            SheetStatus::Synthesised => "Synthesised: a computer voice stands in. Please record.",
            SheetStatus::Recorded => "Recorded: nothing to do.",
        }
    }
}

/// Seconds that `text` takes at `words_per_minute`, pauses excluded.
pub fn target_seconds(text: &str, words_per_minute: f64) -> f64 {
    estimate_seconds(text.split_whitespace().count(), words_per_minute)
}

/// The lexicon entries the synthesiser would apply to `text`, in order of first use.
pub fn pronunciations_in(text: &str, lexicon: &Lexicon) -> Vec<Pronunciation> {
    lexicon
        .hits(text)
        .into_iter()
        .map(|hit| Pronunciation {
            word: hit.word.to_string(),
            say: hit.spoken.to_string(),
        })
        .collect()
}

/// The sections to list, with their 1-based play position: those needing recording
/// first, then the rest (unless `todo_only`), each group in play order.
fn listed(input: &SheetInput) -> Vec<(usize, &SheetSection)> {
    let numbered = || input.sections.iter().enumerate().map(|(i, s)| (i + 1, s));
    let mut list: Vec<_> = numbered()
        .filter(|(_, s)| s.status.needs_recording())
        .collect();
    if !input.todo_only {
        list.extend(numbered().filter(|(_, s)| !s.status.needs_recording()));
    }
    list
}

/// `7 sections: 2 missing, 1 stale, 4 recorded.`
fn counts(input: &SheetInput) -> String {
    let all = [
        SheetStatus::Missing,
        SheetStatus::Stale,
        SheetStatus::Synthesised,
        SheetStatus::Recorded,
    ];
    let parts: Vec<String> = all
        .iter()
        .filter_map(|&status| {
            let n = input.sections.iter().filter(|s| s.status == status).count();
            (n > 0).then(|| format!("{n} {}", status.label()))
        })
        .collect();
    let total = input.sections.len();
    let noun = if total == 1 { "section" } else { "sections" };
    if parts.is_empty() {
        format!("{total} {noun}.")
    } else {
        format!("{total} {noun}: {}.", parts.join(", "))
    }
}

/// What the sheet lists: `Listed: the 3 sections to record, missing and stale first.`
fn scope(input: &SheetInput, listed: usize) -> String {
    let todo = input
        .sections
        .iter()
        .filter(|s| s.status.needs_recording())
        .count();
    match (input.todo_only, todo) {
        (_, 0) => "Every section is recorded; all are listed for reference.".into(),
        (true, 1) => "Listed: the 1 section to record.".into(),
        (true, n) => format!("Listed: the {n} sections to record, in play order."),
        (false, _) => {
            format!("Listed: all {listed}, the {todo} to record first, then the recorded ones.")
        }
    }
}

/// `about 1 min 05 s`, `about 40 s`.
fn duration(seconds: f64) -> String {
    let total = seconds.max(0.0).round() as u64;
    if total < 60 {
        format!("about {total} s")
    } else {
        format!("about {} min {:02} s", total / 60, total % 60)
    }
}

fn words(text: &str) -> usize {
    text.split_whitespace().count()
}

/// `about 1 min 05 s (163 words)`.
fn target(section: &SheetSection) -> String {
    let n = words(&section.text);
    let noun = if n == 1 { "word" } else { "words" };
    format!("{} ({n} {noun})", duration(section.target_seconds))
}

/// Paragraphs of `text`: split at blank lines, lines joined by single spaces.
fn paragraphs(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut current: Vec<&str> = Vec::new();
    for line in text.lines().map(str::trim) {
        if line.is_empty() {
            if !current.is_empty() {
                out.push(current.join(" "));
                current.clear();
            }
        } else {
            current.extend(line.split_whitespace());
        }
    }
    if !current.is_empty() {
        out.push(current.join(" "));
    }
    out
}

fn version_line(input: &SheetInput) -> String {
    match &input.version {
        Some(v) => format!("{}, version {v}", input.project_title),
        None => input.project_title.clone(),
    }
}

/// Escapes text for HTML content and attribute values.
fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

const CSS: &str = "\
html { background: #fff; color: #000; }
body { font-family: Verdana, \"DejaVu Sans\", Arial, sans-serif; font-size: 24px; line-height: 1.6; max-width: 42em; margin: 0 auto; padding: 1em; }
h1 { font-size: 1.75em; line-height: 1.25; margin: 0 0 0.5em; }
h2 { font-size: 1.4em; line-height: 1.3; margin: 1.5em 0 0.5em; padding-top: 0.5em; border-top: 4px solid #000; break-after: avoid; page-break-after: avoid; }
p { margin: 0 0 1em; }
dl { margin: 0 0 1em; }
dt { font-weight: bold; }
dd { margin: 0 0 0.4em 1.5em; }
code { font-family: \"DejaVu Sans Mono\", Consolas, monospace; overflow-wrap: anywhere; }
table { border-collapse: collapse; margin: 0 0 1em; }
caption { text-align: left; font-weight: bold; }
th, td { border: 2px solid #000; padding: 0.2em 0.6em; text-align: left; vertical-align: top; }
.text { font-size: 1.1em; }
@page { margin: 2cm; }
@media print {
  body { font-size: 16pt; max-width: none; margin: 0; padding: 0; }
  section { break-inside: avoid-page; }
}
";

/// The sheet as a self-contained HTML5 page.
pub fn sheet_html(input: &SheetInput) -> String {
    let language = match input.language.trim() {
        "" => "en",
        lang => lang,
    };
    let listed = listed(input);
    let mut h = String::new();
    let _ = write!(
        h,
        "<!DOCTYPE html>\n<html lang=\"{lang}\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>Recording sheet: {title}</title>\n<style>\n{CSS}</style>\n</head>\n<body>\n<main>\n\
         <h1>Recording sheet: {title}</h1>\n<p>{project}. Episode <code>{id}</code>.</p>\n\
         <p>{counts} {scope}</p>\n<p>Target durations assume {wpm} words per minute.</p>\n",
        lang = escape(language),
        title = escape(&input.episode_title),
        project = escape(&version_line(input)),
        id = escape(&input.episode_id),
        counts = escape(&counts(input)),
        scope = escape(&scope(input, listed.len())),
        wpm = input.words_per_minute.round(),
    );
    for (number, s) in &listed {
        let _ = write!(
            h,
            "<section aria-labelledby=\"s{number}\">\n<h2 id=\"s{number}\">{number}. {title}</h2>\n<dl>\n\
             <dt>Status</dt><dd>{status}</dd>\n<dt>Record into</dt><dd><code>{file}</code></dd>\n\
             <dt>Target length</dt><dd>{target}</dd>\n</dl>\n",
            title = escape(&s.title),
            status = escape(s.status.instruction()),
            file = escape(&s.record_into),
            target = escape(&target(s)),
        );
        if !s.pronunciations.is_empty() {
            h.push_str("<table>\n<caption>Pronunciations</caption>\n<thead><tr><th scope=\"col\">Word</th><th scope=\"col\">Say it as</th></tr></thead>\n<tbody>\n");
            for p in &s.pronunciations {
                let _ = writeln!(
                    h,
                    "<tr><td>{}</td><td>{}</td></tr>",
                    escape(&p.word),
                    escape(&p.say)
                );
            }
            h.push_str("</tbody>\n</table>\n");
        }
        h.push_str("<div class=\"text\">\n");
        for p in paragraphs(&s.text) {
            let _ = writeln!(h, "<p>{}</p>", escape(&p));
        }
        h.push_str("</div>\n</section>\n");
    }
    h.push_str("</main>\n</body>\n</html>\n");
    h
}

/// Width of the plain-text sheet, in characters.
const TEXT_WIDTH: usize = 72;

/// The sheet as plain text, wrapped at 72 characters.
pub fn sheet_text(input: &SheetInput) -> String {
    let listed = listed(input);
    let mut t = String::new();
    let title = format!("RECORDING SHEET: {}", input.episode_title);
    let _ = writeln!(
        t,
        "{title}\n{}",
        "=".repeat(title.chars().count().min(TEXT_WIDTH))
    );
    for line in [
        format!("{}. Episode: {}.", version_line(input), input.episode_id),
        format!("{} {}", counts(input), scope(input, listed.len())),
        format!(
            "Target durations assume {} words per minute.",
            input.words_per_minute.round()
        ),
    ] {
        t.push_str(&wrap(&line, "", ""));
    }
    for (number, s) in listed {
        let heading = format!("{number}. {}", s.title);
        let _ = writeln!(
            t,
            "\n\n{heading}\n{}",
            "-".repeat(heading.chars().count().min(TEXT_WIDTH))
        );
        let label = |name: &str| format!("{name:<15}");
        let indent = " ".repeat(15);
        t.push_str(&wrap(s.status.instruction(), &label("Status:"), &indent));
        t.push_str(&wrap(&s.record_into, &label("Record into:"), &indent));
        t.push_str(&wrap(&target(s), &label("Target length:"), &indent));
        for (i, p) in s.pronunciations.iter().enumerate() {
            let first = if i == 0 {
                label("Pronounce:")
            } else {
                indent.clone()
            };
            t.push_str(&wrap(
                &format!("{}: say \"{}\"", p.word, p.say),
                &first,
                &indent,
            ));
        }
        for p in paragraphs(&s.text) {
            t.push('\n');
            t.push_str(&wrap(&p, "", ""));
        }
    }
    t
}

/// Wraps `text` at [`TEXT_WIDTH`], the first line after `first`, the others after `rest`.
/// A word longer than a line stays whole.
fn wrap(text: &str, first: &str, rest: &str) -> String {
    let mut out = String::new();
    let mut line = first.to_string();
    let mut empty = true;
    for word in text.split_whitespace() {
        let width = line.chars().count();
        if !empty && width + 1 + word.chars().count() > TEXT_WIDTH {
            out.push_str(line.trim_end());
            out.push('\n');
            line = rest.to_string();
            empty = true;
        }
        if !empty {
            line.push(' ');
        }
        line.push_str(word);
        empty = false;
    }
    out.push_str(line.trim_end());
    out.push('\n');
    out
}

/// The sheet of `episode` from the project and its status (see [`crate::status`]).
pub fn for_episode(
    project: &crate::project::Project,
    episode: &crate::project::Episode,
    status: &crate::status::EpisodeStatus,
    todo_only: bool,
) -> SheetInput {
    use crate::status::State;
    let sections = episode
        .sections
        .iter()
        .zip(&status.sections)
        .map(|(section, line)| SheetSection {
            record_into: match &section.clip {
                Some(clip) => crate::report::relative(&project.root, clip),
                None => format!("audio/{}/{}.wav", episode.id, section.stem),
            },
            title: section.title.clone(),
            text: section.text.clone(),
            target_seconds: line.estimated_seconds,
            status: match line.state {
                State::Missing => SheetStatus::Missing,
                State::Synthesised => SheetStatus::Synthesised,
                State::Stale | State::NewTake => SheetStatus::Stale,
                State::Recorded => SheetStatus::Recorded,
            },
            pronunciations: pronunciations_in(&section.text, &project.lexicon),
        })
        .collect();
    SheetInput {
        project_title: project.title.clone(),
        episode_id: episode.id.clone(),
        episode_title: episode.title.clone(),
        version: episode.governance.version.clone(),
        language: episode
            .language
            .clone()
            .or_else(|| project.language.clone())
            .unwrap_or_default(),
        words_per_minute: f64::from(project.speech.rate),
        sections,
        todo_only,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrap_keeps_lines_within_the_width() {
        let text = "word ".repeat(40);
        let wrapped = wrap(&text, "Label:  ", "        ");
        assert!(wrapped.lines().all(|l| l.chars().count() <= TEXT_WIDTH));
        assert!(wrapped.starts_with("Label:  word word"));
        assert!(wrapped.lines().nth(1).unwrap().starts_with("        word"));
        assert_eq!(
            wrapped.split_whitespace().filter(|w| *w == "word").count(),
            40
        );
    }

    #[test]
    fn durations_read_as_minutes_and_seconds() {
        assert_eq!(duration(40.4), "about 40 s");
        assert_eq!(duration(65.2), "about 1 min 05 s");
        assert_eq!(target_seconds("one two three", 180.0), 1.0);
    }
}
