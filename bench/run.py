"""`make bench`: generate N forms and measure, on the same files in one invocation, the reading
floor, the pipeline end to end, the naive per-file baseline, a run with nothing new and a late
form; print a table and append it, with the machine's description, to bench/results.md.

    .venv/bin/python -m bench.run                         # N = 2,000 and 20,000 on SQLite
    .venv/bin/python -m bench.run --forms 300 --skip-naive --no-record
    .venv/bin/python -m bench.run --forms 100000 --skip-naive \\
        --database-url postgresql+psycopg://postgres@127.0.0.1:5432/test --task-runner dask
    .venv/bin/python -m bench.run --registry-units 300000   # only `tonghop registry import`

The stages, for each N (bench/corpus.py makes and caches the files):
- floor: python-calamine alone reads every cell of every sheet of every file in one process
  (bench/floor.py); its seconds are the reading inside that process.
- registry import: `tonghop registry import` into a fresh workspace (and, with
  --database-url, a fresh PostgreSQL database), timed apart from the run.
- pipeline: `tonghop run` end to end on that workspace, every file new.
- run with nothing new: `tonghop run` again; it must receive no file.
- late form: a unit the plan left missing sends its form after the consolidation, then
  `tonghop run`; it must publish version 2.
- portal: `tonghop web` on that workspace; an operator signs in and opens the province's
  progress page (every registry unit under it) five times; the slowest counts.
- naive: openpyxl and one Great Expectations validation per file on a fixed sample
  (bench/naive.py), reported per file and extrapolated to N, not measured at N.

Every `tonghop` command runs as a subprocess against ONE Prefect server that the bench starts
for the whole invocation (as operators run one with its UI); what starting a temporary server
costs a command without one is measured once and reported apart. With --database-url the
server keeps its own records in PostgreSQL too, as a national deployment runs it (README);
otherwise in its default SQLite file, as the embedded demo does. Peak memory is the sum of RSS
over the measured process tree (and its largest single process), sampled every 50 ms. The page
cache is warmed before the stages, so every stage reads the files from memory alike. Each
command's output is kept in bench/.cache/logs/<time>/."""

from __future__ import annotations

import argparse
import contextlib
import importlib.metadata
import json
import os
import platform
import random
import re
import shlex
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from bench.corpus import CACHE_DIR, TIMEZONE, Corpus, build_corpus, corpus_dir, load_corpus
from bench.hierarchy import bench_units
from tonghop.registry import write_registry_csv

try:
    import psutil
except ImportError:  # pragma: no cover - a clear message rather than a traceback
    sys.exit("bench needs psutil: .venv/bin/pip install psutil")

REPO = Path(__file__).resolve().parent.parent
RESULTS = Path(__file__).resolve().parent / "results.md"
WORK = CACHE_DIR / "work"
LOGS = CACHE_DIR / "logs"
BIN = Path(sys.executable).parent
DEFAULT_FORMS = (2000, 20000)
NAIVE_SAMPLE = 300
SAMPLE_SECONDS = 0.05
SERVER_START_SECONDS = 180
MB = 1024 * 1024
# Targets of the issue, checked for the largest N measured.
TARGET_FLOOR_RATIO = 3.0  # through the published tables and CSVs
TARGET_FLOOR_RATIO_ALL = 5.0  # including the reports and charts
TARGET_NAIVE_RATIO = 30.0
TARGET_PEAK_MB = 1024
TARGET_FLAT = 1.25  # ms per form at the largest N against the smallest: "flat" means within 25%
TARGET_NOTHING_NEW = 4.0
TARGET_LATE = 10.0
TARGET_REGISTRY = 60.0
TARGET_PROGRESS_PAGE = 1.0  # the portal's progress page of the province
PORTAL_REQUESTS = 5
BENCH_DATABASE = "tonghop_bench"
# The Prefect server's own database in a PostgreSQL bench: a national deployment runs Prefect's
# server on PostgreSQL too (README, "Scale"), and on SQLite it answers a step's start with 503
# whenever its own writers got in first, which Prefect's client waits 2 s to retry.
BENCH_PREFECT_DATABASE = "tonghop_bench_prefect"
_SUMMARY = re.compile(r"nhận (\d+) tệp mới — (\d+) hợp lệ, (\d+) có cảnh báo, (\d+) bị trả lại")
# Settings the bench decides itself; every other TONGHOP_* variable passes through.
_OWN_SETTINGS = (
    "TONGHOP_HOME",
    "TONGHOP_DATABASE_URL",
    "TONGHOP_DEADLINE_DAYS",
    "TONGHOP_TIMEZONE",
)


class BenchError(Exception):
    """A stage that cannot be measured; the message says which and why."""


# --- measuring one subprocess -------------------------------------------------------------------


