"""Forge adapters: the only code that knows GitHub or Gerrit."""
