"""Coupons under concurrency (PostgreSQL only): ten sales racing for one coupon, one wins;
concurrent issues never exceed the stock or a member's limit.

Each thread has its own database connection and starts at the same barrier; every attempt
runs in its own transaction, as a sale or an API request would.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable

import pytest
from django.db import connection, connections, transaction
from django.utils import timezone

from patron.core.errors import DomainError
from patron.members.models import Member
from patron.members.services import register_member
from patron.program.services import apply_program
from patron.promotions import services
from patron.promotions.models import Coupon, CouponStatus, CouponTemplate
from patron.tenancy.actor import Actor
from patron.tenancy.services import create_merchant

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]
THREADS = 10


@pytest.fixture(autouse=True)
def _postgres_only():
    if connection.vendor != "postgresql":
        pytest.skip("row-lock concurrency needs PostgreSQL (run with PATRON_TEST_POSTGRES)")


def race(attempt: Callable[[int], object]) -> Counter:
    """Run `attempt(i)` in THREADS threads at once; count what each returned or raised."""
    barrier = threading.Barrier(THREADS)
    outcomes: Counter = Counter()
    lock = threading.Lock()

    def run(index: int) -> None:
        try:
            barrier.wait()
            with transaction.atomic():
                result = attempt(index)
            outcome = result if isinstance(result, bool) else "ok"
        except DomainError as error:
            outcome = error.code
        except Exception as error:  # anything else fails the test
            outcome = f"unexpected: {type(error).__name__}: {error}"
        finally:
            connections.close_all()
        with lock:
            outcomes[outcome] += 1

    threads = [threading.Thread(target=run, args=(i,)) for i in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcomes


@pytest.fixture
def shop() -> tuple[Actor, Member]:
    merchant = create_merchant("race", "Race Co")
    actor = Actor.system(merchant)
    apply_program(
        actor,
        {
            "coupon_templates": [
                {
                    "code": "free",
                    "name": "Free",
                    "benefit": {"type": "fixed", "value": 500},
                    "valid_days": 30,
                },
                {
                    "code": "few",
                    "name": "Few",
                    "benefit": {"type": "fixed", "value": 500},
                    "valid_days": 30,
                    "stock": 3,
                },
                {
                    "code": "twice",
                    "name": "Twice",
                    "benefit": {"type": "fixed", "value": 500},
                    "valid_days": 30,
                    "per_member_limit": 2,
                },
            ]
        },
    )
    return actor, register_member(actor, {"mobile": "13800138000"})


def test_ten_sales_using_one_coupon_one_wins(shop):
    actor, member = shop
    coupon = services.issue_coupon(actor, member, "free")
    at = timezone.now()
    outcomes = race(lambda i: services.consume_coupon(coupon.pk, sale_ref=f"sale-{i}", at=at))
    assert outcomes == Counter({True: 1, False: THREADS - 1})
    coupon.refresh_from_db()
    assert coupon.status == CouponStatus.USED and coupon.used_in.startswith("sale-")


def test_concurrent_issues_never_exceed_the_stock(shop):
    actor, _member = shop
    members = [register_member(actor, {"mobile": f"1390013{i:04d}"}) for i in range(THREADS)]
    outcomes = race(lambda i: services.issue_coupon(actor, members[i], "few"))
    assert outcomes == Counter({"ok": 3, "coupon_out_of_stock": THREADS - 3})
    assert Coupon.objects.filter(template__code="few").count() == 3
    assert CouponTemplate.objects.get(code="few").issued_count == 3


def test_concurrent_issues_never_exceed_a_members_limit(shop):
    actor, member = shop
    outcomes = race(lambda i: services.issue_coupon(actor, member, "twice"))
    assert outcomes == Counter({"ok": 2, "coupon_limit_reached": THREADS - 2})
    assert Coupon.objects.filter(member=member, template__code="twice").count() == 2
    assert CouponTemplate.objects.get(code="twice").issued_count == 2
