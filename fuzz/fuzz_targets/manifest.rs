//! The manifest and front-matter parsers on arbitrary text: never a panic, and every error
//! names the file and a fix. The first byte chooses the parser.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|bytes: &[u8]| {
    let Some((&which, rest)) = bytes.split_first() else {
        return;
    };
    let result = if which % 2 == 0 {
        match std::str::from_utf8(rest) {
            Ok(text) => narrate::project::parse_manifest_str(text),
            Err(_) => return,
        }
    } else {
        narrate::project::parse_section_bytes(rest).map(|(title, text)| {
            assert!(!title.is_empty() && title == title.trim());
            assert!(!text.is_empty() && text == text.trim());
        })
    };
    if let Err(e) = result {
        assert!(e.file.is_some() && e.fix.is_some(), "{e:?}");
    }
});
