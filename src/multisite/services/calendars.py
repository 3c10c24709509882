"""Calendars from stored schedules: iCalendar export, feed subscriptions, loaded holidays.

The service half of ``ical physician|institution``, ``feed issue|revoke``, ``holidays
import`` and the feed server (:mod:`multisite.feed`). It turns stored agreements into
:class:`~multisite.ical.SessionSeries` and lets :func:`multisite.ical.render_calendar` write
the bytes; every write (a subscription issued or revoked, a holiday year loaded) is one
transaction with its audit row.

What goes into an event, so that an unchanged schedule exports byte-identical:

* ``UID`` = ``ag<agreement id>-s<weekday>-<HHMM start>@multisite``: stable across exports
  and edits of the end time, free of tokens and personal data. Moving a session's start is
  a new event (the old UID disappears and clients drop it).
* ``SEQUENCE`` = the agreement's (or session's) revision, which every edit and the
  termination raise; ``DTSTAMP``/``LAST-MODIFIED`` = the later ``updated_at`` of the
  agreement and its institution — never the clock.
* ``SUMMARY``/``LOCATION``/``DESCRIPTION`` are written in Chinese whatever ``--lang`` says:
  they are data for the physician's calendar app, and one schedule must give one body (and
  one ETag) in the CLI and the server alike.
* The series runs from the agreement's start to its ``effective_end`` (a termination moves
  ``UNTIL``); 调休 follows ``Institution.makeup_follows``.

Feed tokens are 256 random bits (``secrets``); only their SHA-256 is stored and it is
compared with :func:`hmac.compare_digest`. A physician feed holds that physician's own
agreements and nothing else; an institution feed (its own token) holds every agreement at
that institution.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import os
import re
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from ..domain import identifiers as ids
from ..domain.holidays import HolidayCalendar, HolidayDay
from ..i18n import _, catalogue
from ..ical import SessionSeries, Todo, etag_for, render_calendar, render_todos
from ..storage import feeds
from ..storage import queries as q
from ..storage.feeds import Fingerprint
from ..storage.models import Agreement, FeedToken, Institution, Physician
from . import Registry, ServiceError, WriteResult
from .due import KINDS, due_items

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

ENV_BASE_URL = "MULTISITE_FEED_BASE_URL"
DEFAULT_BASE_URL = "https://localhost:8000"
REFRESH_MINUTES = 60
TOKEN_BYTES = 32  # 256 bits
TOKEN_SHAPE = re.compile(r"[A-Za-z0-9_-]{22,128}")

SubjectKind = Literal["physician", "institution", "due"]
DUE_FEED_DAYS = 90  # an institution's reminders feed: what falls due in the next 90 days


@dataclass(frozen=True)
class Subject:
    """Whose calendar a subscription shows."""

    kind: SubjectKind
    id: int


@dataclass(frozen=True)
class Export:
    """One rendered calendar and what the HTTP layer needs to serve it."""

    name: str
    body: bytes
    etag: str  # strong, quoted
    last_modified: dt.datetime  # aware UTC
    unknown_years: tuple[int, ...] = ()  # years the schedule reaches without holiday data


@dataclass(frozen=True)
class CachedFeed:
    """A feed body with the subscription and the fingerprint it was built from."""

    token_hash: str
    subject: Subject
    fingerprint: Fingerprint
    export: Export


@dataclass(frozen=True)
class IssuedFeed:
    token: str
    https_url: str
    webcal_url: str
    configured: bool = True  # False: no --base-url nor MULTISITE_FEED_BASE_URL was given
    still_valid: int = 0  # earlier URLs of the same feed that stay valid
    replaced: int = 0  # earlier URLs revoked by this issue (``replace``)


@dataclass(frozen=True)
class HolidayImport:
    year: int
    holidays: int
    workdays: int
    replaced: int  # rows of that year loaded before


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("ascii", "replace")).hexdigest()


def base_url_configured(explicit: str | None = None) -> bool:
    """Whether a public base URL was given (``--base-url`` or the environment)."""
    return bool((explicit or os.environ.get(ENV_BASE_URL) or "").strip())


def base_url(explicit: str | None = None) -> str:
    """``--base-url`` first, then ``MULTISITE_FEED_BASE_URL``, then ``https://localhost:8000``."""
    url = (explicit or os.environ.get(ENV_BASE_URL) or DEFAULT_BASE_URL).strip().rstrip("/")
    if not re.fullmatch(r"https?://[^\s/?#]+(/[^\s?#]*)?", url):
        raise ServiceError(
            _("The feed base URL {url} is not an http(s) URL like https://example.org.").format(
                url=url
            )
        )
    return url


def feed_urls(base: str, token: str) -> tuple[str, str]:
    """(https URL, webcal URL) of a subscription."""
    https = f"{base}/feeds/{token}.ics"
    return https, "webcal://" + https.split("://", 1)[1]


