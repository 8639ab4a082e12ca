"""Network fronts of the sandbox: the binary TCP protocol."""
