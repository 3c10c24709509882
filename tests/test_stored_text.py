"""One validation for every stored text (SQLite and PostgreSQL alike): identifiers in their
character set, names and free text without control characters, lengths within the columns.
A NUL byte or a value over its column's length used to abort a whole PostgreSQL --partial
import with a multi-line SQL error (SQLite stored it), and a clerk name over 64 characters
made every write fail."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from multisite.cli.main import main
from multisite.domain import text
from multisite.domain.sessions_text import parse_sessions
from multisite.escaping import FORMULA_STARTS
from multisite.services import AgreementInput, Registry, ServiceError
from multisite.services.imports import run_import
from multisite.storage.models import (
    Agreement,
    AuditEntry,
    CreditListing,
    Filing,
    Institution,
    Physician,
)

from .factories import credit
from .office import (
    DOCTORS,
    HOSPITAL,
    INSTITUTION_HEADERS,
    contract,
    open_office,
    write_csv,
    write_jsonl,
)


def test_nul_bytes_and_overlong_values_are_row_errors_and_partial_stores_the_rest(
    registry: Registry, tmp_path
):
    open_office(registry, tmp_path)
    lines = [
        contract("GX-1", DOCTORS[0]),
        contract("GX\u00002", DOCTORS[1]),
        contract("GX-" + "9" * 70, DOCTORS[1]),
        contract("GX-4", DOCTORS[1], 科室="内" * 40),
        {**contract("GX-5", DOCTORS[1]), "备注": "a\u0000b"},
        contract('=HYPERLINK("http://evil","点我")', DOCTORS[1]),
        contract("GX-7", DOCTORS[2]),
    ]
    report = run_import(
        registry, "contracts", write_jsonl(tmp_path / "c.jsonl", lines), mode="partial"
    )
    assert report.committed and report.created == 2
    rejected = {p.row: p for p in report.problems if p.severity == "error"}
    assert sorted(rejected) == [2, 3, 4, 5, 6]
    assert all(p.code == "INVALID" and "\n" not in p.message for p in rejected.values())
    assert "U+0000" in rejected[2].message and "U+0000" in rejected[5].message
    assert "at most 64 are stored" in rejected[3].message
    assert "at most 32 are stored" in rejected[4].message
    assert "is not an identifier" in rejected[6].message
    with registry.db.read() as s:
        stored = s.scalars(select(Agreement.contract_no).order_by(Agreement.contract_no)).all()
    assert stored == ["GX-1", "GX-7"]


def test_names_with_control_characters_or_too_long_are_rejected_rows(registry, tmp_path):
    open_office(registry, tmp_path)
    rows = [
        [credit("450102", "47100003X"), "诊所\x1b[2J", "诊所", "0", "450102", "内科", "是", ""],
        [credit("450102", "47100004X"), "医" * 129, "诊所", "0", "450102", "内科", "是", ""],
        [credit("450102", "47100005X"), "良好诊所", "诊所", "0", "450102", "内" * 33, "是", ""],
        [credit("450102", "47100006X"), "兴宁区好诊所", "诊所", "0", "450102", "内科", "是", "路" * 300],
    ]  # fmt: skip
    path = write_csv(tmp_path / "机构2.csv", INSTITUTION_HEADERS, rows)
    report = run_import(registry, "institutions", path, mode="partial")
    assert report.committed and report.created == 0 and report.rejected == 4
    messages = [p.message for p in report.problems]
    assert "U+001B" in messages[0] and "at most 128" in messages[1]
    assert "at most 32" in messages[2] and "at most 256" in messages[3]
    with registry.db.read() as s:
        assert s.scalar(select(func.count()).select_from(Institution)) == 2


def _agreement(number: str, **changes: object) -> AgreementInput:
    data = AgreementInput(
        number, DOCTORS[0], HOSPITAL, "primary", "内科", dt.date(2026, 1, 5),
        dt.date(2026, 12, 31), parse_sessions("周一 08:00-12:00"), 4.0,
    )  # fmt: skip
    for key, value in changes.items():
        setattr(data, key, value)
    return data


def test_the_service_refuses_the_same_values_in_one_sentence(registry: Registry, tmp_path):
    open_office(registry, tmp_path)
    refused = {
        "formula": _agreement('=HYPERLINK("x")'),
        "markup first": _agreement("[/]"),
        "NUL in the terms": _agreement("GX-1", liability="a\x00b"),
        "long department": _agreement("GX-1", department="内" * 33),
        "NUL in a note": _agreement("GX-1", notes={"备注": "\x00"}),
    }
    for name, data in refused.items():
        with pytest.raises(ServiceError) as error:
            registry.save_agreement(data)
        assert "\n" not in str(error.value), name
    assert (
        registry.save_agreement(_agreement("浙卫〔2026〕12号", liability="第一条\n第二条")).outcome
        == "created"
    )
    with registry.db.read() as s:
        assert s.scalar(select(func.count()).select_from(Agreement)) == 1


def test_a_clerk_name_over_64_characters_is_one_sentence_not_a_broken_write(
    registry: Registry, capsys
):
    url = registry.db.url
    with pytest.raises(ServiceError, match="at most 64"):
        Registry(registry.db, clerk="经" * 65)
    assert main(["--db", url, "--clerk", "经" * 65, "summary"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "at most 64" in err
    assert main(["--db", url, "--clerk", "经" * 64, "summary"]) == 0
    with registry.db.read() as s:
        assert s.scalar(select(func.count()).select_from(AuditEntry)) == 0


def test_the_text_limits_are_the_columns_lengths():
    columns = {
        "contract_no": Agreement.__table__.c.contract_no,
        "cert_no": Physician.__table__.c.cert_no,
        "institution_code": Institution.__table__.c.code,
        "physician_name": Physician.__table__.c.name,
        "institution_name": Institution.__table__.c.name,
        "department": Agreement.__table__.c.department,
        "address": Institution.__table__.c.address,
        "clerk": AuditEntry.__table__.c.clerk,
        "decision": CreditListing.__table__.c.decision,
        "filing_number": Filing.__table__.c.number,
    }
    for key, column in columns.items():
        assert text.MAX_LENGTH[key] == column.type.length, key


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=80))
def test_an_accepted_identifier_is_nothing_a_spreadsheet_or_terminal_would_act_on(value):
    try:
        text.check_identifier(value, "x")
    except text.ValueProblem as problem:
        assert "\n" not in problem.message
        return
    assert value and not value.startswith(FORMULA_STARTS) and not value.startswith("[")
    assert len(value) <= 64 and value.isprintable()
