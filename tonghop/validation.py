"""Validation of a run's submissions (SPEC §4): the rules table, the Great Expectations suites
written from it, and one batched validation whose failures map back to unit, row and indicator."""

from __future__ import annotations

import contextlib
import json
import logging
import pickle
import re
import statistics
import threading
import tomllib
from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass, field, replace
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from babel.numbers import format_percent as _babel_percent

from tonghop.catalogue import by_code, load_catalogue
from tonghop.comparisons import Comparisons
from tonghop.formatting import LOCALE, format_count, format_percent
from tonghop.parallel import process_pool
from tonghop.periods import Period
from tonghop.problems import SEVERITY_LABELS_VI, Problem
from tonghop.reading import FormRead
from tonghop.registry import KIND_LABELS_VI, KINDS
from tonghop.resources import resource_dir
from tonghop.text import invisible_characters, visible

RULES_PATH = Path(__file__).parent / "data" / "rules.toml"
EXPECTATIONS_DIR = resource_dir("expectations")
SUBMISSION_SUITE = "submission_rules"
VALUE_SUITE = "value_rules"

# Counts up to 15 digits stay exact as floats and fit 64-bit integers everywhere.
WHOLE_NUMBER = r"^\d{1,15}$"
_WHOLE = re.compile(WHOLE_NUMBER)
SUBMISSION_CHECKS = (
    "unit_active",
    "unit_matches_folder",
    "period_is_collected",
    "reported_by_leaf",
    "changed_from_previous",
)
VALUE_CHECKS = (
    "known_indicator",
    "indicator_once",
    "count_whole",
    "flag_binary",
    "text_length",
    "leaf_only_blank",
    "sibling_outlier",
)
RELATION_CHECKS = ("equal", "at_most", "at_least", "positive_only_if", "both_or_neither")
# The settings each audit check cannot do without.
REQUIRED_SETTINGS = {
    "changed_from_previous": ("max_change",),
    "sibling_outlier": ("unit_kinds", "min_siblings", "mad_factor", "mad_floor", "mad_floor_share"),
}
# The indicator rule O1 follows over time.
MEMBERS = "members"
# From this many files, a batch is validated in a process of its own that ends with the
# collection: Great Expectations' modules (about 220 MB) and the batch's frames (hundreds of MB
# at a province's scale) never weigh on the run's process, which goes on to consolidate and
# publish. A smaller batch is validated in the run's process: for a late form, starting another
# and importing Great Expectations there costs more than it saves; and at 2,000 files the
# collection, with that process beside the readers, is the run's peak (768 MB against 667 when
# validated here), while from a province's scale the publication is (1,476 MB against 1,710 at
# 20,000).
VALIDATE_APART_FROM = 5_000


@dataclass(frozen=True)
class Rule:
    """One entry of rules.toml; `key` tells apart entries that share an id (R7 has three)."""

    key: str
    id: str
    severity: str
    check: str
    title: str
    message: str
    left: tuple[str, ...] = ()
    right: tuple[str, ...] = ()
    indicators: tuple[str, ...] = ()
    max_length: int | None = None
    max_change: float | None = None
    unit_kinds: tuple[str, ...] = ()
    min_siblings: int | None = None
    mad_factor: float | None = None
    mad_floor: float | None = None
    mad_floor_share: float | None = None
    # What the unit writes instead, and what was found as the unit reads it when `message`
    # carries the operator's detail (tonghop.feedback words both from a stored problem).
    advice: str | None = None
    plain: str | None = None

    @property
    def terms(self) -> tuple[str, ...]:
        """Indicator codes a relation reads, without their signs."""
        return tuple(term.lstrip("-") for term in self.left + self.right)


