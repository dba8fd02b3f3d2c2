"""The running stack a test gets from the `stack` fixture (tests/conftest.py): settings, client, servers."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from pathlib import Path

from temporalio.client import Client, WorkflowHandle

from tests.support.harness import Postgres, TemporalDevServer
from therapybridge import db
from therapybridge import messages as m
from therapybridge.blobs import BlobStore
from therapybridge.document import SessionDocument
from therapybridge.settings import Settings
from therapybridge.temporal import start_session


@dataclass
class Stack:
    settings: Settings
    env: dict[str, str]
    client: Client
    workdir: Path
    temporal: TemporalDevServer
    postgres: Postgres

    @property
    def blobs(self) -> BlobStore:
        return BlobStore(self.settings.blob_dir)

    def stage_upload(self, audio: Path, name: str | None = None) -> m.SessionInput:
        session_id = str(uuid.uuid4())
        key = self.blobs.add_upload(session_id, audio, name or audio.name)
        return m.SessionInput(session_id=session_id, upload_ref=key, audio_filename=name or audio.name)

    async def start(self, inp: m.SessionInput, settings: Settings | None = None) -> WorkflowHandle:
        return await start_session(self.client, settings or self.settings, inp)

    async def document(self, session_id: str) -> SessionDocument | None:
        return await db.get_session_document(session_id)
