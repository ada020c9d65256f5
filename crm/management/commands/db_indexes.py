"""manage.py db_indexes: the health of every index the project's models declare.

db_indexes            list them: table, definition, validity, size, scans
db_indexes --check    also exit non-zero if one is missing, INVALID or defined
                      differently from its model (for deploy pipelines)
db_indexes --repair   rebuild INVALID ones concurrently, then check again
--json                machine-readable output instead of the table
"""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import DatabaseError

from crm import index_health
from crm.index_health import IndexReport, Status


def human_size(size: int | None) -> str:
    if size is None:
        return "-"
    value = float(size)
    for unit in ("B", "kB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    raise AssertionError("unreachable")


class Command(BaseCommand):
    help = (
        "List the indexes of the project's tables with their validity, size and scans; "
        "--check fails when a declared index is missing, INVALID or differs from its "
        "model; --repair rebuilds INVALID indexes concurrently."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--check",
            action="store_true",
            help="Exit with status 1 if any index is missing, INVALID or defined differently.",
        )
        parser.add_argument(
            "--repair",
            action="store_true",
            help="Rebuild INVALID indexes with concurrent DDL (writes go on), then check.",
        )
        parser.add_argument("--json", action="store_true", help="Print JSON instead of a table.")

    def handle(self, *args: Any, **options: Any) -> None:
        reports = index_health.inspect()
        if options["repair"]:
            self.repair(reports, quiet=options["json"])
            reports = index_health.inspect()
        if options["json"]:
            self.stdout.write(
                json.dumps(
                    {
                        "statistics_reset_at": index_health.statistics_reset_at(),
                        "indexes": [report.as_dict() for report in reports],
                    },
                    indent=2,
                )
            )
        else:
            self.print_table(reports)
        problems = [report for report in reports if report.is_problem]
        if problems and (options["check"] or options["repair"]):
            raise CommandError(
                "Index problems: "
                + "; ".join(f"{report.name} is {report.status}" for report in problems)
                + ". See docs/indexes.md."
            )
        if options["check"] or options["repair"]:
            # A verdict a person (or a deploy log) can read without counting rows; on
            # stderr so that --json stays one JSON document.
            self.stderr.write(
                self.style.SUCCESS(
                    f"Check passed: all {len(reports)} declared indexes are present, valid "
                    "and as declared."
                )
            )

    def repair(self, reports: list[IndexReport], *, quiet: bool) -> None:
        plan = index_health.repair_plan(reports)
        if not plan and not quiet:
            self.stdout.write("No INVALID index to repair.")
        for name, statements in plan:
            for statement in statements:
                if not quiet:
                    self.stdout.write(f"{name}: {statement}")
                try:
                    index_health.run_repair_step(name, statement)
                except DatabaseError as error:
                    # Keep going: the final check reports what is still wrong.
                    self.stderr.write(self.style.ERROR(f"{name}: failed: {error}".strip()))
                    break

    def print_table(self, reports: list[IndexReport]) -> None:
        reset_at = index_health.statistics_reset_at()
        self.stdout.write(
            "Scans are counted since the statistics were reset "
            f"({reset_at or 'never, since the server was set up'}), on this server only.\n"
        )
        header = f"{'STATUS':<8} {'INDEX':<44} {'TABLE':<20} {'VALID':<5} {'SIZE':>9} {'SCANS':>9}"
        self.stdout.write(header)
        for report in reports:
            valid = "-" if report.valid is None else ("yes" if report.valid else "NO")
            scans = "-" if report.scans is None else str(report.scans)
            line = (
                f"{report.status!s:<8} {report.name:<44} {report.table:<20} {valid:<5} "
                f"{human_size(report.size_bytes):>9} {scans:>9}"
            )
            self.stdout.write(self.style.ERROR(line) if report.is_problem else line)
            self.stdout.write(f"         {report.source}")
            if report.definition:
                self.stdout.write(f"         {report.definition}")
            if report.detail and report.is_problem:
                self.stdout.write(f"         {report.detail}")
            if report.status in (Status.MISSING, Status.DIFFERS) and report.expected_definition:
                self.stdout.write(f"         expected: {report.expected_definition}")
        problems = sum(report.is_problem for report in reports)
        self.stdout.write(f"\n{len(reports)} indexes, {problems} with problems.")
