"""Pure logic and single components: no Temporal server, no database server, no worker processes."""