class TreeSampler(threading.Thread):
    """Peak RSS of a process and all its descendants (summed), and of the largest one."""

    def __init__(self, pid: int, interval: float = SAMPLE_SECONDS) -> None:
        super().__init__(daemon=True)
        self.pid = pid
        self.interval = interval
        self.peak_tree = 0
        self.peak_process = 0
        self._halt = threading.Event()

    def run(self) -> None:
        try:
            root = psutil.Process(self.pid)
        except psutil.NoSuchProcess:
            return
        while not self._halt.is_set():
            try:
                processes = [root, *root.children(recursive=True)]
            except psutil.NoSuchProcess:
                return
            total = largest = 0
            for process in processes:
                try:
                    rss = process.memory_info().rss
                except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
                    continue
                total += rss
                largest = max(largest, rss)
            self.peak_tree = max(self.peak_tree, total)
            self.peak_process = max(self.peak_process, largest)
            self._halt.wait(self.interval)

    def stop(self) -> None:
        self._halt.set()
        self.join(timeout=5)


@dataclass(frozen=True)
class Measured:
    seconds: float
    peak_tree_mb: float
    peak_process_mb: float
    stdout: str
    began_at: float = 0.0  # the command's start on the wall clock (time.time())


def _tail(path: Path, lines: int = 25) -> str:
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""
    return "\n".join(text.splitlines()[-lines:])


def measure(command: Sequence[str], *, env: dict[str, str], log: Path) -> Measured:
    """Run a command to completion, timing it and sampling its memory; stdout and stderr go to
    `log`.out and `log`.err. A failing command stops the bench with the tail of both."""
    log.parent.mkdir(parents=True, exist_ok=True)
    out, err = log.with_suffix(".out"), log.with_suffix(".err")
    with out.open("wb") as stdout, err.open("wb") as stderr:
        start, began_at = time.perf_counter(), time.time()
        process = subprocess.Popen(command, cwd=REPO, env=env, stdout=stdout, stderr=stderr)
        sampler = TreeSampler(process.pid)
        sampler.start()
        code = process.wait()
        seconds = time.perf_counter() - start
        sampler.stop()
    if code != 0:
        raise BenchError(
            f"`{' '.join(map(str, command))}` exited with {code}.\n"
            f"--- stdout ({out}) ---\n{_tail(out)}\n--- stderr ({err}) ---\n{_tail(err)}"
        )
    return Measured(
        seconds,
        sampler.peak_tree / MB,
        sampler.peak_process / MB,
        out.read_text(encoding="utf-8", errors="replace"),
        began_at,
    )


# --- the Prefect server -------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class PrefectServer:
    """One `prefect server start` for the whole invocation, with its own PREFECT_HOME."""

    def __init__(self, home: Path, logs: Path, env: dict[str, str]) -> None:
        self.home = home
        self.logs = logs
        self.port = _free_port()
        self.env = env | {"PREFECT_HOME": str(home)}
        self.process: subprocess.Popen[bytes] | None = None
        self.sampler: TreeSampler | None = None
        self.started_in = 0.0

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api"

    def start(self) -> None:
        self.logs.mkdir(parents=True, exist_ok=True)
        out = (self.logs / "prefect-server.out").open("wb")
        err = (self.logs / "prefect-server.err").open("wb")
        begin = time.perf_counter()
        command = [str(BIN / "prefect"), "server", "start", "--host", "127.0.0.1"]
        self.process = subprocess.Popen(
            [*command, "--port", str(self.port)],
            cwd=REPO,
            env=self.env,
            stdout=out,
            stderr=err,
            start_new_session=True,  # its own process group, stopped as one
        )
        self.sampler = TreeSampler(self.process.pid, interval=0.5)
        self.sampler.start()
        deadline = begin + SERVER_START_SECONDS
        while time.perf_counter() < deadline:
            if self.process.poll() is not None:
                raise BenchError(
                    f"the Prefect server exited with {self.process.returncode}:\n"
                    f"{_tail(self.logs / 'prefect-server.err')}"
                )
            with (
                contextlib.suppress(OSError),
                urllib.request.urlopen(f"{self.api_url}/health", timeout=2) as answer,
            ):
                if answer.status == 200:
                    self.started_in = time.perf_counter() - begin
                    return
            time.sleep(0.5)
        raise BenchError(f"the Prefect server did not answer within {SERVER_START_SECONDS} s")

    def stop(self) -> None:
        process = self.process
        if process is not None and process.poll() is None:
            # the process group of the server this bench started, and nothing else
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=10)
        if self.sampler is not None:
            self.sampler.stop()

    @property
    def peak_mb(self) -> float:
        return (self.sampler.peak_tree if self.sampler else 0) / MB


# --- the database -------------------------------------------------------------------------------


