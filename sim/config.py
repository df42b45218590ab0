"""Scenario schema: every key, its default and its range, in one place.

A scenario is what an analyst edits: "22 streets, departments may bounce unclear problems
back to the street half of the time". It is loaded from YAML, optionally patched with
``--set key.path=value`` overrides, validated, and then frozen: a run never changes it.
Every default the model uses is written here and nowhere else.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import AfterValidator, ConfigDict, Field, Strict, ValidationError, model_validator

# isort: off
from sim.fields import (  # noqa: F401  (re-exported: the schema's building blocks)
    COEFFICIENT_MAX, CV, CV_MAX, CV_MIN, DIST_CLASSES, DIST_NAMES, HORIZON_MAX, INTERVAL_MIN, KEYED,
    LEVELS, POPULATION_MAX, PRIOR_NAMES, PROB_TOL, RATE_MAX, ROUNDS_MAX, UNITS_MAX, WEIGHT_MAX,
    AtLeastOne, AtLeastZero, Coefficient, Distribution, Empirical, Exponential, Fixed, Flag, Frozen,
    Gamma, Interval, LevelName, Lognormal, NonNegFloat, Number, PositiveFloat, Probability, Rate,
    ScenarioError, Text, Triangular, Uniform, Units, _cv, bad, expo, logn, sla_label,
)
# isort: on
from sim.overrides import apply_overrides, parse_overrides  # noqa: F401  (re-exported)


# --------------------------------------------------------------------------- sections
class District(Frozen):
    streets: Units = 22
    """street offices"""
    communities: Units = 137
    """communities, spread over streets as evenly as possible (§4)"""
    grids: Units = 1064
    """grids, spread over communities as evenly as possible"""
    population: Annotated[int, Strict(), Field(ge=1, le=POPULATION_MAX)] = 1_100_000
    """residents; grid populations sum to it"""
    population_cv: Annotated[float, Strict(), Field(ge=0, le=10), AfterValidator(_cv)] = 0.3
    """coefficient of variation of grid populations (lognormal); 0 = equal grids"""
    departments: Units = 29
    """district departments (each a unit with `levels.department.staff` staff)"""

    @model_validator(mode="after")
    def _nested(self) -> District:
        if self.communities < self.streets:
            raise bad("communities", "fewer than streets (expected communities >= streets)")
        if self.grids < self.communities:
            raise bad("grids", "fewer than communities (expected grids >= communities)")
        return self


class Surge(Frozen):
    start_day: NonNegFloat
    """first day of the surge"""
    days: PositiveFloat
    """length of the surge"""
    multiplier: Rate
    """factor on the rate (0 stops arrivals)"""
    categories: tuple[str, ...] = ()
    """categories affected; empty = all"""


class Arrivals(Frozen):
    per_1000_residents_per_day: Rate = 0.6
    """complaints per 1,000 residents per day, on average"""
    weekly_profile: tuple[Rate, ...] = (1.0,) * 7
    """multipliers for Monday … Sunday, divided by their mean; day 0 is a Monday"""
    overdispersion: CV = 0.0
    """coefficient of variation of a daily gamma multiplier (mean 1) on the rate; 0 = Poisson"""
    surges: tuple[Surge, ...] = ()
    """periods of higher (or lower) arrivals"""

    @model_validator(mode="after")
    def _profile(self) -> Arrivals:
        if len(self.weekly_profile) != 7:
            raise bad("weekly_profile", f"has {len(self.weekly_profile)} items "
                      "(expected 7 multipliers, Monday to Sunday)")
        if sum(self.weekly_profile) <= 0:
            raise bad("weekly_profile", "all zero (expected a positive multiplier on some day)")
        return self


class Category(Frozen):
    name: Annotated[str, Strict(), Field(pattern=r"^[a-z0-9][a-z0-9-]*$")]
    """the category's name, as in the outputs"""
    weight: Annotated[float, Strict(), Field(ge=0, le=WEIGHT_MAX)]
    """relative frequency"""
    needs: dict[LevelName, Probability]
    """distribution of the lowest level with the power to resolve a complaint of this category"""
    unclear: Probability = 0.0
    """probability that jurisdiction is disputed (matters only where bounce is allowed)"""
    department: AtLeastZero | None = None
    """index of the owning department; `null` = each complaint gets a department uniformly at random"""

    @model_validator(mode="after")
    def _needs_sum(self) -> Category:
        total = sum(self.needs.values())
        if abs(total - 1.0) > PROB_TOL:
            raise bad("needs", f"probabilities sum to {total:.12g} (expected 1 within {PROB_TOL:g})")
        return self


