"""Batch import, parsing layer (批量导入: 文件读取与数据规范化).

Pure reading and parsing of import files (SPEC §7): no database. The layer that checks rules
and writes rows through the services consumes :func:`read_table` and the parsers below.
"""

from __future__ import annotations

from ..domain.sessions_text import format_sessions, parse_sessions
from ..domain.text import ValueProblem, clean, is_blank
from .columns import KINDS, VOCABULARIES, Column, columns, match_header, required_columns
from .normalize import (
    parse_bool,
    parse_choice,
    parse_date,
    parse_decimal_hours,
    parse_int,
    parse_list,
)
from .readers import FileProblem, Row, Table, read_table

__all__ = [
    "KINDS",
    "VOCABULARIES",
    "Column",
    "FileProblem",
    "Row",
    "Table",
    "ValueProblem",
    "clean",
    "columns",
    "format_sessions",
    "is_blank",
    "match_header",
    "parse_bool",
    "parse_choice",
    "parse_date",
    "parse_decimal_hours",
    "parse_int",
    "parse_list",
    "parse_sessions",
    "read_table",
    "required_columns",
]
