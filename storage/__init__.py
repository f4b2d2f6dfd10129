"""Lan Tỏa's database: migrations and parameterised queries over plain models.

Nothing here imports from `bot` or `handlers`; a PostgreSQL backend could implement the same
functions over its own `Tx`.
"""
