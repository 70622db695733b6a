"""govbot: a Git-backed governance and trademark workflow bot."""

__version__ = "0.1.0"
