"""An inquiry's DE37 (:func:`~jamsostek_channels.adapters.iso8583.adapter._inquiry_rrn`): the
year's last digit, the day of the year and the hour in UTC, then the STAN, at the edges of a
year (leap or not) and across the Jakarta/UTC date line."""

from __future__ import annotations

import datetime as dt

import pytest

from jamsostek_channels.adapters.iso8583.adapter import _inquiry_rrn
from jamsostek_channels.clock import JAKARTA


@pytest.mark.parametrize(
    ("moment", "stan", "rrn"),
    [
        (dt.datetime(2024, 12, 31, 23, 59, tzinfo=JAKARTA), 42, "436616000042"),  # day 366
        (dt.datetime(2025, 1, 1, 3, 0, tzinfo=JAKARTA), 42, "436620000042"),  # still 2024 in UTC
        (dt.datetime(2025, 1, 1, 7, 0, tzinfo=JAKARTA), 1, "500100000001"),
        (dt.datetime(2025, 3, 1, 12, 0, tzinfo=dt.UTC), 7, "506012000007"),
        (dt.datetime(2024, 3, 1, 0, 30, tzinfo=dt.UTC), 999_999, "406100999999"),  # leap year
    ],
)
def test_an_inquiry_rrn_is_year_digit_day_of_year_utc_hour_and_stan(
    moment: dt.datetime, stan: int, rrn: str
) -> None:
    assert _inquiry_rrn(moment, stan) == rrn
    assert _inquiry_rrn(moment, stan)[1:4] == f"{moment.astimezone(dt.UTC).timetuple().tm_yday:03d}"
