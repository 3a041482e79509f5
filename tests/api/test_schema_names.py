"""Two request or answer schemas with one class name would share one OpenAPI component: ninja
keeps the last, so one endpoint's document describes the other's body (a membership refund's
body once stood for the sale refund's, and integrators' generated clients would have sent it).
Plain pydantic models count too: the mall's tender once lent its larger maximum to the till's."""

from collections import defaultdict

from ninja import Schema
from pydantic import BaseModel

import patron.api  # noqa: F401  (imports every router and the schemas they use)


def subclasses(cls: type) -> list[type]:
    found = []
    for sub in cls.__subclasses__():
        found.append(sub)
        found.extend(subclasses(sub))
    return found


def is_api_schema(model: type) -> bool:
    """ninja's schemas anywhere, pydantic models where the API's bodies live (`*.schemas`,
    `*.api`, `*_api`); the program file's models are not API bodies."""
    module = model.__module__
    if not module.startswith("patron."):
        return False
    return issubclass(model, Schema) or module.endswith((".schemas", ".api", "_api"))


def test_no_two_api_schemas_share_a_name():
    by_name: dict[str, set[str]] = defaultdict(set)
    for schema in subclasses(BaseModel):
        if is_api_schema(schema):
            by_name[schema.__name__].add(schema.__module__)
    shared = {name: modules for name, modules in by_name.items() if len(modules) > 1}
    assert not shared, shared
