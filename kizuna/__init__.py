"""Kizuna: a federated, self-hostable social server."""

__version__ = "0.1.0"
