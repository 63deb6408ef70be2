"""The Spark backend: the indicator expressions on Apache Spark, local or on a cluster (ADR 0011).

Where it runs comes from ``settings.JIAYI["SPARK"]`` (``JIAYI_SPARK_*``, README "Configuration"): the
master URL (``local[2]`` by default, ``spark://host:7077`` for a standalone cluster), driver and executor
memory, cores, shuffle partitions and any other Spark setting.

The raw tables never pass through the driver: :meth:`Spark.load` writes them as Parquet partitioned by
month (:mod:`jiayi.indicators.parquet`) into a folder of its own under ``DATA_DIR`` and the executors
read the files; only the aggregated results come back to Python.

A failed run ends with :class:`SparkRunError`, never a hang:

- a driver or executor JVM that runs out of memory exits (``-XX:+ExitOnOutOfMemoryError``) instead of
  lingering with dead threads, so the Python side sees the connection close;
- a watchdog thread follows the jobs of each action: when no task finishes for ``STALL_SECONDS`` (no
  executor, a cluster without free cores or memory, a lost worker) it cancels them, and when the driver
  no longer answers at all it stops the driver's JVM;
- executors that stop answering are given up after ``NETWORK_TIMEOUT`` and their tasks run elsewhere.
"""

from __future__ import annotations

import contextlib
import itertools
import logging
import os
import re
import shutil
import socket
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import ibis
import pyarrow as pa

from jiayi.indicators.backends import ArrowBackend
from jiayi.indicators.parquet import ParquetTables

__all__ = ["Spark", "SparkRunError", "spark_conf", "spark_session", "spark_stop"]

log = logging.getLogger(__name__)

_names = itertools.count(1)


class SparkRunError(RuntimeError):
    """A Spark run that could not finish (the reason says why)."""


def _settings() -> Mapping[str, Any]:
    from django.conf import settings

    return settings.JIAYI["SPARK"]


def spark_conf(options: Mapping[str, Any] | None = None) -> dict[str, str]:
    """The Spark settings a session is built with, from ``settings.JIAYI["SPARK"]`` (or ``options``)."""
    o = options if options is not None else _settings()
    master = str(o["MASTER"])
    never_oom_hang = "-XX:+ExitOnOutOfMemoryError"
    conf = {
        "spark.master": master,
        "spark.app.name": "jiayi-indicators",
        "spark.ui.enabled": "false",
        "spark.sql.session.timeZone": "UTC",
        "spark.sql.shuffle.partitions": str(o["PARTITIONS"]),
        "spark.default.parallelism": str(o["PARTITIONS"]),
        "spark.sql.execution.arrow.pyspark.enabled": "true",
        "spark.sql.ansi.enabled": "false",
        "spark.driver.memory": str(o["DRIVER_MEMORY"]),
        "spark.executor.memory": str(o["EXECUTOR_MEMORY"]),
        "spark.executor.cores": str(o["EXECUTOR_CORES"]),
        "spark.network.timeout": str(o["NETWORK_TIMEOUT"]),
        # The driver lists a run's Parquet folders itself (milliseconds for a few hundred months); above
        # Spark's default of 32 folders it would run a listing job with one task per folder per table.
        "spark.sql.sources.parallelPartitionDiscovery.threshold": str(1 << 20),
        "spark.ui.showConsoleProgress": "false",
        # Only the small tables (org units, evaluation windows) are broadcast: at 100,000 residents the
        # default 10 MB let fact tables through, each held as a 64 MB hash table by every executor until
        # a 2 GB one ran out of heap; larger joins sort and spill instead.
        "spark.sql.autoBroadcastJoinThreshold": str(1 << 20),
        "spark.sql.adaptive.autoBroadcastJoinThreshold": str(1 << 20),
        "spark.driver.extraJavaOptions": never_oom_hang,
        "spark.executor.extraJavaOptions": never_oom_hang,
        # Executors that start Python workers use this interpreter (the same one on a single machine).
        "spark.pyspark.python": sys.executable,
        "spark.pyspark.driver.python": sys.executable,
    }
    if int(o["CORES_MAX"]) > 0:
        conf["spark.cores.max"] = str(o["CORES_MAX"])
    host = re.match(r"spark://(127\.0\.0\.1|localhost)(:\d+)?$", master)
    if host:
        # A cluster on this machine: the executors call the driver back on the loopback address.
        conf["spark.driver.host"] = "127.0.0.1"
        conf["spark.driver.bindAddress"] = "127.0.0.1"
    conf.update(o["CONF"])
    return conf


