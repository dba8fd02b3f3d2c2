"""The gpu worker: transcription windows and diarization (task queue `therapybridge-gpu`), models
loaded once per process. Run with `python -m therapybridge.worker_gpu`."""
