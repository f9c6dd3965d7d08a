"""A week of made-up calls for the demo developer, put through usage-data's aggregator in a
running portal's database: what the usage screenshots and the accessibility test show.

Run as `manage.py shell -c` text (the portal runs in its own process and database), so it
reads its arguments from the environment: USAGE_SEED_CLIENT_ID (the application's client id).
"""

from __future__ import annotations

SEED = r"""
import os, random
from datetime import UTC, datetime, timedelta
from apis.models import Api
from django.contrib.auth import get_user_model
from products.models import Subscription
from usage.aggregate import aggregate_events

demo = get_user_model().objects.get(username="demo")
sub = Subscription.objects.filter(owner=demo, state="active").select_related("product").first()
apis = {a.slug: a for a in Api.objects.filter(slug__in=["echo", "petstore"])}
operations = {"echo": ["echoGet", "echoPost"], "petstore": ["listPets", "createPet", "showPetById"]}
client_id = os.environ.get("USAGE_SEED_CLIENT_ID", "")
rnd = random.Random(7)
now = datetime.now(UTC)
events = []
for hour in range(7 * 24):
    start = now - timedelta(hours=hour)
    # Busier in the working day, quieter at night.
    busy = 30 + int(25 * (1 + ((start.hour - 14) % 24 < 10)))
    for _ in range(rnd.randint(busy // 2, busy)):
        slug = rnd.choice(["echo", "petstore", "petstore"])
        draw = rnd.random()
        outcome, status, check = "success", 200, ""
        if draw > 0.97:
            outcome, status = "failed", 502
        elif draw > 0.93:
            outcome, status, check = "blocked", 429, "rate-limit"
        elif draw > 0.90:
            outcome, status = "other", 404
        total = rnd.lognormvariate(3.2, 0.6)
        events.append({
            "ts": (start - timedelta(seconds=rnd.randint(0, 3599))).timestamp(),
            "api_id": apis[slug].pk, "operation": rnd.choice(operations[slug]),
            "product_id": sub.product_id, "subscription_id": sub.pk,
            "client_id": client_id if rnd.random() < 0.7 else "",
            "user_id": demo.pk, "status": status, "outcome": outcome, "check": check,
            "total_ms": total, "backend_ms": None if outcome == "blocked" else total * 0.8,
            "bytes_in": rnd.randint(0, 400), "bytes_out": rnd.randint(200, 4000),
            "client_net": "127.0.0.0/24",
        })
print(aggregate_events(events), "events")
"""
