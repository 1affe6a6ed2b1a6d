#!/usr/bin/env bash
# Regenerates the example's recordings, synthetic stand-ins for voice-talent takes, and the
# chapter chime, from the section scripts in scripts/.
#
#   audio/regenerate.sh                      every take and the chime
#   audio/regenerate.sh mitraclip/04-risks   only the named sections (or `chime`)
#
# It OVERWRITES the takes it makes: once a real recording replaces a take, name the other
# sections instead of running it bare. Then run `narrate accept` to record the new takes
# in narrate.lock.
#
# Debian packages it needs:
#   festival festvox-us-slt-hts   the speech synthesiser and its voice
#   sox                           editing, levels, resampling, WAV writing
#   flac vorbis-tools lame        FLAC, Ogg Vorbis (oggenc) and MP3 encoders
#   python3                       text preparation and the chime (standard library only)
#   ffmpeg (optional)             ffprobe, for the summary printed at the end
#   apt-get install -y festival festvox-us-slt-hts sox flac vorbis-tools lame python3
#
# Voice: Festival with cmu_us_slt_arctic_hts (package festvox-us-slt-hts), a female US
# English HMM-based (HTS) voice. Compared on the same 421-word script with espeak-ng
# (en-us, en-gb), Festival's kal and ked diphone voices and flite's slt, rms, awb and kal16,
# it was the clearest and most human:
#   - full-band: 32 kHz output with speech energy up to 16 kHz, where the diphone and
#     flite voices stop at 8 kHz;
#   - smooth formant and pitch movement without audible joins, where the diphone voices
#     jump in spectrum and pitch at unit boundaries and the flite voices sound buzzy;
#   - as intelligible as the best: an independent recogniser (pocketsphinx, en-us) scored
#     a word error rate of 0.21, within the 0.16-0.26 band of the Festival and flite
#     voices; espeak-ng scored 0.74, its formant synthesis too far from a human voice.
# It is slowed to about 140 words per minute for older listeners (HTS speed factor below;
# Festival's Duration_Stretch has no effect on HTS voices), with 0.7 s between paragraphs.
# Words are respelt with narrate.toml's [lexicon] first, as narrate does before synthesis,
# and a few more get Festival pronunciations (below); the scripts keep the approved
# spelling.
#
# Deterministic: the HTS engine has no randomness, SoX runs with -R (fixed seeds for the
# room tone and dither), Ogg serial numbers are fixed, and lame, flac and the chime maker
# are deterministic: the same scripts and tool versions give the same bytes.

set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

for tool in text2wave sox soxi flac oggenc lame python3; do
    command -v "$tool" >/dev/null || {
        echo "missing $tool: apt-get install festival festvox-us-slt-hts sox flac vorbis-tools lame python3" >&2
        exit 1
    }
done

speed=0.87           # HTS speed factor: below 1 is slower
paragraph_gap=0.7    # seconds of silence between paragraphs of a take
room_tone=-66        # dBFS peak of the faint room tone under each take (narrate trims below -50)

