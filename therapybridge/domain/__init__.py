"""Pure logic, no I/O: merging words with speakers, roles, notes, risk flags, note formats, sign-off rules."""
