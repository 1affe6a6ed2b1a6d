//! Preparing narration text for an engine: paragraphs, sentence ends, SSML for espeak-ng.

/// Characters that end a sentence.
const TERMINATORS: [char; 4] = ['.', '!', '?', '…'];
/// Closing quotes and brackets that may follow a sentence's terminator.
const CLOSERS: [char; 8] = ['"', '\'', '”', '’', '»', ')', ']', '›'];
/// Opening quotes and brackets that may precede the next sentence's first letter.
const OPENERS: [char; 9] = ['"', '\'', '“', '‘', '«', '(', '[', '¿', '¡'];
/// Words whose full stop is not a sentence end (compared lower-case, without the stop).
const ABBREVIATIONS: [&str; 18] = [
    "dr", "mr", "mrs", "ms", "mx", "prof", "pr", "st", "mt", "no", "vs", "approx", "fig", "jr",
    "sr", "mme", "mlle", "cf",
];

/// The paragraphs of `text` (separated by blank lines), each with its whitespace collapsed
/// to single spaces; paragraphs without a letter or digit are left out.
pub(crate) fn paragraphs(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut current: Vec<&str> = Vec::new();
    for line in text.lines().chain(std::iter::once("")) {
        if line.trim().is_empty() {
            let paragraph = current.join(" ");
            current.clear();
            if paragraph.chars().any(char::is_alphanumeric) {
                out.push(paragraph);
            }
        } else {
            current.extend(line.split_whitespace());
        }
    }
    out
}

/// Whether a sentence ends after `word` when `next` follows it.
///
/// A sentence ends at `.`, `!`, `?` or `…` (closing quotes and brackets may follow; French
/// spacing, `bien ?`, is a word of its own) when the next word starts with a capital or a
/// digit. A full stop after an abbreviation (`Dr.`) or a single letter (`J.`) does not end
/// one.
fn ends_sentence(word: &str, next: &str) -> bool {
    let bare = word.trim_end_matches(CLOSERS);
    let Some(last) = bare.chars().last() else {
        return false;
    };
    let next_starts = next
        .trim_start_matches(OPENERS)
        .chars()
        .next()
        .is_some_and(|c| c.is_uppercase() || c.is_ascii_digit());
    if !TERMINATORS.contains(&last) || !next_starts {
        return false;
    }
    if last != '.' {
        return true;
    }
    let stem = bare.trim_end_matches('.').trim_start_matches(OPENERS);
    let single_letter = stem.chars().count() == 1 && stem.chars().all(char::is_alphabetic);
    !single_letter && !ABBREVIATIONS.contains(&stem.to_lowercase().as_str())
}

/// `text` with `&`, `<` and `>` escaped for XML.
fn escape_xml(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// A paragraph as SSML for espeak-ng (`-m`), with a `<break>` of `sentence_pause` seconds
/// between its sentences. The break replaces espeak-ng's own pause at a full stop.
pub(crate) fn espeak_ssml(paragraph: &str, sentence_pause: f64) -> String {
    let pause_ms = (sentence_pause * 1000.0).round() as u64;
    let words: Vec<&str> = paragraph.split_whitespace().collect();
    let mut out = String::from("<speak>");
    for (i, word) in words.iter().enumerate() {
        if i > 0 {
            out.push(' ');
        }
        out.push_str(&escape_xml(word));
        if words
            .get(i + 1)
            .is_some_and(|next| ends_sentence(word, next))
        {
            out.push_str(&format!("<break time=\"{pause_ms}ms\"/>"));
        }
    }
    out.push_str("</speak>\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_paragraphs_on_blank_lines_and_collapses_whitespace() {
        let text = "\n  One line\nand  its   next.\n\n \t\nTwo.\n\n---\n\nThree\n";
        assert_eq!(
            paragraphs(text),
            ["One line and its next.", "Two.", "Three"]
        );
        assert!(paragraphs(" \n\n ").is_empty());
    }

    #[test]
    fn finds_sentence_ends() {
        assert!(ends_sentence("soon.", "Please"));
        assert!(ends_sentence("soon!\"", "Then"));
        assert!(ends_sentence("?", "Très"));
        assert!(ends_sentence("ready…", "«Bien"));
        assert!(ends_sentence("2024.", "3"));
        assert!(!ends_sentence("soon.", "please"));
        assert!(!ends_sentence("Dr.", "Smith"));
        assert!(!ends_sentence("J.", "Smith"));
        assert!(!ends_sentence("soon,", "Please"));
    }

    #[test]
    fn ssml_escapes_and_breaks_between_sentences_only() {
        assert_eq!(
            espeak_ssml("Rest & <eat>. Dr. Li comes. Bye.", 0.35),
            "<speak>Rest &amp; &lt;eat&gt;.<break time=\"350ms\"/> Dr. Li comes.\
             <break time=\"350ms\"/> Bye.</speak>\n"
        );
    }
}
