"""The service layer: every read and write of the CLI, the TUI, the import, the demo and the feed.

:class:`Registry` is the one object callers hold. It joins the services of each aggregate —
regions and policy, institutions, physicians, their registrations (suspend, cancel, reinstate),
agreements with their filings (备案), the credit register (诚信/黑名单), the region sweep —
which all stand on :class:`~multisite.services.registry.RegistryCore` (database, clerk, audit
row, rule context). They are mixins of one core rather than separate objects so callers keep
one handle and one set of method names, while each aggregate's writes live in a module of its
own. Reports and exports (``validation_base``, ``calendars``, ``views``, ``search``) and the
batch paths (``imports``, ``demo``, ``backup``) are modules beside them that take a Registry.
"""

from __future__ import annotations

from ..domain.inputs import AgreementInput, InstitutionInput, ListingInput, PhysicianInput
from .agreements import AgreementPreview, Agreements
from .checks import Checks
from .clerks import Clerks, ClerkView
from .credit import Credit, CreditRecord, ListingChange, ListingView, PointsView
from .filings import FilingChange, FilingEventView, FilingView
from .institutions import Institutions
from .physicians import Physicians
from .regions import Regions
from .registrations import RegistrationChange, Registrations
from .registry import (
    BatchResult,
    ConcurrentWriteError,
    FieldError,
    Issue,
    RefusedError,
    RegistryCore,
    ScopeError,
    ServiceError,
    WriteResult,
    clerk_name,
    initials,
    require_region_code,
)
from .vocabularies import Vocabularies


class Registry(
    Regions,
    Vocabularies,
    Institutions,
    Registrations,
    Physicians,
    Agreements,
    Credit,
    Checks,
    Clerks,
):
    """The registry of one regional health commission (the services of every aggregate)."""


__all__ = [
    "AgreementInput",
    "AgreementPreview",
    "BatchResult",
    "ClerkView",
    "ConcurrentWriteError",
    "CreditRecord",
    "FieldError",
    "FilingChange",
    "FilingEventView",
    "FilingView",
    "InstitutionInput",
    "Issue",
    "ListingChange",
    "ListingInput",
    "ListingView",
    "PhysicianInput",
    "PointsView",
    "RefusedError",
    "RegistrationChange",
    "Registry",
    "RegistryCore",
    "ScopeError",
    "ServiceError",
    "WriteResult",
    "clerk_name",
    "initials",
    "require_region_code",
]
