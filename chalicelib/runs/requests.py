"""What `POST /backoffice/jobs/{job}/runs` accepts (API.md "Jobs")."""

from __future__ import annotations

from datetime import date

from pydantic import Field

from chalicelib.body import Body


class JobRunIn(Body):
    as_of: date | None = Field(default=None, description="Defaults to today; not after today, not before 2000-01-01.")
