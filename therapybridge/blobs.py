"""The blob store: a directory (a shared volume when workers run on several hosts).

Keys are relative paths `<session_id>/<name>`; Temporal history carries keys, never content.
Writes are atomic (temp file + rename) so a retried activity never reads half a file.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel


class BlobStore:
    def __init__(self, root: Path) -> None:
        self.root = root.resolve()
        self.root.mkdir(parents=True, exist_ok=True)

    def path(self, key: str) -> Path:
        p = (self.root / key).resolve()
        if self.root not in p.parents:
            raise ValueError("blob key escapes the store")
        return p

    def exists(self, key: str) -> bool:
        return self.path(key).exists()

    def write_bytes(self, key: str, data: bytes) -> str:
        target = self.path(key)
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".tmp-")
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return key

    def write_json(self, key: str, obj: Any) -> str:
        if isinstance(obj, BaseModel):
            data = obj.model_dump_json().encode()
        else:
            data = json.dumps(obj, default=_default).encode()
        return self.write_bytes(key, data)

    def add_upload(self, session_id: str, src: Path, filename: str) -> str:
        """Copy an audio file in as the session's upload (atomically, like every write); its key."""
        key = upload_key(session_id, filename)
        target = self.path(key)
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".tmp-")
        os.close(fd)
        try:
            shutil.copyfile(src, tmp)
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return key

    def read_json(self, key: str) -> Any:
        return json.loads(self.path(key).read_bytes())

    def delete(self, key: str) -> None:
        self.path(key).unlink(missing_ok=True)

    def delete_session(self, session_id: str) -> None:
        """Delete means delete: every blob of the session."""
        shutil.rmtree(self.path(session_id), ignore_errors=True)

    def session_keys(self, session_id: str) -> list[str]:
        base = self.path(session_id)
        if not base.exists():
            return []
        return sorted(str(p.relative_to(self.root)) for p in base.rglob("*") if p.is_file())


def _default(o: Any) -> Any:
    if isinstance(o, BaseModel):
        return o.model_dump(mode="json")
    raise TypeError(f"not JSON serialisable: {type(o).__name__}")


def upload_key(session_id: str, filename: str) -> str:
    """Uploads keep only their extension: file names can be patient data."""
    return f"{session_id}/upload{Path(filename).suffix.lower()}"


@dataclass(frozen=True)
class SessionKeys:
    """Every blob key of one session, named in one place (the activities write them, the save keeps some)."""

    session_id: str

    @property
    def audio(self) -> str:  # 16 kHz mono WAV the models read
        return f"{self.session_id}/audio16k.wav"

    @property
    def vad(self) -> str:
        return f"{self.session_id}/vad.json"

    def window(self, index: int) -> str:
        return f"{self.session_id}/windows/{index:04d}.json"

    @property
    def diarization(self) -> str:
        return f"{self.session_id}/diarization.json"

    @property
    def merged(self) -> str:
        return f"{self.session_id}/merged.json"

    @property
    def notes(self) -> str:
        return f"{self.session_id}/notes.json"

    @property
    def edited_transcript(self) -> str:  # a corrected transcript staged for re-notes (RenotesWorkflow)
        return f"{self.session_id}/edited-transcript.json"

    def stage_results(self) -> set[str]:
        """What a processed session keeps: the results a reprocess or review reads back."""
        return {self.merged, self.notes, self.diarization}

    def is_upload(self, key: str) -> bool:
        return key.startswith(f"{self.session_id}/upload")
