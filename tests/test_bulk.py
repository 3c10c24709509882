"""The bulk insert hands the driver what SQLAlchemy Core would: the same stored values, the
same text in the columns (dates, times, JSON with Chinese, JSON null), the same defaults for
columns a row leaves out — on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import String, cast, insert, select, text
from sqlalchemy.exc import IntegrityError

from multisite.storage import Database, audit, bulk
from multisite.storage.models import AuditEntry, Institution, Region


def _institution(code: str, **extra: object) -> dict[str, object]:
    row: dict[str, object] = {
        "code": code,
        "name": "锦江区'诊所\"一号",
        "kind": "诊所",
        "beds": 0,
        "departments": ["内科", "全科医学"],
        "grassroots": True,
        "county_code": "510104",
        "address": "",
        "makeup_follows": None,
        "licensed_on": dt.date(2019, 2, 28),
        "notes": {"来源": "导入", "n": 1.5, "none": None},
        "updated_at": dt.datetime(2026, 12, 1, 3, 4, 5, 678901),
    }
    row.update(extra)
    return row


def _audit(key: str, before: object) -> dict[str, object]:
    return {
        "at": dt.datetime(2026, 12, 1, 8, 0, 0, 1),
        "clerk": "测试员",
        "action": "create",
        "entity": "institution",
        "entity_key": key,
        "physician_cert": None,
        "institution_code": key,
        "before": before,
        "after": {"name": "诊所", "beds": 0},
    }


def _stored(db: Database, model: object, key: str, keys: list[str]) -> list[tuple[object, ...]]:
    table = model.__table__  # type: ignore[attr-defined]
    columns = [c for c in table.columns if c.key not in ("id", *keys)]
    with db.read() as s:
        rows = s.execute(
            select(*columns, *(cast(c, String) for c in columns)).order_by(table.c[key])
        ).all()
    return [tuple(r) for r in rows]


@pytest.fixture(autouse=True)
def raw_for_every_batch(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(bulk, "RAW_FROM", 1)


def test_raw_inserts_store_what_core_stores(database: Database) -> None:
    leave_out = {"beds", "departments", "grassroots", "address", "notes"}
    core = [_institution("CORE-1"), _institution("CORE-2", licensed_on=None)]
    raw = [_institution("RAW-1"), _institution("RAW-2", licensed_on=None)]
    core_short = [{k: v for k, v in _institution("CORE-3").items() if k not in leave_out}]
    raw_short = [{k: v for k, v in _institution("RAW-3").items() if k not in leave_out}]
    with database.write() as s:
        s.add(Region(code="510104", name="锦江区", level="county"))
        s.flush()
        connection = s.connection()
        connection.execute(insert(Institution.__table__), core)
        connection.execute(insert(Institution.__table__), core_short)
        connection.execute(
            insert(AuditEntry.__table__), [_audit("CORE-1", None), _audit("CORE-2", {"a": "乙"})]
        )
        bulk.insert_rows(s, Institution, raw)
        bulk.insert_rows(s, Institution, raw_short)
        bulk.insert_rows(s, AuditEntry, [_audit("RAW-1", None), _audit("RAW-2", {"a": "乙"})])
    institutions = _stored(database, Institution, "code", ["code"])
    by_core, by_raw = institutions[:3], institutions[3:]
    assert by_core == by_raw
    names = [c.key for c in Institution.__table__.columns if c.key not in ("id", "code")]
    short = dict(zip(names, by_raw[2], strict=False))
    assert short["beds"] == 0 and short["grassroots"] is False and short["notes"] == {}
    audits = _stored(database, AuditEntry, "entity_key", ["entity_key", "institution_code"])
    assert audits[:2] == audits[2:]


@pytest.mark.parametrize("then", ["statement", "commit"])
def test_a_bulk_insert_the_database_refuses_is_raised_and_stores_nothing(
    database: Database, then: str
) -> None:
    """A bulk insert may finish while the writer goes on; a row the database refuses (a key
    stored already) still fails the write — at the next statement or at the commit — and the
    transaction stores none of its rows."""
    with database.write() as s:
        s.add(Region(code="510104", name="锦江区", level="county"))
        s.flush()
        bulk.insert_rows(s, Institution, [_institution("DUP-1")])
    with pytest.raises(IntegrityError), database.write() as s:
        bulk.insert_rows(s, Institution, [_institution("NEW-1"), _institution("DUP-1")])
        if then == "statement":
            s.execute(select(Institution.code)).all()
    with database.read() as s:
        assert list(s.scalars(select(Institution.code))) == ["DUP-1"]


def test_a_batch_of_audit_rows_hashes_what_it_stores_and_the_chain_verifies(
    database: Database,
) -> None:
    """A batch's audit rows serialise ``before`` and ``after`` once, for the hash and the
    column: what is read back is what a clerk's single write stores, as the same text, and
    the chain recomputed from the stored rows holds."""
    rows = [
        _audit("BATCH-1", None),
        _audit("BATCH-2", {"名称": "诊所\t一号\n", "b": [1, 2.5, None], "a": {"z": True}}),
        {**_audit("BATCH-3", {"x": "\\\"'"}), "principal": "管理员", "physician_cert": "1" * 15},
    ]
    with database.write() as s:
        audit.append_audit(s, rows)  # RAW_FROM is 1 here: the batch's path
    monkeypatch = pytest.MonkeyPatch()
    monkeypatch.setattr(bulk, "RAW_FROM", 100)
    try:
        with database.write() as s:
            audit.append_audit(s, [{**r, "entity_key": f"CORE-{n}"} for n, r in enumerate(rows)])
    finally:
        monkeypatch.undo()
    with database.read() as s:
        assert audit.verify_chain(s) == (6, None)
        stored = s.execute(
            select(
                AuditEntry.entity_key, AuditEntry.principal, AuditEntry.before, AuditEntry.after,
                cast(AuditEntry.before, String).label("bt"), cast(AuditEntry.after, String).label("at"),
            ).order_by(AuditEntry.id)
        ).all()  # fmt: skip
    assert [tuple(r[1:]) for r in stored[:3]] == [tuple(r[1:]) for r in stored[3:]]
    assert [tuple(r[4:]) for r in stored[:3]] == [tuple(r[4:]) for r in stored[3:]]
    assert stored[4][4] == '{"a":{"z":true},"b":[1,2.5,null],"名称":"诊所\\t一号\\n"}'
    assert [r[2] for r in stored[:3]] == [r["before"] for r in rows]


def _alike_float(x: float) -> bool:
    """A float both encoders write alike (they differ below 1e-4 and for NaN and infinities)."""
    return x == 0 or abs(x) >= 1e-4


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text()
    | st.floats(allow_nan=False, allow_infinity=False).filter(_alike_float),
    lambda inner: st.lists(inner, max_size=4)
    | st.dictionaries(st.text() | st.integers(), inner, max_size=4),
    max_leaves=24,
)  # fmt: skip


@given(JSON_VALUES)
def test_the_chain_text_is_json_text_sorted_and_compact(value: object) -> None:
    """The audit chain's JSON (orjson where it can) is the text json.dumps(sort_keys=True,
    ensure_ascii=False, separators=(",", ":")) writes: integers of any size, keys that are
    not text, Chinese, control characters and quotes included; what json refuses (keys of
    text and numbers mixed: it cannot sort them) is refused alike."""
    try:
        expected = audit._encode_json(value)
    except TypeError:
        with pytest.raises(TypeError):
            audit._encode(value)
        return
    assert audit._encode(value) == expected


def test_a_chain_hashed_by_the_older_encoder_still_verifies_and_a_change_breaks_it(
    database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Rows written before the chain's text came from orjson were hashed by json's text, which
    differs for a float below 1e-4 (1e-05, not 0.00001): they verify, and a row changed
    afterwards is still found."""
    tiny = {"weekly_hours": 1e-05, "名称": "诊所"}
    with monkeypatch.context() as patched:
        patched.setattr(audit, "_encode", audit._encode_json)  # as the older code wrote
        with database.write() as s:
            audit.append_audit(s, [_audit("OLD-1", tiny), _audit("OLD-2", None)])
    with database.write() as s:
        audit.append_audit(s, [_audit("NEW-1", tiny)])
    with database.read() as s:
        assert audit.verify_chain(s) == (3, None)
    sqlite = database.engine.dialect.name == "sqlite"
    unguard = (
        ["DROP TRIGGER audit_entry_no_update", "DROP TRIGGER audit_entry_no_delete"]
        if sqlite
        else ["ALTER TABLE audit_entry DISABLE TRIGGER USER"]
    )
    with database.write() as s:
        first = s.scalar(select(AuditEntry.id).order_by(AuditEntry.id))
        for statement in unguard:
            s.execute(text(statement))
        changed = '{"weekly_hours":2e-05,"名称":"诊所"}'  # as json wrote it, the hours changed
        s.execute(
            text('UPDATE audit_entry SET "before" = :b WHERE id = :i'), {"b": changed, "i": first}
        )
    with database.read() as s:
        checked, broken = audit.verify_chain(s)
    assert checked == 0 and broken is not None and broken.row == first
