"""The benchmark: each product operation timed against a baseline measured in the same run.

    python bench/run.py [--engine sqlite|postgresql|both] [--physicians N] [--seed S] [--no-nurses]
                        [--modules rules base …] [--only NAME …] [--repeat K]

It builds (and caches) a demo region of N physicians on each engine asked for, then runs every
case found in ``bench/cases/*.py`` on it. A case module defines ``cases(env) -> list[Case]``.
Each case times its product operation and its *floor* — the raw driver (``sqlite3`` or
``psycopg``, not SQLAlchemy) doing the same storage work with nothing else — best of
``--repeat`` runs, and the table shows the ratio against the SPEC §9 target. Where an older
baseline of our own stack helps (Core ``executemany``), it is an extra column, never instead.

SQLite regions are files in ``bench/.cache``; PostgreSQL regions are databases on the server
of ``MULTISITE_BENCH_PG`` (default ``postgresql://postgres@127.0.0.1:5432/``):
``multisite_bench_<N>_<seed>`` is the cached region (a template nothing connects to), and
``multisite_bench_<name>`` the copies cases read and write, dropped at the end (the prefix is
``MULTISITE_BENCH_PREFIX``: give each person running the bench on one server their own). Nothing here
is part of the test suite.
"""

from __future__ import annotations

import argparse
import gc
import importlib.util
import os
import resource
import shutil
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
CACHE = HERE / ".cache"
PG_SERVER = os.environ.get("MULTISITE_BENCH_PG", "postgresql://postgres@127.0.0.1:5432/")
# The copies a run makes and drops are named with this prefix: runs by several people on one
# server must not drop each other's copies (the cached regions stay shared).
COPY_PREFIX = os.environ.get("MULTISITE_BENCH_PREFIX", "multisite_bench")
ENGINES = ("sqlite", "postgresql")


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
    older: Callable[[], Any] | None = None  # an older baseline of our own stack, shown beside


@dataclass
class Env:
    """What a case needs: the engine, the region's URL and size, scratch space, and the raw
    driver (:meth:`raw`) its floor is measured with."""

    engine: str  # sqlite / postgresql
    physicians: int
    seed: int
    url: str  # SQLAlchemy URL of the region the cases read (a copy on PostgreSQL)
    path: Path | None  # the SQLite file (None on PostgreSQL)
    scratch: Path
    template: str = ""  # PostgreSQL: the cached region's database name
    python: str = sys.executable
    extra: dict[str, Any] = field(default_factory=dict)
    made: list[str] = field(default_factory=list)  # PostgreSQL databases to drop at the end

    def fresh_copy(self, name: str) -> tuple[str, Path | None]:
        """A private copy of the cached region (for cases that write)."""
        if self.engine == "postgresql":
            return _pg_copy(self, name, self.template), None
        assert self.path is not None
        target = self.scratch / f"{COPY_PREFIX}_{name}.db"  # (two people's runs keep apart)
        for suffix in ("", "-wal", "-shm"):
            Path(str(target) + suffix).unlink(missing_ok=True)
        shutil.copyfile(self.path, target)
        return f"sqlite:///{target}", target

    def empty(self, name: str) -> str:
        """The URL of a new empty database with the current schema."""
        if self.engine == "postgresql":
            url = _pg_copy(self, name, None)
        else:
            target = self.scratch / f"{COPY_PREFIX}_{name}.db"
            for suffix in ("", "-wal", "-shm"):
                Path(str(target) + suffix).unlink(missing_ok=True)
            url = f"sqlite:///{target}"
        init(url)
        return url

    def raw(self, url: str | None = None) -> Any:
        """A raw DBAPI connection (``sqlite3`` / ``psycopg``, no SQLAlchemy) to ``url``
        (default: the region), for the floors; in autocommit mode on both."""
        return raw_connect(url or self.url)

    def cleanup(self) -> None:
        for name in self.made:
            _pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        self.made.clear()


def raw_connect(url: str) -> Any:
    if url.startswith("sqlite:///"):
        # autocommit off, BEGIN explicit: the floor's transaction is the one it times
        return sqlite3.connect(url.removeprefix("sqlite:///"), isolation_level=None)
    import psycopg

    # autocommit: a floor that writes opens its one transaction itself (``transaction()``)
    return psycopg.connect(pg_url(url.split("?")[0]).replace("+psycopg", ""), autocommit=True)


def pg_url(database: str) -> str:
    """A PostgreSQL URL on the bench server: ``database`` is a name or a whole URL."""
    if "://" in database:
        return database
    return f"{PG_SERVER.rstrip('/')}/{database}".replace("postgresql://", "postgresql+psycopg://")


