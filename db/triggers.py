"""Row triggers the migrations create: one AFTER … FOR EACH ROW trigger running ``statements``
(with NEW./OLD. references), in PostgreSQL's form (a plpgsql function of the same name) or
SQLite's."""

from __future__ import annotations

from alembic import op


def create_row_trigger(name: str, event: str, table: str, statements: list[str]) -> None:
    """``CREATE TRIGGER name AFTER event ON table`` running ``statements`` for each row."""
    if op.get_bind().dialect.name == "postgresql":
        body = ";\n  ".join(statements)
        op.execute(
            f"CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$\n"
            f"BEGIN\n  {body};\n  RETURN NULL;\nEND $$"
        )
        op.execute(
            f"CREATE TRIGGER {name} AFTER {event} ON {table} FOR EACH ROW EXECUTE FUNCTION {name}()"
        )
    else:
        body = "".join(f"{s};\n" for s in statements)
        op.execute(f"CREATE TRIGGER {name} AFTER {event} ON {table} FOR EACH ROW BEGIN\n{body}END")


def drop_row_trigger(name: str, table: str) -> None:
    """Drop what :func:`create_row_trigger` made."""
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"DROP TRIGGER IF EXISTS {name} ON {table}")
        op.execute(f"DROP FUNCTION IF EXISTS {name}()")
    else:
        op.execute(f"DROP TRIGGER IF EXISTS {name}")
