"""What every cluster test checks (tests/deploy/cluster/): uploads through the API, waiting on the
sessions' statuses, and the audit each test ends with: one processed document per upload, the
workflow runs and saves expected, no orphan blobs, every history payload encrypted."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
from sqlmodel import col, select
from temporalio.client import WorkflowExecutionStatus

from tests.support.cluster import Cluster
from tests.support.faults import wait_for
from tests.support.history import activity_runs, is_plain_bookkeeping, iter_payloads, raw_history
from therapybridge import db
from therapybridge import messages as m
from therapybridge.db import SessionRecord
from therapybridge.document import FINAL_STATUSES
from therapybridge.settings import Settings
from therapybridge.temporal import workflow_id

DEADLINE_S = 600.0  # for a batch of sessions on a loaded 2-core machine; returns as soon as they finish
GPU_STAGES = {m.TRANSCRIBE_WINDOW, m.DIARIZE}


# --------------------------------------------------------------------------- helpers


async def upload_all(cluster: Cluster, token: str, patient_id: str, files: list[Path]) -> list[str]:
    """Upload concurrently through the API; the new session ids."""

    async def one(path: Path) -> str:
        async with httpx.AsyncClient(base_url=cluster.gateway.base_url, timeout=120) as c:
            r = await c.post(
                "/api/sessions/upload",
                files={"file": (path.name, path.read_bytes())},
                data={"patient_id": patient_id},
                headers={"Authorization": f"Bearer {token}"},
            )
            assert r.status_code == 202, r.text
            return str(r.json()["id"])

    return list(await asyncio.gather(*(one(p) for p in files)))


async def statuses(cluster: Cluster, token: str, ids: list[str]) -> dict[str, str]:
    """Each session's status from the API; a missing answer (the gateway or Temporal restarting) is ''."""
    out: dict[str, str] = {}
    async with httpx.AsyncClient(
        base_url=cluster.gateway.base_url, timeout=30, headers={"Authorization": f"Bearer {token}"}
    ) as c:
        for sid in ids:
            try:
                r = await c.get(f"/api/sessions/{sid}")
                out[sid] = str(r.json()["status"]) if r.status_code == 200 else ""
            except (httpx.TransportError, ValueError, KeyError):
                out[sid] = ""
    return out


async def wait_final(cluster: Cluster, token: str, ids: list[str], timeout: float = DEADLINE_S) -> dict[str, str]:
    async def all_final() -> dict[str, str] | None:
        now = await statuses(cluster, token, ids)
        return now if all(s in FINAL_STATUSES for s in now.values()) else None

    result: dict[str, str] = await wait_for(all_final, timeout, interval=1.0, what="every session final")
    return result


async def wait_status(cluster: Cluster, token: str, ids: list[str], wanted: set[str]) -> None:
    """Until one of the sessions is in a `wanted` status (fails early if all ended before it)."""

    async def reached() -> bool:
        now = await statuses(cluster, token, ids)
        if all(s in FINAL_STATUSES for s in now.values()):
            raise AssertionError(f"every session ended before reaching {wanted}: {now}")
        return any(s in wanted for s in now.values())

    await wait_for(reached, DEADLINE_S, interval=0.3, what=f"a session in {sorted(wanted)}")


def gpu_activity_counts(cluster: Cluster, ids: list[str]) -> dict[str, int]:
    """Finished gpu activities (windows and diarizations) of these sessions, per gpu worker."""
    wanted = set(ids)
    return {
        name: sum(
            1
            for r in cluster.records(name)
            if r.get("msg") == "stage done" and r.get("stage") in GPU_STAGES and r.get("session_id") in wanted
        )
        for name in ("gpu-a", "gpu-b")
    }


def blob_folders(cluster: Cluster) -> set[str]:
    root = cluster.blob_root
    return {p.name for p in root.iterdir()} if root.exists() else set()


async def audit(cluster: Cluster, token: str, therapist_id: str, ids: list[str], runs: int = 1) -> None:
    """Nothing lost, nothing duplicated, nothing left behind, nothing readable in Temporal.

    `runs`: the workflow runs each session has. The latest completed and saved once; any before it were
    terminated without a save (an operator's reset or terminate, docs/operations.md)."""
    final = await wait_final(cluster, token, ids)
    assert set(final.values()) == {"processed"}, final
    engine = db.get_engine(Settings(database_url=cluster.env["DATABASE_URL"]).resolved_database_url)

    # One row per upload, each a processed document with a transcript.
    async with db.session_scope(engine) as s:
        rows = (await s.exec(select(SessionRecord).where(col(SessionRecord.therapist_id) == therapist_id))).all()
    mine = [r for r in rows if r.id in set(ids)]
    assert sorted(r.id for r in mine) == sorted(ids)
    for sid in ids:
        doc = await db.get_session_document(sid, engine)
        assert doc is not None and doc.status == "processed" and doc.transcript_segments, sid

    client = cluster.client
    done, ended = WorkflowExecutionStatus.COMPLETED, WorkflowExecutionStatus.TERMINATED
    for sid in ids:
        wid = workflow_id(sid)
        latest = (await client.get_workflow_handle(wid).describe()).run_id

        # The runs, all closed as expected (visibility is written asynchronously: wait for it).
        async def closed_as_expected(wid: str = wid, latest: str = latest) -> list[str] | None:
            found = {w.run_id: w.status async for w in client.list_workflows(f'WorkflowId = "{wid}"')}
            expected = {run: (done if run == latest else ended) for run in found}
            return list(found) if len(found) == runs and found == expected else None

        run_ids = await wait_for(closed_as_expected, 120, interval=0.5, what=f"{runs} closed run(s) of {wid}")
        for run_id in run_ids:
            saves = [r.outcome for r in await activity_runs(client, sid, run_id) if r.name == m.SAVE]
            assert saves == (["completed"] if run_id == latest else []), (sid, run_id, saves)
            # The history as the server stores it: every payload encrypted.
            # (Patch markers and search-attribute updates are Temporal's own, plain: ids and stage words.)
            events = (await raw_history(cluster.temporal.address, sid, run_id)).events
            payloads = [p for e in events if not is_plain_bookkeeping(e) for p in iter_payloads(e)]
            assert payloads and all(p.metadata.get("encoding") == b"binary/encrypted" for p in payloads), sid

    # No orphan blobs: every folder of the blob store belongs to a session row; no partial upload.
    async with db.session_scope(engine) as s:
        all_ids = set((await s.exec(select(SessionRecord.id))).all())
    assert blob_folders(cluster) <= all_ids
    assert not list(cluster.blob_root.rglob("*.partial"))
