"""One file per model: its config and its `ModelSpec` (models/spec.py), without torch."""
