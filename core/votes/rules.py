"""The rule sets ballots run under: per jurisdiction and edition, which matter needs which
majority, and how long the notice and the voting must be. Kept as YAML data beside this
module; a ballot records the rule set's code, edition and a digest of its text."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from core.votes.enums import BallotScope, Jurisdiction, Threshold

RULES_DIR = Path(__file__).parent / "rules"


class UnknownRuleSet(LookupError):
    """No rule set (or matter) by that code."""


@dataclass(frozen=True)
class Matter:
    code: str
    threshold: Threshold
    article: str
    names: dict[str, str]


@dataclass(frozen=True)
class RuleSet:
    code: str
    jurisdiction: Jurisdiction
    edition: str
    names: dict[str, str]
    source: str
    notice_days_min: int
    voting_days_min: int
    voting_days_max: int
    matters: dict[str, Matter]
    # What one meeting may cover (a ballot is one meeting), and why, in the law's words.
    scopes: tuple[BallotScope, ...]
    scopes_reason: str
    # SHA-256 of the file: proves later which text a ballot was counted under.
    digest: str

    def matter(self, code: str) -> Matter:
        """Returns the matter type by code, or raises UnknownRuleSet."""
        try:
            return self.matters[code]
        except KeyError:
            known = ", ".join(sorted(self.matters))
            raise UnknownRuleSet(f"{self.code} has no matter {code!r} (known: {known})") from None

    def window_problems(
        self, *, notice_at: datetime, opens_at: datetime, closes_at: datetime
    ) -> list[str]:
        """Returns why these dates break the rule set (empty when they fit)."""
        problems = []
        if not notice_at <= opens_at < closes_at:
            problems.append("the notice must come first, then the opening, then the closing")
            return problems
        if opens_at - notice_at < timedelta(days=self.notice_days_min):
            problems.append(
                f"owners must be told at least {self.notice_days_min} days before voting "
                f"opens ({self.code})"
            )
        length = closes_at - opens_at
        if length < timedelta(days=self.voting_days_min):
            problems.append(f"voting must last at least {self.voting_days_min} days ({self.code})")
        if length > timedelta(days=self.voting_days_max):
            problems.append(f"voting may last at most {self.voting_days_max} days ({self.code})")
        return problems

    def scope_problem(self, scope: BallotScope) -> str | None:
        """Returns why one meeting cannot cover this kind of place (None when it can)."""
        if scope in self.scopes:
            return None
        return f"{self.scopes_reason} ({self.code}: no {scope} ballots)"


def _rule_set(text: str) -> RuleSet:
    data: dict[str, Any] = yaml.safe_load(text)
    matters = {
        code: Matter(
            code=code,
            threshold=Threshold(entry["threshold"]),
            article=str(entry["article"]),
            names=dict(entry["names"]),
        )
        for code, entry in data["matters"].items()
    }
    jurisdiction = Jurisdiction(data["jurisdiction"])
    for matter in matters.values():
        if not matter.threshold.startswith(f"{jurisdiction}_"):
            raise ValueError(f"{data['code']}: {matter.code} uses another country's threshold")
    return RuleSet(
        code=str(data["code"]),
        jurisdiction=jurisdiction,
        edition=str(data["edition"]),
        names=dict(data["names"]),
        source=str(data["source"]),
        notice_days_min=int(data["notice_days_min"]),
        voting_days_min=int(data["voting_days_min"]),
        voting_days_max=int(data["voting_days_max"]),
        matters=matters,
        scopes=tuple(BallotScope(scope) for scope in data["scopes"]),
        scopes_reason=str(data["scopes_reason"]),
        digest=hashlib.sha256(text.encode()).hexdigest(),
    )


@lru_cache(maxsize=1)
def rule_sets() -> dict[tuple[str, str], RuleSet]:
    """Returns every rule set by (code, edition)."""
    found = {}
    for path in sorted(RULES_DIR.glob("*.yaml")):
        rule_set = _rule_set(path.read_text(encoding="utf-8"))
        found[(rule_set.code, rule_set.edition)] = rule_set
    return found


def get_rule_set(code: str, edition: str | None = None) -> RuleSet:
    """Returns a rule set by code and edition (the newest edition when none is named)."""
    editions = [rs for (c, _e), rs in rule_sets().items() if c == code]
    if edition is not None:
        editions = [rs for rs in editions if rs.edition == edition]
    if not editions:
        known = ", ".join(sorted({f"{c} {e}" for c, e in rule_sets()}))
        raise UnknownRuleSet(f"no rule set {code!r} {edition or ''} (known: {known})")
    return max(editions, key=lambda rs: rs.edition)
