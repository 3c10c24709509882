"""Who the connection is, and what PostgreSQL lets a clerk's role do (defence in depth).

The service checks every write against the clerk's region and role; on PostgreSQL the engine
checks again. A clerk is a database role (``current_user``: password, certificate or peer
authentication are PostgreSQL's) that ``clerk add`` grants:

* SELECT on every table; INSERT, UPDATE, DELETE on the registry's tables, subject to row-level
  security policies by region (revision 0011): a clerk's role writes only institutions located
  in its region and physicians registered there (or whose main institution is there) and what
  belongs to them; policy, staffing, vocabularies, holidays, travel buffers and clerks only as
  an admin;
* only SELECT and INSERT on ``audit_entry`` (and a trigger refuses UPDATE, DELETE and TRUNCATE
  for everyone, the owner included).

The owner (the role that ran ``init``) is not subject to the policies.
"""

from __future__ import annotations

import getpass
from typing import Any

from sqlalchemy import text

CAN = "ms_can_write_county"
CAN_PHYSICIAN = "ms_can_write_physician"
ADMIN = "ms_is_admin"

FUNCTIONS = f"""
CREATE OR REPLACE FUNCTION ms_region_holds(region text, code text) RETURNS boolean
LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE
        WHEN region IS NULL THEN true
        WHEN code IS NULL THEN false
        WHEN right(region, 4) = '0000' THEN left(code, 2) = left(region, 2)
        WHEN right(region, 2) = '00' THEN left(code, 4) = left(region, 4)
        ELSE code = region END
$$;
CREATE OR REPLACE FUNCTION {ADMIN}() RETURNS boolean LANGUAGE sql STABLE AS $$
    SELECT EXISTS (SELECT 1 FROM clerk c
                   WHERE c.name = current_user AND c.enabled AND c.role = 'admin')
$$;
CREATE OR REPLACE FUNCTION {CAN}(code text) RETURNS boolean LANGUAGE sql STABLE AS $$
    SELECT EXISTS (SELECT 1 FROM clerk c WHERE c.name = current_user AND c.enabled AND (
        c.role = 'admin' OR (c.role = 'clerk' AND ms_region_holds(c.region_code, code))))
$$;
CREATE OR REPLACE FUNCTION {CAN_PHYSICIAN}(physician integer) RETURNS boolean
LANGUAGE sql STABLE AS $$
    SELECT {ADMIN}()
        OR NOT EXISTS (SELECT 1 FROM registration r WHERE r.physician_id = physician)
        OR EXISTS (SELECT 1 FROM registration r
                   JOIN institution i ON i.id = r.main_institution_id
                   WHERE r.physician_id = physician
                     AND ({CAN}(r.region_code) OR {CAN}(i.county_code)))
$$;
"""


def _county(institution: str) -> str:
    return f"{CAN}((SELECT i.county_code FROM institution i WHERE i.id = {institution}))"


def _of_registration(registration: str) -> str:
    return (
        f"{CAN_PHYSICIAN}((SELECT r.physician_id FROM registration r WHERE r.id = {registration}))"
    )


# table → who may write a row of it (an SQL expression over the row's columns)
WRITERS = {
    "institution": f"{CAN}(county_code)",
    "physician": f"{CAN_PHYSICIAN}(id)",
    "registration": f"({CAN}(region_code) OR {_county('main_institution_id')})",
    "registration_event": _of_registration("registration_id"),
    "filing": f"({_of_registration('registration_id')} OR {_county('institution_id')})",
    "filing_event": (
        "EXISTS (SELECT 1 FROM filing f WHERE f.id = filing_id AND "
        f"({_of_registration('f.registration_id')} OR {_county('f.institution_id')}))"
    ),
    "agreement": f"({CAN_PHYSICIAN}(physician_id) OR {_county('institution_id')})",
    "work_session": f"({CAN_PHYSICIAN}(physician_id) OR {_county('institution_id')})",
    "credit_listing": (
        f"(CASE WHEN physician_id IS NULL THEN {_county('institution_id')} "
        f"ELSE {CAN_PHYSICIAN}(physician_id) END)"
    ),
    "credit_points": f"{CAN_PHYSICIAN}(physician_id)",
    "feed_token": (
        f"(CASE WHEN physician_id IS NULL THEN {_county('institution_id')} "
        f"ELSE {CAN_PHYSICIAN}(physician_id) END)"
    ),
    **{
        t: f"{ADMIN}()"
        for t in (
            *("policy", "staffing_minimum", "vocabulary_change", "holiday_day"),
            *("travel_buffer", "clerk"),
        )
    },
}
POLICIES = ("ms_read", "ms_insert", "ms_update", "ms_delete")


