"""Reading Prometheus text in tests, with prometheus_client's own parser."""

from __future__ import annotations

from prometheus_client.parser import text_string_to_metric_families


def samples(text: str, name: str) -> list[tuple[dict[str, str], float]]:
    return [
        (dict(s.labels), s.value)
        for family in text_string_to_metric_families(text)
        for s in family.samples
        if s.name == name
    ]


def sample(text: str, name: str, **labels: str) -> float:
    """The value of the sample with exactly these labels; 0 when it is absent."""
    for found, value in samples(text, name):
        if found == labels:
            return value
    return 0.0


def total(text: str, name: str, *, exclude_route: str | None = None) -> float:
    """The sum over every label set, leaving out one route."""
    return sum(
        value
        for labels, value in samples(text, name)
        if exclude_route is None or labels.get("route") != exclude_route
    )
