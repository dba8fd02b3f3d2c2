"""The cluster fixture: started once for the cluster tests, stopped at the end (tests/support/cluster.py)."""

from __future__ import annotations

import subprocess
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
import pytest_asyncio

from tests.support.cluster import Cluster, start_cluster


@pytest_asyncio.fixture(scope="session")
async def cluster() -> AsyncIterator[Cluster]:
    async with start_cluster() as the_cluster:
        yield the_cluster


@pytest.fixture(scope="session")
def cluster_audio(corpus: Path, cluster: Cluster) -> dict[str, Path]:
    """Short recordings cut from the synthetic corpus (two speakers each): 20 s and 60 s clips."""
    out = cluster.workdir / "audio"
    out.mkdir(exist_ok=True)
    clips: dict[str, Path] = {}
    for name, src, seconds in [
        *((f"short-{i}", f"d0{i}", 20) for i in (1, 2, 3, 4, 6, 8)),
        *((f"long-{i}", f"d0{i}", 60) for i in (1, 2, 3, 4)),
    ]:
        path = out / f"{name}.flac"
        subprocess.run(
            ["ffmpeg", "-hide_banner", "-nostdin", "-v", "error", "-y", "-i", str(corpus / "synthetic" / f"{src}.flac"),
             "-t", str(seconds), "-ac", "1", "-ar", "16000", str(path)],
            check=True, timeout=120,
        )  # fmt: skip
        clips[name] = path
    return clips


@pytest.fixture(scope="module")
async def account(cluster: Cluster) -> tuple[str, str, str]:
    """(token, patient id, therapist id) of one therapist."""
    token, patient_id = await cluster.gateway.account()
    async with httpx.AsyncClient(base_url=cluster.gateway.base_url, timeout=30) as c:
        r = await c.get("/api/auth/me", headers={"Authorization": f"Bearer {token}"})
        r.raise_for_status()
        return token, patient_id, str(r.json()["id"])
