"""The binary protocol of Iggy 0.9: frames, primitives and message batches."""