class Level(Frozen):
    """A level served by staff: each unit of the level has ``staff`` servers."""

    staff: AtLeastOne
    """servers per unit of this level"""
    handle: Distribution
    """time to triage and pass on a complaint, or to take a contact"""
    resolve: Distribution
    """staff time to resolve a complaint: the server's own work on the fix"""
    lead: Distribution = Fixed(dist="fixed", value=0.0)
    """elapsed days after the `resolve` work before the complaint closes (a contractor, funding, a
    procedure), holding no server: not in utilisation, busy days or queues"""
    fixes: Probability = 1.0
    """probability that a resolution at this level fixes the problem; one that does not is reported
    again (`residents.reopen_after_days`, a *reopen*)"""


class Leadership(Frozen):
    """The leading group: periodic meetings (the default) or ordinary staff."""

    meeting_every_days: Interval | None = None
    """days between meetings; the first meeting is at this day"""
    items_per_meeting: AtLeastOne | None = None
    """complaints a meeting takes at most; `null` = all waiting"""
    staff: AtLeastOne | None = None
    """servers, in staff mode"""
    handle: Distribution | None = None
    """handle time, in staff mode"""
    resolve: Distribution = logn(30.0, 1.0)
    """implementation time after a meeting takes a complaint (meetings; holds no one), or resolve time
    (staff)"""
    lead: Distribution = Fixed(dist="fixed", value=0.0)
    """elapsed days after `resolve` before the complaint closes, holding no one, as at the other levels"""
    fixes: Probability = 1.0
    """probability that the group's resolution fixes the problem, as at the other levels"""

    @model_validator(mode="after")
    def _one_mode(self) -> Leadership:
        meeting = self.meeting_every_days is not None
        if meeting and (self.staff is not None or self.handle is not None):
            raise bad("staff" if self.staff is not None else "handle", "given with meeting_every_days "
                      "(expected one mode: meetings, or staff and handle)")
        if not meeting and (self.staff is None or self.handle is None):
            raise bad("staff" if self.staff is None else "handle",
                      "missing (expected meeting_every_days, or staff and handle)")
        if not meeting and self.items_per_meeting is not None:
            raise bad("items_per_meeting", "given without meeting_every_days (expected both)")
        return self

    @property
    def meets(self) -> bool:
        return self.meeting_every_days is not None


class Levels(Frozen):
    grid: Level = Level(staff=1, handle=expo(0.05), resolve=logn(0.5, 1.0))
    """the grids' party branches"""
    community: Level = Level(staff=3, handle=expo(0.05), resolve=logn(1.0, 1.0))
    """the communities"""
    street: Level = Level(staff=8, handle=expo(0.1), resolve=logn(2.0, 1.0))
    """the street offices"""
    department: Level = Level(staff=4, handle=expo(0.1), resolve=logn(5.0, 1.0))
    """the district departments"""
    platform: Level = Level(staff=6, handle=expo(0.05), resolve=logn(3.0, 1.0))
    """the command platform"""
    leadership: Leadership = Leadership(meeting_every_days=7.0, items_per_meeting=30)
    """the leading group: meetings or staff"""

    @model_validator(mode="before")
    @classmethod
    def _fill_defaults(cls, data: Any) -> Any:
        """A level written in part takes the rest from its defaults (for the leading group:
        from the defaults of the mode it names)."""
        if not isinstance(data, dict):
            return data
        filled = dict(data)
        for name, given in data.items():
            field = cls.model_fields.get(name)
            if field is None or not isinstance(given, dict):
                continue
            default = field.default.model_dump(by_alias=True, exclude_none=True)
            if name == "leadership" and ("staff" in given or "handle" in given):
                default = {"resolve": default["resolve"]}
            filled[name] = {**default, **given}
        return filled


class GuideEffect(Frozen):
    grids_per_guide: AtLeastOne = 3
    """branch grids one guide serves"""
    resolve_community: Probability = 0.3
    """chance that a guided grid resolves a `community`-level complaint"""
    delay_factor: NonNegFloat = 0.5
    """multiplies escalation delays out of a guided grid"""


class Bounce(Frozen):
    allowed: Flag = False
    """whether units at `bounce.from` send complaints back"""
    from_: Annotated[LevelName, Field(alias="from")] = "department"
    """the level that bounces (the key is `from`; `from_` is an unknown key)"""
    to: LevelName = "street"
    """the level that gets bounced complaints; a complaint that entered higher goes back to its entry level
    (§8)"""
    probability: Probability = 0.5
    """chance that the bounce level dodges an `unclear` complaint, drawn anew on every pass"""
    max_rounds: Annotated[int, Strict(), Field(ge=0, le=ROUNDS_MAX)] = 6
    """bounces a complaint can have: after `max_rounds` bounces, its next pass through `from` stalls it
    there (§7); with `0` nothing is bounced: a dodge or a complaint with nowhere higher to go stalls"""
    delay: Distribution = expo(5.0)
    """time between a bounce and the lower unit receiving the complaint"""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


