"""The bot engine's trusted side: bot definitions, and the policy the engine's actors run.

``capital`` (the capital rule) and ``restart_policy`` (supervision decisions) are pure: no I/O,
no threads; the actors own state and run them. ``hyperdesk/bots`` is the other side of the
boundary: the code that runs inside a bot's sandboxed process and is never trusted.
"""
