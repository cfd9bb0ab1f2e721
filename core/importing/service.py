"""The import framework every importer runs in: CSV, YAML or GeoJSON rows, one transaction.

Every import is all-or-nothing and idempotent: an importer matches rows on their key and
updates them, so importing the same file twice changes nothing. A file with any bad row
imports nothing and reports every bad row with a reason.

Each domain keeps its own table of row importers (``IMPORTERS``: name → (row importer,
required columns)) and runs a file through ``run_import`` with it; ``core.imports`` puts
every table together for the ``hub import`` command.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Awaitable, Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import yaml
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

MAX_ROWS = 100_000
_NUMBER_TAGS = frozenset({"tag:yaml.org,2002:int", "tag:yaml.org,2002:float"})


@dataclass
class ImportReport:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: list[tuple[int, str]] = field(default_factory=list)
    # What an importer remembers across rows for its whole-file checks (see FINISHERS).
    state: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.rejected


class ImportRejected(ValueError):
    def __init__(self, report: ImportReport) -> None:
        super().__init__(f"{len(report.rejected)} rows rejected")
        self.report = report


@dataclass(frozen=True)
class ImportOptions:
    """What some rows need beyond the file: the key PINs are hashed with, the phone region."""

    secret: str = ""
    region: str = "RU"
    language: str = "en"


def names_of(row: dict[str, str]) -> dict[str, str]:
    names = {lang: (row.get(f"name_{lang}") or "").strip()[:200] for lang in ("en", "ru", "zh")}
    if not names["en"]:
        raise ValueError("name_en is required")
    return {lang: value for lang, value in names.items() if value}


def set_values(obj: Any, values: dict[str, Any]) -> bool:
    changed = False
    for name, value in values.items():
        if getattr(obj, name) != value:
            setattr(obj, name, value)
            changed = True
    return changed


async def upsert(
    db_session: AsyncSession,
    report: ImportReport,
    model: type,
    lookup: dict[str, Any],
    values: dict[str, Any],
) -> None:
    existing = await db_session.scalar(select(model).filter_by(**lookup))
    if existing is None:
        db_session.add(model(**lookup, **values))
        report.created += 1
    elif set_values(existing, values):
        report.updated += 1
    else:
        report.unchanged += 1
    await db_session.flush()


RowImporter = Callable[[AsyncSession, dict[str, str], ImportReport, ImportOptions], Awaitable[None]]
# A domain's importers by name: the row importer and the columns every row must have.
Importers = Mapping[str, tuple[RowImporter, tuple[str, ...]]]

# Runs after every row of a file imported cleanly, for checks and changes that need the
# whole file (an owner register's shares of one flat add up to at most 1; owners a file no
# longer lists for a flat have sold it). Appends to ``report.rejected`` to refuse the file.
Finisher = Callable[[AsyncSession, ImportReport, ImportOptions], Awaitable[None]]


_LANGUAGES = frozenset({"en", "ru", "zh"})
# Per-language mappings in YAML are flattened to the CSV column names: names.en → name_en.
_SINGULAR = {"names": "name", "groups": "group"}


def _flatten(entry: dict[str, Any]) -> dict[str, str]:
    """Returns a YAML mapping as CSV-like cells, so one row importer reads both formats.

    Per-language mappings become ``<key>_<lang>`` cells (lists joined with ``|``), other
    structures are kept as JSON for the importers that take them (attributes, limits).
    """
    row: dict[str, str] = {}
    for key, value in entry.items():
        if isinstance(value, dict) and value and set(value) <= _LANGUAGES:
            for lang, text in value.items():
                cell = "|".join(map(str, text)) if isinstance(text, list) else str(text)
                row[f"{_SINGULAR.get(key, key)}_{lang}"] = cell
        elif isinstance(value, dict | list):
            row[str(key)] = json.dumps(value, ensure_ascii=False)
        else:
            row[str(key)] = "" if value is None else str(value)
    return row


class _TextLoader(yaml.SafeLoader):
    """A safe loader that keeps numbers as written: ``0105012345`` is a registration
    number, not an octal integer, and ``01`` a class code. The row importers parse the
    numbers they expect."""


_TextLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag not in _NUMBER_TAGS]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


class UnreadableFile(ValueError):
    """The file is not valid in the format it claims (CSV, YAML or GeoJSON)."""

    def __init__(self, message: str, line: int = 0) -> None:
        super().__init__(message)
        self.line = line


def rows_of(text: str, fmt: str) -> Iterator[tuple[int, dict[str, str] | None]]:
    """Yields (line or item number, row) from a CSV, YAML or GeoJSON file.

    A row of None marks a CSV row with more cells than columns. Raises UnreadableFile.
    """
    if fmt == "csv":
        yield from _csv_rows(text)
        return
    if fmt == "yaml":
        try:
            data = yaml.load(text, Loader=_TextLoader)  # noqa: S506 (a SafeLoader)
        except RecursionError:
            raise UnreadableFile("the YAML is nested too deeply") from None
        except yaml.YAMLError as exc:
            raise UnreadableFile(f"not valid YAML: {exc}") from None
        if not isinstance(data, list) or not all(isinstance(item, dict) for item in data):
            raise UnreadableFile("a YAML import is a list of mappings")
        for number, item in enumerate(data, start=1):
            yield number, _flatten(item)
        return
    if fmt == "geojson":
        try:
            data = json.loads(text)
        except RecursionError:
            raise UnreadableFile("the JSON is nested too deeply") from None
        except ValueError as exc:
            raise UnreadableFile(f"not valid JSON: {exc}") from None
        features = data.get("features") if isinstance(data, dict) else None
        if not isinstance(features, list):
            raise UnreadableFile("a GeoJSON import is a FeatureCollection")
        for number, feature in enumerate(features, start=1):
            if not isinstance(feature, dict):
                yield number, {}
                continue
            properties = feature.get("properties") or {}
            if not isinstance(properties, dict):
                yield number, {}
                continue
            row = {str(k): "" if v is None else str(v) for k, v in properties.items()}
            row["geometry"] = json.dumps(feature.get("geometry"))
            yield number, row
        return
    raise UnreadableFile(f"unknown format {fmt!r} (csv, yaml or geojson)")


def read_csv(text: str) -> csv.DictReader[str]:
    """Returns a reader of CSV rows as mappings; LF, CRLF and a bare CR all end a line."""
    # newline="" hands the csv module the line endings as written, as its documentation
    # asks: a default StringIO splits on \n only, and a bare \r (a classic Mac file, or
    # one stray in a header) then fails with "new-line character seen in unquoted field".
    # restval: a short row's missing cells read as empty, not None.
    return csv.DictReader(io.StringIO(text, newline=""), restval="")


def csv_header(text: str) -> list[str]:
    """Returns the column names on a CSV file's first line; raises UnreadableFile."""
    try:
        return list(read_csv(text).fieldnames or [])
    except csv.Error as exc:  # a header cell past the csv module's field size limit
        raise UnreadableFile(f"not valid CSV: {exc}", 1) from None


