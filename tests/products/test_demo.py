"""The demo seed: Starter (instant, 60 calls a minute, 10,000 every 30 days), Unlimited (approval),
demo's key."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from django.test import Client

from apis.models import Api
from products import demo
from products.models import Product, Subscription

pytestmark = pytest.mark.django_db
REPO = Path(__file__).resolve().parents[2]


def test_seed_makes_both_products_and_one_active_subscription_idempotently(
    echo: Api, petstore: Api, make_user: Any
) -> None:
    user = make_user("demo")
    demo.seed(io.StringIO())
    demo.seed(io.StringIO())
    starter, unlimited = Product.objects.get(slug="starter"), Product.objects.get(slug="unlimited")
    assert (starter.approval_required, starter.rate_limit_calls, starter.rate_limit_period) == (
        False, 60, 60,
    )  # fmt: skip
    # A quota, so the demo's usage pages have a quota bar to show.
    assert (starter.quota_calls, starter.quota_period) == (10_000, 30 * 86400)
    assert unlimited.approval_required
    assert {a.slug for a in starter.apis.all()} == {"echo", "petstore"}
    subs = Subscription.objects.filter(owner=user)
    assert [(s.product.slug, s.state) for s in subs] == [("starter", "active")]


def test_the_seeds_words_give_the_quota_period_the_pages_show(echo: Api, make_user: Any) -> None:
    """The product's description and `make run` said 10,000 "a month"; its page, the
    subscription's and the usage pages count "per 30 days", in fixed periods that do not
    follow the calendar's months."""
    make_user("demo")
    out = io.StringIO()
    demo.seed(out)
    description = Product.objects.get(slug="starter").description
    assert "10,000 every 30 days" in description and "month" not in description
    assert "10,000 every 30 days" in out.getvalue() and "month" not in out.getvalue()


def test_the_demo_apis_stay_visible_to_everyone(echo: Api, petstore: Api) -> None:
    demo.seed(io.StringIO())
    anonymous = Client()
    assert anonymous.get("/apis/echo/").status_code == 200
    assert "Petstore" in anonymous.get("/apis/").content.decode()


def test_make_run_writes_the_demo_mail_to_a_file_not_the_console(tmp_path: Path) -> None:
    """`make run` (DEBUG, no EMAIL_HOST): the seed's subscription e-mail goes to a file, and
    the run's console shows the seed's summary without a mail dumped into it."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("EMAIL_", "DATABASE_"))}
    env |= {
        "DEBUG": "1",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'run.sqlite3'}",
        "EMAIL_FILE_PATH": str(tmp_path / "mail"),
        "SECRET_KEY": "demo-mail-test-" + "x" * 40,
    }
    for command in (["migrate", "--no-input", "-v", "0"], ["seed_demo"]):
        done = subprocess.run(
            [sys.executable, "manage.py", *command],
            cwd=REPO, env=env, capture_output=True, text=True, timeout=300,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
    console = done.stdout + done.stderr
    assert "the demo user holds an active Starter subscription" in console
    assert "Subject:" not in console and "Your subscription" not in console
    mails = "".join(p.read_text() for p in (tmp_path / "mail").iterdir())
    assert "Subject: [" in mails and "Your subscription to Starter is active" in mails
