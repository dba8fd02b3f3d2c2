"""The io worker: workflow code plus validate, preprocess, merge, notes and save (task queue
`therapybridge-io`). Run with `python -m therapybridge.worker_io`."""
