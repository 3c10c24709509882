"""Register a practitioner (医师/护士执业注册), or edit a registered one's details.

The form is the contract form's twin at 80×24: one-line inputs on the left (they scroll), the
rules panel on the right. The profession comes first (a nurse has no level, category or
scopes: their rows hide). Each change restarts a short timer; when it fires the form is read
and ``Registry.physician_preview`` runs in a worker thread — the very checks, region scope and
rules of ``save_physicians``, the import's write path — so what the save would refuse is shown
before Ctrl+S, each sentence beginning with its field's label.

The national ID (身份证号) is checked with GB 11643's MOD 11-2 as it is typed, sent only to the
service (which keeps a keyed hash and the masked form) and never shown again: an edit shows
330106********1231 and leaves the stored ID as it is unless the clerk types a new one. Sex and
birth date are read from the ID and shown, not stored (PIPL: the least personal data).
"""

from __future__ import annotations

import datetime as dt
import unicodedata
from typing import Any, ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import Header, Input, Label, Select, Static

from multisite.domain import identifiers as ids
from multisite.domain import regions
from multisite.domain.vocabulary import (
    CATEGORIES,
    LEVELS,
    NURSE,
    NURSE_TITLES,
    PHYSICIAN,
    TITLES,
)
from multisite.escaping import plain
from multisite.i18n import N_, _
from multisite.services import FieldError, Issue, PhysicianInput, RefusedError, ServiceError
from multisite.services.views import PhysicianCard

from ..forms import FormProblem, read_date
from ..session import clerk_app, registry, today
from ..widgets.footer import ClerkFooter
from ..widgets.picker import InstitutionPicker

DEBOUNCE = 0.25  # seconds of quiet before the checks run

LABELS = {
    "profession": N_("Profession"),
    "cert": N_("Certificate"),
    "name": N_("Full name"),
    "id_number": N_("National ID"),
    "born": N_("Sex, born"),
    "level": N_("Level"),
    "category": N_("Category"),
    "scopes": N_("Scopes"),
    "title": N_("Title"),
    "region": N_("Region"),
    "institution": N_("Main inst."),
    "registered": N_("Registered on"),
    "practising_since": N_("Practising"),
}
PROFESSION_LABELS = {PHYSICIAN: N_("physician"), NURSE: N_("nurse")}
PHYSICIAN_ONLY = ("level", "category", "scopes")
INPUTS = ("cert", "name", "id_number", "scopes", "region", "registered", "practising_since")
SELECTS = ("profession", "level", "category", "title")
# the service's field names → the widget that shows them
FIELD_WIDGET = {"main_institution": "institution-query", "status": "registered"}


def label(field: str) -> str:
    return _(LABELS[field])


def _row(field: str, *widgets: Any, tall: bool = False) -> Horizontal:
    return Horizontal(
        Label(label(field), classes="field-label"),
        *widgets,
        id=f"row-{field}",
        classes="field tall" if tall else "field",
    )


def clean_id(text: str) -> str:
    """The ID as typed, without spaces; full-width digits and a lower-case x accepted."""
    return unicodedata.normalize("NFKC", text).replace(" ", "").upper()


def id_problem(number: str) -> str | None:
    """Why a national ID number is not one (GB 11643), or None: checked as it is typed."""
    if (
        len(number) != 18
        or not number[:17].isdigit()
        or not (number[17].isdigit() or number[17] == "X")
    ):
        return _("18 characters: 17 digits and a check character (0–9 or X), not {n}.").format(
            n=len(number)
        )
    if not ids.id_number_ok(number):
        return _("the check character fails GB 11643 (MOD 11-2): a character is mistyped.")
    if ids.id_birth_date(number) is None:
        return _("it does not hold a real birth date.")
    return None


def sex_and_birth(number: str) -> str:
    """Sex and birth date as the ID carries them (the 17th digit: odd male, even female)."""
    born = ids.id_birth_date(number)
    sex = _("male") if int(number[16]) % 2 else _("female")
    return f"{sex} · {born.isoformat() if born else ''}"


def split_scopes(text: str) -> list[str]:
    """Scopes separated by ; or ； as in the import (医学检验、病理 is one scope), or commas."""
    normal = unicodedata.normalize("NFKC", text)  # ； → ;
    for sep in (",", "，"):
        normal = normal.replace(sep, ";")
    return [s.strip() for s in normal.split(";") if s.strip()]


