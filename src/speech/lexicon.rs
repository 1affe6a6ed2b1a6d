//! The pronunciation lexicon (`[lexicon]` in `narrate.toml`): words respelt for the ear
//! before synthesis, e.g. `MitraClip = "Mitra Clip"`.
//!
//! Matching is on whole words, case-insensitive, and keeps the text around each match
//! ("MitraClip's" becomes "Mitra Clip's"); a space in an entry matches any run of
//! whitespace, line breaks included. A word boundary is where a word character
//! (letter, digit or `_`) meets anything else, as `\b` in a regular expression; an entry
//! that starts or ends with punctuation needs no boundary on that side. The text is scanned
//! once from left to right; at each position the longest entry wins (ties by spelling), and
//! replaced text is not scanned again, so the result does not depend on table order.

use std::collections::BTreeMap;

use serde::Deserialize;

/// Word → spoken form, longest word first.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(try_from = "BTreeMap<String, String>")]
pub struct Lexicon {
    entries: Vec<(String, String)>,
    /// Each entry's word as characters, for matching.
    words: Vec<Vec<char>>,
}

/// One entry that applies to a text, and how often.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LexiconHit<'a> {
    pub word: &'a str,
    pub spoken: &'a str,
    pub count: usize,
}

impl Lexicon {
    /// A lexicon from `(word, spoken form)` pairs. Whitespace in words is trimmed and
    /// collapsed; an empty word or two words that differ only in case are refused, with a
    /// message saying which.
    pub fn new<I, W, S>(entries: I) -> Result<Lexicon, String>
    where
        I: IntoIterator<Item = (W, S)>,
        W: Into<String>,
        S: Into<String>,
    {
        let mut list: Vec<(String, String)> = entries
            .into_iter()
            .map(|(w, s)| {
                let word: String = w.into();
                (
                    word.split_whitespace().collect::<Vec<_>>().join(" "),
                    s.into(),
                )
            })
            .collect();
        if let Some((_, spoken)) = list.iter().find(|(w, _)| w.is_empty()) {
            return Err(format!(
                "the lexicon has an empty word (spoken as \"{spoken}\"): give the word to replace"
            ));
        }
        list.sort_by(|a, b| {
            b.0.chars()
                .count()
                .cmp(&a.0.chars().count())
                .then_with(|| a.0.to_lowercase().cmp(&b.0.to_lowercase()))
                .then_with(|| a.0.cmp(&b.0))
        });
        if let Some(pair) = list
            .windows(2)
            .find(|p| p[0].0.to_lowercase() == p[1].0.to_lowercase())
        {
            return Err(format!(
                "the lexicon has both \"{}\" and \"{}\"; matching ignores case, so keep one",
                pair[0].0, pair[1].0
            ));
        }
        let words = list.iter().map(|(w, _)| w.chars().collect()).collect();
        Ok(Lexicon {
            entries: list,
            words,
        })
    }

    /// The entries in matching order: longest word first.
    pub fn entries(&self) -> &[(String, String)] {
        &self.entries
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// `text` with every entry's word replaced by its spoken form.
    pub fn apply(&self, text: &str) -> String {
        let mut out = String::with_capacity(text.len());
        let mut copied = 0;
        self.scan(text, |start, end, entry| {
            out.push_str(&text[copied..start]);
            out.push_str(&self.entries[entry].1);
            copied = end;
        });
        out.push_str(&text[copied..]);
        out
    }

    /// The entries that [`apply`](Self::apply) would use on `text`, in order of first use,
    /// with how many times each replaces a word: for `check` and recording sheets.
    pub fn hits(&self, text: &str) -> Vec<LexiconHit<'_>> {
        let mut hits: Vec<LexiconHit<'_>> = Vec::new();
        self.scan(text, |_, _, entry| {
            let (word, spoken) = &self.entries[entry];
            match hits.iter_mut().find(|h| h.word == word.as_str()) {
                Some(hit) => hit.count += 1,
                None => hits.push(LexiconHit {
                    word,
                    spoken,
                    count: 1,
                }),
            }
        });
        hits
    }