def install_policies(connection: Any) -> None:
    """Row-level security on the registry's tables (PostgreSQL; revision 0011)."""
    connection.execute(text(FUNCTIONS))
    for table, who in WRITERS.items():
        connection.execute(text(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY"))
        connection.execute(text(f"CREATE POLICY ms_read ON {table} FOR SELECT USING (true)"))
        connection.execute(
            text(f"CREATE POLICY ms_insert ON {table} FOR INSERT WITH CHECK {_p(who)}")
        )
        connection.execute(
            text(
                f"CREATE POLICY ms_update ON {table} FOR UPDATE USING {_p(who)} WITH CHECK {_p(who)}"
            )
        )
        connection.execute(text(f"CREATE POLICY ms_delete ON {table} FOR DELETE USING {_p(who)}"))


def remove_policies(connection: Any) -> None:
    for table in WRITERS:
        for name in POLICIES:
            connection.execute(text(f"DROP POLICY IF EXISTS {name} ON {table}"))
        connection.execute(text(f"ALTER TABLE {table} DISABLE ROW LEVEL SECURITY"))
    for name in (
        f"{CAN_PHYSICIAN}(integer)",
        f"{CAN}(text)",
        f"{ADMIN}()",
        "ms_region_holds(text, text)",
    ):
        connection.execute(text(f"DROP FUNCTION IF EXISTS {name}"))


def _p(expression: str) -> str:
    return (
        expression if expression.startswith("(") and expression.endswith(")") else f"({expression})"
    )


# --- who the connection is ---------------------------------------------------------------------


def os_user() -> str:
    try:
        return getpass.getuser()
    except Exception:  # no user name on this system
        return "unknown"


def principal(connection: Any) -> str:
    """Who authenticated: the PostgreSQL role of the connection, else the OS user."""
    if connection.dialect.name == "postgresql":
        return str(connection.execute(text("SELECT current_user")).scalar_one())
    return os_user()


def role_exists(connection: Any, name: str) -> bool:
    found = connection.execute(text("SELECT 1 FROM pg_roles WHERE rolname = :n"), {"n": name})
    return found.first() is not None


def _ident(connection: Any, name: str) -> str:
    return str(connection.execute(text("SELECT quote_ident(:n)"), {"n": name}).scalar_one())


def grant_clerk(connection: Any, name: str) -> None:
    """Give a clerk's role what a clerk needs (PostgreSQL): see the module's docstring."""
    role = _ident(connection, name)
    schema = _ident(connection, connection.execute(text("SELECT current_schema()")).scalar_one())
    for statement in (
        f"GRANT USAGE ON SCHEMA {schema} TO {role}",
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA {schema} TO {role}",
        f"REVOKE UPDATE, DELETE, TRUNCATE ON audit_entry FROM {role}",
        f"REVOKE INSERT, UPDATE, DELETE ON alembic_version FROM {role}",
        f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA {schema} TO {role}",
    ):
        connection.execute(text(statement))


def revoke_clerk(connection: Any, name: str) -> None:
    """Take a disabled clerk's grants away (PostgreSQL)."""
    role = _ident(connection, name)
    schema = _ident(connection, connection.execute(text("SELECT current_schema()")).scalar_one())
    connection.execute(text(f"REVOKE ALL ON ALL TABLES IN SCHEMA {schema} FROM {role}"))
    connection.execute(text(f"REVOKE ALL ON ALL SEQUENCES IN SCHEMA {schema} FROM {role}"))