class Database:
    """SQLite inside each workspace (the default), or a fresh PostgreSQL database per measured
    run, created beside the one the given URL names and dropped at the end."""

    def __init__(self, url: str | None) -> None:
        self.url = url
        self.kind = "SQLite"
        self.version = sqlite3.sqlite_version
        self._parsed = None  # the given URL, parsed (PostgreSQL only)
        if url:
            from sqlalchemy.engine import make_url

            parsed = make_url(url)
            if not parsed.drivername.startswith("postgresql"):
                raise BenchError(f"--database-url must be a PostgreSQL URL, not {url}")
            self._parsed = parsed
            self._admin = {
                "host": parsed.host or "127.0.0.1",
                "port": parsed.port or 5432,
                "user": parsed.username or "postgres",
                "password": parsed.password,
                "dbname": parsed.database or "postgres",
            }
            self.kind = "PostgreSQL"
            self.version = str(self._execute("show server_version", fetch=True))

    def _execute(self, statement: str, fetch: bool = False) -> object:
        import psycopg

        arguments = {key: value for key, value in self._admin.items() if value is not None}
        with psycopg.connect(**arguments, autocommit=True) as connection:
            cursor = connection.execute(statement)
            return cursor.fetchone()[0] if fetch else None

    def _recreated(self, name: str, **url: str) -> str | None:
        """Database `name` dropped if it exists and created empty: its URL (the given one's,
        with `url`'s parts changed), or None for SQLite."""
        if self._parsed is None:
            return None
        self._execute(f"drop database if exists {name} with (force)")
        self._execute(f"create database {name}")
        return self._parsed.set(database=name, **url).render_as_string(hide_password=False)

    def fresh(self) -> str | None:
        """An empty database for one measured workspace: its URL, or None for SQLite."""
        return self._recreated(BENCH_DATABASE)

    def prefect_server_url(self) -> str | None:
        """An empty database for the Prefect server's own records, on the same PostgreSQL (its
        asyncpg URL), or None for SQLite: the server keeps its default SQLite file."""
        return self._recreated(BENCH_PREFECT_DATABASE, drivername="postgresql+asyncpg")

    def drop(self) -> None:
        """Drop the databases the bench made (the Prefect server's once it has stopped)."""
        if self._parsed is not None:
            for name in (BENCH_DATABASE, BENCH_PREFECT_DATABASE):
                self._execute(f"drop database if exists {name} with (force)")

    @property
    def description(self) -> str:
        return f"{self.kind} {self.version}"


# --- the stages ---------------------------------------------------------------------------------


@dataclass
class Row:
    """One line of the results table."""

    n: str
    stage: str
    seconds: float | None
    count: int | None = None  # files (or units) processed, for the rate
    unit: str = "files"
    peak_mb: float | None = None
    largest_mb: float | None = None
    note: str = ""

    @property
    def rate(self) -> str:
        if not self.seconds or not self.count:
            return ""
        rate = self.count / self.seconds
        return f"{rate:,.0f} {self.unit}/s" if rate >= 10 else f"{rate:.2f} {self.unit}/s"


@dataclass
class Outcome:
    """What one N gave, for the ratios and the targets."""

    n: int
    files: int
    floor: float = 0.0
    pipeline: float = 0.0
    tables: float | None = None  # the first run's seconds until its workbook and CSVs were written
    pipeline_peak: float = 0.0
    nothing_new: float = 0.0
    late: float = 0.0
    progress_page: float | None = None
    naive_per_file: float | None = None
    naive_extrapolated: float | None = None
    checks: list[str] = field(default_factory=list)

    @property
    def ms_per_form(self) -> float:
        return 1000 * self.pipeline / self.files


