//! Speech synthesis: espeak-ng in English and French, the cache (proved with a fake engine
//! that counts its calls), engine failures, and the pronunciation lexicon.

mod common;

use std::fs;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use common::{have_tool, square, write_wav16, Scratch};
use narrate::decode::decode_file;
use narrate::speech::{
    cache_path, clear_cache, engine_available, estimate_seconds, synthesize, Engine, Lexicon,
    SpeechConfig, SpeechRequest, Synthesis,
};
use narrate::Error;

const ENGLISH: &str = "\
The MitraClip procedure treats a leaking mitral valve. A small clip is guided to the heart \
through a vein in the leg. It holds the two leaflets of the valve together, so that they \
close better and less blood flows backwards.

Before the procedure, your care team will explain how to prepare. You may need to stop \
eating the night before. Some medicines are paused for a few days. Please ask us if \
anything is unclear.
";

const FRENCH: &str = "\
La procédure MitraClip traite une valve mitrale qui fuit. Un petit clip est guidé jusqu'au \
cœur par une veine de la jambe. Il rapproche les deux feuillets de la valve, pour qu'ils se \
ferment mieux et que le sang reflue moins.

Avant la procédure, votre équipe soignante vous expliquera comment vous préparer. Vous \
devrez peut-être rester à jeun la veille au soir. Certains médicaments seront arrêtés \
quelques jours. N'hésitez pas à nous poser vos questions.
";

fn request<'a>(
    text: &'a str,
    language: &'a str,
    config: &'a SpeechConfig,
    lexicon: &'a Lexicon,
) -> SpeechRequest<'a> {
    SpeechRequest {
        text,
        language,
        voice: None,
        config,
        lexicon,
        script: Path::new("scripts/guide/02-before.md"),
    }
}

fn rms_dbfs(samples: &[f32]) -> f64 {
    let sum: f64 = samples.iter().map(|&s| f64::from(s) * f64::from(s)).sum();
    10.0 * (sum / samples.len().max(1) as f64).log10()
}

/// The longest run of exact zeros: (start, length) in samples.
fn longest_zero_run(samples: &[f32]) -> (usize, usize) {
    let (mut best, mut start) = ((0, 0), 0);
    for (i, &s) in samples.iter().chain([1.0f32].iter()).enumerate() {
        if s != 0.0 {
            if i - start > best.1 {
                best = (start, i - start);
            }
            start = i + 1;
        }
    }
    best
}

