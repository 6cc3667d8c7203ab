"""The trusted side of the bot boundary: sandboxed bot processes and their strict channel.

`launcher` starts a bot (bwrap or the weak process sandbox), `channel` frames and decodes what
it sends, `messages` validates each message. What runs inside the sandbox is hyperdesk.bots.
See docs/bots-sandbox.md.
"""
