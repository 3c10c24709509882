"""The benchmark: each product operation timed against a baseline measured in the same run.

    python bench/run.py [--physicians N] [--seed S] [--only NAME ...] [--repeat K]

It builds (and caches in ``bench/.cache``) a demo region of N physicians in SQLite, then runs
every case found in ``bench/cases/*.py``. A case module defines ``cases(env) -> list[Case]``.
Each case times its product operation and its baseline (best of ``--repeat`` runs) and the
table shows the ratio against the SPEC §9 target. Nothing here is part of the test suite.
"""

from __future__ import annotations

import argparse
import gc
import importlib.util
import os
import resource
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
CACHE = HERE / ".cache"


@dataclass
class Case:
    """One line of the table: ``product`` against ``baseline``.

    ``kind="time"``: ratio = product seconds / baseline seconds, must be ≤ target.
    ``kind="rate"``: the functions return a rate (operations per second); ratio = product
    rate / baseline rate, must be ≥ target.
    """

    name: str
    product: Callable[[], Any]
    baseline: Callable[[], Any]
    target: float | None  # None: no SPEC target, the ratio is reported only
    kind: str = "time"
    repeat: int | None = None
    setup: Callable[[], Any] | None = None
    note: str = ""


@dataclass
class Env:
    """What a case needs: the cached region's URL, its size, and scratch space."""

    physicians: int
    seed: int
    url: str
    path: Path
    scratch: Path
    python: str = sys.executable
    extra: dict[str, Any] = field(default_factory=dict)

    def fresh_copy(self, name: str) -> tuple[str, Path]:
        """A private copy of the cached region (for cases that write)."""
        target = self.scratch / f"{name}.db"
        for suffix in ("", "-wal", "-shm"):
            Path(str(target) + suffix).unlink(missing_ok=True)
        shutil.copyfile(self.path, target)
        return f"sqlite:///{target}", target


def multisite(env: Env, *args: str) -> subprocess.CompletedProcess[str]:
    command = [env.python, "-m", "multisite.cli", *args]
    return subprocess.run(command, check=True, capture_output=True, text=True)


def region(physicians: int, seed: int) -> Path:
    CACHE.mkdir(exist_ok=True)
    path = CACHE / f"region-{physicians}-{seed}.db"
    if not path.exists():
        tmp = path.with_suffix(f".building-{os.getpid()}")
        tmp.unlink(missing_ok=True)
        print(
            f"building a demo region of {physicians:,} physicians (cached in {path}) …", flush=True
        )
        started = time.perf_counter()
        command = [sys.executable, "-m", "multisite.cli", "--db", f"sqlite:///{tmp}", "demo",
                   "--physicians", str(physicians), "--seed", str(seed)]  # fmt: skip
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
        os.replace(tmp, path)  # several runs may build at once: the last one wins
        print(f"  built in {time.perf_counter() - started:.1f} s", flush=True)
    else:  # a region cached by an older version: bring its schema up to date
        command = [sys.executable, "-m", "multisite.cli", "--db", f"sqlite:///{path}", "init"]
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
    return path


def load_cases(env: Env, modules: list[str] | None = None) -> list[Case]:
    found: list[Case] = []
    for module_path in sorted((HERE / "cases").glob("*.py")):
        if module_path.name.startswith("_"):
            continue
        if modules and module_path.stem not in modules:
            continue
        spec = importlib.util.spec_from_file_location(
            f"bench_cases_{module_path.stem}", module_path
        )
        assert spec and spec.loader
        module = importlib.util.module_from_spec(spec)
        sys.modules[spec.name] = module
        try:
            spec.loader.exec_module(module)
            found.extend(module.cases(env))
        except Exception as error:  # one broken case module must not hide the others
            print(f"bench/cases/{module_path.name}: could not set up: {error!r}", flush=True)
    return found


def best_of(
    fn: Callable[[], Any], repeat: int, setup: Callable[[], Any] | None
) -> tuple[float, Any]:
    best = float("inf")
    value: Any = None
    for _ in range(repeat):
        if setup is not None:
            setup()
        value = None  # free the last result now, not inside the next timing
        gc.collect()
        gc.disable()  # as timeit does: a collection landing in one side only is noise
        try:
            started = time.perf_counter()
            value = fn()
            elapsed = time.perf_counter() - started
        finally:
            gc.enable()
        best = min(best, elapsed)
    return best, value


def _seconds(value: float) -> str:
    return f"{value * 1000:.2f} ms" if value < 0.1 else f"{value:.3f} s"


def run_case(case: Case, repeat: int) -> dict[str, Any]:
    k = case.repeat or repeat
    t_product, v_product = best_of(case.product, k, case.setup)
    t_base, v_base = best_of(case.baseline, k, case.setup)
    target = (
        case.target if case.target is not None else (0.0 if case.kind == "rate" else float("inf"))
    )
    if case.kind == "rate":
        ratio = float(v_product) / float(v_base)
        ok = ratio >= target
        shown = (f"{float(v_product):,.0f}/s", f"{float(v_base):,.0f}/s")
    else:
        ratio = t_product / t_base
        ok = ratio <= target
        shown = (_seconds(t_product), _seconds(t_base))
    return {"name": case.name, "product": shown[0], "baseline": shown[1], "ratio": ratio,
            "target": "—" if case.target is None
            else ("≥ " if case.kind == "rate" else "≤ ") + f"{case.target:g}×", "ok": ok,
            "note": case.note}  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--physicians", type=int, default=300_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--only", nargs="*", help="run only cases whose name contains one of these")
    parser.add_argument("--modules", nargs="*", help="load only these bench/cases modules")
    args = parser.parse_args()

    path = region(args.physicians, args.seed)
    scratch = CACHE / "scratch"
    scratch.mkdir(parents=True, exist_ok=True)
    env = Env(args.physicians, args.seed, f"sqlite:///{path}", path, scratch)
    cases = load_cases(env, args.modules)
    if args.only:
        cases = [c for c in cases if any(word in c.name for word in args.only)]
    rows = []
    for case in cases:
        print(f"running: {case.name} …", flush=True)
        rows.append(run_case(case, args.repeat))
    print()
    print(f"region: {args.physicians:,} physicians, seed {args.seed}")
    header = f"{'work':<52} {'product':>14} {'baseline':>14} {'ratio':>8} {'target':>8}  ok"
    print(header)
    print("-" * len(header))
    for r in rows:
        mark = "yes" if r["ok"] else "NO"
        print(f"{r['name']:<52} {r['product']:>14} {r['baseline']:>14} {r['ratio']:>7.2f}× "
              f"{r['target']:>8}  {mark}")  # fmt: skip
        if r["note"]:
            print(f"    {r['note']}")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(f"peak memory: this process {peak:.0f} MB, largest child process {children:.0f} MB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
