"""bench.notes: notes and risk quality on the synthetic corpus; run `python -m bench.notes`."""
