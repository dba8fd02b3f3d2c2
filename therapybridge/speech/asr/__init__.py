"""Transcription backends behind one Protocol (base.py), picked by factory.py: faster-whisper or the OpenAI API."""
