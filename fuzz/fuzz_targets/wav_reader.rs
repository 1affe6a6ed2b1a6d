//! The WAV chunk reader behind `narrate inspect`, on arbitrary bytes: never a panic, and
//! what it reports lies inside the file; the inspect report renders.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|bytes: &[u8]| {
    if let Ok(info) = narrate::wav::reader::parse_wav_info(bytes) {
        let len = bytes.len() as u64;
        assert_eq!(info.file_size, len);
        assert!(info.data_offset + info.data_size <= len);
        for chunk in &info.chunks {
            assert!(chunk.offset + 8 <= len);
        }
        let inspection =
            narrate::inspect::Inspection::from_info(std::path::Path::new("x.wav"), &info);
        let _ = narrate::inspect::render_text(&inspection);
        assert!(narrate::inspect::render_json(&inspection).is_ok());
    }
});
