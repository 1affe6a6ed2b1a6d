//! Every sidecar writer on an arbitrary timeline and arbitrary titles and tags: never a panic,
//! and each sidecar parses back (with the strict readers the tests use) to the same chapter
//! count, times (floored per unit) and one-line titles.
#![no_main]

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;

use narrate::meta::{EpisodeMeta, TagKey};
use narrate::sidecars::SidecarKind;
use narrate::timeline::{Chapter, Timeline};

#[path = "../../tests/support/sidecar_parsers.rs"]
mod parsers;

#[derive(Debug, Arbitrary)]
struct Input {
    sample_rate: u32,
    total_frames: u64,
    chapters: Vec<(u64, String)>,
    title: String,
    artist: Option<String>,
    album: Option<String>,
    comment: Option<String>,
}

fuzz_target!(|input: Input| {
    let sample_rate = input.sample_rate.max(1);
    // Up to 2^40 frames (35,000 years at 1 Hz): JSON seconds are exact to the millisecond
    // only below 2^53 ms, far beyond any episode.
    let total = input.total_frames % ((1 << 40) + 1);
    let mut starts: Vec<u64> = input
        .chapters
        .iter()
        .map(|(s, _)| s % total.saturating_add(1).max(1))
        .collect();
    starts.sort_unstable();
    let t = Timeline {
        sample_rate,
        total_frames: total,
        chapters: starts
            .into_iter()
            .zip(input.chapters.into_iter().map(|(_, title)| title))
            .map(|(start, title)| Chapter {
                title,
                start,
                length: 0,
            })
            .collect(),
    };
    let mut tags = vec![(TagKey::Title, input.title)];
    tags.extend(input.album.map(|v| (TagKey::Album, v)));
    tags.extend(input.artist.map(|v| (TagKey::Artist, v)));
    tags.extend(input.comment.map(|v| (TagKey::Comment, v)));
    tags.push((TagKey::Software, "narrate".into()));
    let meta = EpisodeMeta {
        id: "ep".into(),
        tags,
    };

    let render = |kind: SidecarKind| kind.render(&meta, &t, "ep.wav", &[]);
    let floor = |frame: u64, per: u64| {
        (u128::from(frame) * u128::from(per) / u128::from(sample_rate)) as u64
    };
    let n = t.chapters.len();
    let one_line = |i: usize| parsers::one_line(&t.chapters[i].title);

    let (_, json) = parsers::json_chapters(&render(SidecarKind::ChaptersJson)).unwrap();
    assert_eq!(json.len(), n);
    let (cue_title, cue) = parsers::cue_sheet(&render(SidecarKind::Cue)).unwrap();
    assert_eq!(cue_title, parsers::cue_title(meta.title()));
    assert_eq!(cue.len(), n.min(99));
    let vtt = parsers::webvtt(&render(SidecarKind::WebVtt)).unwrap();
    let ff = parsers::ffmetadata(&render(SidecarKind::FfMetadata)).unwrap();
    let ff_marks = parsers::ffmeta_marks(&ff).unwrap();
    let labels = parsers::audacity_labels(&render(SidecarKind::AudacityLabels)).unwrap();
    assert_eq!((vtt.len(), ff_marks.len(), labels.len()), (n, n, n));
    for i in 0..n {
        let start = t.chapters[i].start;
        assert_eq!(
            (json[i].start, &json[i].title),
            (floor(start, 1000), &one_line(i))
        );
        assert_eq!(
            (vtt[i].start, &vtt[i].title),
            (floor(start, 1000), &one_line(i))
        );
        assert_eq!(ff_marks[i].start, floor(start, 1000));
        assert_eq!(
            ff_marks[i].title,
            parsers::ffmeta_title(&t.chapters[i].title)
        );
        assert_eq!(
            (labels[i].start, &labels[i].title),
            (floor(start, 1_000_000), &one_line(i))
        );
        if i < 99 {
            assert_eq!(cue[i].start, floor(start, 75));
            assert_eq!(cue[i].title, parsers::cue_title(&t.chapters[i].title));
        }
    }
    for (key, value) in meta.tags.iter().filter(|(k, _)| *k != TagKey::Title) {
        let expected = parsers::ffmeta_tag(value);
        assert!(
            ff.tags.iter().any(|(_, v)| *v == expected),
            "{key:?} {value:?} not read back"
        );
    }
    let _ = render(SidecarKind::Transcript);
});
