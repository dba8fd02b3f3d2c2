"""Audio and models: ffmpeg decoding, Silero VAD, faster-whisper (or OpenAI) transcription, diarization."""
