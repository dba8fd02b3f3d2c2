"""The one place that turns `Settings` into a diarization backend: DIARIZER picks the embedded
diarizer or pyannote, and each backend gets only its own small frozen config.

    get_diarizer(diarizer_config(get_settings()))

One diarizer per process, configuration and torch device, loaded on first use.
"""

from __future__ import annotations

import threading

from therapybridge.messages import ModelInfo
from therapybridge.settings import Settings
from therapybridge.speech.diarization.base import Diarizer
from therapybridge.speech.diarization.embedded import EmbeddedConfig, EmbeddedDiarizer
from therapybridge.speech.diarization.pyannote import PyannoteConfig, PyannoteDiarizer
from therapybridge.speech.models import diarizer_model_info

DiarizationConfig = EmbeddedConfig | PyannoteConfig


def diarizer_config(s: Settings) -> DiarizationConfig:
    """The configured backend's config (DIARIZER, PYANNOTE_CHECKPOINT, HF_TOKEN)."""
    if s.diarizer == "pyannote":
        return PyannoteConfig(checkpoint=s.pyannote_checkpoint, hf_token=s.hf_token)
    return EmbeddedConfig()


def model_info(cfg: DiarizationConfig) -> ModelInfo:
    """What the session document records as models.diarizer (no model is loaded for it)."""
    if isinstance(cfg, PyannoteConfig):
        return diarizer_model_info("pyannote", cfg.checkpoint)
    return diarizer_model_info("embedded")


_lock = threading.Lock()
_cache: dict[tuple[DiarizationConfig, str], Diarizer] = {}


def get_diarizer(cfg: DiarizationConfig) -> Diarizer:
    """The backend for `cfg` on the torch device here, built on first use and kept for the process.
    pyannote.audio is imported only when selected (an optional extra)."""
    device = _torch_device()
    key = (cfg, device)
    with _lock:
        if key not in _cache:
            if isinstance(cfg, PyannoteConfig):
                _cache[key] = PyannoteDiarizer(cfg, device)
            else:
                _cache[key] = EmbeddedDiarizer(device, cfg)
        return _cache[key]


def _torch_device() -> str:
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"
