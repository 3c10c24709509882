"""Template workbooks (导入模板): Chinese headers and one example row, written with openpyxl."""

from __future__ import annotations

from pathlib import Path

from ..domain.identifiers import credit_check_char
from .columns import columns

_FIRST17 = "1233010647000001X"
EXAMPLE_CODE = _FIRST17 + credit_check_char(_FIRST17)

EXAMPLES: dict[str, dict[str, object]] = {
    "institutions": {
        "code": EXAMPLE_CODE,
        "name": "西湖区某某社区卫生服务中心",
        "kind": "社区卫生服务中心",
        "beds": "40",
        "region": "330106",
        "departments": "全科医学；内科",
        "grassroots": "是",
        "address": "杭州市西湖区某某路1号",
        "licensed_on": "2010-06-01",
    },
    "physicians": {
        "cert": "110330000000001",
        "name": "张伟",
        "level": "执业医师",
        "category": "临床",
        "scopes": "内科",
        "title": "主治医师",
        "region": "330000",
        "main_institution": EXAMPLE_CODE,
        "registered": "2015-03-01",
        "status": "注册",
        "practising_since": "2015-03-01",
    },
    "nurses": {
        "cert": "201533000001",
        "name": "李娜",
        "title": "护师",
        "region": "330000",
        "main_institution": EXAMPLE_CODE,
        "registered": "2015-07-01",
        "status": "注册",
    },
    "contracts": {
        "contract_no": "HT2026-0000001",
        "physician": "110330000000001",
        "institution": EXAMPLE_CODE,
        "role": "其他",
        "department": "内科",
        "start": "2026-01-05",
        "end": "2026-12-31",
        "sessions": "周六 08:30-12:00；周日 08:30-12:00",
        "weekly_hours": "7",
        "consent": "是",
        "tasks": "内科门诊",
        "liability": "由执业机构承担，已投保医疗责任险",
        "pay": "按次结算",
        "insurance": "医疗责任保险",
        "employment": "人事关系在主要执业机构",
    },
    "credit": {
        "cert": "110330000000001",
        "from": "2026-03-01",
        "to": "",
        "reason": "出具虚假医学证明文件",
        "authority": "浙江省卫生健康委员会",
        "decision": "浙卫监〔2026〕12号",
    },
}


def write_template(kind: str, path: str | Path) -> Path:
    """An .xlsx with the Chinese headers of ``kind`` (SPEC §7) and an example row."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    cols = columns(kind)
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = {
        "institutions": "机构",
        "physicians": "医师",
        "nurses": "护士",
        "contracts": "合同",
        "credit": "失信名单",
    }[kind]
    sheet.append([c.label for c in cols])
    sheet.append([EXAMPLES[kind].get(c.name, "") for c in cols])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for index, c in enumerate(cols, start=1):
        letter = sheet.cell(row=1, column=index).column_letter
        sheet.column_dimensions[letter].width = max(
            12, len(str(EXAMPLES[kind].get(c.name, ""))) + 4
        )
        # Text cells keep leading zeros and long codes intact in Excel.
        sheet.cell(row=2, column=index).number_format = "@"
    sheet.freeze_panes = "A2"
    target = Path(path)
    workbook.save(target)
    return target
