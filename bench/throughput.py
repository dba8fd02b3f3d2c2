"""Throughput of a long session: the pipeline next to the transcription model alone.

    python -m bench.throughput                      # 60-minute session: (a), (b), (c), overhead
    python -m bench.throughput --minutes 3 --sessions 4 --cases c
    python -m bench.throughput --scale-out          # (c) with 1 then 2 gpu workers, 1 thread each
    python -m bench.throughput --asr-model tiny.en  # every case with the fast bundled model (default: base)

Builds a session by concatenating corpus sessions (bench.corpus_concat, truth times shifted) and runs,
one after another in this process, on the same audio:

(a) plain faster-whisper on the file, same model and decoding settings, all cores (the floor);
(b) the pipeline's stages forced sequential: the activity functions themselves, run one after another
    in this process without Temporal (validate → preprocess → every window → diarize → merge → notes),
    each stage with the whole machine (CTranslate2 on every core);
(c) the pipeline as shipped: a private Temporal dev server, the io worker and `--gpu-workers` gpu
    workers as separate processes (settings as deployed unless `--worker-env` says otherwise).

Before (c) a 10-second recording (corpus real/jfk.flac) runs through the same workers: once to warm
them up, then `--overhead-runs` times; orchestration overhead = wall time minus the time during which
at least one activity was executing (from the workflow history; parallel activities are counted
once). During (c) the RSS of every worker process (with its children, e.g. ffmpeg) is sampled.

Timings are wall-clock: on a shared machine, check the load figures printed with them.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import json
import os
import shutil
import statistics
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from unittest.mock import patch

from bench.corpus_concat import CORPUS, build_session
from bench.stages import plain_faster_whisper, private_environment
from therapybridge.speech.asr import cpu_count

SHORT_RECORDING = CORPUS / "real" / "jfk.flac"
SCALE_OUT_ENV = {"ASR_CPU_THREADS": "1", "GPU_WORKER_CONCURRENCY": "1"}


# ---------------------------------------------------------------------------------------- machine
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


# ---------------------------------------------------------------------------------------- scoring
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


# ---------------------------------------------------------------------------------------- (a)
def run_plain(audio: Path, truth: Truth) -> dict[str, Any]:
    """faster-whisper alone on the file: the same model and decoding options, every core."""
    threads = cpu_count()
    load = load_line()
    c0 = cpu_seconds()
    wall, _, text = plain_faster_whisper(audio, threads)
    return {"wall_s": wall, "cpu_s": cpu_seconds() - c0, "threads": threads, "load": load, **score(truth, text, None)}


# ---------------------------------------------------------------------------------------- (b)
@contextlib.contextmanager
def env_overrides(values: dict[str, str]) -> Iterator[None]:
    """Settings for this process only while (b) runs (get_settings is cached: clear it around)."""
    from therapybridge.settings import get_settings

    with patch.dict(os.environ, values):
        get_settings.cache_clear()
        try:
            yield
        finally:
            get_settings.cache_clear()


async def run_sequential(audio: Path, truth: Truth) -> dict[str, Any]:
    """The activity functions, one after another in this process, each stage with every core."""
    from temporalio.testing import ActivityEnvironment

    from therapybridge import db
    from therapybridge import messages as m
    from therapybridge.activities import diarize as diarize_mod
    from therapybridge.activities import merge, notes, preprocess, transcribe, validate
    from therapybridge.activities.common import blobs
    from therapybridge.document import Segment, SpeakerTurn
    from therapybridge.settings import get_settings
    from therapybridge.speech.asr import AsrConfig, get_transcriber
    from therapybridge.speech.diarizer import get_diarizer
    from therapybridge.worker_gpu.plan import apply_thread_plan, thread_plan

    # One window at a time on every core; the diarizer as in a gpu worker (the speaker encoder caps
    # torch at half the cores on CPU anyway).
    with env_overrides({"ASR_CPU_THREADS": str(cpu_count()), "GPU_WORKER_CONCURRENCY": "1"}):
        settings = get_settings()
        await db.init_db()  # activities record provider health (circuit breakers) there
        plan = thread_plan(settings)
        apply_thread_plan(plan)
        get_transcriber(AsrConfig.from_settings(settings))  # models load before the clock starts, as in
        get_diarizer(settings)  # a gpu worker
        env = ActivityEnvironment()
        sid = str(uuid.uuid4())
        store = blobs()
        key = store.add_upload(sid, audio, audio.name)
        inp = m.SessionInput(sid, key, audio.name)
        stages: dict[str, float] = {}
        load = load_line()
        t0, c0 = time.monotonic(), cpu_seconds()

        async def timed(name: str, fn: Any, arg: Any) -> Any:
            s = time.monotonic()
            result = env.run(fn, arg)
            if asyncio.iscoroutine(result):
                result = await result
            stages[name] = stages.get(name, 0.0) + time.monotonic() - s
            return result

        await timed("validate", validate.validate_upload, inp)
        pre: m.PreprocessResult = await timed("preprocess", preprocess.preprocess, inp)
        windows = []
        for i, (s, e) in enumerate(pre.windows):
            req = m.WindowRequest(sid, pre.audio_ref, pre.vad_ref, i, s, e)
            windows.append(await timed("transcribe", transcribe.transcribe_window, req))
        diar = await timed("diarize", diarize_mod.diarize, m.DiarizeRequest(sid, pre.audio_ref, pre.vad_ref))
        merged = await timed("merge", merge.merge_transcript, m.MergeRequest(sid, [w.ref for w in windows], diar.ref))
        await timed("notes", notes.notes, m.NotesRequest(sid, merged.ref))
        wall = time.monotonic() - t0
        cpu = cpu_seconds() - c0
        doc = store.read_json(merged.ref)
        segments = [Segment.model_validate(x) for x in doc["segments"]]
        turns = [SpeakerTurn.model_validate(x) for x in doc["turns"]]
        store.delete_session(sid)
    return {
        "wall_s": wall,
        "cpu_s": cpu,
        "stages": stages,
        "windows": len(pre.windows),
        "plan": dataclasses.asdict(plan),
        "load": load,
        **score(truth, " ".join(s.text for s in segments), [(t.start, t.end, t.speaker) for t in turns]),
    }


# ---------------------------------------------------------------------------------------- (c)
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
class ActivityRun:
    name: str
    scheduled: float
    started: float
    completed: float


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
        spans = sorted((a.started, a.completed) for a in self.activities)
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
        span = max(a.completed for a in runs) - min(a.scheduled for a in runs)
        return len(runs), sum(a.completed - a.started for a in runs), span


async def activity_runs(handle: Any) -> list[ActivityRun]:
    from temporalio.api.enums.v1 import EventType

    scheduled: dict[int, tuple[str, float]] = {}
    started: dict[int, float] = {}
    runs: list[ActivityRun] = []
    history = await handle.fetch_history()
    for ev in history.events:
        t = ev.event_time.ToMicroseconds() / 1e6
        if ev.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
            scheduled[ev.event_id] = (ev.activity_task_scheduled_event_attributes.activity_type.name, t)
        elif ev.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED:
            started[ev.activity_task_started_event_attributes.scheduled_event_id] = t
        elif ev.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED:
            sched_id = ev.activity_task_completed_event_attributes.scheduled_event_id
            name, ts = scheduled[sched_id]
            runs.append(ActivityRun(name, ts, started.get(sched_id, ts), t))
    return runs


class Stack:
    """A private Temporal dev server (kept for the whole run) and sets of worker processes."""

    def __init__(self) -> None:
        from therapybridge.settings import get_settings
        from therapybridge.supervisor import Supervisor

        self.settings = get_settings()
        self.server = Supervisor(self.settings)
        self.workers: Any = None
        self.client: Any = None

    async def start(self) -> None:
        from therapybridge import db
        from therapybridge.temporal import connect

        await self.server.start_server_if_needed(headless=True)
        self.client = await connect(self.settings)
        await db.init_db()

    async def start_workers(self, gpu_workers: int, extra_env: dict[str, str]) -> dict[str, int]:
        from therapybridge.supervisor import Supervisor

        @dataclass
        class _Workers(Supervisor):
            extra_env: dict[str, str] = field(default_factory=dict)

            @property
            def env(self) -> dict[str, str]:
                return {**super().env, **self.extra_env}

        self.workers = _Workers(self.settings, extra_env=extra_env)
        self.workers.start_workers(gpu_workers)
        pids = {c.name: c.proc.pid for c in self.workers.children if c.proc}
        await self._wait_for_pollers(pids)
        await asyncio.sleep(1.0)
        return pids

    async def _wait_for_pollers(self, pids: dict[str, int], timeout: float = 300.0) -> None:
        """Until every started worker polls its queue (the gpu workers load their models first)."""
        from temporalio.api.enums.v1 import TaskQueueType
        from temporalio.api.taskqueue.v1 import TaskQueue
        from temporalio.api.workflowservice.v1 import DescribeTaskQueueRequest

        deadline = time.monotonic() + timeout
        want = {f"{pid}@" for pid in pids.values()}
        while time.monotonic() < deadline:
            identities: list[str] = []
            for queue in (self.settings.io_task_queue, self.settings.gpu_task_queue):
                resp = await self.client.workflow_service.describe_task_queue(
                    DescribeTaskQueueRequest(
                        namespace=self.settings.temporal_namespace,
                        task_queue=TaskQueue(name=queue),
                        task_queue_type=TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY,
                    )
                )
                identities += [p.identity for p in resp.pollers]
            # Identities are "pid@host": earlier workers' pollers stay listed for a while after they stop.
            if all(any(i.startswith(w) for i in identities) for w in want):
                return
            for c in self.workers.children:
                if c.proc and c.proc.poll() is not None:
                    raise RuntimeError(f"{c.name} exited with {c.proc.returncode}; see {c.log_path}")
            await asyncio.sleep(0.5)
        raise TimeoutError("workers did not start polling")

    async def stop_workers(self) -> None:
        if self.workers is not None:
            await self.workers.stop()
            self.workers = None

    async def stop(self) -> None:
        await self.stop_workers()
        await self.server.stop()

    async def run_sessions(self, audio: Path, count: int) -> tuple[list[SessionRun], float]:
        """Start `count` sessions of the same audio at once; wait for all of them."""
        from therapybridge import db
        from therapybridge import messages as m
        from therapybridge.blobs import BlobStore
        from therapybridge.temporal import start_session

        store = BlobStore(self.settings.blob_dir)
        inputs = []
        for _ in range(count):
            sid = str(uuid.uuid4())
            key = store.add_upload(sid, audio, audio.name)
            inputs.append(m.SessionInput(sid, key, audio.name))

        async def one(inp: m.SessionInput) -> SessionRun:
            t0, epoch0 = time.monotonic(), time.time()
            handle = await start_session(self.client, self.settings, inp)
            try:
                status = await handle.result()
            except Exception as exc:
                status = f"failed: {type(exc).__name__}"
            wall = time.monotonic() - t0
            doc = await db.get_session_document(inp.session_id)
            run = SessionRun(inp.session_id, wall, str(status), dict(doc.timings) if doc else {}, started_at=epoch0)
            run.activities = await activity_runs(handle)
            if doc is not None:
                run.text = " ".join(s.text for s in doc.transcript_segments)
                run.turns = [(t.start, t.end, t.speaker) for t in doc.speaker_turns]
            return run

        t0 = time.monotonic()
        runs = await asyncio.gather(*(one(i) for i in inputs))
        return list(runs), time.monotonic() - t0


def stage_table(run: SessionRun) -> list[tuple[str, int, float, float]]:
    names = ["validate", "preprocess", "transcribe_window", "diarize", "merge", "notes", "save"]
    return [(n, *run.stage(n)) for n in names]


async def overhead_runs(stack: Stack, repeats: int) -> list[dict[str, float]]:
    """The 10-second recording: one warm-up run, then `repeats` measured ones, one at a time."""
    out = []
    for i in range(repeats + 1):
        (run,), _ = await stack.run_sessions(SHORT_RECORDING, 1)
        busy = run.busy_s()
        acts = sorted(run.activities, key=lambda a: a.scheduled)
        dispatch = sum(a.started - a.scheduled for a in acts)  # task queue → worker
        out.append(
            {
                "warmup": float(i == 0),
                "wall_s": run.wall_s,
                "busy_s": busy,
                "overhead_s": run.wall_s - busy,
                "dispatch_s": dispatch,
                "first_scheduled_s": acts[0].scheduled - run.started_at if acts else 0.0,
            }
        )
    return out


# ---------------------------------------------------------------------------------------- output
def fmt_stage_rows(run: SessionRun) -> list[str]:
    rows = [f"    {'activity':<18}{'count':>6}{'exec s (sum)':>14}{'span s':>9}"]
    for name, count, exec_s, span in stage_table(run):
        rows.append(f"    {name:<18}{count:>6}{exec_s:>14.2f}{span:>9.2f}")
    return rows


def mib(b: int) -> str:
    return f"{b / 2**20:.0f} MiB"


async def run_c(
    stack: Stack,
    audio: Path,
    truth: Truth,
    gpu_workers: int,
    extra_env: dict[str, str],
    sessions: int,
    overhead_repeats: int,
) -> dict[str, Any]:
    pids = await stack.start_workers(gpu_workers, extra_env)
    try:
        overhead = await overhead_runs(stack, overhead_repeats) if overhead_repeats >= 0 else []
        load = load_line()
        with RssSampler(pids) as rss:
            runs, total = await stack.run_sessions(audio, sessions)
    finally:
        await stack.stop_workers()
    first = runs[0]
    return {
        "gpu_workers": gpu_workers,
        "env": extra_env,
        "runs": runs,
        "total_s": total,
        "overhead": overhead,
        "rss": rss.peak,
        "load": load,
        **score(truth, first.text, first.turns),
    }


def print_c(c: dict[str, Any], duration: float, label: str) -> None:
    runs: list[SessionRun] = c["runs"]
    env = " ".join(f"{k}={v}" for k, v in c["env"].items()) or "shipped settings"
    print(f"({label}) Temporal pipeline, {c['gpu_workers']} gpu worker(s), {env}   [{c['load']}]")
    for r in runs:
        busy = r.busy_s()
        print(
            f"    session {r.session_id[:8]}  {r.status:<10} wall {r.wall_s:8.2f} s  RTF {r.wall_s / duration:.4f}  "
            f"no activity running {r.wall_s - busy:.2f} s"
        )
    print("\n".join(fmt_stage_rows(runs[0])))
    if runs[0].timings:
        print("    workflow timings: " + ", ".join(f"{k} {v:.2f}" for k, v in runs[0].timings.items()))
    print(f"    WER {c['wer']:.4f} ({c['errors']})   DER {c.get('der', float('nan')):.4f}")
    print("    peak RSS (process + children): " + ", ".join(f"{k} {mib(v)}" for k, v in c["rss"].items()))
    if len(runs) > 1:
        done = sum(r.status == "processed" for r in runs)
        print(
            f"    {len(runs)} concurrent sessions: {done} processed, all done in {c['total_s']:.2f} s "
            f"-> {len(runs) * 3600 / c['total_s']:.1f} sessions per hour"
        )


def print_overhead(rows: list[dict[str, float]]) -> None:
    if not rows:
        return
    print(f"10-second recording ({SHORT_RECORDING.name}): wall minus activity execution time")
    for r in rows:
        tag = "warm-up " if r["warmup"] else "measured"
        print(
            f"    {tag}  wall {r['wall_s']:.3f} s  activities {r['busy_s']:.3f} s  overhead {r['overhead_s']:.3f} s"
            f"  (of which queue→worker dispatch {r['dispatch_s']:.3f} s, start→first activity scheduled "
            f"{r['first_scheduled_s']:.3f} s)"
        )
    measured = [r["overhead_s"] for r in rows if not r["warmup"]]
    if measured:
        print(f"    orchestration overhead (median of {len(measured)}): {statistics.median(measured):.3f} s")


# ---------------------------------------------------------------------------------------- main
def parse_env(items: list[str]) -> dict[str, str]:
    out = {}
    for item in items:
        k, _, v = item.partition("=")
        out[k] = v
    return out


async def run_all(args: argparse.Namespace, audio: Path, truth: Truth, duration: float) -> None:
    cases = set(args.cases.split(","))
    results: dict[str, Any] = {}
    if "a" in cases:
        results["a"] = run_plain(audio, truth)
        a = results["a"]
        print(
            f"(a) plain faster-whisper, {a['threads']} threads   [{a['load']}]\n"
            f"    wall {a['wall_s']:8.2f} s  RTF {a['wall_s'] / duration:.4f}  CPU {a['cpu_s']:.1f} s  "
            f"WER {a['wer']:.4f} ({a['errors']})",
            flush=True,
        )
    if "b" in cases:
        results["b"] = b = await run_sequential(audio, truth)
        plan = b["plan"]
        print(
            f"(b) stages sequential, in-process ({b['windows']} windows; ASR {plan['asr_threads']} threads, "
            f"torch {plan['torch_threads']})   [{b['load']}]\n"
            f"    wall {b['wall_s']:8.2f} s  RTF {b['wall_s'] / duration:.4f}  CPU {b['cpu_s']:.1f} s  "
            f"WER {b['wer']:.4f} ({b['errors']})  DER {b['der']:.4f}\n"
            "    " + ", ".join(f"{k} {v:.2f}" for k, v in b["stages"].items()),
            flush=True,
        )
    stack = Stack()
    try:
        await stack.start()
        if "c" in cases:
            extra = parse_env(args.worker_env)
            c = await run_c(stack, audio, truth, args.gpu_workers, extra, args.sessions, args.overhead_runs)
            results["c"] = c
            print_overhead(c["overhead"])
            print_c(c, duration, "c")
            wall_c = c["runs"][0].wall_s
            if "a" in results:
                a = results["a"]
                print(f"c/a = {wall_c / a['wall_s']:.3f}   WER(c) - WER(a) = {c['wer'] - a['wer']:+.4f}")
            if "b" in results:
                print(f"c/b = {wall_c / results['b']['wall_s']:.3f}")
            sys.stdout.flush()
        if args.scale_out:
            spans = {}
            for n in (1, 2):
                sc = await run_c(stack, audio, truth, n, {**SCALE_OUT_ENV, **parse_env(args.worker_env)}, 1, 0)
                print_overhead([])
                print_c(sc, duration, f"scale-out {n}")
                run = sc["runs"][0]
                spans[n] = run.stage("transcribe_window")[2]
                print(f"    transcription stage (first window scheduled -> last done): {spans[n]:.2f} s", flush=True)
            print(f"scale-out: transcription stage 1 worker / 2 workers = {spans[1] / spans[2]:.2f}x")
    finally:
        await stack.stop()
    if args.json:
        results["asr_model"] = asr_model_line()
        args.json.write_text(json.dumps(results, default=_jsonable, indent=1), encoding="utf-8")


def _jsonable(o: object) -> object:
    if dataclasses.is_dataclass(o) and not isinstance(o, type):
        d = dataclasses.asdict(o)
        d.pop("text", None)
        d.pop("turns", None)
        return d
    return str(o)


def asr_model_line() -> str:
    """The model every case runs (ASR_MODEL, as the workers resolve it), printed with the figures."""
    from therapybridge.settings import get_settings
    from therapybridge.speech.asr import AsrConfig

    cfg = AsrConfig.from_settings(get_settings())
    model = cfg.resolve()
    return f"{model.name} ({model.version}), beam {cfg.beam_size}, language {cfg.language or 'auto'}"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--minutes", type=float, default=60.0, help="session length (corpus sessions concatenated)")
    ap.add_argument("--sessions", type=int, default=1, help="concurrent sessions in (c)")
    ap.add_argument("--cases", default="a,b,c", help="which of a,b,c to run")
    ap.add_argument("--gpu-workers", type=int, default=1, help="gpu worker processes in (c)")
    ap.add_argument("--worker-env", action="append", default=[], metavar="KEY=VALUE", help="worker settings in (c)")
    ap.add_argument("--overhead-runs", type=int, default=3, help="10-second runs before (c); -1 to skip")
    ap.add_argument("--scale-out", action="store_true", help="(c) with 1 then 2 gpu workers, 1 thread each")
    ap.add_argument("--audio-cache", type=Path, default=Path(tempfile.gettempdir()) / "tb-concat")
    ap.add_argument("--json", type=Path, help="also write the figures here")
    ap.add_argument("--asr-model", help="ASR_MODEL for (a), (b) and the workers of (c): base (default), tiny.en, …")
    args = ap.parse_args(argv)
    if args.asr_model:
        os.environ["ASR_MODEL"] = args.asr_model  # before any settings are read; workers inherit it

    tmp = private_environment("tb-throughput-")
    session = build_session(args.minutes, args.audio_cache)
    truth = load_truth(session.truth)
    print(
        f"session {session.audio.name}: {session.duration:.1f} s from {len(session.pieces)} corpus sessions; "
        f"{cpu_count()} cores; {time.strftime('%Y-%m-%d %H:%M:%S')}; {load_line()}\n"
        f"ASR model: {asr_model_line()}",
        flush=True,
    )
    try:
        asyncio.run(run_all(args, session.audio, truth, session.duration))
    finally:
        print(f"end: {load_line()}")
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