class Pushdown(Frozen):
    tasks_per_community_per_day: Rate = 5.2
    """departments' tasks arriving at each community per day (Poisson)"""
    work: Distribution = logn(0.1, 1.0)
    """community staff time per task"""
    priority: Literal["same", "first"] = "same"
    """`same`: tasks queue with complaints; `first`: tasks are served before complaints and contacts (never
    interrupting work)"""


class Process(Frozen):
    route: Annotated[tuple[LevelName, ...], Field(min_length=1)] = (
        "grid", "street", "department", "platform", "leadership")
    """the levels a complaint climbs; it enters at the first (§7, §8)"""
    grid_branches: AtLeastZero = 940
    """grids with a party branch; when the route starts with `grid`, only these take complaints (§8)"""
    guides: AtLeastZero = 300
    """grid guides; min(`grid_branches`, `guides` × `grids_per_guide`) branch grids have one"""
    guide_effect: GuideEffect = GuideEffect()
    """what a grid guide changes in the grids they serve"""
    escalation_delay: Distribution = logn(0.5, 1.0)
    """time between a unit passing a complaint up and the next unit receiving it"""
    bounce: Bounce = Bounce()
    """departments sending problems back (the legacy process)"""
    top_resolves_all: Flag = True
    """the last level of the route resolves everything it gets"""
    duplicate_contacts: Rate = 0.0
    """mean number (Poisson) of extra contacts per complaint at entry, from overlapping grid systems"""
    pushdown: Pushdown = Pushdown()
    """departments' own tasks pushed onto communities"""

    @model_validator(mode="after")
    def _route(self) -> Process:
        ranks = [LEVELS.index(level) for level in self.route]
        if any(b <= a for a, b in zip(ranks, ranks[1:])):
            raise bad("route", f"{list(self.route)} is not strictly increasing "
                      f"(expected levels in the order {', '.join(LEVELS)})")
        if self.bounce.allowed:
            for key in ("from_", "to"):
                if getattr(self.bounce, key) not in self.route:
                    level = getattr(self.bounce, key)
                    raise bad(f"bounce.{key.rstrip('_')}", f"{level!r} is not on the route "
                              f"(expected one of {', '.join(self.route)})")
            if LEVELS.index(self.bounce.to) >= LEVELS.index(self.bounce.from_):
                raise bad("bounce.to", "is not below bounce.from (expected a lower level)")
        return self


class Residents(Frozen):
    patience: Distribution | None = expo(60.0)
    """days a resident waits before giving up (§9); `null` = never gives up"""
    follow_up_every_days: Interval | None = 14.0
    """interval between a resident's follow-up contacts to the entry unit, while the complaint is open and
    before the deadline and the horizon (§9); `null` = never follows up. Each contact holds a server of
    the unit it reaches for that level's `handle` time, whatever the complaint's state by then"""
    reopen_after_days: Distribution = expo(7.0)
    """days after a closure that did not fix the problem (`levels.<level>.fixes`) until the resident
    reports it again at the entry unit (§9); only while their patience lasts"""


class Satisfaction(Frozen):
    intercept: Coefficient = 2.5
    """log-odds of satisfaction for a complaint resolved at once without handoffs (2.5 ≈ 92%)"""
    per_day: Coefficient = -0.05
    """change in log-odds per day open"""
    per_handoff: Coefficient = -0.2
    """per handoff (escalations and bounces)"""
    per_bounce: Coefficient = -0.6
    """per bounce, on top of its handoff"""
    unresolved: Coefficient = -3.0
    """once, if the complaint was abandoned or is open"""
    survey_size: AtLeastZero = 1561
    """residents asked in the simulated survey per replication (at most the cohort); 0 = no survey (NaN)"""