class RegistrationScreen(Screen[bool]):
    """A new practitioner (``card`` None) or the registration details of ``card``."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+s", "save", N_("Save"), priority=True),
        Binding("escape", "close", N_("Cancel")),
    ]

    def __init__(self, card: PhysicianCard | None = None) -> None:
        super().__init__()
        self.card = card
        self.problem = ""
        self.issues: list[Issue] = []  # what the last check found
        self.touched: set[str] = set()
        self.initial: dict[str, str] = {}
        self._timer: Timer | None = None
        self._generation = 0

    # -- building --

    def initial_values(self) -> dict[str, str]:
        c = self.card
        if c is None:
            return {
                "profession": PHYSICIAN, "cert": "", "name": "", "id_number": "",
                "level": LEVELS[0], "category": CATEGORIES[0], "scopes": "",
                "title": TITLES[0], "region": "", "institution": "",
                "registered": today(self).isoformat(), "practising_since": "",
            }  # fmt: skip
        reg = c.registrations[0] if c.registrations else None
        return {
            "profession": c.profession,
            "cert": c.cert,
            "name": c.name,
            "id_number": "",
            "level": c.level if c.level in LEVELS else LEVELS[0],
            "category": c.category if c.category in CATEGORIES else CATEGORIES[0],
            "scopes": "；".join(c.scopes),
            "title": c.title,
            "region": reg.region if reg else "",
            "institution": reg.main_code if reg else "",
            "registered": reg.registered_on.isoformat() if reg else today(self).isoformat(),
            "practising_since": c.practising_since.isoformat() if c.practising_since else "",
        }

    def compose(self) -> ComposeResult:
        c = self.card
        self.initial = v = self.initial_values()
        editing = c is not None
        yield Header()
        with Horizontal(id="contract-split"):
            with VerticalScroll(id="registration-form"):
                title = (
                    _("Registration of {name}").format(name=c.name)
                    if c is not None
                    else _("Register a practitioner")
                )
                yield Static(f"[b]{plain(title)}[/b]", id="registration-title")
                yield _row(
                    "profession",
                    Select(
                        [(_(PROFESSION_LABELS[p]), p) for p in (PHYSICIAN, NURSE)],
                        value=v["profession"], allow_blank=False, id="profession",
                        disabled=editing, compact=True,
                    ),
                )  # fmt: skip
                yield _row("cert", Input(v["cert"], id="cert", disabled=editing, compact=True))
                yield _row("name", Input(v["name"], id="name", compact=True))
                masked = c.id_masked if c is not None else None
                yield _row(
                    "id_number",
                    Input(
                        "",
                        placeholder=(
                            _("kept: {masked}").format(masked=masked)
                            if masked
                            else _("18 chars, checked as typed")
                        ),
                        id="id_number",
                        compact=True,
                    ),
                )
                yield _row("born", Static(_("read from the ID"), id="born", classes="hint"))
                yield _row("level", self._select("level", LEVELS, v["level"]))
                yield _row("category", self._select("category", CATEGORIES, v["category"]))
                yield _row(
                    "scopes",
                    Input(v["scopes"], placeholder=_("e.g. {example}").format(example="内科；外科"),
                          id="scopes", compact=True),
                )  # fmt: skip
                yield _row("title", self._select("title", self.titles(v["profession"]), v["title"]))
                yield _row(
                    "region",
                    Vertical(
                        Input(v["region"], placeholder=_("six-digit code, e.g. {example}").format(
                            example="510000"), id="region", disabled=editing, compact=True),
                        Static("", id="region-name", classes="hint"),
                        id="region-box",
                    ),
                    tall=True,
                )  # fmt: skip
                yield _row("institution", InstitutionPicker(v["institution"], id="institution"),
                           tall=True)  # fmt: skip
                yield _row("registered", Input(v["registered"], id="registered", compact=True))
                yield _row(
                    "practising_since",
                    Input(v["practising_since"], placeholder="YYYY-MM-DD", id="practising_since",
                          compact=True),
                )  # fmt: skip
            with VerticalScroll(id="rules-pane"):  # Tab reaches it, arrows scroll
                yield Static(_("Checks"), classes="section")
                yield Static("", id="form-error", classes="error")
                yield Static(_("Fill in the form to run the checks."), id="checks")
                yield Static("", id="scopes-hint", classes="hint")
        yield ClerkFooter()

    @staticmethod
    def _select(field: str, values: tuple[str, ...], value: str) -> Select[str]:
        return Select(
            [(x, x) for x in values], value=value if value in values else values[0],
            allow_blank=False, id=field, compact=True,
        )  # fmt: skip

    @staticmethod
    def titles(profession: str) -> tuple[str, ...]:
        return NURSE_TITLES if profession == NURSE else TITLES

    def on_mount(self) -> None:
        self._show_profession(self.initial["profession"])
        self._show_region()
        self._show_scopes()
        self.query_one("#name" if self.card else "#profession").focus()

    # -- reading the form --

    def profession(self) -> str:
        return str(self.query_one("#profession", Select).value)

    def value(self, field: str) -> str:
        return self.query_one(f"#{field}", Input).value.strip()

    def choice(self, field: str) -> str:
        return str(self.query_one(f"#{field}", Select).value)

    def changed(self) -> bool:
        """Whether the clerk has changed anything since the form opened."""
        if any(self.value(f) != self.initial[f].strip() for f in INPUTS):
            return True
        if any(self.choice(f) != self.initial[f] for f in SELECTS):
            return True
        return self.query_one(InstitutionPicker).code != self.initial["institution"]

    def read(self, *, strict: bool = True) -> PhysicianInput:
        """The form as a ``PhysicianInput``, or a :class:`FormProblem` naming the field. Not
        ``strict``: an empty field the clerk has not reached yet raises no sentence."""

        def required(field: str, text: str, widget: str | None = None) -> None:
            if not text:
                quiet = not strict and (widget or field) not in self.touched
                raise FormProblem(
                    widget or field, "" if quiet else f"{label(field)}: " + _("enter it.")
                )

        profession = self.profession()
        cert = self.value("cert")
        required("cert", cert)
        name = self.value("name")
        required("name", name)
        id_number = clean_id(self.value("id_number"))
        if id_number:
            problem = id_problem(id_number)
            if problem is not None:
                raise FormProblem("id_number", f"{label('id_number')}: {problem}")
        region = self.value("region")
        required("region", region)
        if not ids.region_code_ok(region) or regions.division(region) is None:
            raise FormProblem(
                "region",
                f"{label('region')}: "
                + _("{code} is not a GB/T 2260 six-digit region code.").format(code=region),
            )
        institution = self.query_one(InstitutionPicker).chosen_code(
            label("institution"), quiet=not strict and "institution-query" not in self.touched
        )
        registered = read_date(self.value("registered"), "registered", label("registered"))
        since_text = self.value("practising_since")
        since: dt.date | None = None
        if since_text:
            since = read_date(since_text, "practising_since", label("practising_since"))
        nurse = profession == NURSE
        scopes = [] if nurse else split_scopes(self.value("scopes"))
        if not nurse:
            required("scopes", "；".join(scopes))
        return PhysicianInput(
            cert_no=cert,
            name=name,
            level="" if nurse else self.choice("level"),
            category="" if nurse else self.choice("category"),
            scopes=scopes,
            title=self.choice("title"),
            region_code=region,
            main_institution=institution,
            registered_on=registered,
            id_number=id_number or None,
            practising_since=since,
            profession=profession,
        )

    # -- checks as the clerk types --

    @on(Input.Changed)
    @on(Select.Changed)
    @on(InstitutionPicker.Picked)
    def _changed(self, event: Any) -> None:
        control = getattr(event, "control", None) or getattr(event, "picker", None)
        if control is not None and control.id and control.has_focus:
            self.touched.add(control.id)
        if getattr(control, "id", None) == "profession":
            self._show_profession(self.profession())
        if getattr(control, "id", None) == "region":
            self._show_region()
        if getattr(control, "id", None) in ("profession", "category", "region"):
            self._show_scopes()
        if getattr(control, "id", None) == "id_number":
            self._show_id()
        self._generation += 1
        if self._timer is not None:
            self._timer.stop()
        self._timer = self.set_timer(DEBOUNCE, self._check)

    def _show_profession(self, profession: str) -> None:
        nurse = profession == NURSE
        for field in PHYSICIAN_ONLY:
            self.query_one(f"#row-{field}").display = not nurse
        titles = self.titles(profession)
        select = self.query_one("#title", Select)
        current = str(select.value)
        if current not in titles:
            select.set_options([(x, x) for x in titles])
            select.value = titles[0]

    def _show_region(self) -> None:
        code = self.value("region")
        division = regions.division(code) if ids.region_code_ok(code) else None
        shown = regions.describe(code) if division is not None else ""
        self.query_one("#region-name", Static).update(plain(shown))

    def _show_scopes(self) -> None:
        """The scopes the chosen category allows in the region (the region's vocabulary)."""
        hint = self.query_one("#scopes-hint", Static)
        if self.profession() == NURSE:
            hint.update("")
            return
        code = self.value("region")
        known = ids.region_code_ok(code) and regions.division(code) is not None
        vocabulary = registry(self).vocabulary(code if known else None)
        category = self.choice("category")
        allowed = "；".join(vocabulary.scopes.get(category, ()))
        hint.update(
            plain(_("Scopes of {category}: {allowed}").format(category=category, allowed=allowed))
        )

    def _show_id(self) -> None:
        number = clean_id(self.value("id_number"))
        born = self.query_one("#born", Static)
        if not number:
            born.update(_("read from the ID"))
        elif id_problem(number) is None:
            born.update(sex_and_birth(number))
        else:
            born.update("")

    def _check(self) -> None:
        try:
            data = self.read(strict=False)
        except FormProblem as problem:
            # what the registry said of an earlier state no longer holds: say nothing of it
            self.issues = []
            self.query_one("#checks", Static).update(
                "" if str(problem) else _("Fill in the form to run the checks.")
            )
            self.query_one("#rules-pane").set_class(bool(str(problem)), "refused")
            self._show_problem(str(problem), problem.field)
            return
        self._show_problem("")
        self.run_check(data, self._generation)

    @work(thread=True, exclusive=True, group="registration-check")
    def run_check(self, data: PhysicianInput, generation: int) -> None:
        try:
            issues = registry(self).physician_preview(data)
        except ServiceError as error:
            self.app.call_from_thread(self._check_failed, str(error), generation)
            return
        self.app.call_from_thread(self._check_done, issues, generation)

    def _check_failed(self, message: str, generation: int) -> None:
        if generation == self._generation:
            self._show_problem(message)

    def _check_done(self, issues: list[Issue], generation: int) -> None:
        if generation != self._generation:
            return
        self.issues = issues
        self._show_issues(issues)

    def _show_issues(self, issues: list[Issue]) -> None:
        lines = []
        for issue in issues:
            mark = "✗" if issue.severity == "error" else "!"
            lines.append(f"{mark} {self._field_label(issue.field)}{issue.message}")
        errors = [i for i in issues if i.severity == "error"]
        text = "\n".join(lines) if lines else _("Clean: the registry accepts this registration.")
        self.query_one("#checks", Static).update(plain(text))
        self.query_one("#rules-pane").set_class(bool(errors), "refused")
        self._mark({self._widget(i.field) for i in errors})

    @staticmethod
    def _field_label(field: str) -> str:
        named = {"main_institution": "institution", "status": "registered"}.get(field, field)
        return f"{label(named)}: " if named in LABELS else ""

    @staticmethod
    def _widget(field: str) -> str:
        return FIELD_WIDGET.get(field, field)

    def _mark(self, widgets: set[str]) -> None:
        for widget in self.query(Input):
            widget.set_class(widget.id in widgets, "-invalid")

    def _show_problem(self, message: str, field: str | None = None) -> None:
        self.problem = message
        self.query_one("#form-error", Static).update(plain(message))
        self._mark({field} if field and message else set())

    # -- saving --

    def action_save(self) -> None:
        try:
            data = self.read()
        except FormProblem as problem:
            self._show_problem(str(problem), problem.field)
            self.query_one(f"#{problem.field}").focus()
            return
        try:
            result = registry(self).register_physician(data)
        except RefusedError as refused:
            self._show_problem(_("Not saved: the rules refuse this registration."))
            self.query_one("#checks", Static).update(
                plain("\n".join(f"✗ {v.code} {v.message}" for v in refused.violations))
            )
            self.query_one("#rules-pane").set_class(True, "refused")
            return
        except FieldError as error:
            said = f"{self._field_label(error.field)}{error}"
            self._show_problem(
                _("Not saved: {reason}").format(reason=said), self._widget(error.field)
            )
            return
        except ServiceError as error:
            self._show_problem(_("Not saved: {reason}").format(reason=error))
            return
        outcome = {"created": _("registered"), "updated": _("changed"), "unchanged": _("unchanged")}
        said = _("{name} {cert} {outcome}.").format(
            name=data.name, cert=result.key, outcome=outcome[result.outcome]
        )
        self.notify(" ".join([said, *result.notes]), markup=False)
        if self.card is None:
            app = clerk_app(self)
            self.dismiss(True)
            self.app.call_later(app.open_physician, result.key)
        else:
            self.dismiss(True)

    def action_close(self) -> None:
        from .confirm import close_form

        close_form(self, self.changed(), _("Discard this registration form?"))
