"""Where state lives: append-only segment files per partition, consumer offset files and
one metadata file replaced atomically. ``--in-memory`` swaps files for byte buffers behind
the same interfaces."""
