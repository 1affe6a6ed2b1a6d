//! Descriptive metadata of an episode, carried into the WAV tags and every sidecar.

use serde::Serialize;

/// One kind of descriptive tag. Each writer maps it to its own key
/// (RIFF INFO id, ffmetadata key, …) so that all outputs carry the same facts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TagKey {
    /// The episode's title.
    Title,
    /// The collection the episode belongs to (the project's title).
    Album,
    /// Who publishes it: the organisation.
    Artist,
    /// A description of the episode.
    Comment,
    /// The date of the content (approval or publication), `YYYY-MM-DD`.
    Date,
    /// Language code, such as `en` or `fr`.
    Language,
    /// Copyright notice.
    Copyright,
    /// The software that made the file.
    Software,
}

/// The metadata of one rendered episode.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EpisodeMeta {
    /// The episode's identifier: its folder under `scripts/` and its output file stem.
    pub id: String,
    /// Tags in a fixed order; only those with a value are present.
    pub tags: Vec<(TagKey, String)>,
}

impl EpisodeMeta {
    /// The value of `key`, if set.
    pub fn get(&self, key: TagKey) -> Option<&str> {
        self.tags
            .iter()
            .find(|(k, _)| *k == key)
            .map(|(_, v)| v.as_str())
    }

    /// The episode's title (falls back to its id).
    pub fn title(&self) -> &str {
        self.get(TagKey::Title).unwrap_or(&self.id)
    }
}

/// The `Software` tag value: `narrate <version>`.
pub fn software() -> String {
    format!("narrate {}", env!("CARGO_PKG_VERSION"))
}
