"""Resemblyzer speaker embeddings on sliding windows, batched, volume-normalised.

We load Resemblyzer's shipped encoder weights into an identical torch module instead of importing
`resemblyzer` itself: its package import pulls in webrtcvad → pkg_resources (setuptools), which modern
venvs lack, and we need none of its preprocessing. The mel front end reproduces
`resemblyzer.audio.wav_to_mel_spectrogram` (librosa defaults: power mel, 25 ms Hann window, 10 ms hop,
40 Slaney mel bands, zero-padded centred frames) with torch.stft so it runs fast on long audio.
"""

from __future__ import annotations

import importlib.util
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn

SAMPLE_RATE = 16000
HOP = 160  # 10 ms mel hop
N_FFT = 400  # 25 ms window
N_MELS = 40
FRAME_S = HOP / SAMPLE_RATE
# Resemblyzer normalises utterances to -30 dBFS; its mel is linear power, so loudness leaks into the
# embedding unless every window is brought to the same level.
TARGET_DBFS = -30.0
TARGET_POWER = 10 ** (TARGET_DBFS / 10)


def limit_cpu_threads() -> None:
    """Half the cores for torch on CPU. Diarization runs beside transcription on the same worker;
    with every core each, torch's OpenMP threads spin against CTranslate2's and the small LSTM
    batches run 5-10x slower (measured on 2 cores: 1 thread 2 s, 2 threads 20-40 s under load)."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    torch.set_num_threads(min(torch.get_num_threads(), max(1, cores // 2)))


def _weights_path() -> Path:
    spec = importlib.util.find_spec("resemblyzer")  # locates the package without executing it
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("resemblyzer is not installed (pip install 'therapybridge[gpu]')")
    return Path(next(iter(spec.submodule_search_locations))) / "pretrained.pt"


class _Encoder(nn.Module):
    """Same layout as resemblyzer.VoiceEncoder: 3-layer LSTM → linear → ReLU → L2 norm."""

    def __init__(self) -> None:
        super().__init__()
        self.lstm = nn.LSTM(N_MELS, 256, 3, batch_first=True)
        self.linear = nn.Linear(256, 256)
        self.relu = nn.ReLU()

    def forward(self, mels: torch.Tensor) -> torch.Tensor:
        _, (hidden, _) = self.lstm(mels)
        raw = self.relu(self.linear(hidden[-1]))
        return raw / torch.norm(raw, dim=1, keepdim=True).clamp_min(1e-8)


def _mel_filterbank() -> np.ndarray:
    import librosa  # a resemblyzer dependency; only its filter design is used

    return librosa.filters.mel(sr=SAMPLE_RATE, n_fft=N_FFT, n_mels=N_MELS).astype(np.float32)


@dataclass(frozen=True)
class Features:
    """Mel frames of one audio block plus each frame's mean signal power (for volume normalisation)."""

    mel: np.ndarray  # (frames, 40) linear power mel
    power: np.ndarray  # (frames,) mean squared amplitude around each frame


class SpeakerEncoder:
    """Loads the encoder once; thread-safe inference (torch modules are, under no_grad)."""

    def __init__(self, device: str = "cpu") -> None:
        self.device = torch.device(device)
        if self.device.type == "cpu":
            limit_cpu_threads()
        checkpoint = torch.load(_weights_path(), map_location="cpu", weights_only=False)
        self.model = _Encoder()
        self.model.load_state_dict(checkpoint["model_state"], strict=False)
        self.model.eval().to(self.device)
        self._fbank = torch.from_numpy(_mel_filterbank())
        self._window = torch.hann_window(N_FFT)

    def features(self, audio: np.ndarray) -> Features:
        """Mel frames at 10 ms: frame i is centred on sample i * HOP, like librosa."""
        x = torch.from_numpy(np.ascontiguousarray(audio, dtype=np.float32))
        if x.numel() < N_FFT // 2 + 1:
            x = torch.nn.functional.pad(x, (0, N_FFT // 2 + 1 - x.numel()))
        spec = torch.stft(
            x, N_FFT, HOP, window=self._window, center=True, pad_mode="constant", return_complex=True
        )
        power_spec = spec.abs() ** 2  # (freq, frames)
        mel = (self._fbank @ power_spec).T.contiguous().numpy()
        # Signal power per frame, from the same STFT (Parseval; Hann window energy ≈ 3/8 · N).
        frame_power = power_spec.sum(0).numpy() * 2 / (N_FFT * N_FFT * 0.375)
        return Features(mel=mel, power=frame_power.astype(np.float32))

    def embed_indices(self, feats: Features, idx: np.ndarray, batch: int = 128) -> np.ndarray:
        """Embeddings of windows given as rows of mel-frame indices (n_windows, n_frames).

        Each window is scaled to the target power (measured on its louder half, so pauses inside the
        window do not inflate the gain): a quiet and a loud take of one voice embed alike.
        """
        if len(idx) == 0:
            return np.zeros((0, 256), dtype=np.float32)
        idx = np.clip(idx, 0, len(feats.mel) - 1)
        half = idx.shape[1] // 2
        out = []
        for b in range(0, len(idx), batch):
            chunk = idx[b : b + batch]
            level = np.sort(feats.power[chunk], axis=1)[:, half:].mean(axis=1)
            gain = (TARGET_POWER / np.maximum(level, 1e-10)).astype(np.float32)
            mels = feats.mel[chunk] * gain[:, None, None]
            with torch.inference_mode():
                t = torch.from_numpy(np.ascontiguousarray(mels, dtype=np.float32)).to(self.device)
                out.append(self.model(t).cpu().numpy())
        return np.concatenate(out).astype(np.float32)
