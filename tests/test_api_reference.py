"""docs/api.md is the repository's own reference of the API: these tests hold it to
the server, in both directions, so that neither can change without the other."""

from __future__ import annotations

import argparse
import ast
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from server.aggregates import registry  # noqa: F401  (imports every aggregate's rules)
from server.aggregates.base import RuleBroken
from server.app import create_app
from server.auth.permissions import POSTERS
from server.auth.tokens import Role
from server.cli import build_parser
from server.config import Settings

ROOT = Path(__file__).resolve().parents[1]
REFERENCE = (ROOT / "docs" / "api.md").read_text(encoding="utf-8")
OPERATION = re.compile(r"`(GET|POST|PUT|PATCH|DELETE) (/[^`\s?]*)")
EVENT_ROW = re.compile(r"^\| `([A-Z][A-Za-z]+)` \| ([a-z, ]+) \|", re.MULTILINE)
RULE_ROW = re.compile(r"^\| `([a-z-]+)` \| [a-z]+ \|", re.MULTILINE)
ERROR_ROW = re.compile(r"^\| (\d{3}) \| ([^|]+) \|", re.MULTILINE)
COMMAND_ROW = re.compile(r"^\| `hamkari ([a-z -]+?)(?: [A-Z\[-].*)?` \|", re.MULTILINE)


def served_operations() -> set[tuple[str, str]]:
    app = create_app(Settings(database_url="postgresql://reference@localhost/none"))
    document = app.openapi_schema.to_schema()
    return {(method.upper(), path) for path, ops in document["paths"].items() for method in ops}


def documented_operations() -> set[tuple[str, str]]:
    return {(m, p) for m, p in OPERATION.findall(REFERENCE) if not p.startswith("/schema")}


def test_every_operation_is_documented_and_nothing_more() -> None:
    served, documented = served_operations(), documented_operations()
    assert served - documented == set(), "operations missing from docs/api.md"
    assert documented - served == set(), "docs/api.md names operations the server lacks"


def test_every_event_type_is_documented_with_who_may_post_it() -> None:
    documented = {
        name: frozenset(Role(role.strip()) for role in roles.split(","))
        for name, roles in EVENT_ROW.findall(REFERENCE)
    }
    assert set(documented) == set(POSTERS), "event types of docs/api.md and the server differ"
    for name, roles in POSTERS.items():
        assert documented[name] == roles, f"{name}: docs/api.md says {sorted(documented[name])}"


def _rules(cls: type[RuleBroken] = RuleBroken) -> Iterator[str]:
    for sub in cls.__subclasses__():
        yield sub.rule
        yield from _rules(sub)


def test_every_rule_is_documented_and_nothing_more() -> None:
    assert set(RULE_ROW.findall(REFERENCE)) == set(_rules())


def _slugs_in(path: Path) -> Iterator[str]:
    """The problem slugs a module answers with: the second argument of every
    problem_response(...) or ProblemDetail(...), and the slugs of its tables."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            name = getattr(node.func, "id", None) or getattr(node.func, "attr", None)
            if name in {"problem_response", "ProblemDetail"} and len(node.args) >= 2:
                slug = node.args[1]
                if isinstance(slug, ast.Constant) and isinstance(slug.value, str):
                    yield slug.value
        elif isinstance(node, ast.Tuple) and len(node.elts) == 2:
            first = node.elts[0]
            if (
                isinstance(first, ast.Constant)
                and isinstance(first.value, str)
                and re.fullmatch(r"[a-z]+(-[a-z]+)+|[a-z]+", first.value)
                and path.name == "problems.py"
            ):
                yield first.value


def test_every_problem_type_is_documented() -> None:
    answered = {slug for p in (ROOT / "server").rglob("*.py") for slug in _slugs_in(p)}
    answered -= {"http-error"}  # the fallback for a status with no entry of its own
    documented = {
        slug
        for _status, cell in ERROR_ROW.findall(REFERENCE)
        for slug in re.findall(r"`([a-z-]+)`", cell)
    }
    assert answered - documented == set(), "problem types missing from docs/api.md"
    assert documented - answered - {"rules"} == set(), "docs/api.md names unknown problem types"


def test_every_role_is_documented() -> None:
    for role in Role:
        assert f"| `{role.value}` |" in REFERENCE


def _commands(parser: argparse.ArgumentParser, prefix: str = "") -> Iterator[str]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield from _commands(sub, f"{prefix}{name} ")
            return
    yield prefix.strip()


def test_every_command_is_documented_and_nothing_more() -> None:
    assert set(COMMAND_ROW.findall(REFERENCE)) == set(_commands(build_parser()))


@pytest.mark.parametrize("guide", ["README.md", "docs/partner-guide.md"])
def test_readers_are_sent_to_the_reference_not_outside_the_repository(guide: str) -> None:
    text = (ROOT / guide).read_text(encoding="utf-8")
    assert "docs/api.md" in text or "(api.md)" in text or "`api.md`" in text
    assert "../shared" not in text