def _pg_admin(statement: str) -> None:
    import psycopg

    with psycopg.connect(pg_url("postgres").replace("+psycopg", ""), autocommit=True) as c:
        c.execute(statement)  # type: ignore[arg-type]


def _pg_copy(env: Env, name: str, template: str | None) -> str:
    """A new database ``<prefix>_<name>`` (``MULTISITE_BENCH_PREFIX``, default
    ``multisite_bench``): a file copy of ``template``, or empty."""
    database = f"{COPY_PREFIX}_{name}"
    _pg_admin(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
    if template:
        _pg_admin(f'CREATE DATABASE "{database}" TEMPLATE "{template}" STRATEGY FILE_COPY')
    else:
        _pg_admin(f'CREATE DATABASE "{database}"')
    if database not in env.made:
        env.made.append(database)
    return pg_url(database)


def _pg_exists(database: str) -> bool:
    import psycopg

    with psycopg.connect(pg_url("postgres").replace("+psycopg", ""), autocommit=True) as c:
        found = c.execute("SELECT 1 FROM pg_database WHERE datname = %s", (database,)).fetchone()
    return found is not None


def init(url: str) -> None:
    command = [sys.executable, "-m", "multisite.cli", "--db", url, "init"]
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL)


def multisite(env: Env, *args: str) -> subprocess.CompletedProcess[str]:
    command = [env.python, "-m", "multisite.cli", *args]
    return subprocess.run(command, check=True, capture_output=True, text=True)


def _demo(url: str, physicians: int, seed: int, where: str, nurses: bool = True) -> None:
    print(f"building a demo region of {physicians:,} physicians ({where}) …", flush=True)
    started = time.perf_counter()
    command = [sys.executable, "-m", "multisite.cli", "--db", url, "demo",
               "--physicians", str(physicians), "--seed", str(seed)]  # fmt: skip
    if not nurses:
        command += ["--nurses-per-physician", "0"]
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
    print(f"  built in {time.perf_counter() - started:.1f} s", flush=True)


def _suffix(nurses: bool) -> str:
    """How a cached region without nurses is told apart (``--no-nurses``)."""
    return "" if nurses else "_nonurses"


def region(physicians: int, seed: int, nurses: bool = True) -> Path:
    """The cached SQLite region (built by ``multisite demo`` the first time)."""
    CACHE.mkdir(exist_ok=True)
    path = CACHE / f"region-{physicians}-{seed}{_suffix(nurses)}.db"
    if not path.exists():
        tmp = path.with_suffix(f".building-{os.getpid()}")
        tmp.unlink(missing_ok=True)
        _demo(f"sqlite:///{tmp}", physicians, seed, f"cached in {path}", nurses)
        os.replace(tmp, path)  # several runs may build at once: the last one wins
        key = Path(f"{tmp}.idkey")  # the national-ID key the demo made beside the file
        if key.exists():
            os.replace(key, Path(f"{path}.idkey"))
    else:  # a region cached by an older version: bring its schema up to date
        init(f"sqlite:///{path}")
    return path


def pg_region(physicians: int, seed: int, nurses: bool = True) -> str:
    """The cached PostgreSQL region: the database ``multisite_bench_<N>_<seed>``, built by
    ``multisite demo`` into a database of another name and renamed when complete."""
    name = f"multisite_bench_{physicians}_{seed}{_suffix(nurses)}"
    if not _pg_exists(name):
        building = f"{name}_building"
        _pg_admin(f'DROP DATABASE IF EXISTS "{building}" WITH (FORCE)')
        _pg_admin(f'CREATE DATABASE "{building}"')
        init(pg_url(building))
        _demo(pg_url(building), physicians, seed, f"cached as the database {name}", nurses)
        _pg_admin(f'ALTER DATABASE "{building}" RENAME TO "{name}"')
        import psycopg

        with psycopg.connect(pg_url(name).replace("+psycopg", ""), autocommit=True) as c:
            c.execute("VACUUM ANALYZE")  # as a province's nightly maintenance leaves it
    else:
        init(pg_url(name))
    return name


def make_env(engine: str, physicians: int, seed: int, nurses: bool = True) -> Env:
    scratch = CACHE / "scratch"
    scratch.mkdir(parents=True, exist_ok=True)
    if engine == "sqlite":
        path = region(physicians, seed, nurses)
        return Env(engine, physicians, seed, f"sqlite:///{path}", path, scratch)
    template = pg_region(physicians, seed, nurses)
    env = Env(engine, physicians, seed, "", None, scratch, template=template)
    env.url = _pg_copy(env, "region", template)  # nothing may connect to a template
    return env


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