class Scenario(Frozen):
    name: Annotated[str, Strict(), Field(pattern=r"^[a-z0-9-]+$", max_length=100)]
    """the scenario's name; the default output folder is `runs/<name>/`"""
    description: Text = ""
    """one line for humans"""
    seed: Annotated[int, Strict(), Field(ge=0, le=2**63 - 1)] = 20200116
    """the seed of all random numbers (§16)"""
    horizon_days: Annotated[float, Strict(), Field(gt=0, le=HORIZON_MAX)] = 400.0
    """simulated length of one replication"""
    warmup_days: NonNegFloat = 30.0
    """complaints arriving before this are not in the KPIs; level statistics start here (§13)"""
    cooldown_days: NonNegFloat = 35.0
    """complaints arriving in the last `cooldown_days` are not in the KPIs (§13)"""
    replications: Annotated[int, Strict(), Field(ge=1, le=100_000)] = 20
    """independent replications per run (`--replications` overrides it for one run)"""
    sla_days: tuple[Annotated[float, Strict(), Field(gt=0, le=HORIZON_MAX)], ...] = (7.0, 30.0)
    """deadlines: one KPI `resolved_within_<d>d_share` per item (§15)"""
    district: District = District()
    """the district's size and shape"""
    arrivals: Arrivals = Arrivals()
    """the complaint stream"""
    categories: Annotated[tuple[Category, ...], Field(min_length=1)]
    """kinds of complaint"""
    levels: Levels = Levels()
    """staff and service times per level"""
    process: Process = Process()
    """the process: route, branches, guides, bounce, push-down"""
    residents: Residents = Residents()
    """patience and follow-ups"""
    satisfaction: Satisfaction = Satisfaction()
    """the satisfaction curve and the survey"""

    @model_validator(mode="after")
    def _consistent(self) -> Scenario:
        if self.warmup_days + self.cooldown_days >= self.horizon_days:
            raise bad("cooldown_days", "warmup_days + cooldown_days leave no cohort "
                      "(expected their sum below horizon_days)")
        labels = [sla_label(d) for d in self.sla_days]
        if len(set(labels)) != len(labels):
            raise bad("sla_days", f"{list(self.sla_days)[:10]} gives two KPIs the same name "
                      f"(expected targets that differ in their first 6 digits: {', '.join(labels)})")
        if sum(c.weight for c in self.categories) <= 0:
            raise bad("categories", "all weights are zero (expected a positive weight)")
        names = [c.name for c in self.categories]
        if len(set(names)) != len(names):
            raise bad("categories", "duplicate names (expected each name once)")
        for i, c in enumerate(self.categories):
            if c.department is not None and c.department >= self.district.departments:
                raise bad(f"categories.{i}.department", f"{c.department} is out of range "
                                 f"(expected 0 to {self.district.departments - 1})")
        for i, s in enumerate(self.arrivals.surges):
            for name in s.categories:
                if name not in names:
                    raise bad(f"arrivals.surges.{i}.categories", f"unknown category "
                                     f"{name!r} (expected one of {', '.join(names)})")
        if self.process.grid_branches > self.district.grids:
            raise bad("process.grid_branches", f"{self.process.grid_branches} exceeds "
                             f"district.grids {self.district.grids} (expected at most that)")
        p = self.process
        if p.route == ("grid",) and p.grid_branches < self.district.grids:
            raise bad("process.route", "only grid, but some grids have no branch "
                      "(expected a level above grid, or grid_branches equal to district.grids)")
        if p.bounce.allowed and p.bounce.from_ == "leadership" and self.levels.leadership.meets:
            raise bad("process.bounce.from", "the leading group's meetings resolve what they take "
                      "(expected a level below leadership)")
        return self

    # ----------------------------------------------------------------------- derived
    def resolved(self) -> dict[str, Any]:
        """The scenario with every default filled in, as plain YAML-able data."""
        data = self.model_dump(mode="json", by_alias=True)
        leadership = data["levels"]["leadership"]        # only the keys of its mode
        meets = leadership["meeting_every_days"] is not None     # null items: no agenda limit
        data["levels"]["leadership"] = {k: v for k, v in leadership.items()
                                        if v is not None or (meets and k == "items_per_meeting")}
        return data

    def to_yaml(self) -> str:
        return yaml.safe_dump(self.resolved(), sort_keys=False, allow_unicode=True)

    def sha256(self) -> str:
        canonical = json.dumps(self.resolved(), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(canonical.encode()).hexdigest()

    def with_overrides(self, overrides: dict[str, Any] | list[str], source: str = "--set") -> Scenario:
        """A new scenario with dotted-path overrides applied to the resolved scenario (every
        default filled in) and validated again."""
        return validate(apply_overrides(self.resolved(), overrides, source), source)


# --------------------------------------------------------------------------- loading
def load_scenario(path: str | Path, overrides: dict[str, Any] | list[str] | None = None) -> Scenario:
    """Read, override and validate a scenario file; raise ScenarioError on bad input."""
    source = str(path)
    raw = read_mapping(path, "a scenario YAML file")
    scenario = validate(raw, source)
    return scenario.with_overrides(overrides, source) if overrides else scenario


def read_mapping(path: str | Path, expected: str, keys: str = "scenario keys") -> dict[str, Any]:
    """The top-level mapping of a YAML file; ScenarioError naming the file when it cannot be
    read, is not YAML, or holds something else (``expected`` says what file it should be,
    ``keys`` what its mapping holds)."""
    from sim import yamlio

    source = str(path)
    raw = yamlio.load(path, expected)
    if not isinstance(raw, dict):
        raise ScenarioError(source, "", f"expected a mapping of {keys} at the top level")
    return raw


def validate(raw: dict[str, Any], source: str = "<scenario>") -> Scenario:
    try:
        return Scenario.model_validate(raw)
    except ValidationError as exc:
        from sim.messages import first_error

        raise first_error(exc, source, raw) from None
