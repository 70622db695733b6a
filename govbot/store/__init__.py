"""Persistence: SQLModel tables, the engine, the inbox queue, migrations."""
