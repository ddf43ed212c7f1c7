"""chainoftrust: an executable specification of the chain of trust."""

__version__ = "0.1.0"