@cache
def load_rules(path: Path = RULES_PATH) -> tuple[Rule, ...]:
    """The rules in file order, checked for consistency with the catalogue."""
    entries = tomllib.loads(path.read_text(encoding="utf-8"))["rule"]
    seen: dict[str, int] = {}
    rules = []
    for entry in entries:
        seen[entry["id"]] = seen.get(entry["id"], 0) + 1
        fields = {
            name: tuple(entry[name])
            for name in ("left", "right", "indicators", "unit_kinds")
            if name in entry
        }
        settings = {
            name: entry[name]
            for name in (
                "max_length",
                "max_change",
                "min_siblings",
                "mad_factor",
                "mad_floor",
                "mad_floor_share",
            )
            if name in entry
        }
        rule = Rule(
            key=f"{entry['id']}_{seen[entry['id']]}",
            id=entry["id"],
            severity=entry["severity"],
            check=entry["check"],
            title=entry["title"],
            message=entry["message"],
            advice=entry.get("advice"),
            plain=entry.get("plain"),
            **fields,
            **settings,
        )
        unknown = [code for code in rule.terms + rule.indicators if code not in by_code()]
        unknown += [kind for kind in rule.unit_kinds if kind not in KINDS]
        if unknown or rule.check not in SUBMISSION_CHECKS + VALUE_CHECKS + RELATION_CHECKS:
            raise ValueError(f"rules.toml: rule {rule.key} names unknown {unknown or rule.check}")
        missing = [name for name in REQUIRED_SETTINGS.get(rule.check, ()) if name not in entry]
        if missing:
            raise ValueError(f"rules.toml: rule {rule.key} lacks {', '.join(missing)}")
        rules.append(rule)
    return tuple(rules)


# --- the suites -------------------------------------------------------------------------------


def _expectation(kind: str, rule: Rule, row_condition: str | None = None, **kwargs: Any) -> dict:
    if row_condition:
        kwargs |= {"row_condition": row_condition, "condition_parser": "pandas"}
    meta = {"rule_key": rule.key, "rule_id": rule.id, "severity": rule.severity}
    # Data Docs show the description in place of GX's own sentence about derived columns.
    severity = SEVERITY_LABELS_VI.get(rule.severity, rule.severity).lower()
    description = f"{rule.id} ({severity}): {rule.title}"
    return {"type": kind, "kwargs": kwargs, "meta": meta, "description": description}


def _value_expectations(rule: Rule) -> list[dict]:
    match rule.check:
        case "known_indicator":
            parameter = {"$PARAMETER": "indicator_codes"}
            return [
                _expectation(
                    "expect_column_values_to_be_in_set",
                    rule,
                    None,
                    column="indicator_code",
                    value_set=parameter,
                )
            ]
        case "indicator_once":
            return [
                _expectation(
                    "expect_compound_columns_to_be_unique",
                    rule,
                    None,
                    column_list=["submission_id", "indicator_code"],
                )
            ]
        case "count_whole":
            return [
                _expectation(
                    "expect_column_values_to_match_regex",
                    rule,
                    'kind == "count"',
                    column="value",
                    regex=WHOLE_NUMBER,
                )
            ]
        case "flag_binary":
            return [
                _expectation(
                    "expect_column_values_to_be_in_set",
                    rule,
                    'kind == "flag"',
                    column="value",
                    value_set=["0", "1"],
                )
            ]
        case "text_length":
            return [
                _expectation(
                    "expect_column_value_lengths_to_be_between",
                    rule,
                    'kind == "text"',
                    column="value",
                    max_value=rule.max_length,
                )
            ]
        case "leaf_only_blank":
            return [
                _expectation(
                    "expect_column_values_to_be_null",
                    rule,
                    'reported_by == "leaf" and has_children == True',
                    column="value",
                )
            ]
        case "sibling_outlier":
            # the siblings' threshold is worked out in pandas (value_frame); GX decides
            return [
                _expectation(
                    "expect_column_pair_values_a_to_be_greater_than_b",
                    rule,
                    f"{rule.key}__applies == True",
                    column_A=f"{rule.key}__threshold",
                    column_B=f"{rule.key}__number",
                    or_equal=True,
                )
            ]
    return []


