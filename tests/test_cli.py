"""The tongban command: db upgrade, demo load (idempotent), users create, production safety."""

from __future__ import annotations

import os
import subprocess
import sys

from sqlalchemy import func, select
from typer.testing import CliRunner

from tongban.accounts.models import User
from tongban.cli import app as cli
from tongban.core.config import DEMO_SECRET_KEY
from tongban.core.database import session_scope
from tongban.org.models import Department


def _env(database) -> dict[str, str]:
    return {"TONGBAN_DATABASE_URL": database.settings.database_url, "TONGBAN_ARGON2_PROFILE": "CHEAPEST",
            "TONGBAN_ENV": "development"}


def _counts(database) -> tuple[int, int]:
    with session_scope(database.sessionmaker()) as db:
        return db.scalar(select(func.count()).select_from(Department)), db.scalar(select(func.count()).select_from(User))


def test_demo_load_is_idempotent_and_prints_the_accounts(fresh_database):
    before = _counts(fresh_database)
    assert before[0] >= 28  # city, district, 21 departments, 5 towns, 3 committees
    result = CliRunner().invoke(cli, ["demo", "load"], env=_env(fresh_database))
    assert result.exit_code == 0, result.output
    for username in ("clerk", "reviewer", "steward", "head", "admin", "inspector", "grid", "hotline"):
        assert username in result.output
    assert _counts(fresh_database) == before


def test_db_upgrade_on_an_upgraded_database_is_a_no_op(fresh_database):
    from alembic.script import ScriptDirectory

    from tongban.core.migrate import alembic_config

    head = ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()
    result = CliRunner().invoke(cli, ["db", "upgrade"], env=_env(fresh_database))
    assert result.exit_code == 0 and head in result.output


def test_users_create(fresh_database):
    result = CliRunner().invoke(cli, ["users", "create", "--username", "liu.fang", "--name", "刘芳", "--department", "PD-MZ",
                                      "--role", "window_clerk", "--role", "reviewer", "--password", "a-long-password-1"],
                                env=_env(fresh_database))
    assert result.exit_code == 0, result.output
    with session_scope(fresh_database.sessionmaker()) as db:
        user = db.scalar(select(User).where(User.username == "liu.fang"))
        assert user.roles == ["reviewer", "window_clerk"] and user.department.code == "PD-MZ"
    again = CliRunner().invoke(cli, ["users", "create", "--username", "liu.fang", "--name", "刘芳", "--department", "PD-MZ",
                                     "--role", "reviewer", "--password", "a-long-password-1"], env=_env(fresh_database))
    assert again.exit_code == 2 and "已存在" in again.output
    unknown = CliRunner().invoke(cli, ["users", "create", "--username", "x.y", "--name", "某", "--department", "NOPE",
                                       "--role", "reviewer", "--password", "a-long-password-1"], env=_env(fresh_database))
    assert unknown.exit_code == 2 and "NOPE" in unknown.output


def test_production_refuses_the_demo_secret(tmp_path):
    env = {**os.environ, "TONGBAN_ENV": "production", "TONGBAN_SECRET_KEY": DEMO_SECRET_KEY,
           "TONGBAN_DATABASE_URL": f"sqlite:///{tmp_path / 'prod.db'}"}
    result = subprocess.run([sys.executable, "-m", "tongban.cli", "serve", "--port", "8999"], env=env,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert "TONGBAN_SECRET_KEY" in result.stdout + result.stderr
    env["TONGBAN_SECRET_KEY"] = "short"
    assert subprocess.run([sys.executable, "-m", "tongban.cli", "db", "upgrade"], env=env, capture_output=True,
                          timeout=60).returncode == 2


def test_production_refuses_demo_data(tmp_path):
    env = {"TONGBAN_ENV": "production", "TONGBAN_SECRET_KEY": "k" * 40,
           "TONGBAN_DATABASE_URL": f"sqlite:///{tmp_path / 'prod.db'}"}
    result = CliRunner().invoke(cli, ["demo", "load"], env=env)
    assert result.exit_code == 2 and "演示数据" in result.output
