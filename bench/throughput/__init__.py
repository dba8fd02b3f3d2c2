"""bench.throughput: the pipeline next to plain faster-whisper on a long session; run `python -m bench.throughput`."""