# One line per section: the script (episode/stem), the stored format, sample rate,
# channels, silence before and after the speech in seconds (narrate trims it to its
# margin), and the take's peak level in dBFS (takes differ, as real ones do).
# Formats: ogg0/ogg1 (Vorbis -q 0/1), mp3-KBPS, flac (16-bit), wav16, wav24, wavf32 (IEEE
# float), wavulaw (G.711 mu-law). A section whose script has `clip = "…"` is written
# there; the others follow the convention audio/<episode>/<stem>.<ext>.
# The mix of formats, rates and channel counts is on purpose: narrate must decode and
# convert them all, while audio/ stays small.
takes='
mitraclip/01-what-it-is                        ogg1    22050 1 0.6 0.8 -3
mitraclip/02-before                            wav16   22050 1 0.3 0.4 -4
mitraclip/03-during                            mp3-40  22050 1 0.5 0.7 -3
mitraclip/04-risks                             ogg0    22050 1 0.7 0.5 -5
mitraclip/05-who-it-is-for                     flac    16000 1 0.4 0.6 -3
mitraclip/06-recovery                          wavf32  11025 1 0.5 0.5 -6
mitraclip/07-follow-up                         mp3-32  16000 1 0.6 0.8 -3
mitraclip-explained/01-what-it-is              wav24   16000 1 0.8 0.6 -3
mitraclip-explained/02-the-heart               ogg0    22050 1 0.5 0.5 -4
mitraclip-explained/03-mitral-insufficiency    mp3-40  22050 1 0.6 0.7 -3
mitraclip-explained/04-treatments              ogg0    22050 1 0.4 0.6 -2
mitraclip-explained/05-how-it-works            flac    11025 2 0.5 0.8 -4
mitraclip-explained/06-before                  ogg1    16000 1 0.7 0.4 -3
mitraclip-explained/07-the-day                 mp3-40  22050 1 0.5 0.6 -3
mitraclip-explained/08-procedure-room          ogg0    22050 1 0.6 0.5 -5
mitraclip-explained/09-anaesthesia             ogg0    22050 1 0.3 0.7 -3
mitraclip-explained/10-reaching-the-heart      ogg0    22050 2 0.5 0.5 -3
mitraclip-explained/11-placing-the-clip        mp3-40  22050 1 0.8 0.6 -4
mitraclip-explained/12-risks                   ogg1    22050 1 0.6 0.8 -3
mitraclip-explained/13-what-to-expect          wavulaw  8000 1 0.5 0.5 -3
mitraclip-explained/14-medicines-and-follow-up ogg0    22050 1 0.4 0.5 -2
mitraclip-explained/15-at-home                 mp3-40  22050 1 0.6 0.7 -3
'

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# Festival pronunciations (cmulex phone set) for words its letter-to-sound rules get
# wrong; they apply after the [lexicon] respellings.
cat > "$tmp/lexicon.scm" <<'SCM'
(lex.add.entry '("catheterisation" n (((k ae) 2) ((th ax) 0) ((t er) 0) ((ax) 0) ((z ey) 1) ((sh ax n) 0))))
(lex.add.entry '("echocardiograms" n (((eh) 2) ((k ow) 0) ((k aa r) 1) ((d iy) 0) ((ax) 0) ((g r ae m z) 2))))
(lex.add.entry '("echocardiography" n (((eh) 2) ((k ow) 0) ((k aa r) 2) ((d iy) 0) ((aa) 1) ((g r ax) 0) ((f iy) 0))))
(lex.add.entry '("gastroscopy" n (((g ae) 0) ((s t r aa) 1) ((s k ax) 0) ((p iy) 0))))
(lex.add.entry '("interatrial" j (((ih n) 2) ((t er) 0) ((ey) 1) ((t r iy) 0) ((ax l) 0))))
(lex.add.entry '("introducer" n (((ih n) 2) ((t r ax) 0) ((d uw) 1) ((s er) 0))))
(lex.add.entry '("pericardium" n (((p eh) 2) ((r ih) 0) ((k aa r) 1) ((d iy) 0) ((ax m) 0))))
(lex.add.entry '("regurgitation" n (((r iy) 0) ((g er) 2) ((jh ax) 0) ((t ey) 1) ((sh ax n) 0))))
(lex.add.entry '("regurgitating" v (((r iy) 0) ((g er) 1) ((jh ax) 0) ((t ey) 2) ((t ih ng) 0))))
(lex.add.entry '("tiredness" n (((t ay er d) 1) ((n ax s) 0))))
(lex.add.entry '("transoesophageal" j (((t r ae n z) 2) ((ih) 0) ((s aa) 2) ((f ax) 0) ((jh iy) 1) ((ax l) 0))))
SCM

# Text preparation: prints the script's `clip` key (empty when it has none) and writes its
# narration, respelt with narrate.toml's [lexicon] as narrate does it (whole words, any
# case, longest entry first), one file per paragraph.
cat > "$tmp/prepare.py" <<'PY'
import re, sys, tomllib
script, workdir = sys.argv[1], sys.argv[2]
lines = open(script, encoding="utf-8").read().split("\n")
fences = [i for i, line in enumerate(lines) if line.strip() == "+++"][:2]
if len(fences) < 2 or fences[0] != 0:
    sys.exit(f"{script}: no +++ front matter")
front = tomllib.loads("\n".join(lines[1:fences[1]]))
text = "\n".join(lines[fences[1] + 1:])
with open("narrate.toml", "rb") as f:
    lexicon = tomllib.load(f).get("lexicon", {})
if lexicon:
    words = sorted(lexicon, key=lambda w: (-len(w), w))
    edge = lambda c: r"\b" if c.isalnum() or c == "_" else ""
    pattern = re.compile("|".join(
        edge(w[0]) + r"\s+".join(map(re.escape, w.split())) + edge(w[-1]) for w in words),
        re.IGNORECASE)
    spoken = {" ".join(w.split()).lower(): lexicon[w] for w in words}
    text = pattern.sub(lambda m: spoken[" ".join(m.group(0).split()).lower()], text)
paragraphs = [" ".join(p.split()) for p in re.split(r"\n\s*\n", text) if p.strip()]
for n, paragraph in enumerate(paragraphs, 1):
    with open(f"{workdir}/p{n:02d}.txt", "w", encoding="utf-8") as f:
        f.write(paragraph + "\n")
print(front.get("clip", ""))
PY

# The chime: two soft bell-like notes, E5 then C5, each three sine partials with
# exponential decay; 8 ms raised-cosine attack, 150 ms fade to exact zero at the end;
# 0.85 s, peak -12 dBFS, 48 kHz 24-bit mono FLAC.
make_chime() {
    python3 - "$tmp/chime.raw" <<'PY'
import math, struct, sys
rate, length = 48000, 0.85
notes = [(0.00, 659.255), (0.20, 523.251)]                           # (start s, Hz)
partials = [(1.0, 1.0, 0.30), (2.0, 0.22, 0.16), (3.0, 0.06, 0.10)]  # (ratio, amp, decay s)
attack, fade = 0.008, 0.15
n = int(rate * length)
x = [0.0] * n
for start, f0 in notes:
    s0 = int(start * rate)
    for i in range(s0, n):
        t = (i - s0) / rate
        env = 0.5 - 0.5 * math.cos(math.pi * t / attack) if t < attack else 1.0
        x[i] += env * sum(a * math.exp(-t / d) * math.sin(2 * math.pi * f0 * r * t)
                          for r, a, d in partials)
for i in range(n - int(fade * rate), n):
    u = (n - 1 - i) / (fade * rate)
    x[i] *= 0.5 - 0.5 * math.cos(math.pi * u)
scale = 10 ** (-12 / 20) / max(abs(v) for v in x)
full = (1 << 23) - 1
with open(sys.argv[1], "wb") as f:                    # raw 24-bit little-endian
    f.write(b"".join(struct.pack("<i", round(v * scale * full))[:3] for v in x))
PY
    flac -s -f -8 --force-raw-format --endian=little --sign=signed --channels=1 --bps=24 \
        --sample-rate=48000 -o audio/chime.flac "$tmp/chime.raw"
    echo audio/chime.flac
}

ext_of() {
    case $1 in
        ogg*) echo ogg ;; mp3-*) echo mp3 ;; flac) echo flac ;; wav*) echo wav ;;
        *) echo "unknown format $1" >&2; return 1 ;;
    esac
}

# One take: speech per paragraph, joined with pauses, padded with silence, levelled, a
# faint room tone mixed under it, then converted and encoded.
make_take() {
    local id=$1 format=$2 rate=$3 channels=$4 lead=$5 tail=$6 peak=$7 serial=$8
    local script="scripts/$id.md" episode=${id%%/*} stem=${id#*/}
    [[ -f $script ]] || { echo "no script $script" >&2; return 1; }
    local work="$tmp/$episode-$stem" ext out
    mkdir -p "$work"
    ext=$(ext_of "$format")
    out=$(python3 "$tmp/prepare.py" "$script" "$work")
    if [[ -n $out ]]; then
        [[ $out == audio/*.$ext ]] || { echo "$script: clip $out is not audio/….$ext" >&2; return 1; }
    else
        out="audio/$episode/$stem.$ext"
        rm -f "audio/$episode/$stem".{wav,flac,mp3,ogg,oga}   # exactly one take per section
    fi
    mkdir -p "$(dirname "$out")"

    local parts=() p
    for p in "$work"/p*.txt; do
        text2wave -eval '(voice_cmu_us_slt_arctic_hts)' -eval "$tmp/lexicon.scm" \
            -eval "(set! hts_engine_params (append hts_engine_params '((\"-r\" $speed))))" \
            "$p" -o "${p%.txt}.wav"
        [[ ${#parts[@]} -gt 0 ]] && parts+=("$work/gap.wav")
        parts+=("${p%.txt}.wav")
    done
    local sr dur
    sr=$(soxi -r "${parts[0]}")
    sox -R -n -r "$sr" -c 1 -b 16 "$work/gap.wav" trim 0 "$paragraph_gap"
    sox -R "${parts[@]}" "$work/speech.wav" pad "$lead" "$tail" gain -n "$peak"
    dur=$(soxi -D "$work/speech.wav")
    sox -R -n -r "$sr" -c 1 -b 16 "$work/tone.wav" synth "$dur" pinknoise gain -n "$room_tone"
    sox -R -m -v 1 "$work/speech.wav" -v 1 "$work/tone.wav" -b 16 "$work/take.wav"

    local convert=(rate -v "$rate" channels "$channels")
    case $format in
        wav16)   sox -R "$work/take.wav" -b 16 "$out" "${convert[@]}" ;;
        wav24)   sox -R "$work/take.wav" -b 24 "$out" "${convert[@]}" ;;
        wavf32)  sox -R "$work/take.wav" -e floating-point -b 32 "$out" "${convert[@]}" ;;
        wavulaw) sox -R "$work/take.wav" -e mu-law -b 8 "$out" "${convert[@]}" ;;
        flac)    sox -R "$work/take.wav" -b 16 "$work/pcm.wav" "${convert[@]}"
                 flac -s -f -8 -o "$out" "$work/pcm.wav" ;;
        ogg0|ogg1)
                 sox -R "$work/take.wav" -b 16 "$work/pcm.wav" "${convert[@]}"
                 oggenc -Q -q "${format#ogg}" --serial "$serial" -o "$out" "$work/pcm.wav" ;;
        mp3-*)   sox -R "$work/take.wav" -b 16 "$work/pcm.wav" "${convert[@]}"
                 local mode=m
                 [[ $channels == 2 ]] && mode=j
                 lame --quiet --noreplaygain -m "$mode" -b "${format#mp3-}" "$work/pcm.wav" "$out" ;;
        *) echo "unknown format $format" >&2; return 1 ;;
    esac
    echo "$out"
}

selected=" $* "
wanted() { [[ $selected == "  " || $selected == *" $1 "* ]]; }

made=()
if wanted chime; then made+=("$(make_chime)"); fi
serial=1001
while read -r id format rate channels lead tail peak; do
    [[ -z $id ]] && continue
    if wanted "$id"; then
        made+=("$(make_take "$id" "$format" "$rate" "$channels" "$lead" "$tail" "$peak" "$serial")")
    fi
    serial=$((serial + 1))
done <<< "$takes"

# Every script needs a take: say so when the table above misses one.
for script in scripts/*/*.md; do
    id=${script#scripts/}
    id=${id%.md}
    grep -q "^$id[[:space:]]" <<< "$takes" || echo "warning: $script has no line in the takes table" >&2
done

if command -v ffprobe >/dev/null; then
    for f in "${made[@]}"; do
        printf '%-55s %s\n' "$f" "$(ffprobe -v error -show_entries stream=codec_name,sample_rate,channels,duration \
            -of csv=p=0 "$f")"
    done
else
    printf '%s\n' "${made[@]}"
fi
du -sh audio
