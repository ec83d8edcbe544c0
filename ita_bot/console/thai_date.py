"""A date entered as a Thai reads it: day, Thai month name and พ.ศ. year (no browser picker counting in ค.ศ.)."""

from __future__ import annotations

from datetime import date
from typing import Any

from markupsafe import Markup, escape
from wtforms import Field
from wtforms.fields.core import Label
from wtforms.utils import unset_value

from ita_bot.domain.thai import MONTHS_FULL, be_year, parse_be_date

__all__ = ["PARTS", "ThaiDateField", "date_parts"]

#: The three inputs a ThaiDateField posts, as "<name>-day", "<name>-month", "<name>-year".
PARTS = ("day", "month", "year")


def date_parts(value: date) -> dict[str, str]:
    """What a browser posts for a date in a ThaiDateField (tests and scripts fill forms with it)."""
    return {"day": str(value.day), "month": str(value.month), "year": str(be_year(value.year))}


class ThaiDateWidget:
    """Day box, month select and BE year box; plain inputs, so it works the same on any phone without JS."""

    def __call__(self, field: ThaiDateField, **kwargs: Any) -> Markup:
        css = kwargs.pop("class_", "") or kwargs.pop("class", "")
        autofocus = kwargs.pop("autofocus", False)
        day, month, year = field.parts()
        cls = f' class="{escape(css)}"' if css else ""
        focus = " autofocus" if autofocus else ""
        name, fid = escape(field.name), escape(field.id)
        options = ['<option value="">เดือน</option>'] + [
            f'<option value="{i}"{" selected" if month == str(i) else ""}>{escape(m)}</option>'
            for i, m in enumerate(MONTHS_FULL, start=1)
        ]
        return Markup(
            f'<span class="thai-date" id="{fid}">'
            f'<input type="text" inputmode="numeric" maxlength="2" autocomplete="off" name="{name}-day" '
            f'id="{fid}-day" value="{escape(day)}" placeholder="วัน" aria-label="วันที่"{cls}{focus}>'
            f'<select name="{name}-month" id="{fid}-month" aria-label="เดือน"{cls}>{"".join(options)}</select>'
            # Shown once the box holds a year too (its placeholder is gone by then): the year is พ.ศ., not ค.ศ.
            '<span class="era" aria-hidden="true">พ.ศ.</span>'
            f'<input type="text" inputmode="numeric" maxlength="4" autocomplete="off" name="{name}-year" '
            f'id="{fid}-year" value="{escape(year)}" placeholder="ปี พ.ศ." aria-label="ปี พ.ศ."{cls}>'
            "</span>"
        )


class ThaiDateField(Field):
    """A date typed as day / Thai month / พ.ศ. year; ``data`` is the CE date (or None when left blank).

    The BE↔CE conversion and the range check are the domain's (:func:`parse_be_date`): a CE year in the
    year box, an impossible day (31 ก.พ.) or half a date is refused at this field in Thai, so it never
    reaches the plan. ``required`` makes a blank date an error too.
    """

    widget = ThaiDateWidget()

    def __init__(self, label: str | None = None, validators: tuple[Any, ...] | list[Any] | None = None, *,
                 required: bool = False, **kwargs: Any) -> None:
        super().__init__(label, validators, **kwargs)
        self.required = required
        self._posted: tuple[str, str, str] | None = None
        # The label names the first input: tapping it puts the cursor in the day box.
        self.label = Label(f"{self.id}-day", self.label.text)

    def process(self, formdata: Any, data: Any = unset_value, extra_filters: Any = None) -> None:
        self._posted = None
        if formdata is not None and any(f"{self.name}-{p}" in formdata for p in PARTS):
            self._posted = tuple(str(formdata.get(f"{self.name}-{p}", "")) for p in PARTS)  # type: ignore[assignment]
        super().process(formdata, data, extra_filters)

    def process_formdata(self, valuelist: list[Any]) -> None:
        if self._posted is None and not valuelist:
            if self.required:
                self.data = None
                raise ValueError("กรุณากรอกวันที่")
            return
        self.raw_data = list(self._posted or ("", "", ""))
        self.data = None
        value = parse_be_date(*self.raw_data)  # DateParseError is a ValueError: WTForms shows its Thai text
        if value is None and self.required:
            raise ValueError("กรุณากรอกวันที่")
        self.data = value

    def parts(self) -> tuple[str, str, str]:
        """(day, month number, BE year) as shown: what was typed after an error, else the date's own."""
        if self._posted is not None:
            return self._posted
        if isinstance(self.data, date):
            shown = date_parts(self.data)
            return shown["day"], shown["month"], shown["year"]
        return "", "", ""

    def _value(self) -> str:
        return "/".join(self.parts())
