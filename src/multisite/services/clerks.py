"""Clerks (登记窗口) and the audit chain: ``clerk add|list|disable`` and ``audit verify``.

A clerk is the name a person authenticates as — the PostgreSQL role of their connection, the
OS user on SQLite — with a region (province, city or county code: containment by prefix) and a
role. Only an admin adds or disables clerks; on PostgreSQL adding one grants its role what a
clerk needs (``storage.security``) and disabling takes it away, in the same transaction.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..domain import identifiers as ids
from ..domain.text import NAME_TEXT
from ..i18n import _
from ..storage import queries as q
from ..storage import security
from ..storage.audit import ChainBreak, verify_chain
from ..storage.models import Clerk, utcnow
from .registry import (
    ROLES,
    FieldError,
    RegistryCore,
    ServiceError,
    require_region_code,
    stored_texts,
)


@dataclass(frozen=True)
class ClerkView:
    name: str
    region: str | None
    region_name: str
    role: str
    enabled: bool
    created_at: str
    created_by: str


class Clerks(RegistryCore):
    def add_clerk(self, name: str, region: str, role: str) -> str:
        """Add a clerk (or change a stored one's region and role, enabling it); returns
        ``created`` or ``updated``."""
        acting = self.require_role("admin")
        name = name.strip()
        if not name:
            raise FieldError(_("The clerk's name is empty."), "name")
        stored_texts(("name", NAME_TEXT, _("The clerk's name"), name, "clerk"))
        if role not in ROLES:
            raise FieldError(
                _("Role {role} is not one of {allowed}.").format(
                    role=role, allowed=", ".join(ROLES)
                ),
                "role",
            )
        region = ids.clean(region)
        require_region_code(region)
        with self.db.write() as s:
            connection = s.connection()
            postgres = connection.dialect.name == "postgresql"
            if postgres and not security.role_exists(connection, name):
                raise ServiceError(
                    _(
                        "There is no PostgreSQL role {name}: create it first (CREATE ROLE … LOGIN), "
                        "then add the clerk."
                    ).format(name=name)
                )
            old = q.clerk_by_name(s, name)
            before = _snapshot(old) if old is not None else None
            if old is None:
                old = Clerk(name=name, created_by=acting.name, created_at=utcnow())
                s.add(old)
            old.region_code, old.role, old.enabled = region, role, True
            s.flush()
            self._audit(s, "create" if before is None else "update", "clerk", name, before,
                        _snapshot(old))  # fmt: skip
            if postgres and name != acting.principal:
                security.grant_clerk(connection, name)
        self._acting = None
        return "created" if before is None else "updated"

    def disable_clerk(self, name: str) -> None:
        """Disable a clerk: they write nothing from now on (their audit rows stay)."""
        self.require_role("admin")
        with self.db.write() as s:
            old = q.clerk_by_name(s, name.strip())
            if old is None:
                raise ServiceError(_("Unknown clerk {name}.").format(name=name))
            if not old.enabled:
                raise ServiceError(_("Clerk {name} is already disabled.").format(name=name))
            if old.role == "admin" and not [
                c for c in q.clerks(s) if c.enabled and c.role == "admin" and c.name != old.name
            ]:
                raise ServiceError(
                    _("{name} is the last admin: add another admin before disabling them.").format(
                        name=name
                    )
                )
            before = _snapshot(old)
            old.enabled = False
            s.flush()
            self._audit(s, "disable", "clerk", old.name, before, _snapshot(old))
            connection = s.connection()
            if connection.dialect.name == "postgresql" and security.role_exists(
                connection, old.name
            ):
                security.revoke_clerk(connection, old.name)
        self._acting = None

    def clerk_list(self) -> list[ClerkView]:
        with self.db.read() as s:
            return [
                ClerkView(
                    c.name, c.region_code, self.region_name(c.region_code), c.role, c.enabled,
                    c.created_at.isoformat(sep=" "), c.created_by,
                )
                for c in q.clerks(s)
            ]  # fmt: skip

    def verify_audit(self) -> tuple[int, ChainBreak | None]:
        """Recompute the audit chain: (rows checked, the first break or None)."""
        with self.db.read() as s:
            return verify_chain(s)


def _snapshot(clerk: Clerk) -> dict[str, object]:
    return {"region": clerk.region_code, "role": clerk.role, "enabled": clerk.enabled}
