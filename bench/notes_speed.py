"""Local notes extractor speed on a 60-minute transcript.

    python -m bench.notes_speed [CORPUS_DIR] [--minutes 60] [--repeat 5] [--distinct]

Builds a long session by concatenating the synthetic scripts' turns (shifted in time, 2 s gaps) until
it lasts --minutes, gives every segment word timings (as ASR output has), and times extract_notes.
Target from the notes issue: under 2 s for 60 minutes. Then times what the notes activity runs since
issue 17: the behaviour labels (sentence embeddings of every segment, batched; the model loaded once
per process, timed apart) followed by extract_notes; target well under 10 s on 2 cores.
Prints the figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

from bench.notes.inputs import corpus_files
from therapybridge.behaviour_labels import label_segments
from therapybridge.document import Segment, Speaker, Word
from therapybridge.domain.notes import extract_notes
from therapybridge.sentence_encoder import EncoderUnavailable, get_encoder

DEFAULT_CORPUS = Path(__file__).resolve().parents[1].parent / "shared" / "corpus"


def long_session(corpus: Path, minutes: float) -> tuple[list[Segment], list[Speaker]]:
    scripts = [json.loads(p.read_text()) for p in corpus_files(corpus)]
    segs: list[Segment] = []
    offset = 0.0
    i = 0
    while offset < minutes * 60:
        script = scripts[i % len(scripts)]
        for t in script["turns"]:
            a, b = offset + t["start"], offset + t["end"]
            toks = t["text"].split()
            step = (b - a) / max(1, len(toks))
            words = [
                Word(start=round(a + k * step, 3), end=round(a + (k + 1) * step, 3), word=" " + w, speaker=t["speaker"])
                for k, w in enumerate(toks)
            ]
            segs.append(Segment(start=a, end=b, speaker=t["speaker"], role=t["speaker"], text=t["text"], words=words))
        offset += script["duration"] + 2.0
        i += 1
    talk: dict[str, float] = {}
    for s in segs:
        talk[s.speaker] = talk.get(s.speaker, 0.0) + s.end - s.start
    speakers = [Speaker(label=k, role=k, talk_seconds=round(v, 1)) for k, v in talk.items()]  # type: ignore[arg-type]
    return segs, speakers


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("corpus", nargs="?", type=Path, default=DEFAULT_CORPUS)
    ap.add_argument("--minutes", type=float, default=60.0)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--label-repeat", type=int, default=2, help="runs of labels + notes (0: skip)")
    ap.add_argument(
        "--distinct",
        action="store_true",
        help="number every segment's text, so none repeats (a real session; the encoder embeds a repeat once)",
    )
    args = ap.parse_args(argv)
    segs, speakers = long_session(args.corpus, args.minutes)
    if args.distinct:
        segs = [s.model_copy(update={"text": f"{s.text} ({i})"}) for i, s in enumerate(segs)]
    words = sum(len(s.words) for s in segs)
    times = []
    notes = None
    for _ in range(args.repeat):
        t0 = time.perf_counter()
        notes = extract_notes(segs, speakers)
        times.append(time.perf_counter() - t0)
    assert notes is not None
    span = (segs[-1].end - segs[0].start) / 60
    distinct = len({s.text for s in segs})
    print(f"transcript: {span:.1f} min, {len(segs)} segments ({distinct} distinct texts), {words} words")
    print(
        f"extract_notes: median {statistics.median(times):.3f} s, min {min(times):.3f} s, "
        f"max {max(times):.3f} s over {args.repeat} runs (target < 2 s)"
    )
    print(
        f"output: {len(notes.risk_flags)} risk flags, {len(notes.strategies)} strategies, "
        f"{len(notes.action_items)} action items"
    )
    if args.label_repeat <= 0:
        return 0
    t0 = time.perf_counter()
    try:
        get_encoder()
    except EncoderUnavailable as exc:
        print(f"behaviour labels: model unavailable ({exc})")
        return 0
    print(f"sentence encoder load (once per process): {time.perf_counter() - t0:.2f} s")
    times = []
    for _ in range(args.label_repeat):
        t0 = time.perf_counter()
        notes = extract_notes(label_segments(segs, speakers), speakers)
        times.append(time.perf_counter() - t0)
    a = notes.analytics
    print(
        f"labels + extract_notes: median {statistics.median(times):.2f} s, min {min(times):.2f} s, "
        f"max {max(times):.2f} s over {args.label_repeat} runs (target well under 10 s)"
    )
    print(
        f"skills: {a['reflections']} reflections, {a['questions']} questions, "
        f"ratio {a['reflection_to_question']}, change talk {a['change_talk']}, sustain talk {a['sustain_talk']}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
