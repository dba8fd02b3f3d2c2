"""`python -m therapybridge.cli`: the `therapybridge` command."""

from therapybridge.cli.app import entry

entry()
