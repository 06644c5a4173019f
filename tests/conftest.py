"""Shared fixtures. Hypothesis runs without deadlines: timing is the benchmarks' job, not tests'."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from hypothesis import HealthCheck, settings

from jamsostek_channels.rules import RuleSet, default_rules

settings.register_profile(
    "default", deadline=None, max_examples=150, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile("ci", deadline=None, max_examples=300)
settings.load_profile("default")

#: The date every test treats as "today" unless it says otherwise (a Sunday in WIB).
TODAY = dt.date(2026, 11, 22)


@pytest.fixture
def rules() -> RuleSet:
    return default_rules()


@pytest.fixture
def today() -> dt.date:
    return TODAY


def participant_data(**changes: Any) -> dict[str, Any]:
    """A valid participant in canonical JSON (a woman born 15 Aug 1995 in Kab. Bogor)."""
    data: dict[str, Any] = {
        "nik": "3201015508950001",
        "name": "Siti Rahayu",
        "birth_date": "1995-08-15",
        "sex": "female",
        "phone": "0812-3456-7890",
        "email": "siti@contoh.id",
        "address": "Jl. Merdeka No. 10, Cibinong",
        "postal_code": "16911",
        "occupations": ["pedagang"],
        "income": 2_800_000,
        "programs": ["jkk", "jkm"],
    }
    data.update(changes)
    return data


@pytest.fixture
def valid_data() -> dict[str, Any]:
    return participant_data()
