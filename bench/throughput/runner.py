"""How bench.throughput runs each case: (a) plain faster-whisper, (b) the stages one after another, (c) the
pipeline through a private Temporal dev server and worker processes."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import json
import os
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from unittest.mock import patch

from bench.stages import plain_faster_whisper
from bench.throughput.measure import (
    SHORT_RECORDING,
    RssSampler,
    SessionRun,
    Truth,
    cpu_seconds,
    load_line,
    score,
)
from bench.throughput.report import asr_model_line, jsonable, print_c, print_overhead
from tests.support.history import activity_runs
from therapybridge.speech.asr.faster_whisper import cpu_count

SCALE_OUT_ENV = {"ASR_CPU_THREADS": "1", "GPU_WORKER_CONCURRENCY": "1"}


def run_plain(audio: Path, truth: Truth) -> dict[str, Any]:
    """faster-whisper alone on the file: the same model and decoding options, every core."""
    threads = cpu_count()
    load = load_line()
    c0 = cpu_seconds()
    wall, _, text = plain_faster_whisper(audio, threads)
    return {"wall_s": wall, "cpu_s": cpu_seconds() - c0, "threads": threads, "load": load, **score(truth, text, None)}


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
    from therapybridge.speech.asr.factory import asr_config, get_transcriber
    from therapybridge.speech.diarization.factory import diarizer_config, get_diarizer
    from therapybridge.worker_gpu.plan import apply_thread_plan, thread_plan

    # One window at a time on every core; the diarizer as in a gpu worker (the speaker encoder caps
    # torch at half the cores on CPU anyway).
    with env_overrides({"ASR_CPU_THREADS": str(cpu_count()), "GPU_WORKER_CONCURRENCY": "1"}):
        settings = get_settings()
        await db.init_db()  # activities record provider health (circuit breakers) there
        plan = thread_plan(settings)
        apply_thread_plan(plan)
        get_transcriber(asr_config(settings))  # models load before the clock starts, as in
        get_diarizer(diarizer_config(settings))  # a gpu worker
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


class Stack:
    """A private Temporal dev server (kept for the whole run) and sets of worker processes.
    bench/throughput/cluster.py runs the same on the production topology."""

    def __init__(self) -> None:
        from therapybridge.settings import get_settings
        from therapybridge.supervisor import Supervisor

        self.settings = get_settings()
        self.server = Supervisor(self.settings)
        self.workers: Any = None
        self.client: Any = None
        self.engine: Any = None  # the app database's (None: the settings' default)

    async def start(self) -> None:
        from therapybridge import db
        from therapybridge.temporal import connect

        await self.server.start_server_if_needed(headless=True)
        self.client = await connect(self.settings)
        await db.init_db()

    async def start_workers(self, gpu_workers: int, extra_env: dict[str, str]) -> dict[str, int]:
        from therapybridge.supervisor import Supervisor

        self.workers = Supervisor(self.settings, extra_env=extra_env)
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
            self.check_workers()
            await asyncio.sleep(0.5)
        raise TimeoutError("workers did not start polling")

    def check_workers(self) -> None:
        """Raise if a started worker has exited."""
        for c in self.workers.children:
            if c.proc and c.proc.poll() is not None:
                raise RuntimeError(f"{c.name} exited with {c.proc.returncode}; see {c.log_path}")

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
            doc = await db.get_session_document(inp.session_id, self.engine)
            run = SessionRun(inp.session_id, wall, str(status), dict(doc.timings) if doc else {}, started_at=epoch0)
            run.activities = [a for a in await activity_runs(self.client, inp.session_id) if a.outcome == "completed"]
            if doc is not None:
                run.text = " ".join(s.text for s in doc.transcript_segments)
                run.turns = [(t.start, t.end, t.speaker) for t in doc.speaker_turns]
            return run

        t0 = time.monotonic()
        runs = await asyncio.gather(*(one(i) for i in inputs))
        return list(runs), time.monotonic() - t0


async def overhead_runs(stack: Stack, repeats: int) -> list[dict[str, float]]:
    """The 10-second recording: one warm-up run, then `repeats` measured ones, one at a time."""
    out = []
    for i in range(repeats + 1):
        (run,), _ = await stack.run_sessions(SHORT_RECORDING, 1)
        busy = run.busy_s()
        acts = sorted(run.activities, key=lambda a: a.scheduled_at)
        dispatch = sum(a.started_at - a.scheduled_at for a in acts)  # task queue → worker
        out.append(
            {
                "warmup": float(i == 0),
                "wall_s": run.wall_s,
                "busy_s": busy,
                "overhead_s": run.wall_s - busy,
                "dispatch_s": dispatch,
                "first_scheduled_s": acts[0].scheduled_at - run.started_at if acts else 0.0,
            }
        )
    return out


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
    if args.cluster:
        from bench.throughput.cluster import ClusterStack

        stack = ClusterStack()
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
        args.json.write_text(json.dumps(results, default=jsonable, indent=1), encoding="utf-8")
