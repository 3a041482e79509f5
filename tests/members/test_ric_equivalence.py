"""Our memoised resident-ID check must agree with python-stdnum's own on every number."""

import random

from stdnum.cn import ric
from stdnum.exceptions import ValidationError

from patron.members.validation import validate_ric

REGIONS = ["110101", "330106", "440305", "999999", "110100", "469001", "510184", "130181"]


def stdnum_answer(number: str) -> str | None:
    try:
        return ric.validate(number)
    except ValidationError:
        return None


def our_answer(number: str) -> str | None:
    try:
        return validate_ric(number)
    except ValidationError:
        return None


def test_validate_ric_agrees_with_stdnum():
    rng = random.Random(20261123)
    numbers = ["", "123", "11010119900307123X", "11010119900307123x", " 110101 19900307 1234 "]
    for _ in range(3000):
        body = (
            f"{rng.choice(REGIONS)}{rng.randint(1900, 2030)}{rng.randint(1, 13):02d}"
            f"{rng.randint(1, 31):02d}{rng.randint(0, 999):03d}"
        )
        numbers += [body + ric.calc_check_digit(body + "0"), body + str(rng.randint(0, 9))]
    disagreements = [n for n in numbers if stdnum_answer(n) != our_answer(n)]
    assert disagreements == []
    assert sum(our_answer(n) is not None for n in numbers) > 500  # plenty of valid ones
