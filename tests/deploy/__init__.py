"""The deployment: compose file, health checks, systemd units, and the production cluster (cluster/)."""
