"""The HTTP gateway: FastAPI app, dependencies (auth, tenancy), live progress streams and thin routes."""
