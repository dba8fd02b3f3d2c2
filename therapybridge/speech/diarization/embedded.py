"""The embedded offline diarizer (DIARIZER=embedded, the default `Diarizer`): VAD regions →
Resemblyzer window embeddings → clustering with an automatic speaker count → Viterbi resegmentation
→ speaker turns.

Audio is read in blocks of whole speech regions (never the whole file at once); each block's
embeddings are checkpointed so a retried activity resumes where the crashed one stopped.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from therapybridge.document import SpeakerTurn
from therapybridge.speech.audio import load_wav16k
from therapybridge.speech.diarization.base import Region
from therapybridge.speech.diarization.clustering import CountConfig, cluster_embeddings, l2norm
from therapybridge.speech.diarization.resegment import STEP_S, ResegConfig, decode, frame_scores, frames_of
from therapybridge.speech.speaker_embedding import FRAME_S, SpeakerEncoder

CHECKPOINT_VERSION = 2


@dataclass(frozen=True)
class EmbeddedConfig:
    window_s: float = 1.5  # Resemblyzer is trained on 1.6 s partials
    step_s: float = 0.5  # 0.25 s costs twice the encoder time for no gain on the corpus
    min_region_s: float = 0.2  # shorter VAD blips get no embedding of their own
    block_s: float = 60.0  # audio read per block
    # A same-speaker pause shorter than this stays inside the turn (a breath between sentences);
    # the reference and the transcript treat a turn as one stretch of talk.
    fill_gap_s: float = 1.0
    count: CountConfig = field(default_factory=CountConfig)
    reseg: ResegConfig = field(default_factory=ResegConfig)


@dataclass
class Windows:
    """Embeddings of windows with their spans in seconds, plus the signal level on the STEP_S grid
    (frames energy_start …) that resegmentation uses to find pauses inside speech regions."""

    emb: np.ndarray  # (n, 256)
    spans: np.ndarray  # (n, 2) start, end seconds
    energy: np.ndarray = field(default_factory=lambda: np.zeros(0, np.float32))  # dB per STEP_S frame
    energy_start: int = 0

    @staticmethod
    def empty() -> Windows:
        return Windows(np.zeros((0, 256), np.float32), np.zeros((0, 2)))


def energy_track(power: np.ndarray, block_start: float) -> tuple[np.ndarray, int]:
    """10 ms frame powers → dB on the STEP_S grid, first grid frame index."""
    first = frames_of(block_start)
    per = round(STEP_S / FRAME_S)
    offset = max(0, round((first * STEP_S - block_start) / FRAME_S))
    n = (len(power) - offset) // per
    if n <= 0:
        return np.zeros(0, np.float32), first
    chunks = power[offset : offset + n * per].reshape(n, per).mean(1)
    return (10 * np.log10(np.maximum(chunks, 1e-12))).astype(np.float32), first


def plan_blocks(regions: list[Region], block_s: float) -> list[list[Region]]:
    """Group consecutive regions into blocks of about block_s; a region longer than that is cut."""
    blocks: list[list[Region]] = []
    current: list[Region] = []
    for s, e in regions:
        while e - s > block_s:  # a long monologue: cut it so one read stays small
            if current:
                blocks.append(current)
                current = []
            blocks.append([(s, s + block_s)])
            s += block_s
        if current and e - current[0][0] > block_s:
            blocks.append(current)
            current = []
        current.append((s, e))
    if current:
        blocks.append(current)
    return blocks


def window_frames(region: Region, block_start: float, n_win: int, n_step: int, n_total: int) -> list[np.ndarray]:
    """Mel-frame indices (relative to the block) of the windows covering one region.

    A region shorter than a window is tiled (its frames repeated) up to the window length, so every
    window is the same size for batching and holds one region's voice only.
    """
    a = max(0, round((region[0] - block_start) / FRAME_S))
    b = min(n_total, round((region[1] - block_start) / FRAME_S))
    n = b - a
    if n <= 0:
        return []
    if n <= n_win:
        return [a + np.arange(n_win) % n]
    count = int(np.ceil((n - n_win) / n_step)) + 1
    starts = np.linspace(a, b - n_win, count).round().astype(int)
    return [s + np.arange(n_win) for s in starts]


class EmbeddedDiarizer:
    def __init__(self, device: str = "cpu", config: EmbeddedConfig | None = None) -> None:
        self.cfg = config or EmbeddedConfig()
        self.encoder = SpeakerEncoder(device)

    # ------------------------------------------------------------------ embeddings
    def _embed_block(self, wav_path: Path, block: list[Region]) -> Windows:
        b0, b1 = block[0][0], block[-1][1]
        audio = load_wav16k(wav_path, b0, b1)
        feats = self.encoder.features(audio)
        n_win = round(self.cfg.window_s / FRAME_S)
        n_step = round(self.cfg.step_s / FRAME_S)
        idx: list[np.ndarray] = []
        for r in block:
            if r[1] - r[0] < self.cfg.min_region_s:
                continue
            idx.extend(window_frames(r, b0, n_win, n_step, len(feats.mel)))
        energy, first = energy_track(feats.power, b0)
        if not idx:
            return Windows(np.zeros((0, 256), np.float32), np.zeros((0, 2)), energy, first)
        mat = np.stack(idx)
        emb = self.encoder.embed_indices(feats, mat)
        spans = np.stack([b0 + mat.min(1) * FRAME_S, b0 + (mat.max(1) + 1) * FRAME_S], axis=1)
        return Windows(emb, spans, energy, first)

    def _block_key(self, wav_path: Path, block: list[Region]) -> str:
        # The audio's size guards against a checkpoint folder reused for different audio.
        size = wav_path.stat().st_size if wav_path.exists() else 0
        payload = json.dumps(
            [CHECKPOINT_VERSION, self.cfg.window_s, self.cfg.step_s, self.cfg.min_region_s, size, block], default=str
        )
        return hashlib.sha1(payload.encode()).hexdigest()[:16]

    def embed(
        self,
        wav_path: Path,
        regions: list[Region],
        on_progress: Callable[[float], None] | None = None,
        checkpoint_dir: Path | None = None,
        progress_span: tuple[float, float] = (0.0, 0.9),
    ) -> Windows:
        blocks = plan_blocks(regions, self.cfg.block_s)
        total = sum(b[-1][1] - b[0][0] for b in blocks) or 1.0
        done = 0.0
        parts: list[Windows] = []
        for block in blocks:
            parts.append(self._cached_block(wav_path, block, checkpoint_dir))
            done += block[-1][1] - block[0][0]
            if on_progress is not None:
                on_progress(progress_span[0] + (progress_span[1] - progress_span[0]) * done / total)
        if not parts:
            return Windows.empty()
        n_grid = max(p.energy_start + len(p.energy) for p in parts)
        energy = np.full(n_grid, np.nan, np.float32)
        for p in parts:
            energy[p.energy_start : p.energy_start + len(p.energy)] = p.energy
        return Windows(
            np.concatenate([p.emb for p in parts]), np.concatenate([p.spans for p in parts]), energy, 0
        )

    def _cached_block(self, wav_path: Path, block: list[Region], checkpoint_dir: Path | None) -> Windows:
        if checkpoint_dir is None:
            return self._embed_block(wav_path, block)
        path = checkpoint_dir / f"emb-{self._block_key(wav_path, block)}.npz"
        if path.exists():
            try:
                with np.load(path) as z:
                    return Windows(z["emb"], z["spans"], z["energy"], int(z["energy_start"]))
            except (OSError, ValueError, KeyError):
                path.unlink(missing_ok=True)  # a torn file from a crash: recompute
        win = self._embed_block(wav_path, block)
        checkpoint_dir.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp.npz")
        np.savez(tmp, emb=win.emb, spans=win.spans, energy=win.energy, energy_start=win.energy_start)
        tmp.replace(path)  # atomic: a resumed attempt sees a whole file or none
        return win

    # ------------------------------------------------------------------ diarize
    def diarize(
        self,
        wav_path: Path,
        regions: list[Region],
        *,
        num_speakers: int | None = None,
        min_speakers: int | None = None,
        max_speakers: int | None = None,
        on_progress: Callable[[float], None] | None = None,
        checkpoint_dir: Path | None = None,
    ) -> list[SpeakerTurn]:
        """Speaker turns SPEAKER_00, SPEAKER_01, … (by first appearance) inside the speech regions."""
        regions = sorted((float(s), float(e)) for s, e in regions if e > s)
        if not regions:
            if on_progress is not None:
                on_progress(1.0)
            return []
        win = self.embed(wav_path, regions, on_progress, checkpoint_dir)
        if len(win.emb) == 0:
            turns = [(s, e, 0) for s, e in regions]
        else:
            labels = cluster_embeddings(
                win.emb, num_speakers=num_speakers, min_speakers=min_speakers, max_speakers=max_speakers,
                cfg=self.cfg.count,
            )
            turns = self._resegment(win, labels, regions)
        if on_progress is not None:
            on_progress(1.0)
        return label_turns(turns, self.cfg.fill_gap_s)

    def _resegment(self, win: Windows, labels: np.ndarray, regions: list[Region]) -> list[tuple[float, float, int]]:
        k = int(labels.max()) + 1
        cent = l2norm(np.stack([win.emb[labels == c].mean(0) for c in range(k)]))
        sims = l2norm(win.emb) @ cent.T
        n_frames = frames_of(regions[-1][1]) + 1
        spans = np.stack([np.floor(win.spans[:, 0] / STEP_S), np.ceil(win.spans[:, 1] / STEP_S)], axis=1)
        spans = spans.astype(int)
        scores = frame_scores(n_frames, spans, sims)
        energy = np.full(n_frames, np.nan, np.float32)
        m = min(n_frames, len(win.energy))
        energy[:m] = win.energy[:m]
        return decode(regions, scores, self.cfg.reseg, energy)


def label_turns(turns: list[tuple[float, float, int]], fill_gap_s: float = 0.0) -> list[SpeakerTurn]:
    """SPEAKER_xx labels numbered by first appearance; consecutive pieces of one speaker separated
    by less than fill_gap_s of silence join into one turn."""
    names: dict[int, str] = {}
    out: list[SpeakerTurn] = []
    for s, e, c in sorted(turns):
        if c not in names:
            names[c] = f"SPEAKER_{len(names):02d}"
        name = names[c]
        if out and out[-1].speaker == name and s - out[-1].end <= fill_gap_s + 1e-6:
            out[-1] = SpeakerTurn(start=out[-1].start, end=round(e, 3), speaker=name)
        else:
            out.append(SpeakerTurn(start=round(s, 3), end=round(e, 3), speaker=name))
    return out
