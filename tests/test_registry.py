"""The registry core through the service layer, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from multisite.services import InstitutionInput, PhysicianInput, RefusedError, ServiceError
from multisite.storage import Database, StorageError
from multisite.storage.models import AuditEntry, Physician

from .factories import (
    CLINIC,
    DR_ZHANG,
    HOSPITAL,
    ID_NUMBER,
    OUTSIDE,
    agreement,
    build_region,
    primary,
)


def audit_rows(registry) -> list[AuditEntry]:
    return registry.audit_log(limit=10_000)


def test_every_write_leaves_an_audit_row_naming_the_clerk(registry):
    build_region(registry)
    primary(registry)
    entries = audit_rows(registry)
    entities = [(e.entity, e.action) for e in entries]
    assert entities.count(("institution", "create")) == 4
    assert entities.count(("physician", "create")) == 2
    assert ("agreement", "create") in entities
    assert {e.clerk for e in entries} == {"测试员"}
    created = next(e for e in entries if e.entity == "agreement")
    assert created.before is None and created.after["sessions"] == [
        "MO 08:00-12:00",
        "TU 08:00-12:00",
        "WE 08:00-12:00",
        "TH 08:00-12:00",
    ]


def test_national_id_is_never_stored_in_clear_text(registry, database: Database):
    build_region(registry)
    with database.engine.connect() as connection:
        for table in ("physician", "audit_entry"):
            for row in connection.execute(sa.text(f"SELECT * FROM {table}")):
                assert ID_NUMBER not in str(tuple(row))
        digest = connection.execute(
            sa.select(Physician.id_digest).where(Physician.cert_no == DR_ZHANG)
        ).scalar_one()
    assert digest and len(digest) == 64


def test_a_wrong_id_check_character_is_refused_and_nothing_stored(registry):
    build_region(registry)
    bad = ID_NUMBER[:-1] + ("0" if ID_NUMBER[-1] != "0" else "1")
    with pytest.raises(ServiceError, match="GB 11643"):
        registry.register_physician(
            PhysicianInput(
                "110330000000009",
                "王芳",
                "执业医师",
                "临床",
                ["内科"],
                "主治医师",
                "330000",
                HOSPITAL,
                dt.date(2020, 1, 1),
                id_number=bad,
            )
        )
    with pytest.raises(ServiceError, match="Unknown physician"):
        registry.physician_facts("110330000000009")


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("code", "12345", "18-character"),
        ("kind", "大医院", "not one of"),
        ("county_code", "33010", "six-digit"),
    ],
)
def test_invalid_institution_input_is_one_clear_sentence(registry, field, value, message):
    data = InstitutionInput(CLINIC, "某诊所", "诊所", "330106")
    setattr(data, field, value)
    with pytest.raises(ServiceError, match=message):
        registry.file_institution(data)
    assert registry.summary()["institutions"] == 0
    assert audit_rows(registry) == []


def test_a_credit_code_with_a_bad_check_character_is_kept_with_a_warning(registry):
    code = CLINIC[:-1] + ("0" if CLINIC[-1] != "0" else "1")
    result = registry.file_institution(InstitutionInput(code, "老诊所", "诊所", "330106"))
    assert result.outcome == "created"
    assert "check character" in result.notes[0]


def test_refiling_an_unchanged_institution_changes_nothing(registry):
    build_region(registry)
    before = len(audit_rows(registry))
    result = registry.file_institution(
        InstitutionInput(
            HOSPITAL,
            "浙江省第一人民医院",
            "三级综合医院",
            "330106",
            1200,
            ["内科", "外科", "儿科"],
            False,
            address="某路1号",
        )
    )
    assert result.outcome == "unchanged"
    assert len(audit_rows(registry)) == before


def test_unknown_physician_and_institution_are_named(registry):
    build_region(registry)
    with pytest.raises(ServiceError, match="Unknown physician 110330000000999"):
        registry.save_agreement(
            agreement("X-1", CLINIC, "MO 08:00-12:00", physician="110330000000999")
        )
    with pytest.raises(ServiceError, match="Unknown institution"):
        registry.save_agreement(agreement("X-1", "91330106MA2B3C4D5E", "MO 08:00-12:00"))


def test_a_date_the_wrong_way_round_is_refused(registry):
    build_region(registry)
    with pytest.raises(ServiceError, match="after it ends"):
        registry.save_agreement(
            agreement(
                "X-2", CLINIC, "MO 08:00-12:00", start=dt.date(2026, 5, 1), end=dt.date(2026, 4, 1)
            )
        )
    assert registry.summary()["agreements"] == 0


def test_a_second_primary_agreement_is_refused(registry):
    build_region(registry)
    primary(registry)
    with pytest.raises(RefusedError) as refused:
        registry.save_agreement(agreement("P-2", HOSPITAL, "FR 08:00-12:00", role="primary"))
    assert refused.value.violations[0].code == "PRIMARY"
    assert registry.summary()["agreements"] == 1


def test_an_assistant_physician_registers_for_a_county_only(registry):
    build_region(registry)
    with pytest.raises(ServiceError, match="county"):
        registry.register_physician(
            PhysicianInput(
                "210330000000003",
                "赵敏",
                "执业助理医师",
                "临床",
                ["内科"],
                "住院医师",
                "330000",
                CLINIC,
                dt.date(2020, 1, 1),
            )
        )


def test_main_institution_outside_the_region_is_refused(registry):
    build_region(registry)
    with pytest.raises(ServiceError, match="outside region"):
        registry.register_physician(
            PhysicianInput(
                "110330000000004",
                "钱进",
                "执业医师",
                "临床",
                ["内科"],
                "主治医师",
                "330000",
                OUTSIDE,
                dt.date(2020, 1, 1),
            )
        )


def test_terminating_an_agreement_moves_its_end_and_is_audited(registry):
    build_region(registry)
    primary(registry)
    registry.save_agreement(agreement("A-1", CLINIC, "FR 08:00-12:00", hours=4))
    registry.terminate_agreement("A-1", dt.date(2026, 6, 30), "合同提前解除")
    facts = registry.physician_facts(DR_ZHANG)
    ended = next(a for a in facts.agreements if a.contract_no == "A-1")
    assert ended.end == dt.date(2026, 6, 30) and ended.status == "terminated"
    assert audit_rows(registry)[0].action == "terminate"


def test_an_empty_database_says_to_run_init(tmp_path):
    db = Database(f"sqlite:///{tmp_path / 'empty.db'}")
    with pytest.raises(StorageError, match="multisite init"):
        db.require_current_schema()


def test_an_unreachable_database_is_one_sentence():
    db = Database("postgresql+psycopg://nobody@127.0.0.1:1/none?connect_timeout=2")
    with pytest.raises(StorageError, match="Cannot open the database"):
        db.require_current_schema()
