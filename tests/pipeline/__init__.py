"""The whole pipeline through real processes: dev server, workers, Postgres, the CLI, the LLM server."""
