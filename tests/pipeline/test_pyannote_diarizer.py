"""DIARIZER=pyannote adapter, on a tiny randomly initialised local pipeline the test builds.

Skipped when pyannote.audio is not installed (it is an optional extra). Random weights say nothing
about quality: this checks loading from a local folder, hints, labels, progress and cancellation.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("pyannote.audio")

from tests.support.harness import CORPUS
from therapybridge.settings import Settings
from therapybridge.speech.diarization.pyannote import PyannoteConfig, PyannoteDiarizer, PyannoteUnavailable


def build_tiny_pipeline(folder: Path) -> Path:
    """Random segmentation + x-vector models, a random PLDA, and the config.yaml that ties them."""
    import torch
    from pyannote.audio.core.task import Problem, Resolution, Specifications
    from pyannote.audio.models.embedding.xvector import XVectorMFCC
    from pyannote.audio.models.segmentation.debug import SimpleSegmentationModel

    torch.manual_seed(0)
    folder.mkdir(parents=True, exist_ok=True)

    def save(model: torch.nn.Module, path: Path) -> None:
        ck = {"state_dict": model.state_dict(), "hyper_parameters": dict(model.hparams),
              "pytorch-lightning_version": "2.0.0"}
        model.on_save_checkpoint(ck)  # adds pyannote's architecture and specifications
        torch.save(ck, path)

    seg = SimpleSegmentationModel()
    seg.specifications = Specifications(
        problem=Problem.MONO_LABEL_CLASSIFICATION, resolution=Resolution.FRAME, duration=5.0,
        classes=["a", "b", "c"], powerset_max_classes=2, permutation_invariant=True,
    )
    seg.build()
    save(seg, folder / "segmentation.ckpt")
    emb = XVectorMFCC(dimension=64)
    emb.specifications = Specifications(
        problem=Problem.REPRESENTATION, resolution=Resolution.CHUNK, duration=3.0, classes=None
    )
    emb.build()
    save(emb, folder / "embedding.ckpt")
    rng = np.random.default_rng(0)
    (folder / "plda").mkdir(exist_ok=True)
    np.savez(folder / "plda" / "xvec_transform.npz", mean1=rng.standard_normal(64), mean2=rng.standard_normal(16),
             lda=rng.standard_normal((64, 16)) / 8)
    np.savez(folder / "plda" / "plda.npz", mu=rng.standard_normal(16), tr=np.eye(16), psi=np.linspace(2, 0.1, 16))
    (folder / "config.yaml").write_text(
        "version: 4.0.0\n"
        "pipeline:\n"
        "  name: pyannote.audio.pipelines.SpeakerDiarization\n"
        "  params:\n"
        f"    segmentation: {folder / 'segmentation.ckpt'}\n"
        f"    embedding: {folder / 'embedding.ckpt'}\n"
        f"    plda: {folder / 'plda'}\n"
        "    clustering: VBxClustering\n"
        "params:\n"
        "  segmentation:\n"
        "    min_duration_off: 0.0\n"
        "  clustering:\n"
        "    threshold: 0.6\n"
        "    Fa: 0.07\n"
        "    Fb: 0.8\n"
    )
    return folder


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> tuple[PyannoteDiarizer, Path]:
    wav = CORPUS / "real" / "dev00.wav"
    if not wav.exists():
        pytest.skip(f"corpus not found at {CORPUS}")
    tmp = tmp_path_factory.mktemp("pyannote")
    import ffmpeg

    audio = tmp / "dev00.wav"  # 12 s are enough for plumbing checks and keep the test quick
    ffmpeg.input(str(wav), t=12).output(str(audio), ac=1, ar=16000, acodec="pcm_s16le").global_args(
        "-v", "error").run()
    return PyannoteDiarizer(PyannoteConfig(str(build_tiny_pipeline(tmp / "pipeline"))), "cpu"), audio


def test_turns_from_a_local_pipeline(tiny: tuple[PyannoteDiarizer, Path]) -> None:
    diarizer, audio = tiny
    progress: list[float] = []
    turns = diarizer.diarize(audio, [(0.0, 12.0)], on_progress=progress.append)
    assert turns, "the random pipeline still yields speech turns"
    labels = [t.speaker for t in turns]
    first_seen = list(dict.fromkeys(labels))
    assert first_seen == [f"SPEAKER_{i:02d}" for i in range(len(first_seen))]
    assert all(0.0 <= t.start < t.end <= 12.01 for t in turns)
    assert progress[-1] == 1.0 and progress == sorted(progress) and len(progress) > 3


def test_no_telemetry_leaves_the_host(tiny: tuple[PyannoteDiarizer, Path]) -> None:
    """pyannote.audio 4 reports usage to otel.pyannote.ai by default; the adapter turns that off."""
    metrics = pytest.importorskip("pyannote.audio.telemetry.metrics")
    assert os.environ["PYANNOTE_METRICS_ENABLED"] == "false" and not metrics.is_metrics_enabled()


def test_hints_and_no_speech(tiny: tuple[PyannoteDiarizer, Path]) -> None:
    diarizer, audio = tiny
    assert len({t.speaker for t in diarizer.diarize(audio, [(0.0, 12.0)], max_speakers=1)}) <= 1
    assert diarizer.diarize(audio, []) == []


def test_progress_can_cancel(tiny: tuple[PyannoteDiarizer, Path]) -> None:
    diarizer, audio = tiny

    class Cancelled(Exception):
        pass

    def stop(fraction: float) -> None:
        if fraction > 0.1:
            raise Cancelled

    with pytest.raises(Cancelled):
        diarizer.diarize(audio, [(0.0, 12.0)], on_progress=stop)


def test_missing_checkpoint_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(PyannoteUnavailable, match="not found"):
        PyannoteDiarizer(PyannoteConfig(str(tmp_path / "nope")), "cpu")
    with pytest.raises(PyannoteUnavailable, match="PYANNOTE_CHECKPOINT"):
        PyannoteDiarizer(PyannoteConfig(""), "cpu")


def test_get_diarizer_honours_the_setting(tmp_path: Path) -> None:
    from therapybridge.speech.diarization.factory import diarizer_config, get_diarizer, model_info

    settings = Settings(diarizer="pyannote", pyannote_checkpoint=str(build_tiny_pipeline(tmp_path / "p")))
    first = get_diarizer(diarizer_config(settings))
    assert isinstance(first, PyannoteDiarizer) and get_diarizer(diarizer_config(settings)) is first
    assert model_info(diarizer_config(settings)).name == "pyannote"
    assert model_info(diarizer_config(Settings())).name == "embedded"
