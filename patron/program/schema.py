"""The program file's one schema: models for its sections, the JSON Schema, and errors.

Each app describes the sections it owns with `ProgramModel` / `ItemList` models built from the
types in `patron.program.fields`, and registers them (`services.register_section`); the whole
file is one model made from that registry. Checks that span fields or items (a repeated code,
an end before its start) are a model's `problems`: they are reported with the errors of the
fields, so an invalid item hides nothing else. Every error comes out with its path in our
syntax (`promotions[2].benefit.value`) and a translated reason (API.md §5).
"""

from __future__ import annotations

import functools
import operator
from collections.abc import Callable, Iterable, Iterator
from typing import Annotated, Any, Generic, TypeVar

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from pydantic import (
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    RootModel,
    ValidationError,
    ValidatorFunctionWrapHandler,
    WrapValidator,
    create_model,
    model_validator,
)
from pydantic_core import InitErrorDetails

from patron.core.errors import FieldError
from patron.program.fields import CODE, PROGRAM_ERROR, refusal

Loc = tuple[str | int, ...]
# A problem found across fields: where (relative to the model that found it) and why.
Refusal = tuple[Loc, str]
T = TypeVar("T")

JSON_SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"
# pydantic's own error types that program files can meet, in our words.
MESSAGES = {
    "missing": gettext_lazy("Required."),
    "extra_forbidden": gettext_lazy("Unknown key."),
    "invalid_key": gettext_lazy("Unknown key."),  # not text, so no key of ours
    "model_type": gettext_lazy("Must be a mapping."),
    "model_attributes_type": gettext_lazy("Must be a mapping."),
    "dict_type": gettext_lazy("Must be a mapping."),
    "list_type": gettext_lazy("Must be a list."),
}


# --- reporting problems with the field errors ----------------------------------------------


def _line(error: dict[str, Any], loc: Loc) -> InitErrorDetails:
    """A reported error as pydantic takes it back, at `loc`."""
    if error["type"] == PROGRAM_ERROR:
        return {"type": refusal(error["ctx"]["reason"]), "loc": loc, "input": error["input"]}
    line: InitErrorDetails = {"type": error["type"], "loc": loc, "input": error["input"]}
    if "ctx" in error:
        line["ctx"] = error["ctx"]
    return line


def merged(
    title: str,
    error: ValidationError | None,
    refusals: Iterable[Refusal],
    value: Any,
    move: Callable[[Loc], Loc] = lambda loc: loc,
) -> ValidationError | None:
    """The errors of `error` (each moved by `move`) and `refusals` as one error, if any.

    A ValidationError raised in a validator keeps its errors, each at its own place below the
    validated value: this is how one check can report at several paths.
    """
    lines = [_line(line, move(line["loc"])) for line in error.errors()] if error else []
    lines += [
        {"type": refusal(str(message)), "loc": loc, "input": value} for loc, message in refusals
    ]
    return ValidationError.from_exception_data(title, lines) if lines else None


def _check_across(cls: Any, value: Any, handler: ValidatorFunctionWrapHandler) -> Any:
    refusals = list(cls.problems(value))
    try:
        validated = handler(value)
    except ValidationError as error:
        raise merged(cls.__name__, error, refusals, value) from None
    if refusals:
        raise merged(cls.__name__, None, refusals, value)
    return validated


class ProgramModel(BaseModel):
    """A mapping of a program file: unknown keys are errors.

    A field defaulting to None may be left out, but null is not a value it takes.
    """

    model_config = ConfigDict(extra="forbid")

    @classmethod
    def problems(cls, value: Any) -> Iterator[Refusal]:
        """What is wrong across the fields of the raw `value` (which may not be a mapping)."""
        return iter(())

    @model_validator(mode="wrap")
    @classmethod
    def _problems_too(cls, value: Any, handler: ValidatorFunctionWrapHandler) -> Any:
        return _check_across(cls, value, handler)

    def given(self) -> dict[str, Any]:
        """The fields the file gave, cleaned, in the model's order."""
        return self.model_dump(include=set(self.model_fields_set))


class ItemList(RootModel[list[T]], Generic[T]):
    """A section that is a list of items."""

    @classmethod
    def problems(cls, value: Any) -> Iterator[Refusal]:
        """What is wrong across the items of the raw `value` (which may not be a list)."""
        return iter(())

    @model_validator(mode="wrap")
    @classmethod
    def _problems_too(cls, value: Any, handler: ValidatorFunctionWrapHandler) -> Any:
        return _check_across(cls, value, handler)


def mappings(value: Any) -> Iterator[tuple[int, dict[Any, Any]]]:
    """(index, item) for each mapping of a raw list, for checks across items."""
    if isinstance(value, list):
        yield from ((index, item) for index, item in enumerate(value) if isinstance(item, dict))


