"""What the API and the command line share below HTTP: passwords and tokens (security.py)."""
