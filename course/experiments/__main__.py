"""python -m course.experiments run NAME [--budget live] | list | resummarize NAME |
time-live [NAME ...]"""

from __future__ import annotations

import argparse

from course.experiments.runner import BUDGETS, EXPERIMENTS, experiment, run_experiment


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m course.experiments",
        description="Run the course's experiments; reference results go to data/results/.",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("list", help="the experiments and what each tests")
    run = commands.add_parser("run", help="run one experiment (or 'all')")
    run.add_argument("name", choices=[*EXPERIMENTS, "all"], metavar="NAME",
                     help=f"one of: {', '.join(EXPERIMENTS)}, or all")  # fmt: skip
    run.add_argument("--budget", choices=BUDGETS, default="live")
    again = commands.add_parser(
        "resummarize", help="summarize a stored reference result again with the current code "
        "(its runs and provenance are kept)")  # fmt: skip
    again.add_argument("name", choices=EXPERIMENTS, metavar="NAME")
    timing = commands.add_parser(
        "time-live", help="measure the live budgets on this (idle) machine, with and without "
        "bf16, for the notebooks' expected times (data/results/live_times.json)")  # fmt: skip
    timing.add_argument("names", nargs="*", metavar="NAME", help="default: every experiment")
    args = parser.parse_args(argv)
    if args.command == "time-live":
        unknown = sorted(set(args.names) - set(EXPERIMENTS))
        if unknown:
            parser.error(f"unknown experiments {unknown}; choose from {', '.join(EXPERIMENTS)}")
        from course.experiments.live import time_live

        time_live(args.names or EXPERIMENTS)
        return
    if args.command == "resummarize":
        from course.experiments.runner import resummarize

        resummarize(args.name)
        print(f"summarized {args.name} again")
        return
    if args.command == "list":
        for name in EXPERIMENTS:
            print(f"{name}: {experiment(name).CLAIM}")
        return
    for name in EXPERIMENTS if args.name == "all" else [args.name]:
        run_experiment(name, args.budget)


if __name__ == "__main__":
    main()