_SPARK = None
_SPARK_CONF: dict[str, str] | None = None


def spark_session():
    """The process' Spark session, built from the settings; rebuilt when the settings changed (the driver's
    JVM options and memory apply only to the first session of a process)."""
    global _SPARK, _SPARK_CONF
    conf = spark_conf()
    if _SPARK is not None and conf != _SPARK_CONF:
        spark_stop()
    if _SPARK is None:
        import warnings

        # pyspark warns on every conversion that it has not been certified with pandas 3.
        warnings.filterwarnings("ignore", category=FutureWarning, module=r"pyspark\..*")
        from pyspark.sql import SparkSession

        master = conf["spark.master"]
        _check_master(master)
        builder = SparkSession.builder
        for key, value in conf.items():
            builder = builder.config(key, value)
        try:
            _SPARK = builder.getOrCreate()
        except Exception as exc:
            raise SparkRunError(f"no Spark session on {master}: {type(exc).__name__}: {_first_line(exc)}") from exc
        _SPARK_CONF = conf
        _SPARK.sparkContext.setLogLevel("ERROR")
    return _SPARK


def _check_master(master: str, timeout: float = 10.0) -> None:
    """A standalone master must answer before a driver is started for it (the driver would otherwise try for
    a minute and then stop itself)."""
    for url in re.findall(r"(?:spark://|,)([^,:/]+):(\d+)", master) if master.startswith("spark://") else ():
        host, port = url
        try:
            socket.create_connection((host, int(port)), timeout=timeout).close()
            return
        except OSError:
            continue
    if master.startswith("spark://"):
        raise SparkRunError(f"the Spark master {master} does not answer")


def spark_stop() -> None:
    """Stop the process' Spark session (the next :func:`spark_session` builds a new one)."""
    global _SPARK, _SPARK_CONF
    if _SPARK is not None:
        with contextlib.suppress(Exception):
            _SPARK.stop()
    _SPARK = _SPARK_CONF = None


def _discard_driver() -> None:
    """Stop the driver's JVM (it no longer answers) and forget it, so the next session starts a new one."""
    global _SPARK, _SPARK_CONF
    from pyspark import SparkContext
    from pyspark.sql import SparkSession

    gateway = SparkContext._gateway
    proc = getattr(gateway, "proc", None)
    if proc is not None:
        with contextlib.suppress(Exception):
            proc.kill()
    if gateway is not None:
        with contextlib.suppress(Exception):
            gateway.close()
    SparkContext._gateway = None
    SparkContext._jvm = None
    SparkContext._active_spark_context = None
    SparkSession._instantiatedSession = None
    SparkSession._activeSession = None
    _SPARK = _SPARK_CONF = None


class _Watchdog:
    """Follows the Spark jobs while an action runs; see the module docstring."""

    def __init__(self, session, stall_seconds: float, poll_seconds: float | None = None) -> None:
        self.sc = session.sparkContext
        self.stall = float(stall_seconds)
        self.poll = poll_seconds if poll_seconds is not None else max(0.2, min(5.0, self.stall / 10))
        self.reason: str | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="jiayi-spark-watchdog", daemon=True)

    def __enter__(self) -> _Watchdog:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join(timeout=self.stall + self.poll)

    def _progress(self) -> tuple:
        tracker = self.sc.statusTracker()
        jobs = tuple(sorted(tracker.getActiveJobsIds()))
        done = 0
        for stage_id in tracker.getActiveStageIds():
            info = tracker.getStageInfo(stage_id)
            if info is not None:
                done += info.numCompletedTasks
        return jobs, done

    def _ask(self) -> tuple | None:
        """The progress, or None when the driver has not answered within the stall time."""
        answer: list = []

        def ask() -> None:
            with contextlib.suppress(Exception):
                answer.append(self._progress())

        asker = threading.Thread(target=ask, name="jiayi-spark-watchdog-poll", daemon=True)
        asker.start()
        asker.join(self.stall)
        return answer[0] if answer else (None if asker.is_alive() else ((), 0))

    def _run(self) -> None:
        last, since = None, time.monotonic()
        while not self._stop.wait(self.poll):
            progress = self._ask()
            if self._stop.is_set():
                return
            if progress is None:
                self.reason = f"the Spark driver has not answered for {self.stall:.0f} s; it was stopped"
                log.error(self.reason)
                _discard_driver()
                return
            jobs, _done = progress
            if not jobs or progress != last:
                last, since = progress, time.monotonic()
                continue
            if time.monotonic() - since >= self.stall:
                self.reason = (
                    f"no Spark task finished for {self.stall:.0f} s (jobs {list(jobs)}): the cluster gives the "
                    f"run no executor, or they stopped working; the jobs were cancelled"
                )
                log.error(self.reason)
                with contextlib.suppress(Exception):
                    self.sc.cancelAllJobs()
                return


