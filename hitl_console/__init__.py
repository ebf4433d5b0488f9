"""hitl-console: a terminal console for supervising AI customer-support agents."""

__version__ = "0.1.0"
