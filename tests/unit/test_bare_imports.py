"""A bare import of the project's own module (core/bareimports.py): the app's tests name it."""

from __future__ import annotations

from pathlib import Path

from dockstage.core import bareimports
from dockstage.core.errors import TestsFailed

WUFKING = """\
ERROR: books.tests (unittest.loader._FailedTest.books.tests)
ImportError: Failed to import test module: books.tests
Traceback (most recent call last):
  File "/usr/lib/python3.11/unittest/loader.py", line 350, in _get_module_from_name
    __import__(name)
  File "/app/books/tests.py", line 41, in <module>
    from models import CustomUser
ModuleNotFoundError: No module named 'models'
"""


def test_the_tests_bare_import_of_their_apps_module_is_named(tmp_path: Path) -> None:
    """wufking/simple-django-mysql-booksystem's books/tests.py says `from models import CustomUser`:
    its one test errored and the failure said only '1 errors'."""
    for folder in ("accounts", "books"):  # the importer's own folder's module is the one meant
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "models.py").write_text("")
    said = bareimports.hint(WUFKING, tmp_path)
    assert said == (
        "books/tests.py:41 imports models bare; the project's own is books/models.py: import it as books.models "
        "(or `from .models import ...`)"
    )
    failed = TestsFailed(1, "1 tests, 0 failed, 1 errors, 0 skipped", "/r.xml", "python manage.py test", "", "", said)
    assert failed.what.endswith(f"1 errors, 0 skipped; {said})")
    (tmp_path / "books/models.py").unlink()
    assert "the project's own is accounts/models.py" in bareimports.hint(WUFKING, tmp_path)
    assert bareimports.hint(WUFKING.replace("'models'", "'requests'"), tmp_path) == ""  # not the project's
    assert bareimports.hint("AssertionError: 1 != 2\n", tmp_path) == ""
    assert bareimports.nested(tmp_path, "models") == ["accounts/models.py"]
