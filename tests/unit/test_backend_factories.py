"""The backend factories: Settings in, one small frozen config out, one backend per process and config.
No model is loaded here (the OpenAI client connects only when called)."""

from __future__ import annotations

from therapybridge import notes_engine
from therapybridge.settings import Settings
from therapybridge.speech.asr.factory import asr_config, get_transcriber, whisper_config
from therapybridge.speech.asr.faster_whisper import WhisperConfig
from therapybridge.speech.asr.openai import OpenAIAsrConfig, OpenAITranscriber
from therapybridge.speech.diarization.embedded import EmbeddedConfig
from therapybridge.speech.diarization.factory import diarizer_config, model_info
from therapybridge.speech.diarization.pyannote import PyannoteConfig


def test_asr_provider_picks_the_backend_and_its_config() -> None:
    assert isinstance(asr_config(Settings()), WhisperConfig)
    assert asr_config(Settings()) == whisper_config(Settings())
    cfg = asr_config(
        Settings(asr_provider="openai", openai_api_key="sk-secret", openai_transcribe_model="m1", asr_language="auto")
    )
    assert cfg == OpenAIAsrConfig("m1", api_key="sk-secret", timeout_s=120.0, language=None)
    assert "sk-secret" not in repr(cfg)  # configs end up in logs and tracebacks
    transcriber = get_transcriber(cfg)
    assert isinstance(transcriber, OpenAITranscriber) and get_transcriber(cfg) is transcriber
    assert transcriber.model_info.name == "m1"


def test_diarizer_setting_picks_the_backend_and_its_config() -> None:
    assert diarizer_config(Settings()) == EmbeddedConfig()
    cfg = diarizer_config(Settings(diarizer="pyannote", pyannote_checkpoint="/x/pipe", hf_token="hf-secret"))
    assert cfg == PyannoteConfig("/x/pipe", hf_token="hf-secret") and "hf-secret" not in repr(cfg)
    assert model_info(cfg).name == "pyannote" and "pipe" in model_info(cfg).version
    assert model_info(EmbeddedConfig()).name == "embedded"


def test_notes_provider_picks_the_engine() -> None:
    assert notes_engine.notes_config(Settings()) == notes_engine.NotesConfig("local")
    cfg = notes_engine.notes_config(Settings(openai_api_key="sk-secret", openai_model="llm"), provider="openai")
    assert cfg.provider == "openai" and cfg.llm is not None and cfg.llm.model == "llm"
    assert "sk-secret" not in repr(cfg)
    assert notes_engine.model_info(cfg, "openai").name == "llm"
    assert notes_engine.model_info(cfg, "local").name == "local extractor"  # an LLM failure fell back