def repeats(found: Iterable[tuple[int, Any]]) -> Iterator[tuple[int, Any]]:
    """(index, value) for each value seen before at a smaller index; None is no value."""
    seen: set[Any] = set()
    for index, value in found:
        if value is None:
            continue
        if value in seen:
            yield index, value
        seen.add(value)


class CodedList(ItemList[T], Generic[T]):
    """A list of items each named by a `code`, which no two items share."""

    @classmethod
    def problems(cls, value: Any) -> Iterator[Refusal]:
        codes = ((index, CODE.parse(item.get("code"))) for index, item in mappings(value))
        for index, code in repeats(codes):
            yield (index, "code"), _("Duplicate code %s.") % code


def tagged_union(tag: str, *models: type[BaseModel]) -> Any:
    """The models told apart by their field `tag` (e.g. a benefit's `type`).

    pydantic places an error in a member under the tag's value (`benefit.percent.value`);
    here it stays where the file has it (`benefit.value`), and a missing or unknown tag is an
    error of the tag field listing the choices.
    """
    tags = [model.model_fields[tag].annotation.__args__[0] for model in models]

    def untagged(value: Any, handler: ValidatorFunctionWrapHandler) -> Any:
        try:
            return handler(value)
        except ValidationError as error:
            if any(line["type"].startswith("union_tag_") for line in error.errors()):
                choices = [((tag,), _("One of: %s") % ", ".join(tags))]
                raise merged("tag", None, choices, value) from None
            raise merged("union", error, [], value, move=lambda loc: loc[1:]) from None

    union = functools.reduce(operator.or_, models)
    return Annotated[union, Discriminator(tag), WrapValidator(untagged)]


# --- the whole file ------------------------------------------------------------------------


def file_model(sections: dict[str, Any]) -> type[BaseModel]:
    """The model of a whole program file from the model of each section."""
    fields: dict[str, Any] = {
        name: (section, Field(default=None)) for name, section in sections.items()
    }
    return create_model(
        "ProgramFile",
        __config__=ConfigDict(extra="forbid", title="Patron program file"),
        __doc__=(
            "A merchant's program (API.md §2): each section given replaces the current one, "
            "a section left out is left as it is. Money in fen, rates in percent of price."
        ),
        **fields,
    )


def _without_null_defaults(schema: Any) -> Any:
    """Drop `"default": null`: for us it means "may be left out", not "may be null"."""
    if isinstance(schema, dict):
        return {
            key: _without_null_defaults(value)
            for key, value in schema.items()
            if not (key == "default" and value is None)
        }
    if isinstance(schema, list):
        return [_without_null_defaults(value) for value in schema]
    return schema


def json_schema(model: type[BaseModel]) -> dict[str, Any]:
    return {"$schema": JSON_SCHEMA_DIALECT, **_without_null_defaults(model.model_json_schema())}


def inlined(schema: dict[str, Any]) -> dict[str, Any]:
    """`schema` with each `$ref` to its `$defs` replaced by the definition: a schema that can sit
    anywhere in another document (the API's OpenAPI document holds it as a request body)."""
    definitions = schema.get("$defs", {})

    def inline(node: Any, within: tuple[str, ...]) -> Any:
        if isinstance(node, list):
            return [inline(item, within) for item in node]
        if not isinstance(node, dict):
            return node
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/$defs/"):
            name = ref.removeprefix("#/$defs/")
            if name in within:  # no section nests itself; this keeps it so
                raise ValueError(f"the program schema refers to {name} inside itself")
            siblings = {key: inline(value, within) for key, value in node.items() if key != "$ref"}
            return {**inline(definitions[name], (*within, name)), **siblings}
        # A discriminator's mapping names definitions too; the oneOf it annotates still holds.
        dropped = ("$defs", "discriminator")
        return {key: inline(value, within) for key, value in node.items() if key not in dropped}

    return {key: value for key, value in inline(schema, ()).items() if key != "$schema"}


def path_of(loc: Loc) -> str:
    """('promotions', 2, 'benefit', 'value') -> 'promotions[2].benefit.value'."""
    path = ""
    for part in loc:
        if part == "[key]":  # a refused mapping key: reported at that key
            continue
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            path += f".{part}" if path else str(part)
    return path or "$"


def field_errors(error: ValidationError) -> list[FieldError]:
    """pydantic's errors as ours: a path each and a translated reason."""
    found = []
    for line in error.errors():
        if line["type"] == PROGRAM_ERROR:
            message = line["ctx"]["reason"]
        else:
            message = str(MESSAGES.get(line["type"], line["msg"]))
        found.append(FieldError(path_of(line["loc"]), message))
    return found
