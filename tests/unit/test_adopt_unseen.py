"""What projects never seen before taught init and the stack: each case names the project it came from."""

from __future__ import annotations

from pathlib import Path

from dockstage.adopt import learn, render
from dockstage.adopt.inspect import Findings
from dockstage.core.dotenv import parse

MYSQL = "django.db.backends.mysql"


def test_a_written_out_name_is_the_stacks_database() -> None:
    """kdanjana/djangomysql-k8s: 'NAME': 'kubernetes_djangotodo' beside a host and user from the environment."""
    default = {"ENGINE": MYSQL, "NAME": "kubernetes_djangotodo", "USER": "ds1s", "PASSWORD": "ds2s", "HOST": "ds3s"}
    by_value = {"ds1s": "MYSQL_USER", "ds2s": "MYSQL_PASSWORD", "ds3s": "MYSQL_HOST"}
    assert learn.db_literals(default, by_value) == {"MYSQL_DATABASE": "kubernetes_djangotodo"}


def test_written_out_user_and_password_too_but_never_root_and_never_a_sentinels_derivative() -> None:
    default = {"ENGINE": MYSQL, "NAME": "ds1s_db", "USER": "shop", "PASSWORD": "s3cret", "HOST": "ds2s"}
    by_value = {"ds1s": "PREFIX", "ds2s": "DB_HOST"}
    assert learn.db_literals(default, by_value) == {"MYSQL_USER": "shop", "MYSQL_PASSWORD": "s3cret"}
    assert learn.db_literals({**default, "USER": "root"}, by_value) == {}  # root is MYSQL_ROOT_PASSWORD's
    assert learn.db_literals({**default, "ENGINE": "django.db.backends.sqlite3"}, by_value) == {}
    assert learn.db_literals({"ENGINE": MYSQL, "NAME": "", "USER": None}, {}) == {}


def test_the_env_example_makes_them_and_reads_back_unchanged(tmp_path: Path) -> None:
    found = Findings(tmp_path, db_literals={"MYSQL_DATABASE": "kubernetes_djangotodo", "MYSQL_PASSWORD": "it's $x"})
    text = render.env_example(found)
    values = parse(text)
    assert values["MYSQL_DATABASE"] == "kubernetes_djangotodo"
    assert values["MYSQL_PASSWORD"] == "it's $x"
    assert values["MYSQL_ROOT_PASSWORD"] == "" and values["DJANGO_SECRET_KEY"] == ""
    assert text.count("MYSQL_PASSWORD=") == 1
    plain = parse(render.env_example(Findings(tmp_path)))
    assert "MYSQL_DATABASE" not in plain and plain["MYSQL_PASSWORD"] == ""


def test_a_500_on_a_table_migrate_never_made_is_named_with_makemigrations() -> None:
    """SmeagoIIum/django_mysql_docker: a model, an empty migrations folder, and web's health path
    (its home page) answering 500 on the missing table."""
    from dockstage.core.errors import MAKE_MIGRATIONS, ServiceFailed, unmigrated_cause

    log = "web-1  | django.db.utils.ProgrammingError: (1146, \"Table 'app.user_user' doesn't exist\")\n"
    why = unmigrated_cause(log)
    assert why == "table app.user_user does not exist after migrate: its model has no migration"
    assert unmigrated_cause("web-1  | ok\n") == ""
    said = ServiceFailed("starting the smoke stack", ["web"], why=why, fix=MAKE_MIGRATIONS).message(
        {"makemigrations": "invoke manage -- makemigrations", "manage": "invoke manage"}
    )
    assert "app.user_user does not exist after migrate" in said and "makemigrations" in said


def test_servers_the_images_do_not_run_are_named_before_any_build(tmp_path: Path) -> None:
    """garzamorada/Docker-Django_Mysql_Apache lists mod_wsgi-httpd and mod_wsgi-standalone: init's first
    dev build compiled Apache for over 15 minutes before anything was said."""
    from dockstage.adopt.requirements import find_requirements

    (tmp_path / "requirements.txt").write_text("Django==3.2.9\nmod_wsgi-httpd\nmod_wsgi-standalone\nPillow==8.0\n")
    found = find_requirements(tmp_path, tmp_path, {}, "")
    (note,) = [n for n in found.notes if "the images do not run" in n]
    assert note.startswith("mod-wsgi-httpd, mod-wsgi-standalone: servers the images do not run"), note
    assert "compiles the Apache httpd from source" in note and "leave them out" in note
    (tmp_path / "requirements.txt").write_text("Django==3.2.9\nmod-wsgi-express-helper\n")
    assert not [n for n in find_requirements(tmp_path, tmp_path, {}, "").notes if "do not run" in n]
