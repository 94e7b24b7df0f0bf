"""Hostile servers and the attacks they drive against the console, `watch` and the client."""