def _csv_rows(text: str) -> Iterator[tuple[int, dict[str, str] | None]]:
    reader = read_csv(text)
    rows = enumerate(reader, start=2)
    while True:
        try:
            line, row = next(rows)
        except StopIteration:
            return
        except csv.Error as exc:  # an unclosed quote swallowing the rest of the file
            raise UnreadableFile(f"not valid CSV: {exc}", reader.line_num) from None
        yield line, (None if None in row else row)


def format_of(filename: str) -> str:
    """Returns the import format a file name implies (CSV unless it says otherwise)."""
    lowered = filename.lower()
    if lowered.endswith((".yaml", ".yml")):
        return "yaml"
    if lowered.endswith((".geojson", ".json")):
        return "geojson"
    return "csv"


async def run_import(
    *,
    db_session: AsyncSession,
    importers: Importers,
    what: str,
    text: str,
    fmt: str = "csv",
    options: ImportOptions | None = None,
    finishers: Mapping[str, Finisher] | None = None,
) -> ImportReport:
    """Imports a file of ``what`` (one of ``importers``) in ``fmt``: all rows or none.

    Raises ImportRejected, with every bad row, when anything is refused; KeyError when
    ``importers`` has no ``what``.
    """
    importer, required = importers[what]
    options = options or ImportOptions()
    report = ImportReport()
    if fmt == "csv":
        try:
            header = csv_header(text)
        except UnreadableFile as exc:
            report.rejected.append((exc.line, str(exc)))
            raise ImportRejected(report) from None
        missing = [c for c in required if c not in header]
        if missing:
            report.rejected.append((1, f"missing columns: {', '.join(missing)}"))
            raise ImportRejected(report)
    try:
        for line, row in rows_of(text, fmt):
            if line > MAX_ROWS:
                report.rejected.append((line, f"more than {MAX_ROWS} rows"))
                break
            if row is None:  # more cells than the header has columns
                report.rejected.append((line, "more cells than columns"))
                continue
            absent = [c for c in required if not (row.get(c) or "").strip()]
            if fmt != "csv" and absent:
                report.rejected.append((line, f"missing: {', '.join(absent)}"))
                continue
            report.state["line"] = line
            await _import_row(db_session, importer, row, report, options, line)
    except UnreadableFile as exc:
        report.rejected.append((exc.line, str(exc)))
    finish = (finishers or {}).get(what)
    if finish is not None and not report.rejected:
        await finish(db_session, report, options)
    if report.rejected:
        raise ImportRejected(report)
    return report


async def _import_row(
    db_session: AsyncSession,
    importer: RowImporter,
    row: dict[str, str],
    report: ImportReport,
    options: ImportOptions,
    line: int,
) -> None:
    try:
        async with db_session.begin_nested():
            await importer(db_session, row, report, options)
    except IntegrityError:
        report.rejected.append((line, "conflicts with an existing row (a duplicate key?)"))
    except DBAPIError:
        # A value the checks let through but its column cannot hold (too long, too big).
        report.rejected.append((line, "a value is too long or too large for its column"))
    # LookupError: a missing key, or a code the row names that does not exist (an importer's
    # own lookup errors, such as core.routing's UnknownReference, derive from it).
    except (
        ValueError,
        ArithmeticError,
        ValidationError,
        TypeError,
        AttributeError,
        LookupError,
        RecursionError,
    ) as exc:
        reason = exc.errors()[0]["msg"] if isinstance(exc, ValidationError) else str(exc)
        report.rejected.append((line, reason))
