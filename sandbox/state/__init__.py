"""The server's state: one ``System`` object that both fronts (TCP and HTTP) call.

No bytes and no sockets here: handlers decode requests into typed values, call a method,
and encode what it returns. Errors are raised as ``IggyError``.
"""