@dataclass
class Bench:
    """One invocation: its options, the environment of every `tonghop` command, the rows."""

    args: argparse.Namespace
    logs: Path
    database: Database
    env: dict[str, str]
    ephemeral_done: bool = False
    rows: list[Row] = field(default_factory=list)
    outcomes: list[Outcome] = field(default_factory=list)
    ephemeral: dict[str, float] = field(default_factory=dict)

    def tonghop(self, *arguments: str) -> list[str]:
        return [str(BIN / "tonghop"), *arguments]

    def workspace(self, name: str) -> Path:
        root = WORK / name
        shutil.rmtree(root, ignore_errors=True)
        root.mkdir(parents=True)
        return root

    def run_env(self, database_url: str | None) -> dict[str, str]:
        env = dict(self.env)
        if database_url:
            env["TONGHOP_DATABASE_URL"] = database_url
        return env

    def forms(self, n: int) -> Outcome:
        """Every stage on the corpus of `n` units, in the order the issue lists them."""
        cached = load_corpus(corpus_dir(n, self.args.seed)) is not None
        started = time.perf_counter()
        corpus = build_corpus(n, self.args.seed)
        made = time.perf_counter() - started
        files = [corpus.root / name for name in corpus.files]
        print(
            f"\nN = {n:,}: {len(files):,} files from {corpus.registry_units:,} registry units "
            f"({corpus.missing} missing, {corpus.late} late, {corpus.faults} faulty); corpus "
            f"{'cached' if cached else f'generated in {made:.1f} s'} at {corpus.root}",
            flush=True,
        )
        for path in files:  # the page cache warm for every stage alike
            path.read_bytes()
        outcome = Outcome(n, len(files))
        self._floor(corpus, files, outcome)
        self._pipeline(corpus, files, outcome)
        if not self.args.skip_naive:
            self._naive(corpus, files, outcome)
        self.outcomes.append(outcome)
        return outcome

    def _floor(self, corpus: Corpus, files: list[Path], outcome: Outcome) -> None:
        listing = self.logs / f"{corpus.units}-files.txt"
        listing.write_text("".join(f"{path}\n" for path in files))
        measured = measure(
            [sys.executable, "-m", "bench.floor", str(listing)],
            env=self.env,
            log=self.logs / f"{corpus.units}-floor",
        )
        result = json.loads(measured.stdout.strip().splitlines()[-1])
        outcome.floor = result["seconds"]
        # the reading time inside the process: interpreter start-up and imports are not reading
        self._add(
            _row(corpus, "floor: calamine, every cell, 1 process", measured, len(files)),
            seconds=result["seconds"],
            note=f"{result['cells']:,} cells, {result['errors']} unreadable",
        )

    def _pipeline(self, corpus: Corpus, files: list[Path], outcome: Outcome) -> None:
        """Registry import, then `tonghop run` three times: everything new, nothing new, and
        one late form after the period was consolidated."""
        n, period = corpus.units, corpus.period
        workspace = self._workspace_for(corpus)
        env = self.run_env(self.database.fresh())
        registry = str(workspace / "registry.csv")
        imported = measure(
            self.tonghop("registry", "import", registry, "--workspace", str(workspace)),
            env=env,
            log=self.logs / f"{n}-registry-import",
        )
        self._add(_row(corpus, "registry import", imported, corpus.registry_units, "units"))

        run = self.tonghop("run", "--period", period, "--workspace", str(workspace))
        first = measure(run, env=env, log=self.logs / f"{n}-run")
        outcome.pipeline, outcome.pipeline_peak = first.seconds, first.peak_tree_mb
        outcome.tables = _tables_written(workspace, period, first)
        summary = _summary(first.stdout)
        note = _summary_note(summary)
        if summary is None or summary[0] != len(files):
            outcome.checks.append(f"the first run received {summary and summary[0]} files")
            note += " — CHECK FAILED: not every file was received"
        elif summary[3] > corpus.faults:
            # Only the corpus's deliberately faulty forms may be refused.
            outcome.checks.append(f"{summary[3]:,} files rejected, {corpus.faults} faulty")
            note += " — CHECK FAILED: good forms were rejected"
        self._add(_row(corpus, "pipeline: tonghop run", first, len(files)), note=note)

        again = measure(run, env=env, log=self.logs / f"{n}-run-nothing-new")
        outcome.nothing_new = again.seconds
        summary = _summary(again.stdout)
        note = "nothing read again"
        if summary is None or summary[0] != 0:
            outcome.checks.append("the run with nothing new received files")
            note = "CHECK FAILED: files read again"
        self._add(_row(corpus, "run with nothing new", again), note=note)

        late = workspace / corpus.late_form.relative
        late.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(corpus.late_path, late)  # with its receipt time
        after = measure(run, env=env, log=self.logs / f"{n}-run-late-form")
        outcome.late = after.seconds
        summary = _summary(after.stdout)
        republished = (workspace / "published" / period / f"tong-hop-{period}-v2.xlsx").exists()
        note = f"1 late form ({corpus.late_form.unit_code}), published as version 2"
        if not (summary and summary[0] == 1 and republished and "(phiên bản 2)" in after.stdout):
            outcome.checks.append("the late form did not publish version 2")
            note = "CHECK FAILED: no version 2 published for the late form"
        self._add(_row(corpus, "late form, then run", after), note=note)

        self._portal(corpus, workspace, env, outcome)
        if not self.ephemeral_done and not self.args.skip_ephemeral:
            self._ephemeral(run, env, again.seconds, n)
        self._discard(workspace)

    def _portal(
        self, corpus: Corpus, workspace: Path, env: dict[str, str], outcome: Outcome
    ) -> None:
        """`tonghop web` on the published workspace: an operator signs in and opens the
        province's progress page (every unit of the registry under it) a few times."""
        from argon2 import PasswordHasher

        port = _free_port()
        base = f"http://127.0.0.1:{port}"
        password = "bench-mat-khau"
        portal_env = dict(env)
        portal_env["TONGHOP_WEB_PORT"] = str(port)
        portal_env["TONGHOP_WEB_OPERATORS"] = json.dumps({"bench": PasswordHasher().hash(password)})
        command = self.tonghop("web", "--workspace", str(workspace), "--period", corpus.period)
        log = self.logs / f"{corpus.units}-portal.log"
        with log.open("w") as output:
            server = subprocess.Popen(command, env=portal_env, stdout=output, stderr=output)
        try:
            opener = _signed_in(base, "bench", password)
            root = _root_code(workspace / "registry.csv")
            seconds = []
            for _ in range(PORTAL_REQUESTS):
                started = time.perf_counter()
                with opener.open(f"{base}/tien-do/{root}", timeout=120) as response:
                    page = response.read().decode()
                seconds.append(time.perf_counter() - started)
        finally:
            server.terminate()
            server.wait(timeout=30)
        outcome.progress_page = max(seconds)
        note = f"{PORTAL_REQUESTS} requests: first {seconds[0]:.2f} s, slowest {max(seconds):.2f} s"
        if "Tiến độ báo cáo" not in page:
            outcome.checks.append("the progress page did not show the progress")
            note = "CHECK FAILED: no progress on the page"
        self._add(
            Row(f"{corpus.units:,}", "portal: the province's progress page", max(seconds)),
            note=note,
        )

    def _discard(self, workspace: Path) -> None:
        """A measured workspace holds a copy of every file (its archive): gone unless kept."""
        if not self.args.keep_workspaces:
            shutil.rmtree(workspace, ignore_errors=True)

    def _workspace_for(self, corpus: Corpus) -> Path:
        """A fresh workspace: the registry and the inbox copied with their times (not linked:
        the collector refuses a file with another name elsewhere, SPEC §5)."""
        workspace = self.workspace(f"{corpus.units}-{corpus.seed}")
        shutil.copy2(corpus.registry, workspace / "registry.csv")
        for name in corpus.files:
            source, target = corpus.root / name, workspace / name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)
        return workspace

    def _ephemeral(self, run: list[str], env: dict[str, str], with_server: float, n: int) -> None:
        """`tonghop run` with nothing new and no server: Prefect starts a temporary one."""
        self.ephemeral_done = True
        home = Path(tempfile.mkdtemp(prefix="prefect-ephemeral-", dir=self.logs))
        alone = {key: value for key, value in env.items() if key != "PREFECT_API_URL"}
        alone["PREFECT_HOME"] = str(home)
        first = measure(run, env=alone, log=self.logs / f"{n}-ephemeral-1")
        second = measure(run, env=alone, log=self.logs / f"{n}-ephemeral-2")
        self.ephemeral = {
            "first": first.seconds,
            "second": second.seconds,
            "with_server": with_server,
            "cost": second.seconds - with_server,
        }
        shutil.rmtree(home, ignore_errors=True)

    def _naive(self, corpus: Corpus, files: list[Path], outcome: Outcome) -> None:
        size = min(self.args.naive_sample, len(files))
        sample = sorted(random.Random(f"naive:{self.args.seed}").sample(files, size))
        listing = self.logs / f"{corpus.units}-naive-sample.txt"
        listing.write_text("".join(f"{path}\n" for path in sample))
        measured = measure(
            [
                sys.executable,
                "-m",
                "bench.naive",
                "--registry",
                str(corpus.registry),
                "--period",
                corpus.period,
                str(listing),
            ],
            env=self.env,
            log=self.logs / f"{corpus.units}-naive",
        )
        result = json.loads(measured.stdout.strip().splitlines()[-1])
        per_file = result["per_file_seconds"]
        extrapolated = result["setup_seconds"] + per_file * len(files)
        outcome.naive_per_file, outcome.naive_extrapolated = per_file, extrapolated
        self._add(
            _row(corpus, f"naive: openpyxl + GX per file, sample of {size}", measured, size),
            seconds=result["seconds"],
            note=f"{per_file * 1000:,.0f} ms/file + {result['setup_seconds']:.1f} s set-up",
        )
        self._add(
            Row(
                f"{corpus.units:,}",
                f"naive, extrapolated (ngoại suy) to {len(files):,} files",
                extrapolated,
                len(files),
                note="set-up + files × ms/file from the sample; not measured",
            )
        )

    def registry(self, units: int) -> None:
        """Only `tonghop registry import` of a generated registry of `units` units."""
        path = CACHE_DIR / f"registry-{units}-{self.args.seed}.csv"
        if not path.exists():
            partial = path.with_suffix(".partial")
            write_registry_csv(partial, bench_units(units, self.args.seed))
            partial.replace(path)
        with path.open(encoding="utf-8") as handle:
            rows = sum(1 for _ in handle) - 1  # one line a unit after the header
        workspace = self.workspace(f"registry-{units}")
        env = self.run_env(self.database.fresh())
        imported = measure(
            self.tonghop("registry", "import", str(path), "--workspace", str(workspace)),
            env=env,
            log=self.logs / f"registry-{units}-import",
        )
        self._discard(workspace)
        verdict = "target < 60 s: " + ("met" if imported.seconds < TARGET_REGISTRY else "NOT met")
        self._add(
            Row(
                f"{units:,} units",
                "registry import only",
                imported.seconds,
                rows,
                "units",
                imported.peak_tree_mb,
                imported.peak_process_mb,
                verdict,
            )
        )

    def _add(self, row: Row, *, seconds: float | None = None, note: str | None = None) -> None:
        """Keep a row (its seconds or note replaced when given) and print it at once."""
        if seconds is not None:
            row.seconds = seconds
        if note is not None:
            row.note = note
        self.rows.append(row)
        taken = f"{row.seconds:>9.2f} s" if row.seconds is not None else ""
        peak = f"{row.peak_mb:,.0f} MB" if row.peak_mb is not None else ""
        print(f"  {row.stage:<55} {taken} {row.rate:>16} {peak:>9}  {row.note}", flush=True)


