"""Alembic migrations of the multisite schema (shipped in the wheel as multisite.migrations)."""
