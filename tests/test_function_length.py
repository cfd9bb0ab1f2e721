"""No function in the hub's code runs past ~80 lines (STYLE.md, rule 10).

A function that long does several jobs, and its reader has to hold them all at once; the
fix is to split it into functions named for those jobs. The check reads the source with
``ast`` (nothing is imported), so it also covers code no test happens to run.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("core", "channels", "portal", "sms")
MAX_LINES = 80
# Functions still over the limit, as "path:function". Only ever shrinks: a function
# named here is being split by its owner, and a new long function fails the test.
ALLOWED: frozenset[str] = frozenset()


def _sources() -> list[Path]:
    """Returns the hub's Python files, migrations left out (they are generated, then frozen)."""
    return [
        path
        for package in PACKAGES
        for path in sorted((ROOT / package).rglob("*.py"))
        if "migrations" not in path.relative_to(ROOT).parts
    ]


def _too_long(source: str, max_lines: int) -> list[tuple[str, int]]:
    """Returns (name, lines) of every function in ``source`` longer than ``max_lines``,
    nested ones and methods included, counted from the ``def`` line to the last line
    (decorators are not counted)."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            assert node.end_lineno is not None
            lines = node.end_lineno - node.lineno + 1
            if lines > max_lines:
                found.append((node.name, lines))
    return found


def long_functions(max_lines: int = MAX_LINES) -> list[str]:
    """Returns "path:function:lines" for every function of the hub over ``max_lines``."""
    return [
        f"{path.relative_to(ROOT).as_posix()}:{name}:{lines}"
        for path in _sources()
        for name, lines in _too_long(path.read_text(encoding="utf-8"), max_lines)
    ]


def test_sources_are_found() -> None:
    # A wrong root would make the length check pass on nothing.
    names = {path.relative_to(ROOT).as_posix() for path in _sources()}
    assert "core/demo.py" in names
    assert "portal/open311/views.py" in names
    assert not any("/migrations/" in name for name in names)


def test_the_count_runs_from_def_to_last_line() -> None:
    body = "".join(f"    x{n} = {n}\n" for n in range(3))
    nested = body.replace("    ", "        ")
    source = f"@decorator\ndef short():\n{body}\nclass C:\n    async def method(self):\n{nested}"
    # def + 3 lines = 4 (the decorator is not counted); the method is 1 + 3 lines too.
    assert _too_long(source, 3) == [("short", 4), ("method", 4)]
    assert _too_long(source, 4) == []


def test_no_function_is_longer_than_80_lines() -> None:
    found = long_functions()
    too_long = [item for item in found if item.rsplit(":", 1)[0] not in ALLOWED]
    assert not too_long, "split these functions (path:function:lines): " + ", ".join(too_long)


def test_the_allow_list_names_only_functions_still_long() -> None:
    # Once a function is split its entry goes, so the list cannot hide a new long one.
    still_long = {item.rsplit(":", 1)[0] for item in long_functions()}
    assert still_long >= ALLOWED, f"no longer long, remove: {sorted(ALLOWED - still_long)}"