# --- series from stored agreements -------------------------------------------------------------


def _utc(value: dt.datetime) -> dt.datetime:
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


def location_of(inst: Institution) -> str:
    address = (inst.address or "").strip()
    return f"{inst.name}，{address}" if address else inst.name


def series_of(
    agreement: Agreement, summary: str, off: Sequence[tuple[dt.date, dt.date | None]] = ()
) -> list[SessionSeries]:
    """The weekly series of one agreement (its institution must be loaded); ``off``: the
    suspensions and cancellation of the registration it is practised under."""
    inst = agreement.institution
    stamp = max(_utc(agreement.updated_at), _utc(inst.updated_at))
    description = f"科室：{agreement.department}\n合同号：{agreement.contract_no}"
    out: list[SessionSeries] = []
    seen: set[str] = set()
    for session in agreement.sessions:
        slot = q.slot_of(session)
        base = f"ag{agreement.id}-s{slot.weekday}-{slot.start // 60:02d}{slot.start % 60:02d}"
        uid, n = f"{base}@multisite", 1
        while uid in seen:  # two sessions starting together: refused by OVERLAP, kept apart anyway
            n += 1
            uid = f"{base}-{n}@multisite"
        seen.add(uid)
        out.append(
            SessionSeries(
                uid=uid,
                slot=slot,
                first_date=agreement.start,
                last_date=agreement.effective_end,
                sequence=max(agreement.revision, session.revision),
                last_modified=stamp,
                summary=summary,
                location=location_of(inst),
                description=description,
                makeup_follows=inst.makeup_follows,
                off=tuple(off),
            )
        )
    return out


def _off(
    agreement: Agreement, inactive: dict[int, list[tuple[str, dt.date, dt.date | None]]]
) -> list[tuple[dt.date, dt.date | None]]:
    """The suspensions and cancellation of the registration whose region holds the
    agreement's institution."""
    county = agreement.institution.county_code
    return [
        (start, until)
        for region, start, until in inactive.get(agreement.physician_id, ())
        if ids.region_contains(region, county)
    ]


def physician_calendar_name(phys: Physician) -> str:
    return f"{phys.name}的出诊排班"


def institution_calendar_name(inst: Institution) -> str:
    return f"{inst.name}多点执业排班"


def physician_summary(agreement: Agreement) -> str:
    return f"出诊 · {agreement.institution.name} · {agreement.department}"


def institution_summary(agreement: Agreement) -> str:
    return f"{agreement.physician.name} · {agreement.department}出诊"


def render_export(
    name: str,
    series: Sequence[SessionSeries],
    holidays: HolidayCalendar,
    owner_updated_at: dt.datetime,
) -> Export:
    body = render_calendar(name, series, holidays, REFRESH_MINUTES)
    stamps = [_utc(owner_updated_at), *(s.last_modified for s in series)]
    unknown = sorted(
        {y for s in series for y in holidays.unknown_years_between(s.first_date, s.last_date)}
    )
    return Export(name, body, etag_for(body), max(stamps), tuple(unknown))


# --- the service -------------------------------------------------------------------------------


