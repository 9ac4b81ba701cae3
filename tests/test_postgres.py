"""A real PostgreSQL source: the suite starts its own server (Debian's `postgresql` package) on a temporary data
directory and a free port, with password authentication, and stops it at the end. Without the package the
test is skipped, and pytest's summary says why."""
import os
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

import pytest
from pandas.testing import assert_frame_equal

from crm_report.config import load_config
from crm_report.data.load import DataError, load_orders
from tests.equivalence import canonical_lines, make_client, write_parquet
from tests.test_equivalence import comparable

PASSWORD = "s3cret-for-tests"


def _server_binaries() -> Path | None:
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"))
    return found[-1].parent if found else None


@pytest.fixture(scope="module")
def postgres_url():
    """postgresql://crm@127.0.0.1:<port>/shop (no password: the tests give it through an env variable)."""
    binaries = _server_binaries()
    if binaries is None:
        pytest.skip("PostgreSQL server not installed (Debian package postgresql, installed by "
                    "scripts/install_system_deps.sh): the PostgreSQL source test did not run")
    as_user: list[str] = []
    folder = Path(tempfile.mkdtemp(prefix="crm-report-pg-"))
    if os.geteuid() == 0:  # initdb refuses to run as root: run the server as the package's postgres user
        if shutil.which("runuser") is None:
            pytest.skip("running as root without runuser: cannot start PostgreSQL as the postgres user")
        import pwd
        user = pwd.getpwnam("postgres")
        os.chown(folder, user.pw_uid, user.pw_gid)
        as_user = ["runuser", "-u", "postgres", "--"]
    (folder / "pw").write_text(PASSWORD, encoding="utf-8")
    if as_user:
        os.chown(folder / "pw", pwd.getpwnam("postgres").pw_uid, -1)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    data = folder / "data"
    run = lambda *args: subprocess.run([*as_user, *map(str, args)], check=True, capture_output=True, text=True)  # noqa: E731
    try:
        run(binaries / "initdb", "-D", data, "-U", "crm", "--pwfile", folder / "pw", "-A", "scram-sha-256",
            "-E", "UTF8", "--no-locale")
        run(binaries / "pg_ctl", "-D", data, "-l", folder / "server.log", "-w", "-o",
            f"-p {port} -k {folder} -c listen_addresses=127.0.0.1", "start")
    except subprocess.CalledProcessError as exc:
        shutil.rmtree(folder, ignore_errors=True)
        pytest.fail(f"PostgreSQL is installed but did not start: {exc.stderr or exc.stdout}")
    try:
        os.environ["CRM_TEST_PG_PASSWORD"] = PASSWORD
        import sqlalchemy as sa
        admin = sa.create_engine(f"postgresql://crm:{PASSWORD}@127.0.0.1:{port}/postgres",
                                 isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(sa.text("CREATE DATABASE shop"))
        admin.dispose()
        yield f"postgresql://crm@127.0.0.1:{port}/shop"
    finally:
        os.environ.pop("CRM_TEST_PG_PASSWORD", None)
        subprocess.run([*as_user, str(binaries / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop"],
                       capture_output=True)
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="module")
def shop(postgres_url, tmp_path_factory):
    """The equivalence orders in a typed table (timestamptz, numeric) and the same as clean Parquet."""
    import sqlalchemy as sa

    truth = canonical_lines()
    engine = sa.create_engine(postgres_url.replace("crm@", f"crm:{PASSWORD}@"))
    table = truth.assign(order_date=truth["order_date"].dt.tz_localize("Asia/Taipei").dt.tz_convert("UTC"))
    table.to_sql("order_lines", engine, schema="public", index=False,
                 dtype={"amount": sa.Numeric(12, 2), "unit_price": sa.Numeric(12, 2), "quantity": sa.Integer()})
    engine.dispose()
    root = tmp_path_factory.mktemp("pg-clients")
    make_client(root, "parquet", write_parquet(truth, make_client(root, "parquet", "x: 1")))
    return root, postgres_url


@pytest.mark.parametrize("source", ["table: public.order_lines",
                                    "query: SELECT * FROM order_lines WHERE order_date >= '2025-01-01'"])
def test_postgres_table_or_query_gives_the_parquet_lines(shop, source):
    root, url = shop
    make_client(root, "pg", f"url: {url}\n  password_env: CRM_TEST_PG_PASSWORD\n  {source}\n  chunk_rows: 1000")
    ours = load_orders(load_config("pg", root))
    parquet = load_orders(load_config("parquet", root))
    assert ours.excluded.empty
    assert_frame_equal(comparable(ours.lines), comparable(parquet.lines), check_dtype=False)
    assert ours.lines["customer_id"].tolist() == parquet.lines["customer_id"].tolist()
    assert "s3cret" not in ours.source and "s3cret" not in ours.files[0].info.name


def test_postgres_errors_name_the_problem_without_the_password(shop, monkeypatch):
    root, url = shop
    make_client(root, "pg", f"url: {url}\n  password_env: CRM_TEST_PG_WRONG\n  table: order_lines")
    with pytest.raises(DataError, match="source.password_env names CRM_TEST_PG_WRONG, which is not set"):
        load_orders(load_config("pg", root))
    monkeypatch.setenv("CRM_TEST_PG_WRONG", "not the password")
    with pytest.raises(DataError, match=r"postgresql://crm:\*\*\*@127.0.0.1.*password authentication failed") as caught:
        load_orders(load_config("pg", root))
    assert "not the password" not in str(caught.value)
    make_client(root, "pg", f"url: {url}\n  password_env: CRM_TEST_PG_PASSWORD\n  table: no_such_table")
    with pytest.raises(DataError, match="no table 'no_such_table' in the database"):
        load_orders(load_config("pg", root))
