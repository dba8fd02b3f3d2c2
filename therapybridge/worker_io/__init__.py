"""The io worker (task queue `therapybridge-io`): workflow code plus validate, preprocess, merge, notes, save.

Run with `python -m therapybridge.worker_io`."""
