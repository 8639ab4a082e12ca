"""Parity with Apache Iggy: the same scenarios against the real server and the sandbox.

The scenarios (``tests.parity.scenarios``) drive a server the way the course does: through
the apache-iggy SDK (results and errors; over TCP, and over HTTP with ``HttpConfig``) and
with plain HTTP requests (status, the headers that matter, bodies). Every request and its
answer is one *exchange*.

``python -m tests.parity.record`` runs them against a real Iggy server and writes its answers
as golden files (``tests/parity/golden``, our own recordings). ``tests/test_parity.py``
replays the scenarios against a fresh sandbox and fails on any difference that
``tests.parity.deliberate`` does not list with its reason.
"""
