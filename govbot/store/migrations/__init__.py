"""Alembic migrations, run programmatically by ``govbot migrate`` (and at start-up)."""
