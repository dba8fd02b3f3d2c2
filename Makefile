# TherapyBridge: `make demo` processes the sample recording end to end; `make test` runs the tests.
# Both set everything up first (idempotent): Debian packages, .venv, the Temporal CLI.
.PHONY: setup demo test lint bench-stages

setup:
	scripts/setup.sh

demo: setup
	mkdir -p out
	.venv/bin/therapybridge process samples/session-sample.flac --json out/demo-session.json

# The tests also cover the optional pyannote.audio backend, so they install its extra.
test:
	scripts/setup.sh gpu,dev,pyannote
	.venv/bin/python -m pytest -ra

lint: setup
	.venv/bin/ruff check therapybridge tests bench

bench-stages: setup
	.venv/bin/python -m bench.stages ../shared/corpus/synthetic/d01.flac