def _row(
    corpus: Corpus, stage: str, measured: Measured, count: int | None = None, unit: str = "files"
) -> Row:
    return Row(
        f"{corpus.units:,}",
        stage,
        measured.seconds,
        count,
        unit,
        measured.peak_tree_mb,
        measured.peak_process_mb,
    )


def _signed_in(base: str, user: str, password: str) -> urllib.request.OpenerDirector:
    """An HTTP client holding an operator's session of the portal at `base`, once it answers."""
    import http.cookiejar
    import urllib.parse

    opener = urllib.request.build_opener(
        urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar())
    )
    form = urllib.parse.urlencode({"ten": user, "mat_khau": password}).encode()
    deadline = time.monotonic() + SERVER_START_SECONDS
    while True:
        try:
            with opener.open(f"{base}/dang-nhap", data=form, timeout=30) as response:
                if response.url.endswith("/van-hanh"):
                    return opener
                raise BenchError(f"the portal refused the operator: {response.url}")
        except (ConnectionError, urllib.error.URLError):
            if time.monotonic() > deadline:
                raise BenchError("the portal did not start") from None
            time.sleep(0.2)


def _root_code(registry: Path) -> str:
    """The registry's root: the unit without a parent."""
    import csv

    with registry.open(encoding="utf-8") as handle:
        return next(row["code"] for row in csv.DictReader(handle) if not row["parent_code"])