    /// Calls `found(start, end, entry)` with byte offsets for each match, left to right.
    fn scan(&self, text: &str, mut found: impl FnMut(usize, usize, usize)) {
        if self.entries.is_empty() {
            return;
        }
        let chars: Vec<(usize, char)> = text.char_indices().collect();
        let byte_at = |i: usize| chars.get(i).map_or(text.len(), |&(b, _)| b);
        let mut i = 0;
        while i < chars.len() {
            let matched = self
                .words
                .iter()
                .enumerate()
                .find_map(|(entry, word)| Some((entry, match_end(&chars, i, word)?)));
            match matched {
                Some((entry, end)) => {
                    found(byte_at(i), byte_at(end), entry);
                    i = end;
                }
                None => i += 1,
            }
        }
    }
}

impl TryFrom<BTreeMap<String, String>> for Lexicon {
    type Error = String;

    fn try_from(map: BTreeMap<String, String>) -> Result<Self, Self::Error> {
        Lexicon::new(map)
    }
}

fn is_word_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

fn same_letter(a: char, b: char) -> bool {
    a == b || a.to_lowercase().eq(b.to_lowercase())
}

/// Where `word` ends when it occurs at character `i` of `text` as a whole word, ignoring
/// case; a space in `word` matches one or more whitespace characters.
fn match_end(text: &[(usize, char)], i: usize, word: &[char]) -> Option<usize> {
    let (&first, &last) = (word.first()?, word.last()?);
    if is_word_char(first) && i > 0 && is_word_char(text[i - 1].1) {
        return None;
    }
    let mut at = i;
    for &w in word {
        let &(_, t) = text.get(at)?;
        if w == ' ' {
            if !t.is_whitespace() {
                return None;
            }
            while text.get(at).is_some_and(|&(_, c)| c.is_whitespace()) {
                at += 1;
            }
        } else if same_letter(t, w) {
            at += 1;
        } else {
            return None;
        }
    }
    let boundary_after = !is_word_char(last) || text.get(at).is_none_or(|&(_, c)| !is_word_char(c));
    boundary_after.then_some(at)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_sort_longest_first_then_by_spelling() {
        let lex = Lexicon::new([("b", "1"), ("abc", "2"), ("A", "3"), ("zz", "4")]).unwrap();
        let words: Vec<&str> = lex.entries().iter().map(|(w, _)| w.as_str()).collect();
        assert_eq!(words, ["abc", "zz", "A", "b"]);
    }

    #[test]
    fn refuses_empty_and_case_duplicates() {
        assert!(Lexicon::new([(" ", "x")]).unwrap_err().contains("empty"));
        let e = Lexicon::new([("MitraClip", "a"), ("mitraclip", "b")]).unwrap_err();
        assert!(e.contains("MitraClip") && e.contains("mitraclip"), "{e}");
    }

    #[test]
    fn punctuation_edged_entries_need_no_boundary_on_that_side() {
        let lex = Lexicon::new([("e.g.", "for example"), ("®", "")]).unwrap();
        assert_eq!(
            lex.apply("tools, e.g. MitraClip® here"),
            "tools, for example MitraClip here"
        );
    }

    #[test]
    fn spaces_in_entries_match_any_whitespace() {
        let lex = Lexicon::new([("  mitral \t valve ", "my-trull valve")]).unwrap();
        assert_eq!(lex.entries()[0].0, "mitral valve");
        assert_eq!(
            lex.apply("the Mitral\n  valve leaks; mitral valves"),
            "the my-trull valve leaks; mitral valves"
        );
    }

    #[test]
    fn non_ascii_case_folding() {
        let lex = Lexicon::new([("échographie", "écho-graphie")]).unwrap();
        assert_eq!(
            lex.apply("L'ÉCHOGRAPHIE, l'échographie."),
            "L'écho-graphie, l'écho-graphie."
        );
    }
}