class Calendars:
    """Exports, subscriptions and loaded holiday years of one registry."""

    def __init__(self, registry: Registry) -> None:
        self.registry = registry
        self.db = registry.db
        self._holidays: tuple[tuple[tuple[dt.date, str, str], ...], HolidayCalendar] | None = None

    # -- holiday data --

    def _holiday_calendar(self, rows: Iterable[tuple[dt.date, str, str]]) -> HolidayCalendar:
        """One :class:`HolidayCalendar` per distinct set of loaded rows (it memoises years)."""
        key = tuple(rows)
        if self._holidays is None or self._holidays[0] != key:
            loaded = [HolidayDay(d, k, n) for d, k, n in key]  # type: ignore[arg-type]
            self._holidays = (key, HolidayCalendar(loaded))
        return self._holidays[1]

    def import_holidays(self, days: Sequence[HolidayDay]) -> HolidayImport:
        """Store one year of a State Council notice, replacing what was loaded for that year."""
        years = {d.date.year for d in days}
        if len(years) != 1:
            raise ServiceError(_("A holiday file must hold exactly one year."))
        year = years.pop()
        rows = sorted((d.date, d.kind, d.name[:32]) for d in days)
        with self.db.write() as s:
            before = feeds.holiday_year(s, year)
            feeds.replace_holiday_year(s, year, rows)
            self.registry._audit(
                s,
                "import",
                "holiday_year",
                str(year),
                {"days": [[d.day.isoformat(), d.kind, d.name] for d in before]} if before else None,
                {"days": [[d.isoformat(), k, n] for d, k, n in rows]},
            )
        return HolidayImport(
            year,
            sum(1 for r in rows if r[1] == "holiday"),
            sum(1 for r in rows if r[1] == "workday"),
            len(before),
        )

    # -- exports --

    def physician_calendar(self, cert: str) -> Export:
        with self.db.read() as s:
            phys = q.physician_by_cert(s, ids.clean(cert))
            if phys is None:
                raise ServiceError(_("Unknown physician {cert}.").format(cert=cert))
            return self._render(s, Subject("physician", phys.id))

    def institution_calendar(self, code: str) -> Export:
        with self.db.read() as s:
            inst = q.institution_by_code(s, ids.clean(code))
            if inst is None:
                raise ServiceError(_("Unknown institution {code}.").format(code=code))
            return self._render(s, Subject("institution", inst.id))

    def due_calendar(self, code: str, today: dt.date | None = None) -> Export:
        """An institution's due items (VTODO, ``DUE`` a date) for its HR office."""
        with self.db.read() as s:
            inst = q.institution_by_code(s, ids.clean(code))
            if inst is None:
                raise ServiceError(_("Unknown institution {code}.").format(code=code))
        return self._render_due(inst, today or dt.date.today())[1]

    def _render_due(self, inst: Institution, today: dt.date) -> tuple[tuple[object, ...], Export]:
        """(fingerprint, export) of the institution's items due in ``DUE_FEED_DAYS``; the
        texts are Chinese whatever the process's language (data for the calendar app)."""
        items = due_items(self.registry, DUE_FEED_DAYS, today, institution=inst.code)
        zh = catalogue("zh").gettext
        todos = [
            Todo(x.uid(), x.due, f"{zh(KINDS[x.kind])} · {x.physician_name or x.institution_name}",
                 x.describe(zh))
            for x in items
        ]  # fmt: skip
        stamp = dt.datetime.combine(today, dt.time(), tzinfo=dt.UTC)
        body = render_todos(f"{inst.name}到期提醒", todos, stamp, REFRESH_MINUTES)
        fingerprint = (today, tuple(tuple(x.as_json().values()) for x in items))
        return fingerprint, Export(f"{inst.name}到期提醒", body, etag_for(body), stamp)

    def _render(
        self,
        s: Session,
        subject: Subject,
        holiday_rows: Sequence[tuple[dt.date, str, str]] | None = None,
    ) -> Export:
        rows = feeds.holiday_rows(s) if holiday_rows is None else holiday_rows
        holidays = self._holiday_calendar(rows)
        series: list[SessionSeries] = []
        if subject.kind == "physician":
            phys = feeds.physician_by_id(s, subject.id)
            assert phys is not None
            agreements = feeds.physician_agreements(s, subject.id)
            off = feeds.inactivity(s, [subject.id])
            for a in agreements:
                series.extend(series_of(a, physician_summary(a), _off(a, off)))
            return render_export(physician_calendar_name(phys), series, holidays, phys.updated_at)
        inst = feeds.institution_by_id(s, subject.id)
        assert inst is not None
        agreements = feeds.institution_agreements(s, subject.id)
        off = feeds.inactivity(s, sorted({a.physician_id for a in agreements}))
        for a in agreements:
            series.extend(series_of(a, institution_summary(a), _off(a, off)))
        return render_export(institution_calendar_name(inst), series, holidays, inst.updated_at)

    # -- subscriptions --

    def live_feeds(self, cert: str | None = None, institution: str | None = None) -> int:
        """How many subscription URLs of this feed are valid now (issued, not revoked)."""
        with self.db.read() as s:
            phys, inst = self._owner(s, cert, institution)
            return len(
                feeds.active_tokens(
                    s,
                    physician_id=phys.id if phys else None,
                    institution_id=inst.id if inst else None,
                )
            )

    def issue_feed(
        self,
        cert: str | None = None,
        institution: str | None = None,
        base: str | None = None,
        *,
        due: bool = False,
        replace: bool = False,
    ) -> IssuedFeed:
        """A new secret subscription URL for a physician (or an institution's own feed; with
        ``due``, the institution's due items for its HR office); ``replace`` revokes the earlier
        ones in the same transaction, else they stay valid."""
        root = base_url(base)
        if due and institution is None:
            raise ServiceError(_("A feed of due items is an institution's: name --institution."))
        token = secrets.token_urlsafe(TOKEN_BYTES)
        with self.db.write() as s:
            phys, inst = self._owner(s, cert, institution)
            self.registry._guard(
                s, "feed_token", phys.cert_no if phys else inst.code if inst else "",
                physician=phys.cert_no if phys else None, institution=inst.code if inst else None,
            )  # fmt: skip
            earlier = feeds.active_tokens(
                s,
                physician_id=phys.id if phys else None,
                institution_id=inst.id if inst else None,
            )
            if replace and earlier:
                self._revoke(s, phys, inst, earlier)
            row = feeds.add_token(
                s,
                hash_token(token),
                physician_id=phys.id if phys else None,
                institution_id=inst.id if inst else None,
                kind="due" if due else "schedule",
            )
            feed = "due" if due else "physician" if phys else "institution"
            self.registry._audit(
                s,
                "issue",
                "feed_token",
                str(row.id),
                None,
                {"feed": feed, "token_id": row.id},
                physician=phys.cert_no if phys else None,
                institution=inst.code if inst else None,
            )
        https, webcal = feed_urls(root, token)
        kept = 0 if replace else len(earlier)
        return IssuedFeed(
            token, https, webcal, base_url_configured(base), kept, len(earlier) - kept
        )

    def revoke_feeds(self, cert: str | None = None, institution: str | None = None) -> WriteResult:
        """Revoke every active subscription of a physician (or of an institution's feed)."""
        with self.db.write() as s:
            phys, inst = self._owner(s, cert, institution)
            self.registry._guard(
                s, "feed_token", phys.cert_no if phys else inst.code if inst else "",
                physician=phys.cert_no if phys else None, institution=inst.code if inst else None,
            )  # fmt: skip
            key = phys.cert_no if phys else inst.code if inst else ""
            tokens = feeds.active_tokens(
                s,
                physician_id=phys.id if phys else None,
                institution_id=inst.id if inst else None,
            )
            if not tokens:
                return WriteResult("unchanged", key)
            self._revoke(s, phys, inst, tokens)
            return WriteResult("updated", key, notes=[str(len(tokens))])

    def _revoke(
        self,
        s: Session,
        phys: Physician | None,
        inst: Institution | None,
        tokens: Sequence[FeedToken],
    ) -> None:
        """Revoke ``tokens`` (the owner's active ones) now, with one audit row."""
        now = dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0)
        for token in tokens:
            token.revoked_at = now
        s.flush()
        self.registry._audit(
            s,
            "revoke",
            "feed_token",
            phys.cert_no if phys else inst.code if inst else "",
            {"active_token_ids": [t.id for t in tokens]},
            {"active_token_ids": []},
            physician=phys.cert_no if phys else None,
            institution=inst.code if inst else None,
        )

    def _owner(
        self, s: Session, cert: str | None, institution: str | None
    ) -> tuple[Physician | None, Institution | None]:
        if (cert is None) == (institution is None):
            raise ServiceError(_("Name exactly one of a physician or an institution."))
        if cert is not None:
            phys = q.physician_by_cert(s, ids.clean(cert))
            if phys is None:
                raise ServiceError(_("Unknown physician {cert}.").format(cert=cert))
            return phys, None
        inst = q.institution_by_code(s, ids.clean(institution or ""))
        if inst is None:
            raise ServiceError(_("Unknown institution {code}.").format(code=institution))
        return None, inst

    # -- the feed server's one read --

    def refresh_feed(self, token_hash: str, cached: CachedFeed | None) -> CachedFeed | None:
        """The current feed of the subscription ``token_hash``, or ``None`` (unknown/revoked).

        One read transaction: the token row, the subject's fingerprint and the loaded
        holiday rows. ``cached`` is returned as it is when its fingerprint still matches, so a
        warm feed is never re-rendered; otherwise the body is built again. On SQLite the whole
        read is one snapshot; on PostgreSQL (read committed) a body may be newer than its
        fingerprint, which only causes one extra rebuild on the next refresh.
        """
        with self.db.read() as s:
            row = feeds.token_by_hash(s, token_hash)
            if row is None or not hmac.compare_digest(row.token_hash, token_hash):
                return None
            if row.revoked_at is not None:
                return None
            if row.kind == "due" and row.institution_id is not None:
                inst = feeds.institution_by_id(s, row.institution_id)
                assert inst is not None
                due_print, export = self._render_due(inst, dt.date.today())
                fingerprint = ("due", *due_print)
                if cached is not None and cached.fingerprint == fingerprint:
                    return cached
                return CachedFeed(token_hash, Subject("due", inst.id), fingerprint, export)
            if row.physician_id is not None:
                subject = Subject("physician", row.physician_id)
                fingerprint = feeds.physician_fingerprint(s, row.physician_id)
            elif row.institution_id is not None:
                subject = Subject("institution", row.institution_id)
                fingerprint = feeds.institution_fingerprint(s, row.institution_id)
            else:
                return None
            holiday_rows = tuple(feeds.holiday_rows(s))
            fingerprint = (*fingerprint, holiday_rows)
            if cached is not None and (cached.subject, cached.fingerprint) == (
                subject,
                fingerprint,
            ):
                return cached
            export = self._render(s, subject, holiday_rows)
            return CachedFeed(token_hash, subject, fingerprint, export)
