"""Wallets people keep on the server: keys encrypted at rest, never returned, decrypted only to sign."""