def _submission_expectations(rule: Rule) -> list[dict]:
    applies = f"{rule.key}__applies == True"
    left, right = f"{rule.key}__left", f"{rule.key}__right"
    positive_left, positive_right = f"{rule.key}__left_positive", f"{rule.key}__right_positive"
    match rule.check:
        case "unit_active":
            return [
                _expectation(
                    "expect_column_values_to_be_in_set",
                    rule,
                    None,
                    column="unit_code",
                    value_set={"$PARAMETER": "active_unit_codes"},
                )
            ]
        case "unit_matches_folder":
            return [
                _expectation(
                    "expect_column_pair_values_to_be_equal",
                    rule,
                    None,
                    column_A="unit_code",
                    column_B="folder_unit_code",
                )
            ]
        case "period_is_collected":
            return [
                _expectation(
                    "expect_column_values_to_be_in_set",
                    rule,
                    None,
                    column="period",
                    value_set={"$PARAMETER": "periods"},
                )
            ]
        case "reported_by_leaf":
            return [
                _expectation(
                    "expect_column_values_to_not_be_null",
                    rule,
                    "is_leaf == True",
                    column=f"{rule.key}__{code}",
                )
                for code in rule.indicators
            ]
        case "changed_from_previous":
            return [
                _expectation(
                    "expect_column_values_to_be_between",
                    rule,
                    applies,
                    column=f"{rule.key}__change",
                    max_value=rule.max_change,
                )
            ]
        case "equal":
            return [
                _expectation(
                    "expect_column_pair_values_to_be_equal",
                    rule,
                    applies,
                    column_A=left,
                    column_B=right,
                )
            ]
        case "at_most":
            return [
                _expectation(
                    "expect_column_pair_values_a_to_be_greater_than_b",
                    rule,
                    applies,
                    column_A=right,
                    column_B=left,
                    or_equal=True,
                )
            ]
        case "at_least":
            return [
                _expectation(
                    "expect_column_pair_values_a_to_be_greater_than_b",
                    rule,
                    applies,
                    column_A=left,
                    column_B=right,
                    or_equal=True,
                )
            ]
        case "positive_only_if":
            return [
                _expectation(
                    "expect_column_pair_values_a_to_be_greater_than_b",
                    rule,
                    applies,
                    column_A=positive_right,
                    column_B=positive_left,
                    or_equal=True,
                )
            ]
        case "both_or_neither":
            return [
                _expectation(
                    "expect_column_pair_values_to_be_equal",
                    rule,
                    applies,
                    column_A=positive_left,
                    column_B=positive_right,
                )
            ]
    return []


def build_suites(rules: Sequence[Rule] | None = None) -> dict[str, dict]:
    """The two suites, as the JSON Great Expectations stores, written from the rules table."""
    rules = load_rules() if rules is None else rules
    note = "Generated from tonghop/data/rules.toml by `tonghop rules build`; do not edit."
    suites = {}
    for name, expand in (
        (SUBMISSION_SUITE, _submission_expectations),
        (VALUE_SUITE, _value_expectations),
    ):
        expectations = [item for rule in rules for item in expand(rule)]
        suites[name] = {"name": name, "expectations": expectations, "meta": {"notes": note}}
    return suites


