"""How bench.throughput prints its figures."""

from __future__ import annotations

import dataclasses
import statistics
from typing import Any

from bench.throughput.measure import SHORT_RECORDING, SessionRun, stage_table


def fmt_stage_rows(run: SessionRun) -> list[str]:
    rows = [f"    {'activity':<18}{'count':>6}{'exec s (sum)':>14}{'span s':>9}"]
    for name, count, exec_s, span in stage_table(run):
        rows.append(f"    {name:<18}{count:>6}{exec_s:>14.2f}{span:>9.2f}")
    return rows


def mib(b: int) -> str:
    return f"{b / 2**20:.0f} MiB"


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


def jsonable(o: object) -> object:
    if dataclasses.is_dataclass(o) and not isinstance(o, type):
        d = dataclasses.asdict(o)
        d.pop("text", None)
        d.pop("turns", None)
        return d
    return str(o)


def asr_model_line() -> str:
    """The model every case runs (ASR_MODEL, as the workers resolve it), printed with the figures."""
    from therapybridge.settings import get_settings
    from therapybridge.speech.asr.factory import whisper_config

    cfg = whisper_config(get_settings())
    model = cfg.resolve()
    return f"{model.name} ({model.version}), beam {cfg.beam_size}, language {cfg.language or 'auto'}"
