"""A pure-Python server that speaks Apache Iggy 0.9.0's binary protocol and HTTP API.

It lets the course (and its tests) run where no Docker engine or real Iggy server exists.
Start it with ``python -m sandbox --help``.
"""

IGGY_VERSION = "0.9.0"
__version__ = f"{IGGY_VERSION}-sandbox"
