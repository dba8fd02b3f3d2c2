"""Audio and speech models: ffmpeg (audio.py), Silero VAD (vad.py), transcription (asr/), diarization."""
