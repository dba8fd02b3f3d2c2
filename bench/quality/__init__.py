"""bench.quality: who-said-what quality over a corpus with truth; run `python -m bench.quality`."""