def _summary(stdout: str) -> tuple[int, int, int, int] | None:
    """(received, accepted, warned, rejected) from `tonghop run`'s first line."""
    found = _SUMMARY.search(" ".join(stdout.split()))
    return tuple(int(group) for group in found.groups()) if found else None  # type: ignore[return-value]


def _summary_note(summary: tuple[int, int, int, int] | None) -> str:
    if summary is None:
        return "CHECK FAILED: no summary line in the output"
    received, accepted, warned, rejected = summary
    return f"{received:,} new: {accepted:,} accepted, {warned} warned, {rejected} rejected"


# --- reporting ----------------------------------------------------------------------------------


def _field(path: Path, name: str, separator: str) -> str:
    """The value of the first `name<separator>value` line of a system file."""
    with contextlib.suppress(OSError):
        for line in path.read_text().splitlines():
            key, found, value = line.partition(separator)
            if found and key.strip() == name:
                return value.strip().strip('"')
    return "unknown"


def _version(package: str) -> str:
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


def machine(database: Database, task_runner: str | None, passed: dict[str, str]) -> list[str]:
    """The machine and software the figures were measured on, one `- name: value` a line."""
    os_name = _field(Path("/etc/os-release"), "PRETTY_NAME", "=")
    versions = ", ".join(
        f"{name} {_version(name)}"
        for name in (
            "prefect",
            "great_expectations",
            "python-calamine",
            "openpyxl",
            "lxml",  # openpyxl writes with it when it is installed
            "pandas",
            "SQLAlchemy",
            "dask",
            "prefect-dask",
            "psutil",
        )
    )
    runner = task_runner or "not set (the pipeline's default)"
    settings = ", ".join(f"{key}={value}" for key, value in sorted(passed.items())) or "none"
    return [
        f"- CPU: {_field(Path('/proc/cpuinfo'), 'model name', ':')}, "
        f"{os.cpu_count()} logical cores ({psutil.cpu_count(logical=False)} physical)",
        f"- RAM: {psutil.virtual_memory().total / 1024**3:.1f} GiB",
        f"- OS: {os_name}, Linux {platform.release()}",
        f"- Python {platform.python_version()}; {versions}",
        f"- Database: {database.description}",
        f"- Task runner: TONGHOP_TASK_RUNNER = {runner}",
        f"- Other TONGHOP_* settings passed through: {settings}",
    ]


def table(rows: Sequence[Row]) -> list[str]:
    lines = [
        "| N | stage | seconds | rate | peak tree MB | largest process MB | note |",
        "| --- | --- | ---: | ---: | ---: | ---: | --- |",
    ]
    for row in rows:
        seconds = f"{row.seconds:,.2f}" if row.seconds is not None else ""
        peak = f"{row.peak_mb:,.0f}" if row.peak_mb is not None else ""
        largest = f"{row.largest_mb:,.0f}" if row.largest_mb is not None else ""
        lines.append(
            f"| {row.n} | {row.stage} | {seconds} | {row.rate} | {peak} | {largest} | {row.note} |"
        )
    return lines


def _tables_written(workspace: Path, period: str, run: Measured) -> float | None:
    """Seconds from the run's start until the province's workbook and the CSVs were written
    (their files keep the time they were written when they appear): the pipeline through the
    published tables, before the upper levels' workbooks, the reports and the charts."""
    folder = workspace / "published" / period
    tables = [
        *folder.glob(f"tong-hop-{period}.xlsx"),
        *folder.glob(f"consolidated-{period}*.csv"),
        *folder.glob(f"status-{period}*.csv"),
    ]
    if not tables:
        return None
    return max(path.stat().st_mtime for path in tables) - run.began_at


