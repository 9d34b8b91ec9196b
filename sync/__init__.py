"""The sync engine: protocol, merge rules and storage of replicated data. Knows nothing of HTTP."""
