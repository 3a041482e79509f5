"""Two request or answer schemas with one class name would share one OpenAPI component: ninja
keeps the last, so one endpoint's document describes the other's body (a membership refund's
body once stood for the sale refund's, and integrators' generated clients would have sent it)."""

from collections import defaultdict

from ninja import Schema

import patron.api  # noqa: F401  (imports every router and the schemas they use)


def subclasses(cls: type) -> list[type]:
    found = []
    for sub in cls.__subclasses__():
        found.append(sub)
        found.extend(subclasses(sub))
    return found


def test_no_two_api_schemas_share_a_name():
    by_name: dict[str, set[str]] = defaultdict(set)
    for schema in subclasses(Schema):
        if schema.__module__.startswith("patron."):
            by_name[schema.__name__].add(schema.__module__)
    shared = {name: modules for name, modules in by_name.items() if len(modules) > 1}
    assert not shared, shared
