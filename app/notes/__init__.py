"""Notes app: a tiny model with a JSON API."""
