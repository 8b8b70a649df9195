"""The machinery shared by every check: profiles, results, the registry and the runner.

A check is a module in :mod:`paper_checks` exposing

``CLAIM``
    The claim in one line.  Claims and their locations follow the paper (Wang, Wu, Ma,
    Zhang, IEEE JSAC 2025, arXiv:2405.04144; see ``docs/references.md``); the quoted
    blocks in the module docstrings paraphrase the paper's claims, they are not verbatim
    quotations of it.
``WHERE``
    Where the claim comes from (abstract, the section of the binary or Gaussian
    theorems, or ``docs/references.md`` (Findings) where the claim is ours, not the paper's).
``run(profile) -> CheckResult``
    The verdict with the numbers that support it.

Verdicts
--------
``holds``
    The numbers agree with the claim everywhere we looked.
``fails``
    A counterexample exists; the evidence names it.
``holds-with-conditions``
    The claim holds in part of the parameter space; the evidence says where not.
``not-checked``
    An ingredient the check needs is missing (named in the evidence).  Never a pass.
``error``
    The check raised an exception: an implementation problem.

A paper claim that fails is a *finding*, not an error.  :attr:`CheckResult.consistent` is
``False`` only when the implementation disagrees with itself (closed form vs solver vs
brute force beyond tolerance), and only that (or ``error``) makes ``rdpc check`` exit
non-zero.
"""

from __future__ import annotations

import importlib
import json
import math
import os
import time
import traceback
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, Protocol, TypeVar

from rdpc_theory.atomic_io import atomic_write_text

__all__ = [
    "VERDICTS",
    "CHECK_NAMES",
    "Profile",
    "CheckResult",
    "CheckRecord",
    "CheckModule",
    "load_check",
    "select_checks",
    "run_checks",
    "format_table",
    "report_dict",
    "write_json",
    "progress",
]

VERDICTS = ("holds", "fails", "holds-with-conditions", "not-checked", "error")

# Run order: cheap closed-form checks first, solver/brute-force checks last.
CHECK_NAMES: tuple[str, ...] = (
    "closed_forms",
    "rdc_convexity",
    "monotonicity",
    "rdc_structure",
    "rpc_tradeoff_gaussian",
    "rpc_tradeoff_binary",
    "rpc_convexity",
    "source_noise",
    "common_randomness",
    "symbolic_gaussian",
)

T = TypeVar("T")


@dataclass(frozen=True)
class Profile:
    """How hard the checks work.

    Parameters
    ----------
    name : {"quick", "full"}
        ``quick`` (< 60 s in all, used by the default test suite) or ``full``
        (< 5 min on 2 cores): denser grids, more random pairs, more samples.
    seed : int
        Root seed of every random draw (random pairs, random sources, samples).
    show_progress : bool
        Show tqdm progress bars on stderr for long loops.
    """

    name: str = "full"
    seed: int = 20250
    show_progress: bool = False

    def __post_init__(self) -> None:
        if self.name not in ("quick", "full"):
            raise ValueError(f"`profile` must be one of 'quick', 'full'; got {self.name!r}.")

    @property
    def quick(self) -> bool:
        return self.name == "quick"

    def pick(self, quick: T, full: T) -> T:
        """The `quick` or the `full` value of a size parameter."""
        return quick if self.quick else full


@dataclass(frozen=True)
class CheckResult:
    """What one check found.

    Parameters
    ----------
    verdict : str
        One of :data:`VERDICTS`.
    evidence : str
        The numbers, in one or a few sentences (shown in the table).
    consistent : bool
        ``False`` if the implementation disagreed with itself (closed form vs solver vs
        brute force beyond tolerance).  A failing paper claim stays ``True``.
    details : Mapping
        Machine-readable numbers (JSON-serializable after :func:`_jsonable`).
    """

    verdict: str
    evidence: str
    consistent: bool = True
    details: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.verdict not in VERDICTS:
            raise ValueError(
                f"`verdict` must be one of {', '.join(map(repr, VERDICTS))}; got {self.verdict!r}."
            )


@dataclass(frozen=True)
class CheckRecord:
    """A :class:`CheckResult` with the claim it checks and the time it took."""

    name: str
    claim: str
    where: str
    verdict: str
    evidence: str
    consistent: bool
    seconds: float
    details: Mapping[str, Any]


class CheckModule(Protocol):
    CLAIM: str
    WHERE: str

    def run(self, profile: Profile) -> CheckResult: ...


def load_check(name: str) -> CheckModule:
    """Import the check module ``paper_checks.<name>``."""
    if name not in CHECK_NAMES:
        raise ValueError(f"`name` must be one of {', '.join(CHECK_NAMES)}; got {name!r}.")
    module: CheckModule = importlib.import_module(f"paper_checks.{name}")
    return module


def select_checks(only: Iterable[str] | None) -> list[str]:
    """Resolve ``--only`` values (names, comma lists, or unique prefixes) to check names.

    Raises
    ------
    ValueError
        For a name that matches no check or more than one.
    """
    if not only:
        return list(CHECK_NAMES)
    wanted: list[str] = []
    for item in only:
        for token in (t.strip() for t in item.split(",")):
            if not token:
                continue
            matches = [n for n in CHECK_NAMES if n == token] or [
                n for n in CHECK_NAMES if n.startswith(token)
            ]
            if len(matches) != 1:
                what = "matches no check" if not matches else f"is ambiguous ({', '.join(matches)})"
                raise ValueError(
                    f"`--only` {token!r} {what}; choose from {', '.join(CHECK_NAMES)}."
                )
            if matches[0] not in wanted:
                wanted.append(matches[0])
    return [n for n in CHECK_NAMES if n in wanted]