def write_suites(directory: Path = EXPECTATIONS_DIR) -> list[Path]:
    """Write the suites as JSON files; return their paths."""
    directory.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, suite in build_suites().items():
        path = directory / f"{name}.json"
        path.write_text(json.dumps(suite, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
        paths.append(path)
    return paths


def read_suite(name: str, directory: Path = EXPECTATIONS_DIR) -> dict:
    """A stored suite's JSON."""
    return json.loads((directory / f"{name}.json").read_text(encoding="utf-8"))


# --- the batch --------------------------------------------------------------------------------


@dataclass(frozen=True)
class SubmissionInput:
    """A new file of the run that could be read, with the inbox folder it came from."""

    submission_id: str
    folder_unit_code: str
    form: FormRead


@dataclass(frozen=True, eq=False)
class ValidationContext:
    """What the rules need to know about the period and the registry; `comparisons` holds what
    the audit rules O1 and O2 compare with (nothing by default, and then they stay silent)."""

    period: str
    active_unit_codes: frozenset[str]
    units_with_children: frozenset[str]
    comparisons: Comparisons = field(default_factory=Comparisons)


def value_frame(inputs: Sequence[SubmissionInput], context: ValidationContext) -> pd.DataFrame:
    """One row per (submission, form row): the batch the value rules run over."""
    catalogue = by_code()
    records = []
    for item in inputs:
        has_children = item.folder_unit_code in context.units_with_children
        for row in item.form.rows:
            indicator = catalogue.get(row.indicator_code)
            records.append(
                (
                    item.submission_id,
                    row.row_number,
                    row.indicator_code,
                    row.value,
                    indicator.kind if indicator else "unknown",
                    indicator.reported_by if indicator else "unknown",
                    has_children,
                )
            )
    columns = [
        "submission_id",
        "row_number",
        "indicator_code",
        "value",
        "kind",
        "reported_by",
        "has_children",
    ]
    frame = pd.DataFrame.from_records(records, columns=columns).astype({"value": "object"})
    derived: dict[str, pd.Series] = {}
    for rule in load_rules():
        if rule.check == "sibling_outlier":
            derived |= _outlier_columns(rule, frame, inputs, context)
    return pd.concat([frame, pd.DataFrame(derived, index=frame.index)], axis=1)


def _whole(value: object) -> float:
    """A count as typed, as a number; NaN when blank or not a whole number."""
    return float(value) if isinstance(value, str) and _WHOLE.match(value) else np.nan


def _own_submissions(
    inputs: Sequence[SubmissionInput], context: ValidationContext
) -> dict[str, SubmissionInput]:
    """The batch's files that hold their own folder unit's report of the period being collected,
    by submission id; the others (F4, F5) carry figures no comparison of the unit should see."""
    return {
        item.submission_id: item
        for item in inputs
        if item.form.unit_code == item.folder_unit_code and item.form.period == context.period
    }


def _outlier_columns(
    rule: Rule,
    values: pd.DataFrame,
    inputs: Sequence[SubmissionInput],
    context: ValidationContext,
) -> dict[str, pd.Series]:
    """Rule O2's figures for every value: whether it applies, and the siblings' median, their
    number and the threshold the value is held against."""
    catalogue, units = by_code(), context.comparisons.units
    counted_kinds = set(rule.unit_kinds)
    own = _own_submissions(inputs, context)
    numbers = values["value"].map(_whole).astype("float64")
    is_count = values["indicator_code"].map(
        lambda code: code in catalogue and catalogue[code].kind == "count"
    )
    unit_of = values["submission_id"].map(
        lambda submission: own[submission].folder_unit_code if submission in own else None
    )

    # The pool: the period's counted figures, each batch unit's own replacing its stored ones;
    # of several files of one unit in the batch, the last received (inputs come in that order).
    last_of_unit = {item.folder_unit_code: item.submission_id for item in own.values()}
    placed = pd.DataFrame(
        {"unit_code": unit_of, "indicator_code": values["indicator_code"], "number": numbers}
    )
    placed = placed[
        (values["submission_id"].isin(set(last_of_unit.values())) & is_count).to_numpy()
    ].drop_duplicates(["unit_code", "indicator_code"])
    placed["parent_code"] = placed["unit_code"].map(
        lambda code: units[code].parent_code if code in units else None
    )
    placed["kind"] = placed["unit_code"].map(
        lambda code: units[code].kind if code in units else None
    )
    pool = placed
    stored = context.comparisons.siblings
    if stored is not None and not stored.empty:
        stored = stored[
            ~stored["unit_code"].isin(set(last_of_unit))
            & stored["indicator_code"].map(
                lambda code: code in catalogue and catalogue[code].kind == "count"
            )
        ]
        pool = pd.concat([stored[placed.columns], placed], ignore_index=True)
    # A 0 or a blank says the activity did not take place; only sizes are compared.
    pool = pool[(pool["number"] > 0) & pool["kind"].isin(counted_kinds)]
    # Plain dictionaries: pandas' groupby iteration costs ~50 µs a group, and a province has
    # tens of thousands of (parent, kind, indicator) groups.
    groups: dict[tuple, list[tuple[str, float]]] = {}
    for parent, kind, code, unit_code, number in zip(
        pool["parent_code"],
        pool["kind"],
        pool["indicator_code"],
        pool["unit_code"],
        pool["number"].astype(float),
        strict=True,
    ):
        groups.setdefault((parent, kind, code), []).append((unit_code, number))

    size = len(values)
    median, threshold = np.full(size, np.nan), np.full(size, np.nan)
    siblings = np.zeros(size, dtype="int64")
    candidates = (is_count & (numbers > 0) & unit_of.notna()).to_numpy()
    codes_of = values["indicator_code"].to_numpy()
    units_of = unit_of.to_numpy()
    for position in np.flatnonzero(candidates):
        unit = units.get(units_of[position])
        if unit is None or unit.kind not in counted_kinds:
            continue
        found = groups.get((unit.parent_code, unit.kind, codes_of[position]))
        # the unit itself is among its group when its figure is positive: at most one more
        if found is None or len(found) < rule.min_siblings:
            continue
        others = [figure for code, figure in found if code != unit.code]
        if len(others) < rule.min_siblings:
            continue
        # groups are a few dozen figures: plain Python is quicker than numpy's per-call set-up
        middle = statistics.median(others)
        deviation = statistics.median([abs(figure - middle) for figure in others])
        spread = max(deviation, rule.mad_floor, rule.mad_floor_share * middle)
        median[position] = middle
        threshold[position] = middle + rule.mad_factor * spread
        siblings[position] = len(others)
    index = values.index
    return {
        f"{rule.key}__applies": pd.Series(~np.isnan(threshold), index=index),
        f"{rule.key}__number": numbers,
        f"{rule.key}__median": pd.Series(median, index=index),
        f"{rule.key}__threshold": pd.Series(threshold, index=index),
        f"{rule.key}__siblings": pd.Series(siblings, index=index),
    }


def submission_frame(
    inputs: Sequence[SubmissionInput], values: pd.DataFrame, context: ValidationContext
) -> pd.DataFrame:
    """One row per submission, with the two sides of every relation rule already summed."""
    frame = pd.DataFrame(
        {
            "submission_id": [item.submission_id for item in inputs],
            "unit_code": [item.form.unit_code or "" for item in inputs],
            "folder_unit_code": [item.folder_unit_code for item in inputs],
            "period": [item.form.period or "" for item in inputs],
            "is_leaf": [
                item.folder_unit_code not in context.units_with_children for item in inputs
            ],
        }
    ).set_index("submission_id", drop=False)
    first = values.drop_duplicates(["submission_id", "indicator_code"])
    wide_text = first.pivot(index="submission_id", columns="indicator_code", values="value")
    wide_text = wide_text.reindex(index=frame.index)
    numeric = wide_text.where(wide_text.apply(lambda column: column.str.match(WHOLE_NUMBER)))
    numbers = numeric.apply(pd.to_numeric, errors="coerce")
    derived: dict[str, pd.Series] = {}
    for rule in load_rules():
        if rule.check == "reported_by_leaf":
            for code in rule.indicators:
                derived[f"{rule.key}__{code}"] = _column(wide_text, code)
        if rule.check == "changed_from_previous":
            own = frame["submission_id"].isin(set(_own_submissions(inputs, context)))
            derived |= _change_columns(rule, frame, numbers, own, context.comparisons)
        if rule.check not in RELATION_CHECKS:
            continue
        reported = pd.concat([_column(wide_text, code).notna() for code in rule.terms], axis=1)
        invalid = pd.concat(
            [
                _column(wide_text, code).notna() & _column(numbers, code).isna()
                for code in rule.terms
            ],
            axis=1,
        )
        left, right = _signed_sum(numbers, rule.left), _signed_sum(numbers, rule.right)
        derived[f"{rule.key}__applies"] = reported.any(axis=1) & ~invalid.any(axis=1)
        derived[f"{rule.key}__left"] = left
        derived[f"{rule.key}__right"] = right
        derived[f"{rule.key}__left_positive"] = (left > 0).astype(int)
        derived[f"{rule.key}__right_positive"] = (right > 0).astype(int)
    # GX reports failing rows by index label; a plain RangeIndex keeps those labels simple
    return pd.concat([frame, pd.DataFrame(derived, index=frame.index)], axis=1).reset_index(
        drop=True
    )


def _change_columns(
    rule: Rule,
    frame: pd.DataFrame,
    numbers: pd.DataFrame,
    own: pd.Series,
    comparisons: Comparisons,
) -> dict[str, pd.Series]:
    """Rule O1's figures for every submission: this period's members, the unit's figure of its
    last accepted earlier quarter, and the relative change between them. Only a file holding
    its own unit's report of the period (`own`) is compared."""
    current = _column(numbers, MEMBERS).astype("float64").where(own)
    earlier = frame["folder_unit_code"].map(lambda code: comparisons.previous.get(code))
    previous = earlier.map(lambda found: found[1] if isinstance(found, tuple) else np.nan)
    previous = previous.astype("float64")
    applies = current.notna() & previous.notna() & (previous > 0)
    change = ((current - previous).abs() / previous).where(applies)
    return {
        f"{rule.key}__applies": applies,
        f"{rule.key}__change": change,
        f"{rule.key}__current": current,
        f"{rule.key}__previous": previous,
        f"{rule.key}__previous_period": earlier.map(
            lambda found: found[0] if isinstance(found, tuple) else None
        ),
    }


def _column(frame: pd.DataFrame, code: str) -> pd.Series:
    if code in frame.columns:
        return frame[code]
    return pd.Series(None, index=frame.index, dtype="object")


def _signed_sum(numbers: pd.DataFrame, terms: Sequence[str]) -> pd.Series:
    total = pd.Series(0.0, index=numbers.index)
    for term in terms:
        sign = -1.0 if term.startswith("-") else 1.0
        total = total + sign * _column(numbers, term.lstrip("-")).astype(float).fillna(0.0)
    return total


_GX_LOCK = threading.Lock()


def _gx_context() -> Any:
    """One ephemeral Great Expectations context for the process, without progress bars."""
    # A warm-up thread may be making it right now; wait for that one rather than make two.
    with _GX_LOCK:
        return _new_gx_context()


def prepare() -> None:
    """Import Great Expectations and make its context now, in a process about to validate."""
    _gx_context()


def warm_up() -> None:
    """Import Great Expectations and make its context in a background thread: the import alone
    takes seconds, which pass while the submissions are read in other processes."""

    def make() -> None:
        # A failure here is met again, and reported, when validation needs the context.
        with contextlib.suppress(Exception):
            _gx_context()

    threading.Thread(target=make, name="gx-warm-up", daemon=True).start()


@cache
def _new_gx_context() -> Any:
    import great_expectations as gx

    return quiet(gx.get_context(mode="ephemeral"))


def quiet(context: Any) -> Any:
    """A Great Expectations context without progress bars, its loggers at WARNING."""
    from great_expectations.data_context.types.base import ProgressBarsConfig

    # its INFO lines (temporary docs folders and the like) are noise in an operator's terminal;
    # some of its modules set their own level, so each logger it has made is quieted
    for name in [*logging.root.manager.loggerDict, "great_expectations"]:
        if name.startswith("great_expectations"):
            logging.getLogger(name).setLevel(logging.WARNING)
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    return context


@cache
def _batch_definition(name: str) -> Any:
    """A whole-dataframe batch definition per suite, made once."""
    source = _gx_context().data_sources.add_pandas(f"tonghop_{name}")
    return source.add_dataframe_asset(name).add_batch_definition_whole_dataframe(name)


@dataclass(frozen=True)
class SuiteRun:
    """One suite over one batch: Great Expectations' result as it came, for Data Docs, and the
    failing expectations with the index labels of their failing rows."""

    suite: str
    rows: int
    result: Any  # great_expectations' ExpectationSuiteValidationResult
    failures: list[tuple[dict, list]]


@dataclass(frozen=True)
class BatchValidation:
    """A batch's problems by submission id, and the suite runs that found them."""

    period: str
    problems: dict[str, list[Problem]]
    runs: list[SuiteRun]


@dataclass(frozen=True)
class SealedValidation:
    """A batch's problems, with its suite runs pickled: the process that holds it (the run's,
    when another process validated) needs no Great Expectations until their pages are built."""

    period: str
    problems: dict[str, list[Problem]]
    runs: bytes

    def opened(self) -> BatchValidation:
        """The validation with its suite runs as Great Expectations made them."""
        return BatchValidation(self.period, self.problems, pickle.loads(self.runs))


def sealed_validation(
    inputs: Sequence[SubmissionInput], context: ValidationContext, pool: Executor | None = None
) -> SealedValidation:
    """`run_suites` over the batch — in `pool`'s process when one is given — sealed."""
    if pool is not None:
        return pool.submit(sealed_validation, inputs, context).result()
    validation = run_suites(inputs, context)
    return SealedValidation(validation.period, validation.problems, pickle.dumps(validation.runs))


@contextlib.contextmanager
def validation_process(files: int) -> Iterator[Executor | None]:
    """A process of its own to validate a batch of `files` in, for as long as the collection
    lasts, Great Expectations importing there from now on; None for a batch validated best in
    the run's process (VALIDATE_APART_FROM)."""
    if files < VALIDATE_APART_FROM:
        yield None
        return
    with process_pool(1) as pool:
        pool.submit(prepare)
        yield pool


def _run_suite(name: str, frame: pd.DataFrame, parameters: Mapping[str, Any]) -> SuiteRun | None:
    """Validate a frame against a stored suite; None for an empty frame."""
    import great_expectations as gx

    if frame.empty:
        return None
    stored = read_suite(name)
    suite = gx.ExpectationSuite(name=name, expectations=stored["expectations"])
    batch = _batch_definition(name).get_batch(batch_parameters={"dataframe": frame})
    result = batch.validate(
        suite, expectation_parameters=dict(parameters), result_format={"result_format": "COMPLETE"}
    )
    failures = []
    for outcome in result.results:
        if outcome.exception_info and outcome.exception_info.get("raised_exception"):
            raise RuntimeError(
                f"Great Expectations could not evaluate {outcome.expectation_config.type}: "
                f"{outcome.exception_info.get('exception_message')}"
            )
        if not outcome.success:
            failures.append(
                (outcome.expectation_config.meta, outcome.result.get("unexpected_index_list") or [])
            )
    return SuiteRun(name, len(frame), result, failures)


def validate_submissions(
    inputs: Sequence[SubmissionInput], context: ValidationContext
) -> dict[str, list[Problem]]:
    """Every problem of every submission of the batch, keyed by submission id."""
    return run_suites(inputs, context).problems


def run_suites(inputs: Sequence[SubmissionInput], context: ValidationContext) -> BatchValidation:
    """Run both suites over the batch, once each; map every failure back to its submission."""
    problems: dict[str, list[Problem]] = {item.submission_id: [] for item in inputs}
    if not inputs:
        return BatchValidation(context.period, problems, [])
    rules = {rule.key: rule for rule in load_rules()}
    catalogue = by_code()
    values = value_frame(inputs, context)
    submissions = submission_frame(inputs, values, context)
    parameters = {
        "indicator_codes": [indicator.code for indicator in load_catalogue()],
        # Only the batch's own codes can be looked up: Great Expectations copies a value set
        # several times per expectation, and a province's 20,000 codes cost it seconds.
        "active_unit_codes": sorted(context.active_unit_codes & set(submissions["unit_code"])),
        "periods": [context.period],
    }
    value_run = _run_suite(VALUE_SUITE, values, parameters)
    submission_run = _run_suite(SUBMISSION_SUITE, submissions, parameters)
    runs = [run for run in (value_run, submission_run) if run is not None]
    folder_of = {item.submission_id: item.folder_unit_code for item in inputs}
    for meta, labels in value_run.failures if value_run else []:
        rule = rules[meta["rule_key"]]
        for row in values.loc[labels].itertuples():
            indicator = catalogue.get(row.indicator_code)
            fields = {
                "row": row.row_number,
                "code": visible(row.indicator_code),
                "value": visible(_shown(row.value)),
                "label": indicator.label_vi if indicator else row.indicator_code,
            }
            if rule.check == "sibling_outlier":
                fields |= _outlier_fields(rule, row, context.comparisons, folder_of)
            problems[row.submission_id].append(
                Problem(
                    rule.id,
                    rule.severity,
                    rule.message.format(**fields),
                    row.indicator_code or None,
                    row.row_number,
                )
            )
    # A rule over a whole submission (a relation, O1) points the unit at the row of the first
    # indicator it names, so that the feedback can say on which row to look.
    rows_of: dict[tuple[str, str], int] = {}
    for item in inputs:
        for form_row in item.form.rows:
            rows_of.setdefault((item.submission_id, form_row.indicator_code), form_row.row_number)
    for meta, labels in submission_run.failures if submission_run else []:
        rule = rules[meta["rule_key"]]
        for label in dict.fromkeys(labels):
            row = submissions.loc[label]
            submission_id = row["submission_id"]
            problems[submission_id].extend(
                problem
                if problem.row_number is not None or not problem.indicator_code
                else replace(
                    problem, row_number=rows_of.get((submission_id, problem.indicator_code))
                )
                for problem in _submission_problems(rule, row, context)
            )
    for found in problems.values():
        found.sort(key=_problem_order)
    return BatchValidation(context.period, problems, runs)


def _outlier_fields(
    rule: Rule, row: Any, comparisons: Comparisons, folder_of: Mapping[str, str]
) -> dict[str, object]:
    unit = comparisons.units[folder_of[row.submission_id]]
    parent = comparisons.units.get(unit.parent_code or "")
    kind = KIND_LABELS_VI[unit.kind]
    return {
        "value": format_count(getattr(row, f"{rule.key}__number")),
        "siblings": format_count(getattr(row, f"{rule.key}__siblings")),
        "kind": kind[:1].lower() + kind[1:],
        "parent": parent.name if parent else unit.parent_code,
        "median": format_count(getattr(row, f"{rule.key}__median")),
        "threshold": format_count(getattr(row, f"{rule.key}__threshold")),
    }


def _submission_problems(rule: Rule, row: pd.Series, context: ValidationContext) -> list[Problem]:
    catalogue = by_code()
    match rule.check:
        case "changed_from_previous":
            current, previous = row[f"{rule.key}__current"], row[f"{rule.key}__previous"]
            message = rule.message.format(
                value=format_count(current),
                previous=format_count(previous),
                previous_period=Period.parse(row[f"{rule.key}__previous_period"]).label_vi,
                direction="tăng" if current > previous else "giảm",
                change=_percent_above(row[f"{rule.key}__change"], rule.max_change),
                max_change=format_percent(rule.max_change),
            )
            return [Problem(rule.id, rule.severity, message, MEMBERS)]
        case "unit_active":
            message = rule.message.format(value=visible(row["unit_code"]))
            return [Problem(rule.id, rule.severity, message + _hidden_vi(row["unit_code"]))]
        case "unit_matches_folder":
            message = rule.message.format(
                value=visible(row["unit_code"]), expected=row["folder_unit_code"]
            )
            return [Problem(rule.id, rule.severity, message + _hidden_vi(row["unit_code"]))]
        case "period_is_collected":
            message = rule.message.format(value=visible(row["period"]), expected=context.period)
            return [Problem(rule.id, rule.severity, message + _hidden_vi(row["period"]))]
        case "reported_by_leaf":
            return [
                Problem(
                    rule.id,
                    rule.severity,
                    rule.message.format(code=code, label=catalogue[code].label_vi),
                    code,
                )
                for code in rule.indicators
                if pd.isna(row[f"{rule.key}__{code}"])
            ]
    left, right = row[f"{rule.key}__left"], row[f"{rule.key}__right"]
    message = rule.message.format(left=_shown(left), right=_shown(right))
    return [Problem(rule.id, rule.severity, message, rule.terms[0])]


def _hidden_vi(typed: object) -> str:
    """A sentence naming the invisible characters of what a unit typed, when there are any:
    «CB05[U+200B]» and CB05 would otherwise look alike."""
    hidden = invisible_characters(typed) if isinstance(typed, str) else []
    if not hidden:
        return ""
    return (
        f" Ô này có ký tự ẩn không nhìn thấy được ({'; '.join(hidden)}), thường do sao chép từ "
        "nơi khác: hãy xoá nội dung ô rồi gõ lại."
    )


def _percent_above(change: float, limit: float | None) -> str:
    """A change beyond the limit, with as many decimals as it takes not to read as the limit
    itself (20,04% is not shown as 20,0% next to a 20,0% limit)."""
    for decimals in (1, 2, 3):
        text = _babel_percent(change, f"#,##0.{'0' * decimals}%", locale=LOCALE)
        if limit is None or round(change, decimals + 2) > limit:
            return text
    return text


def _shown(value: object) -> str:
    """A value as the unit typed it, or a whole number without `.0`."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    text = "" if value is None or (isinstance(value, float) and pd.isna(value)) else str(value)
    return text if len(text) <= 60 else text[:57] + "…"


_RULE_ORDER = re.compile(r"([A-Z])(\d+)")


def _problem_order(problem: Problem) -> tuple:
    match = _RULE_ORDER.match(problem.rule)
    family = "FVRO".find(match.group(1)) if match else 9
    return (problem.row_number or 0, family, int(match.group(2)) if match else 0)
