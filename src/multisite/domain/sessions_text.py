"""The sessions grammar (排班): weekly sessions as clerks and files write them, and back.

``MO 08:00-12:00; WE 14:00-17:30`` or ``周一 08:00-12:00；周三 14:00-17:30``; ``FR 20:00-08:00``
ends on Saturday; full-width digits and punctuation are read as ASCII. Used by the batch import
and the TUI's contract form alike. Pure: no I/O.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from ..i18n import _
from .schedule import Slot
from .text import ValueProblem, normalize_text
from .text import shown as _show

_EN_DAYS = {
    **{code.casefold(): i for i, code in enumerate(("MO", "TU", "WE", "TH", "FR", "SA", "SU"))},
    **{n: i for i, n in enumerate(("mon", "tue", "wed", "thu", "fri", "sat", "sun"))},
    "tues": 1,
    "thur": 3,
    "thurs": 3,
    **{
        n: i
        for i, n in enumerate(
            ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
        )
    },
}
_ZH_NUMBERS = {"一": 0, "二": 1, "三": 2, "四": 3, "五": 4, "六": 5, "日": 6, "天": 6, "七": 6}
_ZH_NUMBERS.update({str(i + 1): i for i in range(7)})

_DASH = r"(?:-|~|〜|–|—|−|至|到)"
_CLOCK = r"([0-9]{1,2})\s*[:.]\s*([0-9]{2})"
_TOKENS = re.compile(
    rf"(?P<range>{_CLOCK}\s*{_DASH}\s*(?:次日|翌日)?\s*{_CLOCK})"
    r"|(?P<zh>(?:星期|礼拜|禮拜|周|週)\s*(?P<zhday>[一二三四五六日天七1-7]))"
    r"|(?P<bare>[一二三四五六日天])"
    r"|(?P<en>[A-Za-z]+)"
    rf"|(?P<dash>{_DASH})"
    r"|(?P<hard>[;\n\r]+)"
    r"|(?P<soft>[,、/\s]+|和|及)"
    r"|(?P<other>\S+?(?=[\s;,、]|$)|\S)",
)

SESSION_EXAMPLE = "MO 08:00-12:00; WE 14:00-17:30"


def _session_problem(column: str, text: str, detail: str) -> ValueProblem:
    return ValueProblem(
        column,
        _(
            "Sessions “{text}”: {detail} Write sessions like {example} or 周一 08:00-12:00；周三 "
            "14:00-17:30."
        ).format(text=_show(text), detail=detail, example=SESSION_EXAMPLE),
    )


def _minutes(hour: str, minute: str) -> int:
    return int(hour) * 60 + int(minute)


def parse_sessions(value: object, *, column: str = "sessions") -> list[Slot]:
    """Weekly sessions in the grammar of SPEC §7, in the order written.

    ``MO 08:00-12:00; WE 14:00-17:30`` · ``周一 08:00-12:00；周三 14:00-17:30`` ·
    ``星期五 20:00-08:00`` (ends on Saturday) · ``MO,WE 08:00-12:00`` · ``周一至周五 08:00-12:00``
    · ``MO 08:00-12:00 14:00-17:00``. English days as ``MO``/``Mon``/``Monday``; Chinese as
    周/星期/礼拜/週 + 一…日/天. The range dash may be ``-`` ``~`` ``至`` ``–`` ``—``;
    ``24:00`` ends a session at midnight. A blank cell gives an empty list.
    """
    if value is None:
        return []
    if not isinstance(value, str):
        raise _session_problem(column, str(value), _("this is not text."))
    text = normalize_text(value)
    if not text:
        return []
    reader = _Reader(column, value)
    for token in _TOKENS.finditer(text):
        reader.read(token)
    return reader.finish()


class _Reader:
    """Reads the tokens of one cell in order. A *group* is one or more weekdays followed by
    one or more time ranges (``MO,WE 08:00-12:00 14:00-17:00``); a weekday after a time range
    starts the next group, and ``;`` closes one."""

    def __init__(self, column: str, value: str) -> None:
        self.column, self.value = column, value
        self.slots: list[Slot] = []
        self.days: list[int] = []  # the weekdays of the group being read
        self.timed = False  # whether the current group already has a time range
        self.range_from: int | None = None  # a weekday then a dash: a range of days is open

    def problem(self, detail: str) -> ValueProblem:
        return _session_problem(self.column, self.value, detail)

    def read(self, token: re.Match[str]) -> None:
        kind, piece = token.lastgroup, token.group()
        if kind in ("zh", "en", "bare"):
            self.weekday(self.day_of(kind, token))
        elif kind == "dash":
            self.dash(piece)
        elif kind == "range":
            self.time_range(token)
        elif kind == "hard":
            self.close_group()
        elif kind != "soft":
            raise self.problem(_("“{token}” was not understood.").format(token=_show(piece)))

    def day_of(self, kind: str, token: re.Match[str]) -> int:
        piece = token.group()
        if kind == "zh":
            return _ZH_NUMBERS[token["zhday"]]
        if kind == "bare":  # 一…日 alone only continue a list of weekdays (周一、三)
            if not (self.days and not self.timed):
                raise self.problem(_("“{token}” was not understood.").format(token=piece))
            return _ZH_NUMBERS[piece]
        found = _EN_DAYS.get(piece.casefold())
        if found is None:
            raise self.problem(
                _("“{token}” is not a weekday (use MO TU WE TH FR SA SU or 周一…周日).").format(
                    token=piece
                )
            )
        return found

    def weekday(self, day: int) -> None:
        if self.timed:  # a weekday after a time range starts the next group
            self.days, self.timed = [], False
        if self.range_from is not None:
            span = (day - self.range_from) % 7
            self.days.extend((self.range_from + step) % 7 for step in range(1, span + 1))
            self.range_from = None
        else:
            self.days.append(day)

    def dash(self, piece: str) -> None:
        if not self.days or self.timed or self.range_from is not None:
            raise self.problem(
                _(
                    "a dash “{token}” must join two weekdays (周一至周五) or two times "
                    "(08:00-12:00)."
                ).format(token=piece)
            )
        self.range_from = self.days[-1]

    def time_range(self, token: re.Match[str]) -> None:
        piece = token.group()
        if self.range_from is not None:
            raise self.problem(_("a range of weekdays is not finished before the time."))
        if not self.days:
            raise self.problem(_("the time {token} has no weekday before it.").format(token=piece))
        h1, m1, h2, m2 = token.group(2, 3, 4, 5)
        for hour, minute in ((h1, m1), (h2, m2)):
            if int(hour) > 24 or int(minute) > 59 or (int(hour) == 24 and int(minute) > 0):
                raise self.problem(
                    _("{time} is not a time of day.").format(time=f"{hour}:{minute}")
                )
        start, end = _minutes(h1, m1), _minutes(h2, m2)
        if start == 24 * 60:
            raise self.problem(_("a session cannot start at 24:00; write 00:00."))
        end %= 24 * 60  # 24:00 is midnight at the end of the day
        if start == end:
            raise self.problem(_("{token} starts and ends at the same time.").format(token=piece))
        try:
            self.slots.extend(Slot(day, start, end) for day in self.days)
        except ValueError as error:  # pragma: no cover - validated above
            raise self.problem(str(error)) from None
        self.timed = True

    def close_group(self) -> None:
        if self.range_from is not None or (self.days and not self.timed):
            raise self.problem(_("a weekday has no time after it."))
        self.days, self.timed = [], False

    def finish(self) -> list[Slot]:
        self.close_group()
        if not self.slots:  # pragma: no cover - text without tokens is blank
            raise self.problem(_("no session was found."))
        return self.slots


def format_sessions(slots: Iterable[Slot], *, chinese: bool = False) -> str:
    """The canonical text of ``slots`` (``MO 08:00-12:00; WE 14:00-17:30``)."""
    names = ("一", "二", "三", "四", "五", "六", "日")
    codes = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
    parts = []
    for slot in slots:
        day = f"周{names[slot.weekday]}" if chinese else codes[slot.weekday]
        start = f"{slot.start // 60:02d}:{slot.start % 60:02d}"
        end = f"{slot.end // 60:02d}:{slot.end % 60:02d}"
        parts.append(f"{day} {start}-{end}")
    return ("；" if chinese else "; ").join(parts)
