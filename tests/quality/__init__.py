"""Quality floors on the corpus (WER, DER, notes, risk, skill labels): the numbers a change must not lose."""