class Spark(ArrowBackend):
    """Indicator expressions on Spark. The raw tables go to Parquet files the executors read."""

    name = "spark"

    def __init__(self, *, stall_seconds: float | None = None) -> None:
        from jiayi.indicators.facts import RAW

        options = _settings()
        self.session = spark_session()
        self.con = ibis.pyspark.connect(self.session)
        self.stall_seconds = float(stall_seconds if stall_seconds is not None else options["STALL_SECONDS"])
        root = Path(options["DATA_DIR"])
        root.mkdir(parents=True, exist_ok=True)
        self.folder = Path(tempfile.mkdtemp(prefix=f"run-{os.getpid()}-", dir=root))
        #: Raw table -> the day column whose month partitions its files.
        self.month_columns = {name: spec.relevance for name, spec in RAW.items() if isinstance(spec.relevance, str)}
        self._datasets: dict[str, str] = {}
        self.files = ParquetTables(self.folder, self._datasets)
        self._cached: list[ibis.Table] = []
        self._views: list[str] = []

    def table(self, name: str) -> ibis.Table:
        return self.con.table(name)

    def load(self, name: str, data: pa.Table) -> ibis.Table:
        """Write ``data`` as Parquet (partitioned by month when it is a raw table) and read it as a view."""
        tmp = f"_jiayi_{name}_{next(_names)}"
        if name in self.month_columns:
            self._datasets[tmp] = self.month_columns[name]
        return self.read_parquet(tmp, self.files.write(tmp, data), data.schema)

    def read_parquet(self, view: str, path: Path | str, schema: pa.Schema) -> ibis.Table:
        """A Parquet dataset (partitioned or not) as the view ``view``, with exactly the columns of ``schema``."""
        from pyspark.sql import types as T

        spark_types = {
            pa.int64(): T.LongType(), pa.float64(): T.DoubleType(), pa.string(): T.StringType(),
            pa.bool_(): T.BooleanType(), pa.int32(): T.IntegerType(),
        }
        struct = T.StructType([T.StructField(f.name, spark_types[f.type], True) for f in schema])
        with self._guard():
            df = self.session.read.schema(struct).option("basePath", str(path)).parquet(str(path))
            df.select(*schema.names).createOrReplaceTempView(view)
        self._views.append(view)
        return self.con.table(view)

    def to_arrow(self, expr: ibis.Table) -> pa.Table:
        with self._guard():
            frame = self.con.to_pandas(expr)
        return pa.Table.from_pandas(frame, preserve_index=False)

    @contextlib.contextmanager
    def _guard(self) -> Iterator[None]:
        """Run Spark actions under the watchdog; any failure is a :class:`SparkRunError`."""
        dog = _Watchdog(self.session, self.stall_seconds)
        try:
            with dog:
                yield
        except SparkRunError:
            raise
        except Exception as exc:
            if dog.reason:
                raise SparkRunError(dog.reason) from exc
            raise SparkRunError(f"the Spark run failed: {type(exc).__name__}: {_first_line(exc)}") from exc
        if dog.reason:
            raise SparkRunError(dog.reason)

    def close(self) -> None:
        try:
            super().close()
            if _SPARK is self.session:
                for view in self._views:
                    with contextlib.suppress(Exception):
                        self.session.catalog.dropTempView(view)
        finally:
            self._views = []
            shutil.rmtree(self.folder, ignore_errors=True)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0][:500] if text else ""