def ratios(bench: Bench) -> list[str]:
    lines = []
    for outcome in bench.outcomes:
        parts = [
            f"pipeline / floor = {outcome.pipeline / outcome.floor:.1f}×",
            f"cost per form {outcome.ms_per_form:.2f} ms",
        ]
        if outcome.naive_extrapolated:
            parts.insert(
                1,
                f"naive (extrapolated) / pipeline = "
                f"{outcome.naive_extrapolated / outcome.pipeline:.1f}×",
            )
        lines.append(f"- N = {outcome.n:,}: " + "; ".join(parts))
    if len(bench.outcomes) > 1:
        low, high = bench.outcomes[0], bench.outcomes[-1]
        lines.append(
            f"- cost per form, N = {high.n:,} against N = {low.n:,}: "
            f"{high.ms_per_form / low.ms_per_form:.2f}×"
        )
    if bench.ephemeral:
        eph = bench.ephemeral
        lines.append(
            f"- Prefect ephemeral mode (no PREFECT_API_URL): `tonghop run` with nothing new took "
            f"{eph['second']:.1f} s ({eph['first']:.1f} s the first time, with a new PREFECT_HOME) "
            f"against {eph['with_server']:.1f} s with the server: about {eph['cost']:.1f} s of "
            "temporary server start-up per command"
        )
    return lines


def targets(bench: Bench) -> list[str]:
    """The issue's targets, for the largest N measured (they are set at N = 20,000)."""
    if not bench.outcomes:
        return []
    top = max(bench.outcomes, key=lambda outcome: outcome.n)
    low = min(bench.outcomes, key=lambda outcome: outcome.n)

    def mark(ok: bool) -> str:
        return "met" if ok else "NOT met"

    lines = []
    if top.tables is not None:
        lines.append(
            f"- first run through the published tables and CSVs ≤ {TARGET_FLOOR_RATIO:g} × floor: "
            f"{top.tables:.1f} s = {top.tables / top.floor:.1f}× — "
            f"{mark(top.tables <= TARGET_FLOOR_RATIO * top.floor)}"
        )
    lines.append(
        f"- first run including reports and charts ≤ {TARGET_FLOOR_RATIO_ALL:g} × floor: "
        f"{top.pipeline:.1f} s = {top.pipeline / top.floor:.1f}× — "
        f"{mark(top.pipeline <= TARGET_FLOOR_RATIO_ALL * top.floor)}"
    )
    if top.naive_extrapolated:
        ratio = top.naive_extrapolated / top.pipeline
        lines.append(
            f"- ≥ {TARGET_NAIVE_RATIO:g} × faster than naive (extrapolated): {ratio:.1f}× — "
            f"{mark(ratio >= TARGET_NAIVE_RATIO)}"
        )
    lines.append(
        f"- peak memory of the first run ≤ {TARGET_PEAK_MB:,} MB: {top.pipeline_peak:,.0f} MB — "
        f"{mark(top.pipeline_peak <= TARGET_PEAK_MB)}"
    )
    if top is not low:
        flat = top.ms_per_form / low.ms_per_form
        lines.append(
            f"- cost per form flat from {low.n:,} to {top.n:,} (within {TARGET_FLAT:g}×): "
            f"{low.ms_per_form:.2f} → {top.ms_per_form:.2f} ms ({flat:.2f}×) — "
            f"{mark(flat <= TARGET_FLAT)}"
        )
    lines.append(
        f"- a run with nothing new ≤ {TARGET_NOTHING_NEW:g} s: {top.nothing_new:.1f} s — "
        f"{mark(top.nothing_new <= TARGET_NOTHING_NEW)}"
    )
    lines.append(
        f"- a late form republished (new version, workbook, changed reports) ≤ "
        f"{TARGET_LATE:g} s: {top.late:.1f} s — {mark(top.late <= TARGET_LATE and not top.checks)}"
    )
    if top.progress_page is not None:
        lines.append(
            f"- the portal's progress page of the province < {TARGET_PROGRESS_PAGE:g} s: "
            f"{top.progress_page:.2f} s (slowest of {PORTAL_REQUESTS}) — "
            f"{mark(top.progress_page < TARGET_PROGRESS_PAGE)}"
        )
    for outcome in bench.outcomes:
        for check in outcome.checks:
            lines.append(f"- CHECK FAILED at N = {outcome.n:,}: {check}")
    return [f"Targets at N = {top.n:,} (set for N = 20,000 on 2 cores):", "", *lines]


RESULTS_HEADER = """# Benchmark results

Written by `make bench` (`bench/run.py`); each run appends a section below. What each stage
measures is described at the top of `bench/run.py`.

## Lessons from profiling

_(to be written)_

## Runs
"""


def record(
    bench: Bench,
    command: str,
    started: datetime,
    server: PrefectServer,
    loads: tuple[tuple[float, ...], tuple[float, ...]],
) -> str:
    label = f" — {bench.args.label}" if bench.args.label else ""
    passed = {
        key: value
        for key, value in bench.env.items()
        if key.startswith("TONGHOP_") and key not in _OWN_SETTINGS and key != "TONGHOP_TASK_RUNNER"
    }
    lines = [
        f"### {started:%Y-%m-%d %H:%M}{label}",
        "",
        f"Command: `{command}`",
        "",
        *machine(bench.database, bench.args.task_runner, passed),
        f"- Prefect server: one for the invocation, its records in "
        f"{'PostgreSQL' if bench.database.url else 'SQLite (its default)'}, started in "
        f"{server.started_in:.1f} s, peak {server.peak_mb:,.0f} MB (not counted in the stages' "
        "memory)",
        # the machine is shared: a busy one explains slow figures better than the code does
        f"- Load average (1, 5, 15 min) at the start: {_loads(loads[0])}; at the end: "
        f"{_loads(loads[1])}",
        "",
        *table(bench.rows),
        "",
    ]
    for section in (ratios(bench), targets(bench)):
        if section:
            lines += [*section, ""]
    return "\n".join(lines)


