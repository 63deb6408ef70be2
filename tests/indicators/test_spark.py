"""The Spark backend: the same values as the other backends on the hand-built district, the raw tables
read from Parquet by month (never shipped through the driver), and failed runs that end with an error.

The Spark master is the configured one (``JIAYI_SPARK_MASTER``): ``local[2]`` unless set; ``.ci/run``
starts a standalone master and worker on 127.0.0.1 and points the suite at ``spark://127.0.0.1:7077``.
"""

from __future__ import annotations

import fcntl
import os
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import pyarrow as pa
import pytest

from tests.indicators.test_engine_values import _evaluate

pytestmark = pytest.mark.spark


@pytest.fixture(autouse=True)
def _one_spark_test_at_a_time():
    """Spark tests of parallel xdist workers take turns (a file lock), and each ends its Spark application:
    an idle application keeps its executors, and the next one would wait for the cores of a small
    standalone worker."""
    pytest.importorskip("pyspark")
    from jiayi.indicators.spark import spark_stop

    with open(Path(tempfile.gettempdir()) / "jiayi-spark-tests.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            spark_stop()
            fcntl.flock(lock, fcntl.LOCK_UN)


def test_spark_gives_identical_values(small):
    periods = ("2025", "2025-06", "2025-Q3")
    spark = _evaluate("spark", periods).as_dict()
    assert spark == _evaluate("duckdb", periods).as_dict()
    assert spark == _evaluate("db", periods).as_dict()


def test_the_raw_tables_reach_spark_as_parquet_by_month(small, monkeypatch):
    from pyspark.sql import SparkSession

    from jiayi.indicators import engine
    from jiayi.indicators.spark import spark_session

    def refuse(*args, **kwargs):
        raise AssertionError("a table was shipped through the driver")

    monkeypatch.setattr(spark_session(), "createDataFrame", refuse)
    monkeypatch.setattr(SparkSession, "createDataFrame", refuse)
    backend, raw = engine.open_source("spark")
    try:
        visits = next(p for p in backend.folder.iterdir() if p.name.startswith("_jiayi_visits_"))
        # The hand-built district's follow-ups fall in 2025: Feb, Mar, May, Jun, Jul, Aug, Sep, Nov, Dec.
        assert sorted(p.name for p in visits.iterdir()) == [
            f"month=2025{m:02d}" for m in (2, 3, 5, 6, 7, 8, 9, 11, 12)
        ]
        residents = next(p for p in backend.folder.iterdir() if p.name.startswith("_jiayi_residents_"))
        assert [p.suffix for p in residents.iterdir()] == [".parquet"]  # no day column: not partitioned
        v = raw["visits"]
        assert backend.to_arrow(v.aggregate(n=v.count(), sbp=v.sbp.sum())).to_pylist() == [
            {"n": 11, "sbp": (150 + 142 + 138 + 145) + (158 + 150 + 160)}
        ]
        assert set(backend.to_arrow(raw["residents"]).column_names) == set(raw["residents"].columns)
    finally:
        backend.close()
    assert not backend.folder.exists()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _table(backend):
    return backend.load("numbers", pa.table({"n": pa.array(range(10), pa.int64())}))


def _spark_settings(settings, **changes) -> None:
    settings.JIAYI = {**settings.JIAYI, "SPARK": {**settings.JIAYI["SPARK"], **changes}}


def test_a_master_that_does_not_answer_is_an_error_at_once(settings):
    from jiayi.indicators.spark import Spark, SparkRunError

    _spark_settings(settings, MASTER=f"spark://127.0.0.1:{_free_port()}")
    started = time.monotonic()
    with pytest.raises(SparkRunError, match="does not answer"):
        Spark()
    assert time.monotonic() - started < 30


@pytest.fixture
def master_without_workers():
    """A standalone master of its own with no worker: applications register and never get an executor."""
    import pyspark

    home = Path(pyspark.__file__).parent
    port = _free_port()
    with tempfile.TemporaryFile() as log:
        proc = subprocess.Popen(
            [str(home / "bin" / "spark-class"), "org.apache.spark.deploy.master.Master", "--host", "127.0.0.1",
             "--port", str(port), "--webui-port", str(_free_port())],
            env={**os.environ, "SPARK_HOME": str(home)}, stdout=log, stderr=subprocess.STDOUT,
        )
        try:
            deadline = time.monotonic() + 180
            while True:
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=1).close()
                    break
                except OSError:
                    assert proc.poll() is None and time.monotonic() < deadline, "the Spark master did not start"
                    time.sleep(0.5)
            yield f"spark://127.0.0.1:{port}"
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


# pyspark reports the cancelled job once more as a warning of its Arrow conversion.
@pytest.mark.filterwarnings("ignore:toPandas attempted Arrow optimization:UserWarning")
def test_a_run_that_gets_no_executor_ends_with_an_error(settings, master_without_workers):
    """A cluster with no free worker: the jobs wait for executors that never come. The watchdog cancels
    them after the stall time instead of letting the run hang."""
    from jiayi.indicators.spark import Spark, SparkRunError

    _spark_settings(settings, MASTER=master_without_workers)
    backend = Spark(stall_seconds=4)
    try:
        t = _table(backend)
        started = time.monotonic()
        with pytest.raises(SparkRunError, match="no Spark task finished for 4 s"):
            backend.to_arrow(t.aggregate(total=t.n.sum()))
        assert time.monotonic() - started < 60
    finally:
        backend.close()


@pytest.mark.filterwarnings("ignore:toPandas attempted Arrow optimization:UserWarning")
def test_a_driver_that_stops_answering_is_stopped_with_an_error(settings):
    """The driver's JVM freezes (as after running out of heap, at 0 % CPU): the watchdog's own call gets no
    answer either; it stops the JVM, the run ends with an error, and the next run starts a new driver."""
    from pyspark import SparkContext

    from jiayi.indicators.spark import Spark, SparkRunError

    _spark_settings(settings, MASTER="local[1]")
    backend = Spark(stall_seconds=3)
    try:
        t = _table(backend)
        proc = SparkContext._gateway.proc
        os.kill(proc.pid, signal.SIGSTOP)
        started = time.monotonic()
        with pytest.raises(SparkRunError, match="has not answered for 3 s"):
            backend.to_arrow(t.aggregate(total=t.n.sum()))
        assert time.monotonic() - started < 60
        assert proc.wait(timeout=30) != 0
    finally:
        backend.close()
    again = Spark()
    try:
        t = _table(again)
        assert again.to_arrow(t.aggregate(total=t.n.sum())).to_pylist() == [{"total": 45}]
    finally:
        again.close()