def progress(
    iterable: Iterable[T], profile: Profile, *, desc: str, total: int | None = None
) -> Iterator[T]:
    """Iterate with a tqdm bar on stderr when the profile asks for progress."""
    if not profile.show_progress:
        yield from iterable
        return
    from tqdm import tqdm

    yield from tqdm(iterable, desc=desc, total=total, leave=False, dynamic_ncols=True)


def run_checks(
    names: Sequence[str], profile: Profile, *, announce: bool = False
) -> list[CheckRecord]:
    """Run the named checks in order; an exception becomes an ``error`` record.

    With `announce`, one line per check (name, then verdict and time) goes to stderr.
    """
    import sys

    records: list[CheckRecord] = []
    for k, name in enumerate(names, 1):
        module = load_check(name)
        if announce:
            print(f"[{k}/{len(names)}] {name} ...", file=sys.stderr, flush=True)
        start = time.perf_counter()
        try:
            result = module.run(profile)
        except Exception as exc:  # reported as an implementation error, not swallowed
            result = CheckResult(
                "error",
                f"{type(exc).__name__}: {exc}",
                consistent=False,
                details={"traceback": traceback.format_exc()},
            )
        seconds = time.perf_counter() - start
        if announce:
            print(f"[{k}/{len(names)}] {name}: {result.verdict} ({seconds:.1f} s)", file=sys.stderr)
        records.append(
            CheckRecord(
                name=name,
                claim=module.CLAIM,
                where=module.WHERE,
                verdict=result.verdict,
                evidence=result.evidence,
                consistent=result.consistent,
                seconds=seconds,
                details=result.details,
            )
        )
    return records


def _wrap(text: str, width: int) -> list[str]:
    import textwrap

    return textwrap.wrap(" ".join(text.split()), width) or [""]


def format_table(records: Sequence[CheckRecord], *, style: str = "text", width: int = 64) -> str:
    """The check table: claim, where, verdict, evidence, seconds.

    ``style="text"`` wraps the evidence column at `width` characters; ``"markdown"`` gives
    one row per check for a README.
    """
    headers = ("claim", "where", "verdict", "evidence", "s")
    if style == "markdown":
        lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
        for r in records:
            claim = f"`{r.name}`: {r.claim}"
            verdict = f"**{r.verdict}**" + ("" if r.consistent else " (INCONSISTENT)")
            cells = (claim, r.where, verdict, r.evidence, f"{r.seconds:.1f}")
            lines.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
        return "\n".join(lines)
    if style != "text":
        raise ValueError(f"`style` must be one of 'text', 'markdown'; got {style!r}.")
    rows = [
        (
            [r.name, *_wrap(r.claim, 26)],
            _wrap(r.where, 16),
            [r.verdict if r.consistent else f"{r.verdict} (INCONSISTENT)"],
            _wrap(r.evidence, width),
            [f"{r.seconds:.1f}"],
        )
        for r in records
    ]
    widths = [
        max([len(h)] + [len(line) for row in rows for line in row[i]])
        for i, h in enumerate(headers)
    ]
    sep = "+" + "+".join("-" * (w + 2) for w in widths) + "+"

    def line(cells: Sequence[str]) -> str:
        return "| " + " | ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)) + " |"

    out = [sep, line(headers), sep.replace("-", "=")]
    for row in rows:
        height = max(len(col) for col in row)
        for k in range(height):
            out.append(line([col[k] if k < len(col) else "" for col in row]))
        out.append(sep)
    return "\n".join(out)


def _jsonable(value: Any) -> Any:
    """Plain JSON types; non-finite floats become the strings 'inf', '-inf', 'nan'."""
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if hasattr(value, "tolist"):  # numpy scalars and arrays
        return _jsonable(value.tolist())
    if isinstance(value, bool) or value is None or isinstance(value, str | int):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    return str(value)


def report_dict(
    records: Sequence[CheckRecord], profile: Profile, total_seconds: float
) -> dict[str, Any]:
    """The JSON report: profile, overall consistency and one entry per check."""
    import platform
    from importlib import metadata

    from rdpc import __version__

    def version(package: str) -> str | None:
        try:
            return metadata.version(package)
        except metadata.PackageNotFoundError:
            return None

    return {
        "rdpc_version": __version__,
        "versions": {
            "python": platform.python_version(),
            **{p: version(p) for p in ("numpy", "scipy", "cvxpy", "sympy")},
        },  # fmt: skip
        "profile": profile.name,
        "seed": profile.seed,
        "total_seconds": total_seconds,
        "consistent": all(r.consistent for r in records),
        "verdict_counts": {v: sum(r.verdict == v for r in records) for v in VERDICTS},
        "checks": [_jsonable(asdict(r)) for r in records],
    }


def write_json(path: str | os.PathLike[str], report: Mapping[str, Any]) -> None:
    """Write `report` to `path` atomically (temporary file, then rename)."""
    text = json.dumps(_jsonable(report), indent=2, allow_nan=False) + "\n"
    atomic_write_text(path, text)
