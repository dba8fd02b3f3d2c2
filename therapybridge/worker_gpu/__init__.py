"""The gpu worker (task queue `therapybridge-gpu`): transcription windows and diarization.

Models are loaded once per process. Run with `python -m therapybridge.worker_gpu`."""