def _loads(values: tuple[float, ...]) -> str:
    return ", ".join(f"{value:.2f}" for value in values)


# --- main ---------------------------------------------------------------------------------------


def _forms(text: str | None) -> list[int]:
    if text is None:
        return []
    return sorted({int(part.replace("_", "")) for part in text.split(",") if part.strip()})


def parse(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.run",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--forms", help="units (≈ forms) per measurement, e.g. 2000,20000")
    parser.add_argument("--database-url", help="PostgreSQL URL; a fresh database is made beside it")
    parser.add_argument(
        "--task-runner",
        choices=("thread", "process", "dask"),
        help="exported as TONGHOP_TASK_RUNNER to every tonghop command",
    )
    parser.add_argument(
        "--registry-units",
        type=int,
        help="also time `tonghop registry import` of a registry this large",
    )
    parser.add_argument("--skip-naive", action="store_true", help="no openpyxl + GX baseline")
    parser.add_argument(
        "--naive-sample",
        type=int,
        default=NAIVE_SAMPLE,
        help=f"files the naive baseline reads (default {NAIVE_SAMPLE})",
    )
    parser.add_argument(
        "--skip-ephemeral",
        action="store_true",
        help="do not measure Prefect's temporary-server start-up",
    )
    parser.add_argument("--seed", type=int, default=2025)
    parser.add_argument("--label", default="", help="a title for this run in results.md")
    parser.add_argument("--no-record", action="store_true", help="do not append to results.md")
    parser.add_argument(
        "--keep-workspaces",
        action="store_true",
        help="keep each measured workspace in bench/.cache/work/ (outputs, archive, database)",
    )
    args = parser.parse_args(argv)
    forms = _forms(args.forms)
    if args.forms is None and args.registry_units is None:
        forms = list(DEFAULT_FORMS)
    args.form_sizes = forms
    return args


def base_env(args: argparse.Namespace, prefect_home: Path) -> dict[str, str]:
    """The environment of every measured command: Prefect, telemetry and the bench's own
    settings fixed; any other TONGHOP_* setting of the caller passed through."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("PREFECT_") and key not in _OWN_SETTINGS
    }
    env |= {
        "PREFECT_HOME": str(prefect_home),
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "DO_NOT_TRACK": "1",
        "GX_ANALYTICS_ENABLED": "false",
        "TONGHOP_DEADLINE_DAYS": "10",
        "TONGHOP_TIMEZONE": TIMEZONE,
        "COLUMNS": "300",  # Rich would wrap the summary lines at 80 columns
        "PYTHONUNBUFFERED": "1",
    }
    if args.task_runner:
        env["TONGHOP_TASK_RUNNER"] = args.task_runner
    return env


def main(argv: Sequence[str] | None = None) -> int:
    args = parse(argv)
    started = datetime.now()
    logs = LOGS / f"{started:%Y%m%d-%H%M%S}"
    logs.mkdir(parents=True, exist_ok=True)
    given = sys.argv[1:] if argv is None else list(argv)
    command = shlex.join(["python", "-m", "bench.run", *given])
    load_at_start = os.getloadavg()
    scratch = Path(tempfile.mkdtemp(prefix="prefect-", dir=logs))
    try:
        database = Database(args.database_url)
    except Exception as error:
        print(f"bench: cannot use the database: {error}", file=sys.stderr)
        return 1
    env = base_env(args, scratch / "client")
    server_env = dict(env)
    try:
        prefect_database = database.prefect_server_url()
    except Exception as error:
        print(f"bench: cannot create the Prefect server's database: {error}", file=sys.stderr)
        return 1
    if prefect_database:
        server_env["PREFECT_API_DATABASE_CONNECTION_URL"] = prefect_database
    server = PrefectServer(scratch / "server", logs, server_env)
    bench = Bench(args, logs, database, env)
    print(f"bench: logs in {logs}", flush=True)
    try:
        server.start()
        env["PREFECT_API_URL"] = server.api_url
        print(f"bench: Prefect server at {server.api_url} (started in {server.started_in:.1f} s)")
        for n in args.form_sizes:
            bench.forms(n)
        if args.registry_units:
            bench.registry(args.registry_units)
    except BenchError as error:
        print(f"\nbench stopped: {error}", file=sys.stderr)
        return 1
    finally:
        server.stop()
        with contextlib.suppress(Exception):
            database.drop()
    report = record(bench, command, started, server, (load_at_start, os.getloadavg()))
    print("\n" + report)
    if not args.no_record:
        if not RESULTS.exists():
            RESULTS.write_text(RESULTS_HEADER, encoding="utf-8")
        with RESULTS.open("a", encoding="utf-8") as handle:
            handle.write("\n" + report)
        print(f"bench: appended to {RESULTS}")
    shutil.rmtree(scratch, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
