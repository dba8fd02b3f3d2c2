"""What one session costs the production topology (the cluster of tests/deploy/cluster/: the real Temporal
server on PostgreSQL, one io worker, two gpu workers running tiny.en on one thread each; 120-second
windows as shipped unless --window-s): history events and bytes per session, workflow tasks, the
growth of Temporal's two databases and the app's, and the gpu activity-seconds, for the sizing
guidance in docs/deploy.md.

    python -m bench.cluster_costs                      # 4 sessions of 60 s of audio
    python -m bench.cluster_costs --sessions 6 --seconds 180 --window-s 30

Database growth is pg_database_size before and after (pages, so a few sessions round up); divide by
the sessions for a per-session figure and prefer more sessions for a steadier one.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import time
from pathlib import Path

import httpx
from temporalio.api.enums.v1 import EventType

from tests.support.cluster import CLUSTER_SETTINGS, Cluster, start_cluster
from tests.support.harness import CORPUS
from therapybridge.temporal import workflow_id

SOURCES = ("d01", "d02", "d03", "d04", "d06", "d08")
GPU_ACTIVITIES = {"transcribe_window", "diarize"}


def db_sizes(cluster: Cluster) -> dict[str, int]:
    pg = cluster.postgres
    out = subprocess.run(
        [str(pg.bin / "psql"), "-h", "127.0.0.1", "-p", str(pg.port), "-U", "postgres", "-d", "postgres", "-Atc",
         "select datname, pg_database_size(datname) from pg_database where not datistemplate"],
        capture_output=True, text=True, check=True, timeout=60,
    ).stdout  # fmt: skip
    return {name: int(size) for name, size in (line.split("|") for line in out.split())}


def clip(src: str, seconds: float, out: Path) -> Path:
    subprocess.run(
        ["ffmpeg", "-hide_banner", "-nostdin", "-v", "error", "-y", "-stream_loop", "-1",
         "-i", str(CORPUS / "synthetic" / f"{src}.flac"), "-t", str(seconds), "-ac", "1", "-ar", "16000", str(out)],
        check=True, timeout=300,
    )  # fmt: skip
    return out


async def run(sessions: int, seconds: float) -> None:
    async with start_cluster() as cluster:
        token, patient = await cluster.gateway.account()
        files = [clip(SOURCES[i % len(SOURCES)], seconds, cluster.workdir / f"s{i}.flac") for i in range(sessions)]
        before = db_sizes(cluster)
        t0 = time.monotonic()
        auth = {"Authorization": f"Bearer {token}"}
        async with httpx.AsyncClient(base_url=cluster.gateway.base_url, timeout=300, headers=auth) as c:
            ids = []
            for f in files:
                r = await c.post(
                    "/api/sessions/upload", files={"file": (f.name, f.read_bytes())}, data={"patient_id": patient}
                )
                r.raise_for_status()
                ids.append(str(r.json()["id"]))
            while True:
                states = [str((await c.get(f"/api/sessions/{sid}")).json()["status"]) for sid in ids]
                if all(s in ("processed", "failed", "cancelled") for s in states):
                    break
                await asyncio.sleep(1.0)
        wall = time.monotonic() - t0
        after = db_sizes(cluster)

        events, sizes, wf_tasks, gpu_s, activities = [], [], [], [], []
        for sid in ids:
            history = await cluster.client.get_workflow_handle(workflow_id(sid)).fetch_history()
            events.append(len(history.events))
            sizes.append(sum(e.ByteSize() for e in history.events))
            wf_tasks.append(sum(e.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED for e in history.events))
            started: dict[int, float] = {}
            names: dict[int, str] = {}
            busy = 0.0
            for e in history.events:
                if e.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
                    names[e.event_id] = e.activity_task_scheduled_event_attributes.activity_type.name
                elif e.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED:
                    started[e.activity_task_started_event_attributes.scheduled_event_id] = e.event_time.ToNanoseconds()
                elif e.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED:
                    sched = e.activity_task_completed_event_attributes.scheduled_event_id
                    if names.get(sched) in GPU_ACTIVITIES:
                        busy += (e.event_time.ToNanoseconds() - started[sched]) / 1e9
            gpu_s.append(busy)
            activities.append(len(names))

        print(f"windows of {CLUSTER_SETTINGS['TRANSCRIBE_WINDOW_S']} s")
        print(f"sessions: {sessions} x {seconds:.0f} s of audio, statuses {sorted(set(states))}, wall {wall:.1f} s "
              f"(load average {os.getloadavg()[0]:.1f})")  # fmt: skip
        print(f"history per session: events median {statistics.median(events):.0f} (max {max(events)}), "
              f"bytes median {statistics.median(sizes):.0f} (max {max(sizes)}), "
              f"workflow tasks median {statistics.median(wf_tasks):.0f}, activities median "
              f"{statistics.median(activities):.0f}")  # fmt: skip
        print(
            f"gpu activity-seconds per session (transcribe_window + diarize, tiny.en, 1 thread): median "
            f"{statistics.median(gpu_s):.1f} s = {statistics.median(gpu_s) / seconds:.3f} per audio second"
        )
        for name in sorted(after):
            grown = after[name] - before.get(name, 0)
            print(f"database {name}: {before.get(name, 0) / 1e6:.2f} -> {after[name] / 1e6:.2f} MB, "
                  f"{grown / sessions / 1e3:.1f} kB per session")  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sessions", type=int, default=4)
    ap.add_argument("--seconds", type=float, default=60.0, help="audio per session (corpus files, looped)")
    ap.add_argument("--window-s", default="120", help="TRANSCRIBE_WINDOW_S (shipped: 120; the cluster tests: 30)")
    args = ap.parse_args()
    CLUSTER_SETTINGS["TRANSCRIBE_WINDOW_S"] = args.window_s
    asyncio.run(run(args.sessions, args.seconds))


if __name__ == "__main__":
    main()
