"""The bundled Whisper models: joining the base model's halves once into a verified cache, and refusing
files that do not match their pinned sha256 (fake tiny halves; one check of the real packages)."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from temporalio.converter import DataConverter

from therapybridge import messages as m
from therapybridge.activities.save import build_document
from therapybridge.blobs import BlobStore
from therapybridge.settings import Settings
from therapybridge.speech.asr.factory import asr_language, whisper_config
from therapybridge.speech.models import (
    BASE_MODEL_SHA256,
    ModelIntegrityError,
    ModelUnavailable,
    SplitModel,
    ensure_joined,
    resolve_asr_model,
    sha256_file,
)
from therapybridge.workflows.session import _note_model


def fake_model(root: Path, part2: bytes = b"second half") -> SplitModel:
    """Two tiny halves and a config, with the hashes of the intended (uncorrupted) content."""
    src = root / "pkg"
    src.mkdir(exist_ok=True)
    (src / "model.bin.part1").write_bytes(b"first half|")
    (src / "model.bin.part2").write_bytes(part2)
    (src / "config.json").write_bytes(b"{}")
    return SplitModel(
        name="fake",
        parts=(src / "model.bin.part1", src / "model.bin.part2"),
        model_sha256=hashlib.sha256(b"first half|second half").hexdigest(),
        side_files={src / "config.json": hashlib.sha256(b"{}").hexdigest()},
    )


def test_halves_are_joined_once_in_order(tmp_path: Path) -> None:
    model = fake_model(tmp_path)
    folder = ensure_joined(model, tmp_path / "cache")
    assert (folder / "model.bin").read_bytes() == b"first half|second half"
    assert (folder / "config.json").read_bytes() == b"{}"
    mtime = (folder / "model.bin").stat().st_mtime_ns
    assert ensure_joined(model, tmp_path / "cache") == folder
    assert (folder / "model.bin").stat().st_mtime_ns == mtime  # verified, not rewritten
    assert sorted(p.name for p in folder.iterdir()) == ["config.json", "model.bin"]  # no temp files left


def test_a_corrupt_half_is_a_clear_error_and_leaves_nothing(tmp_path: Path) -> None:
    model = fake_model(tmp_path, part2=b"second hal!")
    with pytest.raises(ModelIntegrityError, match=f"does not match the pinned {model.model_sha256}"):
        ensure_joined(model, tmp_path / "cache")
    folder = tmp_path / "cache" / model.folder_name
    assert not (folder / "model.bin").exists()
    assert [p.name for p in folder.iterdir()] == ["config.json"]  # the good side file; no temp files


def test_a_corrupt_side_file_is_refused(tmp_path: Path) -> None:
    model = fake_model(tmp_path)
    next(iter(model.side_files)).write_bytes(b"{ }")
    with pytest.raises(ModelIntegrityError, match=r"config\.json"):
        ensure_joined(model, tmp_path / "cache")


def test_a_damaged_cache_is_rebuilt_from_the_packages(tmp_path: Path) -> None:
    model = fake_model(tmp_path)
    folder = ensure_joined(model, tmp_path / "cache")
    (folder / "model.bin").write_bytes(b"truncated")
    ensure_joined(model, tmp_path / "cache")
    assert (folder / "model.bin").read_bytes() == b"first half|second half"


def test_a_missing_half_says_which(tmp_path: Path) -> None:
    model = fake_model(tmp_path)
    model.parts[1].unlink()
    with pytest.raises(ModelUnavailable, match=r"model\.bin\.part2 is missing"):
        ensure_joined(model, tmp_path / "cache")


def test_the_installed_base_model_joins_to_the_pinned_hash(tmp_path: Path) -> None:
    base = resolve_asr_model("base", tmp_path)
    folder = Path(base.path)
    assert sha256_file(folder / "model.bin") == BASE_MODEL_SHA256
    assert {"config.json", "tokenizer.json", "vocabulary.txt"} <= {p.name for p in folder.iterdir()}
    assert base.name == "whisper-base" and BASE_MODEL_SHA256 in base.version
    assert resolve_asr_model("base", tmp_path) is base  # once per process


def test_model_settings() -> None:
    cfg = whisper_config(Settings())
    assert cfg.model == "base" and cfg.language == "en"  # the bundled base, forced to English
    assert resolve_asr_model("tiny.en").name == "whisper-tiny.en"
    assert asr_language("auto") is None and asr_language("") is None and asr_language("DE") == "de"
    with pytest.raises(ModelUnavailable, match="not found"):
        resolve_asr_model("/nonexistent/model")


def test_results_recorded_before_the_models_field_still_decode() -> None:
    """Running workflow histories hold results without `model`/`vad`: they decode with None."""
    conv = DataConverter.default.payload_converter
    old = {"index": 0, "ref": "s/windows/0000.json", "words": 3, "language": "en", "seconds": 1.0}
    (window,) = conv.from_payloads(conv.to_payloads([old]), [m.WindowResult])
    assert window == m.WindowResult(0, "s/windows/0000.json", 3, "en", 1.0, None)
    new = m.WindowResult(0, "r", 3, "en", 1.0, m.ModelInfo("whisper-base", "sha256 d01c"))
    assert conv.from_payloads(conv.to_payloads([new]), [m.WindowResult]) == [new]
    save = m.SaveRequest(session=m.SessionInput("s", "s/upload.wav", "a.wav"), status="processed")
    save.models["asr"] = new.model  # type: ignore[assignment]
    assert conv.from_payloads(conv.to_payloads([save]), [m.SaveRequest]) == [save]


def test_the_record_names_every_model_a_stage_used(tmp_path: Path) -> None:
    save = m.SaveRequest(session=m.SessionInput("s", "s/upload.wav", "a.wav"), status="processed")
    base, tiny = m.ModelInfo("whisper-base", "b"), m.ModelInfo("whisper-tiny.en", "t")
    _note_model(save, "asr", base, None, base)
    assert save.models["asr"] == base
    _note_model(save, "asr", base, tiny, base)  # windows from workers with different models
    assert save.models["asr"] == m.ModelInfo("whisper-base + whisper-tiny.en", "b + t")
    _note_model(save, "diarizer", None)  # diarization unavailable: no entry
    assert "diarizer" not in save.models
    doc = build_document(save, BlobStore(tmp_path))
    assert doc.models.asr is not None and doc.models.asr.name == "whisper-base + whisper-tiny.en"
    assert doc.models.diarizer is None
