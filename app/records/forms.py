"""Input of the records page: the facility's retention period."""

from __future__ import annotations

from typing import Optional

from app.records.services import RETENTION_YEARS_RANGE
from app.web.forms import Form


def retention_form(data: object) -> tuple[Form, Optional[int]]:
    form = Form.from_data(data, ("retention_years",))
    years = form.whole_number("retention_years", *RETENTION_YEARS_RANGE)
    return form, years if form.ok else None
