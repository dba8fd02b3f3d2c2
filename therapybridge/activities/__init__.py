"""Temporal activities: one thin function per stage around the pure logic in domain/ and speech/.

io worker: validate, preprocess, merge, notes, save. gpu worker: transcribe_window, diarize.
"""
