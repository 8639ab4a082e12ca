"""The classic producer and consumer scripts (run them from the repository root)."""
