"""The local Lambda service: control plane (functions, $LATEST, versions, aliases, layers) in one SQLite database."""
