"""Server time of the reference pages on the largest real specs, and catalog search at scale.

Runs against its own SQLite database in bench/results/ (never the dev database). Each figure
is the median of 20 requests through Django's test client, so it is server time without the
network. For operation pages every operation of each spec is requested once and the slowest
ten are then measured 20 times each: the report gives the worst median. The YAML download
is timed on its first request and as the median of five more.

    python -m bench pages_bench
"""

from __future__ import annotations

import io
import statistics
import time

from bench.django_setup import REPO, RESULTS, setup_django

SPECS = REPO.parent / "shared" / "specs"
DB = RESULTS / "pages.sqlite3"
CORPUS = {
    "kubernetes": "real-world/kubernetes.swagger.json",
    "stripe": "real-world/stripe-spec3.yaml",
    "openai": "real-world/openai.yaml",
    "box": "real-world/box-platform.json",
    "twilio": "real-world/twilio-api-v2010.json",
    "digitalocean": "real-world/digitalocean/specification",
}


def _setup() -> None:
    setup_django(DB)


def _median_ms(client, url: str, n: int = 20) -> tuple[float, int]:  # type: ignore[no-untyped-def]
    times = []
    size = 0
    for _ in range(n):
        started = time.perf_counter()
        response = client.get(url)
        times.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, (url, response.status_code)
        size = len(response.content)
    return statistics.median(times), size


def run() -> list[dict]:
    _setup()
    from django.core.management import call_command
    from django.test import Client
    from django.test.utils import setup_test_environment

    from apis.models import Api, Operation

    setup_test_environment()
    client = Client()
    rows: list[dict] = []
    for slug, rel in CORPUS.items():
        path = SPECS / rel
        if not path.exists():
            continue
        call_command(
            "importspec",
            str(path),
            slug=slug,
            publish=True,
            stdout=io.StringIO(),
        )
        api = Api.objects.get(slug=slug)
        api_ms, api_size = _median_ms(client, f"/apis/{slug}/")
        ops = list(
            Operation.objects.filter(version_id=api.default_version_id).values_list(
                "slug", flat=True
            )
        )
        once = []
        for op in ops:
            started = time.perf_counter()
            client.get(f"/apis/{slug}/operations/{op}/")
            once.append(((time.perf_counter() - started) * 1000, op))
        slowest = sorted(once, reverse=True)[:10]
        worst = max(
            (_median_ms(client, f"/apis/{slug}/operations/{op}/")[0], op) for _, op in slowest
        )
        all_median = statistics.median(t for t, _ in once)
        yaml_url = f"/apis/{slug}/download/yaml/"
        yaml_first = _timed(lambda: client.get(yaml_url))  # noqa: B023 (called at once)
        yaml_ms, yaml_size = _median_ms(client, yaml_url, n=5)
        rows.append(
            {
                "spec": slug,
                "operations": len(ops),
                "api page median ms": f"{api_ms:.1f}",
                "api page KB": f"{api_size / 1024:.0f}",
                "op page median ms (all ops, 1 req)": f"{all_median:.1f}",
                # The first view of an operation renders its schema tree (later ones reuse it).
                "slowest first view ms": f"{slowest[0][0]:.1f}",
                "worst op page median ms (20 req)": f"{worst[0]:.1f}",
                "worst op": worst[1],
                "yaml download first / next ms": f"{yaml_first:.0f} / {yaml_ms:.0f}",
                "yaml KB": f"{yaml_size / 1024:.0f}",
            }
        )
    rows.append(_catalog_at_scale(client))
    return rows


def _catalog_at_scale(client) -> dict:  # type: ignore[no-untyped-def]
    """2,000 published APIs, then the median of 20 searches and of the first catalog page."""
    from apis.models import Api, Tag

    words = ["payments", "orders", "identity", "storage", "compute", "billing", "search", "mail"]
    tags = [Tag.objects.get_or_create(name=w)[0] for w in words]
    batch = [
        Api(
            slug=f"synthetic-{i}",
            name=f"Synthetic {words[i % 8].title()} API {i}",
            is_published=True,
            summary=f"Manages {words[i % 8]} for tenant {i}.",
            operation_count=20,
            search_text=" ".join(
                [
                    f"synthetic {words[i % 8]} api {i}",
                    f"/v1/{words[i % 8]}/{{id}}",
                    "list get create delete",
                ]
                * 10
            ),
        )
        for i in range(2000)
    ]
    created = Api.objects.bulk_create(batch)
    through = Api.tags.through
    through.objects.bulk_create(
        [through(api_id=a.pk, tag_id=tags[i % 8].pk) for i, a in enumerate(created)]
    )
    search_ms, _ = _median_ms(client, "/apis/?q=billing+delete")
    tag_ms, _ = _median_ms(client, "/apis/?tag=storage")
    first_ms, _ = _median_ms(client, "/apis/")
    htmx_ms = statistics.median(
        _timed(lambda: client.get("/apis/?q=orders", headers={"HX-Request": "true"}))
        for _ in range(20)
    )
    return {
        "spec": "catalog, 2,000 APIs",
        "search median ms": f"{search_ms:.1f}",
        "tag filter median ms": f"{tag_ms:.1f}",
        "first page median ms": f"{first_ms:.1f}",
        "htmx search median ms": f"{htmx_ms:.1f}",
    }


def _timed(call) -> float:  # type: ignore[no-untyped-def]
    started = time.perf_counter()
    call()
    return (time.perf_counter() - started) * 1000


if __name__ == "__main__":
    from bench.__main__ import print_table

    print_table(run())
