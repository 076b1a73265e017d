"""Synthetic identities: resource ids, NPIs, Medicare Beneficiary Identifiers, names, addresses.

Everything is drawn from the caller's seeded `random.Random`, so the same seed gives the same
people. Names are common US names combined at random and phone numbers use the 555-01xx range
reserved for fiction; none of it describes a real person.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

MBI_LETTERS = "ACDEFGHJKMNPQRTUVWXY"  # A-Z without S, L, O, I, B, Z (CMS MBI format)
DIGITS = "0123456789"

FEMALE = ("Mary", "Patricia", "Linda", "Barbara", "Elizabeth", "Jennifer", "Susan", "Margaret", "Dorothy",
          "Lisa", "Nancy", "Karen", "Betty", "Helen", "Sandra", "Donna", "Carol", "Ruth", "Sharon", "Michelle",
          "Laura", "Sarah", "Kimberly", "Deborah", "Jessica", "Shirley", "Cynthia", "Angela", "Melissa",
          "Brenda", "Anna", "Virginia", "Kathleen", "Pamela", "Martha", "Debra", "Amanda", "Stephanie",
          "Carolyn", "Christine", "Marie", "Janet", "Catherine", "Frances", "Ann", "Joyce", "Diane", "Alice",
          "Julie", "Rosa", "Maria", "Mei", "Aiyana", "Leilani", "Gloria", "Teresa", "Evelyn", "Judith")
MALE = ("James", "John", "Robert", "Michael", "William", "David", "Richard", "Charles", "Joseph", "Thomas",
        "Christopher", "Daniel", "Paul", "Mark", "Donald", "George", "Kenneth", "Steven", "Edward", "Brian",
        "Ronald", "Anthony", "Kevin", "Jason", "Matthew", "Gary", "Timothy", "Jose", "Larry", "Jeffrey",
        "Frank", "Scott", "Eric", "Stephen", "Andrew", "Raymond", "Gregory", "Joshua", "Jerry", "Dennis",
        "Walter", "Patrick", "Peter", "Harold", "Douglas", "Henry", "Carl", "Arthur", "Roger", "Juan",
        "Hiroshi", "Wei", "Tariq", "Kekoa", "Samuel", "Willie", "Ralph", "Eugene")
FAMILY = ("Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis", "Rodriguez",
          "Martinez", "Hernandez", "Lopez", "Gonzalez", "Wilson", "Anderson", "Thomas", "Taylor", "Moore",
          "Jackson", "Martin", "Lee", "Perez", "Thompson", "White", "Harris", "Sanchez", "Clark", "Ramirez",
          "Lewis", "Robinson", "Walker", "Young", "Allen", "King", "Wright", "Scott", "Torres", "Nguyen",
          "Hill", "Flores", "Green", "Adams", "Nelson", "Baker", "Hall", "Rivera", "Campbell", "Mitchell",
          "Carter", "Roberts", "Chen", "Kim", "Patel", "Okafor", "Yazzie", "Kahale", "Novak", "Kowalski",
          "Schmidt", "Murphy", "O'Brien", "Sullivan", "Bennett", "Brooks", "Foster", "Hughes", "Price",
          "Myers", "Long", "Ross", "Sanders", "Jenkins", "Perry", "Powell", "Russell", "Fisher", "Reyes")
STREETS = ("Main St", "Oak Ave", "Maple Dr", "Cedar Ln", "Elm St", "Park Ave", "Lakeview Rd", "Hillcrest Dr",
           "Washington St", "Lincoln Ave", "Sunset Blvd", "Prairie Rd", "River Rd", "Church St", "Mill St",
           "Highland Ave", "Meadow Ln", "Forest Dr", "Willow Way", "Pine St", "Jefferson St", "Spring St")


@dataclass(frozen=True)
class Town:
    city: str
    state: str
    zip_prefix: str
    area_code: str


TOWNS = {
    "America/Chicago": Town("Peoria", "IL", "616", "309"),
    "America/New_York": Town("Albany", "NY", "122", "518"),
    "America/Denver": Town("Pueblo", "CO", "810", "719"),
    "America/Los_Angeles": Town("Fresno", "CA", "937", "559"),
}


_CLEAR = ~((0xF000 << 64) | (0xC000 << 48))
_SET = (0x4000 << 64) | (0x8000 << 48)


def new_id(rng: random.Random) -> str:
    """A version-4 UUID from the seeded generator (used as every resource id)."""
    h = "%032x" % ((rng.getrandbits(128) & _CLEAR) | _SET)  # as uuid.UUID(int=..., version=4)
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def npi(rng: random.Random) -> str:
    """A 10-digit NPI with a valid check digit (Luhn over the "80840" prefix)."""
    base = "1" + "".join(rng.choice(DIGITS) for _ in range(8))
    return base + str(_luhn_check("80840" + base))


def _luhn_check(payload: str) -> int:
    total = 0
    for i, char in enumerate(reversed(payload)):
        digit = int(char)
        if i % 2 == 0:  # doubled: the check digit will sit to the right of this one
            digit = digit * 2 - 9 if digit > 4 else digit * 2
        total += digit
    return (10 - total % 10) % 10


def mbi(rng: random.Random) -> str:
    """A Medicare Beneficiary Identifier in the CMS format (e.g. 1EG4TE5MK73)."""
    alnum = DIGITS + MBI_LETTERS
    pattern = ("123456789", MBI_LETTERS, alnum, DIGITS, MBI_LETTERS, alnum, DIGITS,
               MBI_LETTERS, MBI_LETTERS, DIGITS, DIGITS)
    return "".join(rng.choice(chars) for chars in pattern)


def mrn(index: int, rng: random.Random) -> str:
    """A practice medical record number, unique within the practice."""
    return str(20_000_000 + index * 17 + rng.randint(0, 16))


def human_name(rng: random.Random, female: bool) -> dict:
    given = FEMALE if female else MALE
    return {"use": "official", "family": rng.choice(FAMILY),
            "given": [rng.choice(given), rng.choice("ABCDEFGHJKLMNPRSTW") + "."]}


def phone(rng: random.Random, town: Town) -> str:
    return f"({town.area_code}) 555-01{rng.randint(0, 99):02d}"


def address(rng: random.Random, town: Town) -> dict:
    return {"use": "home", "line": [f"{rng.randint(100, 9899)} {rng.choice(STREETS)}"], "city": town.city,
            "state": town.state, "postalCode": f"{town.zip_prefix}{rng.randint(1, 99):02d}", "country": "US"}
