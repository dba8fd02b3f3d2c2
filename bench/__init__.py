"""Benchmarks that print numbers (quality, notes, throughput, API load), each run as `python -m bench.NAME`."""
