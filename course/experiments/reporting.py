"""What an experiment shows a student, and the statements a notebook makes about it.

Each experiment module is the only reader of its own result. It exports

    report(result) -> Report    a heading, small tables and a verdict of a few lines: an HTML
                                table in JupyterLab, plain text elsewhere (no line wider than
                                the notebook column)
    claims(result) -> Claims    every statement the notebook's prose makes about the stored
                                result, each with the figure it rests on and whether it holds

    from course.experiments import load_results, tta
    result = load_results("tta")
    tta.report(result)          # the last line of a cell: displayed as a table
    tta.claims(result)          # one line: do the text's statements hold?

``tests/experiments/test_claims.py`` checks every claim on every stored result.
"""

from __future__ import annotations

import html
import textwrap
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from course.runtime import short_cpu_name

WIDTH = 100  # characters: the widest line a report prints (JupyterLab's column at 100% zoom)


def _text_of(value) -> str:
    return value if isinstance(value, str) else str(value)


@dataclass(frozen=True)
class Table:
    """A small table of formatted values: the first column left-aligned, the others right
    (``align``: one letter per column, "l" or "r", to choose otherwise)."""

    columns: Sequence[str]
    rows: Sequence[Sequence]
    title: str = ""
    note: str = ""  # one or two sentences under the table: units, what "-" means
    align: str = ""

    def __post_init__(self):
        if not self.align:
            object.__setattr__(self, "align", "l" + "r" * (len(self.columns) - 1))
        if len(self.align) != len(self.columns) or set(self.align) - {"l", "r"}:
            raise ValueError(f"align must give 'l' or 'r' for each of the {len(self.columns)} "
                             f"columns, got {self.align!r}")  # fmt: skip
        for row in self.rows:
            if len(row) != len(self.columns):
                raise ValueError(
                    f"a row of table {self.title!r} has {len(row)} cells, the table has "
                    f"{len(self.columns)} columns: {row!r}"
                )

    def text(self) -> str:
        cells = [list(map(_text_of, self.columns))]
        cells += [list(map(_text_of, row)) for row in self.rows]
        widths = [max(len(row[i]) for row in cells) for i in range(len(self.columns))]
        lines = [self.title] if self.title else []
        for n, row in enumerate(cells):
            padded = [cell.ljust(w) if a == "l" else cell.rjust(w)
                      for cell, w, a in zip(row, widths, self.align, strict=True)]  # fmt: skip
            lines.append("  ".join(padded).rstrip())
            if n == 0:
                lines.append("  ".join("-" * w for w in widths))
        if self.note:
            lines += textwrap.wrap(self.note, WIDTH)
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        side = {"l": "left", "r": "right"}

        def cells(row, tag):
            return "".join(
                f'<{tag} style="text-align: {side[a]}">{html.escape(_text_of(c))}</{tag}>'
                for c, a in zip(row, self.align, strict=True)
            )

        head = cells(self.columns, "th")
        body = "".join(f"<tr>{cells(row, 'td')}</tr>" for row in self.rows)
        caption = f"<caption>{html.escape(self.title)}</caption>" if self.title else ""
        note = f"<p><small>{html.escape(self.note)}</small></p>" if self.note else ""
        return f"<table>{caption}<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>{note}"

    def __str__(self) -> str:
        return self.text()

    def _repr_pretty_(self, printer, cycle) -> None:
        printer.text(self.text())


@dataclass(frozen=True)
class Report:
    """What a result shows: a heading (what ran, where), tables, a verdict of a few lines."""

    heading: str
    tables: Sequence[Table] = ()
    verdict: Sequence[str] = ()  # short sentences, one per line

    def text(self) -> str:
        parts = ["\n".join(textwrap.wrap(self.heading, WIDTH))]
        parts += [table.text() for table in self.tables]
        if self.verdict:
            parts.append("\n".join(_wrapped(self.verdict)))
        return "\n\n".join(parts)

    def _repr_html_(self) -> str:
        heading = f"<p><small>{html.escape(self.heading)}</small></p>"
        tables = "".join(table._repr_html_() for table in self.tables)
        verdict = "".join(f"<li>{html.escape(line)}</li>" for line in self.verdict)
        return heading + tables + (f"<ul>{verdict}</ul>" if verdict else "")

    def __str__(self) -> str:
        return self.text()

    def _repr_pretty_(self, printer, cycle) -> None:
        printer.text(self.text())


