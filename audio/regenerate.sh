#!/usr/bin/env bash
# Regenerates the example's recordings: synthetic stand-ins for voice-talent takes.
#
# Voice: Festival with the CMU ARCTIC "slt" HTS voice (Debian: festvox-us-slt-hts), the
# most natural offline English voice Debian packages: a statistical-parametric (HTS)
# female voice, smoother and less robotic than espeak-ng's formant voices, flite's
# diphones or festival's kal/ked diphones. It speaks slightly slowed down (about 145 words
# per minute) for older listeners. Words in the project's [lexicon] are respelt first,
# exactly as narrate does before synthesis.
#
# Needs (Debian): festival festvox-us-slt-hts sox flac vorbis-tools lame python3
# Run from anywhere: bash audio/regenerate.sh
#
# Every take gets 0.5 s of silence before and 0.7 s after (narrate trims it to its margin),
# then is stored in a format chosen to exercise narrate's decoders and converters while
# keeping audio/ small: mostly Ogg Vorbis and MP3, some FLAC, and a few WAV forms
# (µ-law 8 kHz, 16-bit 22.05 kHz, 24-bit 16 kHz, 32-bit float 11.025 kHz).
# The output is deterministic: the same scripts give the same files.
set -euo pipefail
cd "$(dirname "$0")/.."

for tool in text2wave sox flac oggenc lame python3; do
  command -v "$tool" >/dev/null || { echo "missing $tool: apt-get install festival festvox-us-slt-hts sox flac vorbis-tools lame python3" >&2; exit 1; }
done

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# The [lexicon] of narrate.toml as sed expressions: Word = "spoken" → s/\bWord\b/spoken/g
lexicon_sed=$(awk '
  /^\[/ { in_lexicon = ($0 == "[lexicon]"); next }
  in_lexicon && /=/ {
    split($0, kv, "=")
    word = kv[1]; gsub(/^[ \t"]+|[ \t"]+$/, "", word)
    spoken = substr($0, index($0, "=") + 1); gsub(/^[ \t"]+|[ \t"]+$/, "", spoken)
    printf "s/\\b%s\\b/%s/gI;", word, spoken
  }' narrate.toml)

# How each take is stored: default Ogg Vorbis; these stems differ.
format_of() {
  case "$1" in
    mitraclip/02-before) echo wav-mulaw-8k ;;
    mitraclip/06-recovery) echo wav-16-22k ;;
    mitraclip-explained/13-what-to-expect) echo wav-24-16k ;;
    mitraclip-explained/01-what-it-is) echo wav-float-11k ;;
    mitraclip/07-follow-up | mitraclip-explained/12-risks | mitraclip/takes/05-who-it-is-for-take-2) echo flac ;;
    mitraclip/03-during | mitraclip-explained/03-mitral-insufficiency | mitraclip-explained/07-the-day | mitraclip-explained/11-placing-the-clip | mitraclip-explained/15-at-home) echo mp3 ;;
    *) echo ogg ;;
  esac
}

# encode TAKE.wav STEM: writes audio/STEM.<ext> in the chosen format.
encode() {
  local take=$1 stem=$2 out="audio/$2"
  mkdir -p "$(dirname "$out")"
  rm -f "$out".wav "$out".flac "$out".mp3 "$out".ogg
  case "$(format_of "$stem")" in
    wav-mulaw-8k) sox -D "$take" -r 8000 -e mu-law "$out.wav" ;;
    wav-16-22k) sox -D "$take" -r 22050 -b 16 -e signed-integer "$out.wav" ;;
    wav-24-16k) sox -D "$take" -r 16000 -b 24 -e signed-integer "$out.wav" ;;
    wav-float-11k) sox -D "$take" -r 11025 -b 32 -e floating-point "$out.wav" ;;
    flac) sox -D "$take" -r 16000 -b 16 "$work/flac.wav" && flac --silent --best --no-seektable -o "$out.flac" "$work/flac.wav" ;;
    mp3) sox -D "$take" -r 22050 -b 16 "$work/mp3.wav" && lame --quiet -m m -b 40 "$work/mp3.wav" "$out.mp3" ;;
    ogg) sox -D "$take" -r 22050 -b 16 "$work/ogg.wav" && oggenc --quiet --serial 1 -q 0 -o "$out.ogg" "$work/ogg.wav" ;;
  esac
}

# speak TEXT_FILE STEM: synthesises, pads and encodes one take.
speak() {
  sed -E "$lexicon_sed" "$1" > "$work/spoken.txt"
  text2wave -eval "(voice_cmu_us_slt_arctic_hts)" -eval "(Parameter.set 'Duration_Stretch 1.1)" \
    "$work/spoken.txt" -o "$work/raw.wav"
  sox -D "$work/raw.wav" -b 16 "$work/take.wav" pad 0.5 0.7
  encode "$work/take.wav" "$2"
}

for script in scripts/*/*.md; do
  episode=$(basename "$(dirname "$script")")
  stem=$(basename "$script" .md)
  # The narration text: everything after the closing +++ of the front matter.
  awk '/^\+\+\+[ \t]*$/ { fences++; next } fences >= 2' "$script" > "$work/text.txt"
  # A section that names its take with `clip = "audio/…"` is recorded there instead.
  clip=$(sed -n 's/^clip = "audio\/\(.*\)\.[a-z0-9]*"$/\1/p' "$script")
  speak "$work/text.txt" "${clip:-$episode/$stem}"
  echo "audio/${clip:-$episode/$stem}"
done

# The chime between sections: two soft bell-like notes (E5 then A5) with exponential
# decay, 5 ms fade-in, ending in silence; peak about -12 dBFS. 44.1 kHz mono FLAC.
python3 - "$work/chime.wav" <<'PY'
import math, struct, sys, wave
rate, seconds = 44100, 0.9
n = int(rate * seconds)
notes = [(659.25, 0.0), (880.0, 0.16)]          # (Hz, start in s)
samples = []
for i in range(n):
    t = i / rate
    v = 0.0
    for freq, start in notes:
        if t >= start:
            u = t - start
            env = math.exp(-u * 6.0) * min(1.0, u / 0.005)
            v += env * (math.sin(2 * math.pi * freq * u) + 0.25 * math.sin(2 * math.pi * 2 * freq * u))
    fade_out = min(1.0, (n - 1 - i) / (rate * 0.1))   # the last 100 ms fade to zero
    samples.append(v * fade_out)
peak = max(abs(s) for s in samples)
scale = 10 ** (-12 / 20) / peak
with wave.open(sys.argv[1], "wb") as w:
    w.setnchannels(1)
    w.setsampwidth(2)
    w.setframerate(rate)
    w.writeframes(b"".join(struct.pack("<h", round(s * scale * 32767)) for s in samples))
PY
flac --silent --best --no-seektable -f -o audio/chime.flac "$work/chime.wav"
echo audio/chime.flac
du -sh audio
