"""What bench.throughput measures: machine load, CPU time, peak RSS, and what a session's history says
about its activities (busy time, stage timings)."""

from __future__ import annotations

import contextlib
import os
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.corpus_concat import CORPUS
from tests.support.history import ActivityRun

SHORT_RECORDING = CORPUS / "real" / "jfk.flac"  # the 10-second recording of the overhead runs


def pytest_runs() -> int:
    """Running test sessions (a pytest program, not e.g. a server whose data path says pytest)."""
    import psutil

    count = 0
    for proc in psutil.process_iter(["cmdline"]):
        argv = proc.info["cmdline"] or []
        count += any(Path(a).name == "pytest" for a in argv[:2]) or argv[1:3] == ["-m", "pytest"]
    return count


def load_line() -> str:
    one, five, fifteen = os.getloadavg()
    return f"load {one:.2f} {five:.2f} {fifteen:.2f}, pytest processes {pytest_runs()}"


def cpu_seconds() -> float:
    """CPU time of this process and its finished children (ffmpeg)."""
    import resource

    s, c = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return s.ru_utime + s.ru_stime + c.ru_utime + c.ru_stime


@dataclass
class Truth:
    text: str
    turns: list[tuple[float, float, str]]
    uem: tuple[float, float]


def load_truth(path: Path) -> Truth:
    from bench.scoring import synthetic_reference

    ref = synthetic_reference(path)
    return Truth(ref.text or "", ref.turns, ref.uem)


def score(truth: Truth, text: str, turns: list[tuple[float, float, str]] | None) -> dict[str, Any]:
    import jiwer

    from bench.scoring import der, normalise_text, wer

    out: dict[str, Any] = {"wer": round(wer(truth.text, text), 4)}
    m = jiwer.process_words(normalise_text(truth.text), normalise_text(text) or "<empty>")
    ref_words = len(normalise_text(truth.text).split())
    out["errors"] = f"{m.substitutions} sub + {m.deletions} del + {m.insertions} ins / {ref_words} words"
    if turns is not None:
        out["der"] = round(der(truth.turns, turns, truth.uem), 4)
    return out


class RssSampler:
    """Peak RSS of each worker process tree (the process plus its children), sampled every 0.2 s."""

    def __init__(self, pids: dict[str, int]) -> None:
        self.pids = pids
        self.peak: dict[str, int] = dict.fromkeys(pids, 0)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _tree_rss(self, pid: int) -> int:
        import psutil

        try:
            proc = psutil.Process(pid)
            total = proc.memory_info().rss
            for child in proc.children(recursive=True):
                with contextlib.suppress(psutil.Error):
                    total += child.memory_info().rss
            return total
        except psutil.Error:
            return 0

    def _run(self) -> None:
        while not self._stop.is_set():
            for name, pid in self.pids.items():
                self.peak[name] = max(self.peak[name], self._tree_rss(pid))
            self._stop.wait(0.2)

    def __enter__(self) -> RssSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


@dataclass
class SessionRun:
    session_id: str
    wall_s: float
    status: str
    timings: dict[str, float]
    activities: list[ActivityRun] = field(default_factory=list)
    text: str = ""
    turns: list[tuple[float, float, str]] = field(default_factory=list)
    started_at: float = 0.0  # wall clock (epoch s) when the client asked to start the workflow

    def busy_s(self) -> float:
        """Time during which at least one activity was executing (the union of their intervals)."""
        spans = sorted((a.started_at, a.closed_at) for a in self.activities)
        total, cur_s, cur_e = 0.0, None, None
        for s, e in spans:
            if cur_e is None or s > cur_e:
                if cur_e is not None and cur_s is not None:
                    total += cur_e - cur_s
                cur_s, cur_e = s, e
            else:
                cur_e = max(cur_e, e)
        if cur_e is not None and cur_s is not None:
            total += cur_e - cur_s
        return total

    def stage(self, name: str) -> tuple[int, float, float]:
        """count, summed execution seconds, span (first scheduled → last completed) of one activity type."""
        runs = [a for a in self.activities if a.name == name]
        if not runs:
            return 0, 0.0, 0.0
        span = max(a.closed_at for a in runs) - min(a.scheduled_at for a in runs)
        return len(runs), sum(a.closed_at - a.started_at for a in runs), span


def stage_table(run: SessionRun) -> list[tuple[str, int, float, float]]:
    names = ["validate", "preprocess", "transcribe_window", "diarize", "merge", "notes", "save"]
    return [(n, *run.stage(n)) for n in names]