def _wrapped(lines: Iterable[str]) -> list[str]:
    out = []
    for line in lines:
        out += textwrap.wrap(line, WIDTH, initial_indent="* ", subsequent_indent="  ")
    return out


@dataclass(frozen=True)
class Claim:
    """One statement of the notebook's prose about a result, the figure it rests on, and
    whether the result bears it out."""

    statement: str
    figure: str
    holds: bool

    def __post_init__(self):
        object.__setattr__(self, "holds", bool(self.holds))

    def __str__(self) -> str:
        return f"{'✓' if self.holds else '✗'} {self.statement} ({self.figure})"


@dataclass(frozen=True)
class Claims:
    """The statements a notebook makes about one result. Shown as one line when all hold;
    otherwise the line names the ones that do not."""

    items: Sequence[Claim]
    about: str = "the stored result"
    failed: tuple[Claim, ...] = field(init=False)

    def __post_init__(self):
        object.__setattr__(self, "items", tuple(self.items))
        object.__setattr__(self, "failed", tuple(c for c in self.items if not c.holds))

    def __iter__(self):
        return iter(self.items)

    def __len__(self) -> int:
        return len(self.items)

    @property
    def all_hold(self) -> bool:
        return not self.failed

    def summary(self) -> str:
        n = len(self.items)
        if self.all_hold:
            return f"✓ All {n} statements of the text hold for {self.about}."
        lines = [f"✗ {n - len(self.failed)} of {n} statements of the text hold for {self.about}; "
                 f"not these:"]  # fmt: skip
        lines += _wrapped(f"{c.statement} ({c.figure})" for c in self.failed)
        return "\n".join(lines)

    def details(self) -> str:
        """Every statement with its figure, one per line, for a reader who wants them all."""
        return "\n".join(_wrapped(str(c) for c in self.items))

    def __str__(self) -> str:
        return self.summary()

    def _repr_pretty_(self, printer, cycle) -> None:
        printer.text(self.summary())


def fmt(value: float | None, spec: str = ".3f", missing: str = "-") -> str:
    """A number for a table cell; ``missing`` for None (a run that diverged or never got there)."""
    return missing if value is None else format(value, spec)


def per_seed(values: Sequence[float | None], spec: str = "d") -> str:
    """One value per seed, "3 3 6" or "0.040 0.046 -" ('-': diverged or never got there)."""
    return " ".join(fmt(v, spec) for v in values)


def mean_std(stats: dict | None, spec: str = ".3f") -> str:
    """``{"mean", "std", "n"}`` (``common.mean_and_spread``) as "0.895 ± 0.002"."""
    if not stats:
        return "-"
    if stats.get("n", 2) < 2:
        return format(stats["mean"], spec)
    return f"{format(stats['mean'], spec)} ± {format(stats['std'], spec)}"


def heading(result: dict, what: str = "") -> str:
    """What ran and where, in one short line: the same on every machine that reads the result.

    "tta, reference budget: 3 runs, 12 minutes on a 2-core Intel Xeon with bf16 (2026-11-29);
    Fashion-MNIST, 60,000 training and 10,000 test images"
    """
    p = result["provenance"]
    machine = p["machine"]
    minutes = p["wall_seconds"] / 60
    took = f"{minutes:.0f} minutes" if minutes >= 1.5 else f"{p['wall_seconds']:.0f} s"
    where = f"a {machine['cores']}-core {short_cpu_name(machine['cpu'])}"
    if machine.get("gpus"):
        where = f"a {machine['gpus'][0]}"
    elif machine.get("native_bf16"):
        where += " with bf16"
    data = p["data"]
    if ": " in data:  # "Fashion-MNIST, full set from ...: 5,000 training ..." -> the sizes only
        data = data.split(",")[0] + ", " + data.split(": ", 1)[1]
    runs = len(result["runs"])
    return (
        f"{what or result['name']}, {result['budget']} budget: {runs} training "
        f"run{'s' if runs != 1 else ''}, {took} on {where} ({p['date'][:10]}); {data}"
    )
