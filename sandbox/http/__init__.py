"""The HTTP REST subset of Iggy 0.9 (aiohttp)."""
