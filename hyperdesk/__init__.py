"""Hyperdesk: a self-hosted, multi-user trading desk for the Hyperliquid exchange."""

__version__ = "0.1.0"
