"""TERMS: an active agreement must fix its tasks, liability, pay, insurance and employment
relation; contracts imported from a Guangxi office's GB18030 file, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import json

from multisite.cli.main import main
from tests.test_who_counts import (  # noqa: F401 (guangxi: a fixture, and the registry it copies)
    BUILD_REGISTRY,
    HOSPITAL,
    ON,
    cert,
    guangxi,
    write,
)

HEADER = ["合同编号", "执业证书编码", "机构代码", "执业类型", "科室", "起始日期", "终止日期",
          "排班", "约定周工时", "主要机构同意"]  # fmt: skip
TERMS = ["工作任务", "医疗责任", "薪酬", "相关保险", "人事关系"]


def terms_found(db_url: str, capsys) -> dict[str, str]:
    main(["--db", db_url, "check", "--json"])
    return {
        v["agreements"][0]: v["message"]
        for v in json.loads(capsys.readouterr().out)
        if v["code"] == "TERMS"
    }


def test_an_agreement_without_its_terms_is_warned_until_a_file_fixes_them(
    guangxi,  # noqa: F811 (the fixture imported above)
    tmp_path,
    capsys,
):
    row = ["GX-T1", cert(1), HOSPITAL, "其他", "内科", ON.isoformat(),
           (ON + dt.timedelta(days=90)).isoformat(), "周六 08:00-12:00", "4", "是"]  # fmt: skip
    bare = write(tmp_path / "合同.csv", HEADER + TERMS[:3], [[*row, "门诊", "机构承担", ""]])
    assert main(["--db", guangxi, "import", "contracts", str(bare)]) == 0
    capsys.readouterr()
    found = terms_found(guangxi, capsys)
    assert "GX-T1" in found
    assert "pay" in found["GX-T1"] and "employment" in found["GX-T1"]
    assert "tasks" not in found["GX-T1"]
    # the primary contracts of the fixture's file fixed no terms either
    assert {f"GX-{i}" for i in range(1, 9)} <= set(found)
    full = write(
        tmp_path / "合同-条款.csv",
        HEADER + TERMS,
        [[*row, "门诊", "机构承担", "按次结算", "医疗责任保险", "人事关系在主要执业机构"]],
    )
    assert main(["--db", guangxi, "import", "contracts", str(full)]) == 0
    capsys.readouterr()
    assert "GX-T1" not in terms_found(guangxi, capsys)
    # a re-import that does not carry the terms keeps them: still nothing to warn of
    assert (
        main(
            ["--db", guangxi, "import", "contracts", str(write(tmp_path / "x.csv", HEADER, [row]))]
        )
        == 0
    )
    capsys.readouterr()
    assert "GX-T1" not in terms_found(guangxi, capsys)
    assert main(["--db", guangxi, "--lang", "zh", "check", "--physician", cert(2), "--json"]) == 1
    (warning,) = [v for v in json.loads(capsys.readouterr().out) if v["code"] == "TERMS"]
    assert "人事（劳动）关系" in warning["message"] and "工作任务" in warning["message"]


def test_a_write_is_told_of_the_terms_it_leaves_empty(guangxi):  # noqa: F811
    from multisite.domain.sessions_text import parse_sessions
    from multisite.services import AgreementInput
    from tests.test_who_counts import Registry_for

    registry = Registry_for(guangxi)

    def contract(**terms: str) -> AgreementInput:
        return AgreementInput(
            "GX-W1", cert(3), HOSPITAL, "additional", "内科", ON, ON + dt.timedelta(days=60),
            parse_sessions("SA 08:00-12:00"), 4, True, **terms,
        )  # fmt: skip

    bare = registry.save_agreement(contract(tasks="门诊"))
    (warning,) = [v for v in bare.warnings if v.code == "TERMS"]
    assert warning.measure == 4  # liability, pay, insurance, employment
    assert [v.code for v in registry.preview_agreement(contract(tasks="门诊"))].count("TERMS") == 1
    fixed = registry.save_agreement(
        contract(
            liability="机构承担",
            pay="按次",
            insurance="医疗责任险",
            employment="人事关系在主要执业机构",
        )
    )  # tasks not named: kept as stored
    assert "TERMS" not in {v.code for v in fixed.warnings}
    assert "TERMS" not in {v.code for v in registry.preview_agreement(contract())}
    assert [v.code for v in registry.preview_agreement(contract(pay=""))].count("TERMS") == 1
