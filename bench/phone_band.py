"""Telephone-channel copies of a corpus: the speaker count's stand-in for a real phone call.

    python -m bench.phone_band ../shared/corpus/synthetic OUT_DIR
    python -m bench.quality OUT_DIR --hints none,true

Each session is band-limited to 300-3400 Hz, taken to 8 kHz, mu-law quantised to 8 bits and
brought back to 16 kHz (the G.711 path of a phone call); its script and RTTM are copied beside it.
Through that channel two voices embed far closer together (d12's two male voices: centroid
similarity 0.79 -> 0.91), which is how a real two-speaker call was counted as one person.
"""

from __future__ import annotations

import argparse
import shutil
import wave
from pathlib import Path

import numpy as np
from scipy.signal import butter, resample_poly, sosfiltfilt

from therapybridge.speech.audio import SAMPLE_RATE, load_wav16k, to_wav16k

MU = 255.0


def telephone(x: np.ndarray) -> np.ndarray:
    """16 kHz float audio through a narrowband mu-law channel, back at 16 kHz."""
    sos = butter(6, [300, 3400], btype="band", fs=SAMPLE_RATE, output="sos")
    y = resample_poly(sosfiltfilt(sos, x), 1, 2)
    y = np.clip(y / (np.abs(y).max() + 1e-9) * 0.7, -1.0, 1.0)
    code = np.round(np.sign(y) * np.log1p(MU * np.abs(y)) / np.log1p(MU) * 127) / 127
    y = np.sign(code) * ((1 + MU) ** np.abs(code) - 1) / MU
    return resample_poly(y, 2, 1).astype(np.float32)


def write_wav(path: Path, x: np.ndarray) -> None:
    pcm = (np.clip(x, -1.0, 1.0) * 32767).astype("<i2")
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(SAMPLE_RATE)
        w.writeframes(pcm.tobytes())


def phone_copy(audio: Path, out: Path, work: Path) -> Path:
    """`out`/<stem>.wav: the telephone-channel copy of `audio` (any format ffmpeg reads)."""
    wav = work / f"{audio.stem}.src.wav"
    to_wav16k(audio, wav)
    dst = out / f"{audio.stem}.wav"
    write_wav(dst, telephone(load_wav16k(wav)))
    wav.unlink()
    return dst


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("corpus", type=Path)
    ap.add_argument("out", type=Path)
    args = ap.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    for script in sorted(args.corpus.glob("*.json")):
        audio = next((p for p in script.parent.glob(f"{script.stem}.*") if p.suffix in (".flac", ".wav")), None)
        if audio is None:
            continue
        phone_copy(audio, args.out, args.out)
        for ext in (".json", ".rttm"):
            if script.with_suffix(ext).exists():
                shutil.copy(script.with_suffix(ext), args.out / f"{script.stem}{ext}")
        print(script.stem, flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
