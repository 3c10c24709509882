"""Bulk reads and writes of a batch import (批量导入): a few SELECTs, then bulk inserts.

The import checks every row in memory (``multisite.services.imports``); this module only
fetches what the checks need for all affected keys at once and writes the accepted rows of
one transaction in bulk (``bulk.insert_rows``: multi-row INSERTs on SQLite, COPY on
PostgreSQL) with ids drawn beforehand (agreements, sessions, filings; the audit rows through
``audit``).
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections import defaultdict
from collections.abc import Iterable, Iterator, MutableMapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import bindparam, delete, select, update
from sqlalchemy.orm import Session

from ..domain.facts import InstitutionFact
from ..domain.inputs import TERMS
from . import bulk
from . import queries as q
from .among import among
from .audit import snapshot
from .models import (
    Agreement,
    Filing,
    Institution,
    Physician,
    Region,
    Registration,
    WorkSession,
)

CHUNK = 5000


def _chunks(values: Sequence[Any], size: int = CHUNK) -> Iterator[Sequence[Any]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


class KeyLedger(MutableMapping[str, int]):
    """The keys of a streamed batch's rows (contract numbers; certificates and national IDs'
    hashes) and the row each first appeared on, kept in a private temporary SQLite file
    (sqlite3, not the registry's database) instead of a dict: a million contract numbers take
    ~120 MB as a dict, a few MB of page cache here. The keys of the chunk being checked stay
    in memory until :meth:`settle`."""

    def __init__(self) -> None:
        self._db = sqlite3.connect("", isolation_level=None)  # "": a temporary file
        self._db.execute("CREATE TABLE seen (key TEXT PRIMARY KEY, row INTEGER) WITHOUT ROWID")
        self._recent: dict[str, int] = {}
        self._settled = 0

    def get(self, key: str, default: Any = None) -> Any:
        """The row of ``key``, else ``default`` (a new key, nearly every key of a file, is
        told without raising and catching a KeyError: Mapping.get's way cost as much as the
        lookup)."""
        found = self._recent.get(key)
        if found is not None:
            return found
        hit = self._db.execute("SELECT row FROM seen WHERE key = ?", (key,)).fetchone()
        return default if hit is None else int(hit[0])

    def __getitem__(self, key: str) -> int:
        found = self.get(key)
        if found is None:
            raise KeyError(key)
        return int(found)

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and self.get(key) is not None

    def __setitem__(self, key: str, row: int) -> None:
        self._recent[key] = row  # a new key (the caller looked it up): settled once

    def __delitem__(self, key: str) -> None:
        raise TypeError("a key ledger only grows")

    def __iter__(self) -> Iterator[str]:
        yield from self._recent
        for (key,) in self._db.execute("SELECT key FROM seen"):
            yield str(key)

    def __len__(self) -> int:
        return self._settled + len(self._recent)

    def settle(self) -> None:
        """Move the recent keys to the file."""
        if self._recent:
            self._db.execute("BEGIN")
            self._db.executemany("INSERT INTO seen VALUES (?, ?)", self._recent.items())
            self._db.execute("COMMIT")
            self._settled += len(self._recent)
            self._recent.clear()

    def close(self) -> None:
        self._db.close()


# --- reads -----------------------------------------------------------------------------------


def institution_facts(s: Session, codes: Iterable[str] | None = None) -> dict[str, InstitutionFact]:
    """Institutions as facts by credit code: all of them (one SELECT of plain columns), or
    those of ``codes`` (a SELECT per chunk of codes), with their dishonesty listings."""
    if codes is None:
        return {f.code: f for f in q.institution_facts_where(s, None).values()}
    found: dict[str, InstitutionFact] = {}
    for chunk in _chunks(sorted(set(codes))):
        found.update(
            (f.code, f)
            for f in q.institution_facts_where(s, among(s, Institution.code, chunk)).values()
        )
    return found


def physician_ids(s: Session, certs: Iterable[str], *, lock: bool = False) -> dict[str, int]:
    """Certificate number → physician id; on PostgreSQL the rows are locked (FOR UPDATE)."""
    wanted = sorted(set(certs))
    found: dict[str, int] = {}
    postgres = s.get_bind().dialect.name == "postgresql"
    for chunk in _chunks(wanted):
        query = select(Physician.cert_no, Physician.id)
        if lock and postgres:
            locked = query.where(among(s, Physician.cert_no, chunk))
            found.update(
                {
                    cert: pid
                    for cert, pid in s.execute(locked.order_by(Physician.id).with_for_update())
                }
            )
            chunk = [cert for cert in chunk if cert not in found]
            if not chunk:
                continue
            # new certificates, or rows row-level security keeps from a locking read: read
            # them unlocked (the service refuses writing the latter, naming the clerk's region)
        found.update(
            {cert: pid for cert, pid in s.execute(query.where(among(s, Physician.cert_no, chunk)))}
        )
    return found


def lock_physicians(s: Session, certs: Iterable[str]) -> None:
    """Lock the stored physicians of these certificates for the rest of the transaction, so
    that two writers of one physician queue: FOR UPDATE on PostgreSQL (in id order); SQLite's
    write transaction holds the whole database already. Rows row-level security keeps from a
    locking read stay unlocked: the service refuses writing them, naming the clerk's region."""
    if s.get_bind().dialect.name != "postgresql":
        return
    for chunk in _chunks(sorted(set(certs))):
        locked = select(Physician.id).where(among(s, Physician.cert_no, chunk))
        s.execute(locked.order_by(Physician.id).with_for_update()).all()


def registered_mains(s: Session, physician_ids: Iterable[int]) -> dict[int, set[tuple[str, int]]]:
    """Physician id → the (region, main institution id) of each of their registrations."""
    found: dict[int, set[tuple[str, int]]] = defaultdict(set)
    r = Registration
    for chunk in _chunks(sorted(set(physician_ids))):
        query = select(r.physician_id, r.region_code, r.main_institution_id)
        for pid, region, main in s.execute(query.where(among(s, r.physician_id, chunk))):
            found[pid].add((region, main))
    return found


@dataclass(frozen=True, slots=True)
class StoredAgreement:
    id: int
    physician_id: int
    institution_id: int
    role: str
    department: str
    start: dt.date
    end: dt.date
    weekly_hours: float
    consent: bool | None
    status: str
    revision: int
    terms: dict[str, str]


def agreements_by_contract(s: Session, contracts: Iterable[str]) -> dict[str, StoredAgreement]:
    wanted = sorted(set(contracts))
    found: dict[str, StoredAgreement] = {}
    for chunk in _chunks(wanted):
        rows = s.execute(
            select(
                Agreement.contract_no,
                Agreement.id,
                Agreement.physician_id,
                Agreement.institution_id,
                Agreement.role,
                Agreement.department,
                Agreement.start,
                Agreement.end,
                Agreement.weekly_hours,
                Agreement.consent,
                Agreement.status,
                Agreement.revision,
                *(getattr(Agreement, term) for term in TERMS),
            ).where(among(s, Agreement.contract_no, chunk))
        )
        for no, aid, pid, iid, role, dept, start, end, hours, consent, status, rev, *terms in rows:
            found[no] = StoredAgreement(
                aid, pid, iid, role, dept, start, end, hours, consent, status, rev,
                dict(zip(TERMS, terms, strict=True)),
            )  # fmt: skip
    return found


def physician_facts(s: Session, ids: Sequence[int]) -> Iterator[Any]:
    """The rule facts of these physicians, read in batches (see ``queries``)."""
    return q.all_physician_facts(s, ids)


@dataclass(frozen=True, slots=True)
class StoredFiling:
    id: int
    registration_id: int
    institution_id: int
    valid_from: dt.date
    valid_to: dt.date


def registrations_and_filings(
    s: Session, ids: Sequence[int]
) -> tuple[dict[int, list[tuple[int, str]]], dict[tuple[int, int], StoredFiling]]:
    """physician id → [(registration id, region code)], (registration, institution) → the
    newest filing (the one a contract's save extends or renews)."""
    regs: dict[int, list[tuple[int, str]]] = defaultdict(list)
    filings: dict[tuple[int, int], StoredFiling] = {}
    for chunk in _chunks(list(ids)):
        reg_rows = s.execute(
            select(Registration.id, Registration.physician_id, Registration.region_code)
            .where(among(s, Registration.physician_id, chunk))
            .order_by(Registration.id)
        ).all()
        for rid, pid, region in reg_rows:
            regs[pid].append((rid, region))
        reg_ids = [r[0] for r in reg_rows]
        for reg_chunk in _chunks(reg_ids):
            for fid, rid, iid, start, end in s.execute(
                select(
                    Filing.id,
                    Filing.registration_id,
                    Filing.institution_id,
                    Filing.valid_from,
                    Filing.valid_to,
                )
                .where(among(s, Filing.registration_id, reg_chunk))
                .order_by(Filing.valid_to, Filing.valid_from, Filing.id)
            ):
                filings[(rid, iid)] = StoredFiling(fid, rid, iid, start, end)
    return regs, filings


def existing_keys(s: Session, model: Any, column: Any, keys: Iterable[str]) -> dict[str, Any]:
    """key → ORM object for the given keys (institutions by code, physicians by cert)."""
    wanted = sorted(set(keys))
    found: dict[str, Any] = {}
    for chunk in _chunks(wanted):
        for obj in s.scalars(select(model).where(among(s, column, chunk))):
            found[getattr(obj, column.key)] = obj
    return found


def region_codes(s: Session) -> set[str]:
    return set(s.scalars(select(Region.code)))


# --- writes ----------------------------------------------------------------------------------


def agreement_ids(s: Session, count: int) -> list[int]:
    """Ids for ``count`` new agreements (:func:`insert_agreements`)."""
    return bulk.reserve_ids(s, Agreement, count)


def insert_agreements(s: Session, rows: Sequence[dict[str, Any]]) -> None:
    """Insert agreement rows in bulk, each with its id drawn by :func:`agreement_ids`."""
    bulk.insert_rows(s, Agreement, rows)


def replace_agreement(
    s: Session, agreement_id: int, values: dict[str, Any], sessions: Sequence[dict[str, Any]]
) -> None:
    """Change one stored agreement and replace its sessions."""
    connection = s.connection()
    connection.execute(
        update(Agreement.__table__)  # type: ignore[arg-type]
        .where(Agreement.__table__.c.id == agreement_id)
        .values(**values)
    )
    connection.execute(
        delete(WorkSession.__table__).where(  # type: ignore[arg-type]
            WorkSession.__table__.c.agreement_id == agreement_id
        )
    )
    bulk.insert_rows(s, WorkSession, sessions)


def filing_ids(s: Session, count: int) -> list[int]:
    """Ids for ``count`` new filings (:func:`insert_filings`)."""
    return bulk.reserve_ids(s, Filing, count)


def insert_filings(s: Session, rows: Sequence[dict[str, Any]]) -> None:
    """Insert filing rows in bulk, each with its id drawn by :func:`filing_ids`."""
    bulk.insert_rows(s, Filing, rows)


def widen_filings(s: Session, widened: Sequence[tuple[int, dt.date, dt.date]]) -> None:
    """Give stored filings new validity: (id, valid_from, valid_to) each (executemany)."""
    if not widened:
        return
    table = Filing.__table__
    statement = (
        update(table)  # type: ignore[arg-type]
        .where(table.c.id == bindparam("filing_id"))
        .values(valid_from=bindparam("new_from"), valid_to=bindparam("new_to"))
    )
    s.connection().execute(
        statement,
        [{"filing_id": i, "new_from": start, "new_to": end} for i, start, end in widened],
    )


def agreement_snapshot(s: Session, agreement_id: int) -> dict[str, Any]:
    """The audit snapshot of one stored agreement (as the service writes it)."""
    agreement = s.get(Agreement, agreement_id)
    assert agreement is not None
    data = snapshot(agreement)
    s.expunge(agreement)
    return data


def missing_regions(s: Session, codes: Iterable[str]) -> list[str]:
    """The codes of ``codes`` no region row holds yet."""
    wanted = sorted(set(codes))
    found: set[str] = set()
    for chunk in _chunks(wanted):
        found.update(s.scalars(select(Region.code).where(among(s, Region.code, chunk))))
    return [code for code in wanted if code not in found]
