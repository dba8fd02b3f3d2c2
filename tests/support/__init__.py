"""The one harness shared by tests and bench: servers, workers, gateways, API clients, histories."""
