"""Hyperliquid's rules, shared by both sides of the wire.

Tick, lot and significant-figure rules, cloid syntax and the bounds on decimal numbers are facts
of the protocol, not of our client: the client (`hyperdesk.exchange`), the HTTP layer and the
paper exchange (`hyperdesk.paper`) all import them from here, and the paper exchange depends on
nothing of the client.
"""