/// Files in `dir`, or none when it does not exist.
fn files_in(dir: &Path) -> Vec<String> {
    fs::read_dir(dir)
        .map(|entries| {
            entries
                .flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn espeak_speaks_english_and_french_paragraphs_at_the_configured_rate() {
    if !have_tool("espeak-ng", "--version") {
        return;
    }
    let scratch = Scratch::new("speech-espeak");
    let cache = scratch.path(".narrate-cache/speech");
    let config = SpeechConfig {
        voice: [("en".into(), "en-us".into()), ("fr".into(), "fr-fr".into())].into(),
        ..SpeechConfig::default()
    };
    let lexicon = Lexicon::new([("MitraClip", "Mitra Clip")]).unwrap();
    assert!(engine_available(&config).unwrap().contains("eSpeak NG"));

    for (language, text) in [("en", ENGLISH), ("fr", FRENCH)] {
        let req = request(text, language, &config, &lexicon);
        let first = synthesize(&req, &cache).unwrap();
        assert!(first.engine_called);
        assert_eq!(
            first.voice,
            if language == "en" { "en-us" } else { "fr-fr" }
        );
        let audio = decode_file(&first.path).unwrap();
        assert_eq!(audio.channels, 1);
        assert!((audio.duration_seconds() - first.seconds).abs() < 1e-6);

        // The paragraph pause: digital silence of exactly paragraph_pause, in the middle.
        let rate = audio.sample_rate as usize;
        let pause = (config.paragraph_pause * rate as f64).round() as usize;
        let (at, len) = longest_zero_run(&audio.samples);
        assert_eq!(len, pause, "{language}: longest digital silence");
        let middle = at as f64 / audio.samples.len() as f64;
        assert!(
            (0.25..0.75).contains(&middle),
            "{language}: pause at {middle:.2}"
        );

        // Speech on both sides of it.
        let (before, after) = (&audio.samples[..at], &audio.samples[at + len..]);
        for (part, samples) in [("first", before), ("second", after)] {
            let level = rms_dbfs(samples);
            assert!(
                level > -40.0,
                "{language} {part} paragraph at {level:.1} dBFS"
            );
            assert!(
                samples.len() > rate,
                "{language} {part} paragraph too short"
            );
        }

        // Duration against words ÷ rate.
        let words = text.split_whitespace().count();
        let speech = (audio.samples.len() - len) as f64 / rate as f64;
        let expected = estimate_seconds(words, f64::from(config.rate));
        let wpm = words as f64 / speech * 60.0;
        println!(
            "espeak-ng {language} ({}) at rate {}: {words} words in {speech:.2} s of speech \
             = {wpm:.0} words per minute (estimate {expected:.2} s)",
            first.voice, config.rate
        );
        let ratio = speech / expected;
        assert!(
            (0.65..1.35).contains(&ratio),
            "{language}: speech/estimate = {ratio:.2}"
        );

        // The second time comes from the cache.
        let again = synthesize(&req, &cache).unwrap();
        assert!(!again.engine_called);
        assert_eq!(again.path, first.path);
    }
    assert_eq!(clear_cache(&cache).unwrap(), 2);
    assert!(files_in(&cache).is_empty());
}

#[test]
fn espeak_sentence_pause_lengthens_speech() {
    if !have_tool("espeak-ng", "--version") {
        return;
    }
    let scratch = Scratch::new("speech-sentence");
    let lexicon = Lexicon::default();
    let text = "Rest now. Drink water. Call us. We are here.";
    let seconds = |pause: f64| {
        let config = SpeechConfig {
            sentence_pause: pause,
            ..SpeechConfig::default()
        };
        synthesize(&request(text, "en", &config, &lexicon), &scratch.root)
            .unwrap()
            .seconds
    };
    // Three sentence breaks, each 1 s longer.
    let gained = seconds(1.2) - seconds(0.2);
    assert!((2.7..3.3).contains(&gained), "gained {gained:.2} s");
}

/// A fake engine: a shell script that logs each call (its arguments and the text it got)
/// and writes a known WAV to `{out}`. Run as `sh SCRIPT`, so it is never exec'd while open.
struct FakeEngine {
    script: PathBuf,
    log: PathBuf,
    /// The clip it writes, as floats.
    clip: Vec<f32>,
}

impl FakeEngine {
    const RATE: u32 = 16_000;

    fn new(scratch: &Scratch) -> FakeEngine {
        // A square wave: every sample is loud, so edge trimming keeps it whole.
        let clip = square(8_000, 1, 40, 0.25);
        let wav = scratch.path("engine/clip.wav");
        write_wav16(&wav, Self::RATE, 1, &clip);
        let log = scratch.path("engine/calls.log");
        let script = scratch.write(
            "engine/fake-tts.sh",
            &format!(
                "#!/bin/sh\n\
                 # usage: fake-tts.sh OUT TEXT_FILE VOICE LANG RATE\n\
                 if [ \"$2\" = - ]; then text=$(cat); else text=$(cat \"$2\"); fi\n\
                 echo \"voice=$3 lang=$4 rate=$5 text=$text\" >> '{}'\n\
                 cp '{}' \"$1\"\n",
                log.display(),
                wav.display()
            ),
        );
        FakeEngine { script, log, clip }
    }

    /// A `[speech]` config running `body` (a shell script) with `{out}` as `$1`.
    fn config_running(scratch: &Scratch, name: &str, body: &str) -> SpeechConfig {
        let script = scratch.write(
            &format!("engine/{name}.sh"),
            &format!("#!/bin/sh\n{body}\n"),
        );
        command_config(&script, &["{out}", "{text_file}"])
    }

    fn config(&self) -> SpeechConfig {
        command_config(
            &self.script,
            &["{out}", "{text_file}", "{voice}", "{lang}", "{rate}"],
        )
    }

    fn calls(&self) -> Vec<String> {
        fs::read_to_string(&self.log)
            .unwrap_or_default()
            .lines()
            .map(String::from)
            .collect()
    }
}

fn command_config(script: &Path, args: &[&str]) -> SpeechConfig {
    let mut command = vec!["sh".to_string(), script.display().to_string()];
    command.extend(args.iter().map(|a| a.to_string()));
    SpeechConfig {
        engine: Engine::Command,
        command,
        ..SpeechConfig::default()
    }
}

#[test]
fn fake_engine_is_called_once_per_distinct_request() {
    let scratch = Scratch::new("speech-cache");
    let cache = scratch.path("cache");
    let engine = FakeEngine::new(&scratch);
    let config = engine.config();
    let lexicon = Lexicon::new([("MitraClip", "Mitra Clip")]).unwrap();
    let text = "About the MitraClip.";

    let run = |req: &SpeechRequest| -> Synthesis { synthesize(req, &cache).unwrap() };
    let first = run(&request(text, "en", &config, &lexicon));
    assert!(first.engine_called);
    assert_eq!(
        engine.calls(),
        ["voice=en lang=en rate=140 text=About the Mitra Clip."]
    );
    assert_eq!(decode_file(&first.path).unwrap().samples, engine.clip);
    assert_eq!(
        first.path,
        cache_path(&request(text, "en", &config, &lexicon), &cache)
    );

    // Unchanged: no engine call, the same file.
    let second = run(&request(text, "en", &config, &lexicon));
    assert!(!second.engine_called);
    assert_eq!(second.path, first.path);
    assert_eq!(engine.calls().len(), 1);

    // A lexicon entry the text does not use changes nothing.
    let unused = Lexicon::new([("MitraClip", "Mitra Clip"), ("TAVI", "tavvy")]).unwrap();
    assert!(!run(&request(text, "en", &config, &unused)).engine_called);

    // Changed text, voice, rate, lexicon: one call each.
    let mut voiced = request(text, "en", &config, &lexicon);
    voiced.voice = Some("en-gb");
    let faster = SpeechConfig {
        rate: 160,
        ..config.clone()
    };
    let respelt = Lexicon::new([("MitraClip", "Mitra-Clip")]).unwrap();
    for (req, expected) in [
        (
            request("About the clip.", "en", &config, &lexicon),
            "voice=en lang=en rate=140 text=About the clip.",
        ),
        (
            voiced,
            "voice=en-gb lang=en rate=140 text=About the Mitra Clip.",
        ),
        (
            request(text, "en", &faster, &lexicon),
            "voice=en lang=en rate=160 text=About the Mitra Clip.",
        ),
        (
            request(text, "en", &config, &respelt),
            "voice=en lang=en rate=140 text=About the Mitra-Clip.",
        ),
    ] {
        let calls = engine.calls().len();
        assert!(run(&req).engine_called);
        assert!(!run(&req).engine_called);
        assert_eq!(engine.calls().len(), calls + 1);
        assert_eq!(engine.calls().last().unwrap(), expected);
    }

    // Five different files, none left over from the work.
    let mut names = files_in(&cache);
    names.sort();
    assert_eq!(names.len(), 5, "{names:?}");
    assert!(names.iter().all(|n| n.len() == 68 && n.ends_with(".wav")));
    fs::write(cache.join("keep-me.txt"), "not ours").unwrap();
    assert_eq!(clear_cache(&cache).unwrap(), 5);
    assert_eq!(files_in(&cache), ["keep-me.txt"]);
    assert!(run(&request(text, "en", &config, &lexicon)).engine_called);
}

#[test]
fn parallel_requests_for_the_same_speech_call_the_engine_once() {
    let scratch = Scratch::new("speech-parallel");
    let engine = FakeEngine::new(&scratch);
    let config = engine.config();
    let lexicon = Lexicon::default();
    let cache = scratch.path("cache");
    let called: Vec<bool> = std::thread::scope(|s| {
        let workers: Vec<_> = (0..4)
            .map(|_| {
                s.spawn(|| {
                    let req = request("The same words.", "en", &config, &lexicon);
                    synthesize(&req, &cache).unwrap().engine_called
                })
            })
            .collect();
        workers.into_iter().map(|w| w.join().unwrap()).collect()
    });
    assert_eq!(called.iter().filter(|&&c| c).count(), 1, "{called:?}");
    assert_eq!(engine.calls().len(), 1);
    assert_eq!(files_in(&cache).len(), 1);
}

#[test]
fn paragraphs_are_joined_with_exact_digital_silence_and_text_can_go_on_stdin() {
    let scratch = Scratch::new("speech-paragraphs");
    let engine = FakeEngine::new(&scratch);
    let config = SpeechConfig {
        stdin: true,
        paragraph_pause: 0.75,
        ..command_config(
            &engine.script,
            &["{out}", "-", "{voice}", "{lang}", "{rate}"],
        )
    };
    let lexicon = Lexicon::default();
    let text = "First   paragraph,\non two lines.\n\n\n   \nSecond.\n\n* * *\n\nThird.";
    let req = request(text, "fr-FR", &config, &lexicon);
    let result = synthesize(&req, &scratch.path("cache")).unwrap();
    assert_eq!(
        engine.calls(),
        [
            "voice=fr-fr lang=fr-FR rate=140 text=First paragraph, on two lines.",
            "voice=fr-fr lang=fr-FR rate=140 text=Second.",
            "voice=fr-fr lang=fr-FR rate=140 text=Third.",
        ]
    );
    let audio = decode_file(&result.path).unwrap();
    assert_eq!(audio.sample_rate, FakeEngine::RATE);
    let pause = vec![0.0f32; 12_000];
    let expected: Vec<f32> =
        [&engine.clip[..], &pause, &engine.clip, &pause, &engine.clip].concat();
    assert_eq!(audio.samples, expected);
    assert!((result.seconds - (3.0 * 0.5 + 2.0 * 0.75)).abs() < 1e-9);
}

/// Synthesises `text` with `config`, expects an error, and checks that it names the script,
/// the command and the `needles`, and that the cache folder holds nothing.
fn fails(scratch: &Scratch, config: &SpeechConfig, text: &str, needles: &[&str]) -> Error {
    let cache = scratch.path("cache");
    let lexicon = Lexicon::default();
    let err = synthesize(&request(text, "en", config, &lexicon), &cache).unwrap_err();
    let shown = err.to_string();
    assert_eq!(
        err.file.as_deref(),
        Some(Path::new("scripts/guide/02-before.md"))
    );
    assert!(err.fix.is_some(), "no fix in:\n{shown}");
    assert!(shown.contains("command: "), "no command in:\n{shown}");
    for needle in needles {
        assert!(shown.contains(needle), "`{needle}` missing from:\n{shown}");
    }
    assert!(
        files_in(&cache).is_empty(),
        "left behind: {:?}",
        files_in(&cache)
    );
    err
}

#[test]
fn an_engine_that_fails_shows_its_message_and_command() {
    let scratch = Scratch::new("speech-exit");
    let config = FakeEngine::config_running(
        &scratch,
        "failing",
        "echo 'voice \"xx\" is not installed' >&2\nexit 1",
    );
    let err = fails(
        &scratch,
        &config,
        "Hello.",
        &[
            "voice \"xx\" is not installed",
            "failing.sh",
            "exit status: 1",
        ],
    );
    assert_eq!(err.place.as_deref(), Some("speech synthesis"));
}

#[test]
fn an_engine_that_writes_nothing_is_an_error() {
    let scratch = Scratch::new("speech-nothing");
    let config = FakeEngine::config_running(&scratch, "silent", "echo 'done' >&2");
    fails(
        &scratch,
        &config,
        "Hello.",
        &["wrote no audio", "silent.sh", "done"],
    );
    let config = FakeEngine::config_running(&scratch, "empty", ": > \"$1\"");
    fails(&scratch, &config, "Hello.", &["wrote no audio", "empty.sh"]);
}

#[test]
fn an_engine_that_writes_garbage_is_an_error() {
    let scratch = Scratch::new("speech-garbage");
    let config = FakeEngine::config_running(
        &scratch,
        "garbage",
        "echo 'this is not audio at all, just some text' > \"$1\"",
    );
    fails(&scratch, &config, "Hello.", &["not audio", "garbage.sh"]);
}

#[test]
fn an_engine_that_writes_only_silence_is_an_error() {
    let scratch = Scratch::new("speech-quiet");
    let wav = scratch.path("engine/quiet.wav");
    write_wav16(&wav, 16_000, 1, &vec![0.0; 16_000]);
    let config =
        FakeEngine::config_running(&scratch, "quiet", &format!("cp '{}' \"$1\"", wav.display()));
    fails(&scratch, &config, "Hello.", &["only silence"]);
}

#[test]
fn a_hung_engine_is_stopped_at_the_timeout() {
    let scratch = Scratch::new("speech-hang");
    let config = SpeechConfig {
        timeout: 0.5,
        ..FakeEngine::config_running(&scratch, "hang", "echo starting >&2\nsleep 60")
    };
    let started = Instant::now();
    fails(
        &scratch,
        &config,
        "Hello.",
        &[
            "did not finish within 0.5 s",
            "hang.sh",
            "starting",
            "timeout",
        ],
    );
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "took {:?}",
        started.elapsed()
    );
}

#[test]
fn a_failure_in_a_later_paragraph_names_it_and_leaves_nothing() {
    let scratch = Scratch::new("speech-second");
    let engine = FakeEngine::new(&scratch);
    let config = FakeEngine::config_running(
        &scratch,
        "second-fails",
        &format!(
            "if grep -q Second \"$2\"; then echo 'cannot say that' >&2; exit 2; fi\n\
             sh '{}' \"$1\" \"$2\" v l r",
            engine.script.display()
        ),
    );
    let err = fails(
        &scratch,
        &config,
        "First.\n\nSecond.",
        &["cannot say that", "exit status: 2"],
    );
    assert_eq!(
        err.place.as_deref(),
        Some("speech synthesis, paragraph 2 of 2")
    );
    assert_eq!(engine.calls().len(), 1);
}

#[test]
fn a_missing_engine_says_how_to_fix_it() {
    let scratch = Scratch::new("speech-missing");
    let config = SpeechConfig {
        engine: Engine::Command,
        command: vec![
            "narrate-no-such-tts".into(),
            "{text_file}".into(),
            "{out}".into(),
        ],
        ..SpeechConfig::default()
    };
    let err = fails(
        &scratch,
        &config,
        "Hello.",
        &[
            "`narrate-no-such-tts` was not found",
            "narrate-no-such-tts ",
        ],
    );
    assert!(err.fix.unwrap().contains("command"));
    let err = engine_available(&config).unwrap_err();
    assert!(err.message.contains("was not found"), "{err}");
    let found = engine_available(&FakeEngine::config_running(&scratch, "ok", "")).unwrap();
    assert!(found.starts_with("sh ("), "{found}");
}

#[test]
fn bad_settings_and_empty_text_are_refused_before_any_engine_runs() {
    let scratch = Scratch::new("speech-settings");
    let engine = FakeEngine::new(&scratch);
    let lexicon = Lexicon::default();
    let cache = scratch.path("cache");
    let no_out = command_config(&engine.script, &["{text_file}"]);
    let err = synthesize(&request("Hello.", "en", &no_out, &lexicon), &cache).unwrap_err();
    assert!(err.message.contains("{out}"), "{err}");
    let err = synthesize(
        &request(" \n\n ...\n", "en", &engine.config(), &lexicon),
        &cache,
    )
    .unwrap_err();
    assert!(err.message.contains("no text"), "{err}");
    assert!(engine.calls().is_empty());
    assert!(files_in(&cache).is_empty());
}

#[derive(serde::Deserialize)]
struct Manifest {
    #[serde(default)]
    speech: SpeechConfig,
    #[serde(default)]
    lexicon: Lexicon,
}

#[test]
fn speech_and_lexicon_tables_parse_with_defaults() {
    let m: Manifest = toml::from_str("").unwrap();
    assert_eq!(m.speech, SpeechConfig::default());
    assert_eq!(m.speech.engine, Engine::EspeakNg);
    assert_eq!(m.speech.rate, 140);
    assert!(m.lexicon.is_empty());

    let m: Manifest = toml::from_str(
        r#"
        [speech]
        engine = "command"
        command = ["piper", "--model", "{voice}", "--output_file", "{out}"]
        stdin = true
        rate = 130
        paragraph_pause = 1.2
        [speech.voice]
        en = "en_US-amy-medium.onnx"
        [lexicon]
        MitraClip = "Mitra Clip"
        transesophageal = "trans-eesophageal"
        "#,
    )
    .unwrap();
    m.speech.validate().unwrap();
    assert_eq!(m.speech.engine, Engine::Command);
    assert_eq!(m.speech.voice_for("en-GB", None), "en_US-amy-medium.onnx");
    assert_eq!(
        m.speech.sentence_pause,
        SpeechConfig::default().sentence_pause
    );
    assert_eq!(m.lexicon.entries()[0].0, "transesophageal");

    let unknown = toml::from_str::<Manifest>("[speech]\nspeed = 140\n")
        .err()
        .unwrap();
    assert!(unknown.to_string().contains("speed"), "{unknown}");
    let engine = toml::from_str::<Manifest>("[speech]\nengine = \"festival\"\n")
        .err()
        .unwrap();
    assert!(engine.to_string().contains("festival"), "{engine}");
    let dup = toml::from_str::<Manifest>("[lexicon]\nTAVI = \"a\"\ntavi = \"b\"\n")
        .err()
        .unwrap();
    assert!(dup.to_string().contains("ignores case"), "{dup}");
}

#[test]
fn lexicon_replaces_whole_words_ignoring_case_and_keeps_punctuation() {
    let lexicon = Lexicon::new([
        ("MitraClip", "Mitra Clip"),
        ("transesophageal", "trans-eesophageal"),
        ("TEE", "T E E"),
        ("mitral valve", "my-trull valve"),
        ("mitral", "my-trull"),
    ])
    .unwrap();
    let cases = [
        ("The MitraClip's arms.", "The Mitra Clip's arms."),
        (
            "MITRACLIP, mitraclip; (MitraClip)",
            "Mitra Clip, Mitra Clip; (Mitra Clip)",
        ),
        (
            "A transesophageal echo (TEE).",
            "A trans-eesophageal echo (T E E).",
        ),
        // Not inside other words.
        ("MitraClips and preMitraClip", "MitraClips and preMitraClip"),
        (
            "The teeth, tee-shirt and TEEs",
            "The teeth, T E E-shirt and TEEs",
        ),
        ("transesophageally", "transesophageally"),
        // Longest first: the two-word entry wins over its first word.
        (
            "The mitral valve; the Mitral  valve; mitral leaflets",
            "The my-trull valve; the my-trull valve; my-trull leaflets",
        ),
        ("no entries here", "no entries here"),
        ("", ""),
    ];
    for (text, spoken) in cases {
        assert_eq!(lexicon.apply(text), spoken, "{text}");
    }
}

#[test]
fn lexicon_lists_the_entries_a_text_uses() {
    let lexicon = Lexicon::new([
        ("MitraClip", "Mitra Clip"),
        ("TEE", "T E E"),
        ("TAVI", "tavvy"),
    ])
    .unwrap();
    let hits = lexicon.hits("A TEE first. Then the MitraClip, and the mitraclip again.");
    let summary: Vec<(&str, &str, usize)> =
        hits.iter().map(|h| (h.word, h.spoken, h.count)).collect();
    assert_eq!(
        summary,
        [("TEE", "T E E", 1), ("MitraClip", "Mitra Clip", 2)]
    );
    assert!(lexicon.hits("nothing to see").is_empty());
    let words: Vec<&str> = lexicon.entries().iter().map(|(w, _)| w.as_str()).collect();
    assert_eq!(words, ["MitraClip", "TAVI", "TEE"]);
}
