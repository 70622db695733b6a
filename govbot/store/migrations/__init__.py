"""Alembic migrations, frozen once released.

Each version spells out the columns it creates instead of importing the
models: a migration must keep meaning what it meant when it shipped, so
repeating a column's shape here (and the ``duplicates`` tool pairing it with
govbot/store/models.py) is on purpose.
"""
