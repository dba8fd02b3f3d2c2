"""Diarization backends behind one Protocol (base.py), picked by factory.py: the embedded diarizer or pyannote."""
