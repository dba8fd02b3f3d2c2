"""TherapyBridge: recorded therapy sessions → speaker-attributed transcripts, notes and safety flags."""
