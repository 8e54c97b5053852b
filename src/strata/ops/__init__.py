"""Operating deployed versions: ``rollback`` (move an alias back, checked, pinned) and ``prune`` (delete versions and
layer versions nothing needs). Both work through a boto3-style Lambda client, so the same code serves the local
engine (``strata.local.engine.client.LocalLambdaClient``) and AWS (boto3's client); the local target adds what only the
engine's state knows (alias history, pins, the stack's own resources)."""
