"""Test helpers shared across the suite: the local OpenAI-compatible stub server and its fixture."""
