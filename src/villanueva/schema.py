"""Options declared once: each is a field of a frozen dataclass, and its metadata say everything the
faces of villanueva need to know about it.

    @dataclass(frozen=True)
    class Drawing:
        temperature: float = setting(1.0, "below 1: safer names; above 1: wilder", gt=0, le=100)

        def __post_init__(self):
            check(self)

From these declarations the command line generates its flags (cli/options.py), the web API its
request fields with their limits (web/requests.py), the page its inputs' limits and defaults (from
the API), and the Python library its keyword arguments (`keywords`). A value is checked once, by
`check`, where the dataclass is built: its type, its range, its choices, with a message that names
the parameter. Construction is by keyword only.
"""

import difflib
import inspect
import math
import types
import typing
from dataclasses import MISSING, Field, dataclass, field, fields

from villanueva.errors import UserError, parameter


def setting(
    default=MISSING,
    help: str | None = None,
    *,
    metavar: str | None = None,
    ge: float | None = None,
    gt: float | None = None,
    le: float | None = None,
    lt: float | None = None,
    choices: tuple | None = None,
    aliases: tuple[str, ...] = (),
    names_file: bool = False,
):
    """A field that is an option (when it has `help`): `ge`, `gt`, `le`, `lt` bound a number;
    `choices` lists the values allowed; `aliases` are further command-line spellings ("-n");
    `names_file` makes a list of names that the command line reads from a FILE (one per line)."""
    metadata = {
        "help": help,
        "metavar": metavar,
        "bounds": {
            key: value for key, value in (("ge", ge), ("gt", gt), ("le", le), ("lt", lt)) if value is not None
        },
        "choices": choices,
        "aliases": aliases,
        "names_file": names_file,
    }
    if isinstance(default, (list, set, frozenset, dict)):
        raise TypeError("a mutable default: use a tuple")
    return field(default=default, metadata=metadata)


@dataclass(frozen=True)
class ValueType:
    """What a field holds: `kind` (int, float, str, bool), possibly None, possibly a tuple of them."""

    kind: type
    optional: bool
    sequence: bool

    @classmethod
    def of(cls, declared) -> "ValueType":
        optional = False
        if isinstance(declared, types.UnionType) or typing.get_origin(declared) is typing.Union:
            members = typing.get_args(declared)
            optional = type(None) in members
            declared = next(member for member in members if member is not type(None))
        if typing.get_origin(declared) in (tuple, list, frozenset):
            return cls(typing.get_args(declared)[0], optional, True)
        return cls(declared, optional, False)


def is_option(f: Field) -> bool:
    """Whether a field is an option a person sets (it has help); recipes set the others."""
    return bool(f.metadata.get("help"))


def options(cls) -> list[Field]:
    """The fields of `cls` that are options."""
    return [f for f in fields(cls) if is_option(f)]


def check(instance) -> None:
    """Check every declared field of a frozen dataclass `instance`; a list given for a tuple (or one
    text for a tuple of texts) and an int given for a float are stored as the field's type."""
    for f in fields(instance):
        if "bounds" not in f.metadata:
            continue
        value = _checked(f, getattr(instance, f.name))
        object.__setattr__(instance, f.name, value)


def _checked(f: Field, value):
    expected, name = ValueType.of(f.type), parameter(f.name)
    if value is None:
        if expected.optional:
            return None
        raise UserError(f"{name} must be given, got None")
    if expected.sequence:
        if isinstance(value, str):
            value = (value,)
        if not isinstance(value, (list, tuple, set, frozenset)):
            raise UserError(
                f"{name} must be a list of {_type_name(expected.kind, plural=True)}, got {_shown(value)}"
            )
        return tuple(_one(f, item, expected.kind, name) for item in value)
    return _one(f, value, expected.kind, name)


def _one(f: Field, value, kind: type, name: str):
    if kind is float and isinstance(value, int) and not isinstance(value, bool):
        value = float(value)
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise UserError(f"{name} must be {_type_name(kind)}, got {_shown(value)}")
    if kind is float and not math.isfinite(value):
        raise UserError(f"{name} must be a finite number, got {value}")
    choices = f.metadata["choices"]
    if choices is not None and value not in choices:
        raise UserError(f"{name} must be one of {', '.join(map(str, choices))}; got {_shown(value)}")
    bounds = f.metadata["bounds"]
    if any(not _within(value, key, limit) for key, limit in bounds.items()):
        raise UserError(f"{name} must be {describe_bounds(bounds)}, got {value:,}")
    return value


_TESTS = {
    "ge": (lambda value, limit: value >= limit, "at least"),
    "gt": (lambda value, limit: value > limit, "greater than"),
    "le": (lambda value, limit: value <= limit, "at most"),
    "lt": (lambda value, limit: value < limit, "less than"),
}


def _within(value, key: str, limit) -> bool:
    return _TESTS[key][0](value, limit)


def describe_bounds(bounds: dict) -> str:
    """ "at least 1 and at most 100" """
    return " and ".join(f"{_TESTS[key][1]} {_number(limit)}" for key, limit in bounds.items())


def _number(limit) -> str:
    if limit == 2**63:
        return "2**63"
    return f"{limit:,}" if isinstance(limit, int) else f"{limit:g}"


def _type_name(kind: type, plural: bool = False) -> str:
    if plural:
        return {int: "whole numbers", float: "numbers", str: "texts"}.get(kind, kind.__name__)
    return {int: "a whole number", float: "a number", str: "a text", bool: "true or false"}.get(
        kind, kind.__name__
    )


def _shown(value) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def split_keywords(given: dict, *classes) -> list:
    """Build one instance of each of `classes` from the keyword arguments `given` that name its
    fields; a keyword no class has is a UserError that suggests the closest ones."""
    names = {f.name for cls in classes for f in options(cls)}
    strange = sorted(set(given) - names)
    if strange:
        raise unknown_keyword(strange[0], names)
    return [cls(**{f.name: given[f.name] for f in options(cls) if f.name in given}) for cls in classes]


def unknown_keyword(name: str, known) -> UserError:
    close = difflib.get_close_matches(name, sorted(known), n=3)
    hint = f"; did you mean {', '.join(map(parameter, close))}?" if close else ""
    return UserError(f"there is no option {parameter(name)}{hint}")


def takes(*classes, unset: tuple = ()):
    """Decorate a function whose **options are the options of `classes`: its signature (what
    `help()` and Jupyter show) lists them as keyword-only parameters with their defaults (None for
    the classes in `unset`, whose defaults something else decides: a recipe, a preset)."""

    def decorate(function):
        signature = inspect.signature(function)
        own = [p for p in signature.parameters.values() if p.kind is not inspect.Parameter.VAR_KEYWORD]
        named = {p.name for p in own}
        generated = [
            inspect.Parameter(
                f.name,
                inspect.Parameter.KEYWORD_ONLY,
                default=None if cls in unset else f.default,
                annotation=f.type,
            )
            for cls in classes
            for f in options(cls)
            if f.name not in named
        ]
        function.__signature__ = signature.replace(parameters=own + generated)
        return function

    return decorate
