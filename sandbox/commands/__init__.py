"""Binary command handlers, one module per family, registered in ``registry.COMMANDS``."""
