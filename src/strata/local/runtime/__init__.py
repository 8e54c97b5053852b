"""The local runtime: warm worker processes that run Python handlers the way Lambda's Python runtime does."""