def timed(fn: Callable[[], Any], setup: Callable[[], Any] | None) -> tuple[float, Any]:
    """One run of ``fn`` (after ``setup``, untimed), garbage collection off while it runs."""
    if setup is not None:
        setup()
    gc.collect()
    gc.disable()  # as timeit does: a collection landing in one side only is noise
    try:
        started = time.perf_counter()
        value = fn()
        return time.perf_counter() - started, value
    finally:
        gc.enable()


def best_of(
    sides: list[Callable[[], Any]], repeat: int, setup: Callable[[], Any] | None
) -> list[tuple[float, Any]]:
    """The best time (and last value) of each side over ``repeat`` rounds. The sides take
    turns within a round (product, floor, product, floor …), so a change in the machine's
    load during the case falls on both sides of the ratio, not on one."""
    best: list[tuple[float, Any]] = [(float("inf"), None) for _ in sides]
    for _ in range(repeat):
        for index, fn in enumerate(sides):
            best[index] = (best[index][0], None)  # free the last result before timing again
            elapsed, value = timed(fn, setup)
            best[index] = (min(best[index][0], elapsed), value)
    return best


def _seconds(value: float) -> str:
    return f"{value * 1000:.2f} ms" if value < 0.1 else f"{value:.3f} s"


def run_case(case: Case, repeat: int) -> dict[str, Any]:
    k = case.repeat or repeat
    sides = [case.product, case.baseline, *([case.older] if case.older else [])]
    found = best_of(sides, k, case.setup)
    (t_product, v_product), (t_base, v_base) = found[0], found[1]
    t_older, v_older = found[2] if case.older else (None, None)
    target = (
        case.target if case.target is not None else (0.0 if case.kind == "rate" else float("inf"))
    )
    older = ""
    if case.kind == "rate":
        ratio = float(v_product) / float(v_base)
        ok = ratio >= target
        shown = (f"{float(v_product):,.0f}/s", f"{float(v_base):,.0f}/s")
        if case.older:
            older = f"{float(v_older):,.0f}/s {float(v_product) / float(v_older):.2f}×"
    else:
        ratio = t_product / t_base
        ok = ratio <= target
        shown = (_seconds(t_product), _seconds(t_base))
        if t_older is not None:
            older = f"{_seconds(t_older)} {t_product / t_older:.2f}×"
    return {"name": case.name, "product": shown[0], "baseline": shown[1], "ratio": ratio,
            "target": "—" if case.target is None
            else ("≥ " if case.kind == "rate" else "≤ ") + f"{case.target:g}×", "ok": ok,
            "note": case.note, "older": older}  # fmt: skip


def _line(r: dict[str, Any]) -> str:
    mark = "yes" if r["ok"] else "NO "
    return (f"{r['engine']:<10} {r['name']:<52} {r['product']:>14} {r['baseline']:>14} "
            f"{r['ratio']:>7.2f}× {r['target']:>8}  {mark}  {r['older']:>24}")  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--engine", choices=(*ENGINES, "both"), default="both")
    parser.add_argument("--physicians", type=int, default=300_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--no-nurses", action="store_true",
        help="a region of physicians only (demo --nurses-per-physician 0), cached apart",
    )  # fmt: skip
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--only", nargs="*", help="run only cases whose name contains one of these")
    parser.add_argument("--modules", nargs="*", help="load only these bench/cases modules")
    args = parser.parse_args()

    engines = ENGINES if args.engine == "both" else (args.engine,)
    rows = []
    for engine in engines:
        env = make_env(engine, args.physicians, args.seed, nurses=not args.no_nurses)
        try:
            cases = load_cases(env, args.modules)
            if args.only:
                cases = [c for c in cases if any(word in c.name for word in args.only)]
            for case in cases:
                print(f"running ({engine}): {case.name} …", flush=True)
                rows.append({"engine": engine, **run_case(case, args.repeat)})
                print("  " + _line(rows[-1]), flush=True)  # kept if a later case fails
        finally:
            env.cleanup()
    print()
    command = " ".join(["bench/run.py", *sys.argv[1:]])
    print(f"{command}\nregion: {args.physicians:,} physicians, seed {args.seed}")
    header = (f"{'engine':<10} {'work':<52} {'product':>14} {'floor':>14} {'ratio':>8} "
              f"{'target':>8}  ok   {'older baseline, ratio':>24}")  # fmt: skip
    print(header)
    print("-" * len(header))
    for r in rows:
        print(_line(r))
        if r["note"]:
            print(f"    {r['note']}")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(f"peak memory: this process {peak:.0f} MB, largest child process {children:.0f} MB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
