//! The clip decoder on arbitrary bytes written to a file: never a panic; what decodes is
//! whole frames at an accepted rate and probes the same; every error names the file and a fix.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|bytes: &[u8]| {
    // One file per fuzzing process, rewritten for each input.
    let path = std::env::temp_dir().join(format!("narrate-fuzz-{}.wav", std::process::id()));
    std::fs::write(&path, bytes).expect("temp file");
    match narrate::decode::decode_file(&path) {
        Ok(audio) => {
            assert!(audio.channels > 0);
            assert!(narrate::decode::SAMPLE_RATES.contains(&audio.sample_rate));
            assert!(!audio.samples.is_empty());
            assert_eq!(audio.samples.len() % usize::from(audio.channels), 0);
            let info = narrate::decode::probe_file(&path).expect("a decodable clip probes");
            assert_eq!(
                (info.sample_rate, info.channels),
                (audio.sample_rate, audio.channels)
            );
        }
        Err(e) => assert!(e.file.is_some() && e.fix.is_some(), "{e:?}"),
    }
});
