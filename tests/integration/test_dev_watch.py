"""`invoke watch` beside `invoke dev --detach`: a requirement added reaches the running dev web; a
broken one leaves it serving and shows the build's error.

The project is a copy of the bundled one outside the checkout (tests/integration/sitecopy.py):
its requirement file is edited as a user would, while the real `invoke watch` runs.
"""

from __future__ import annotations

import queue
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator

import pytest
from python_on_whales import DockerClient

from dockstage.images import stages
from tests.integration.sitecopy import Site, site_copy

pytestmark = pytest.mark.integration

REQUIREMENTS = "app/requirements/base.txt"
REBUILT = re.compile(r"changed: dev image rebuilt and web recreated in ([0-9.]+) s")


class Watcher:
    """`invoke watch` running in the background; its output read line by line."""

    def __init__(self, site: Site, *args: str) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "invoke", "watch", *args],
            cwd=site.root,
            env=site.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self.lines: queue.Queue[str] = queue.Queue()
        self.seen: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.put(line.rstrip("\n"))

    def wait_for(self, pattern: str, timeout: float) -> str:
        """The first new line containing `pattern` (fails after `timeout` seconds, showing the output)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                line = self.lines.get(timeout=max(0.1, deadline - time.monotonic()))
            except queue.Empty:
                break
            self.seen.append(line)
            if pattern in line:
                return line
        pytest.fail(f"no line with {pattern!r} in {timeout:.0f} s:\n" + "\n".join(self.seen[-80:]))

    def stop(self) -> None:
        """Ctrl-C, as a user stops it; killed (and waited for) when it has not ended 30 s later."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)

    def said(self) -> str:
        """What it printed since the last line a wait_for read, to the end (after stop)."""
        while not self.lines.empty():
            self.seen.append(self.lines.get_nowait())
        return "\n".join(self.seen[-40:])


@pytest.fixture(scope="module")
def dev_site(
    tmp_path_factory: pytest.TempPathFactory, docker_client: DockerClient, built_images: list[stages.Built]
) -> Iterator[Site]:
    """The copy's dev stack, started detached."""
    with site_copy(tmp_path_factory.mktemp("dev"), docker_client, "devwatch") as site:
        started = site.invoke("dev", "--detach")
        assert started.returncode == 0, started.stdout + started.stderr
        assert site.status() == 200
        yield site


def web_container(site: Site, docker: DockerClient) -> str:
    (found,) = site.web_containers(docker)
    return found.id


def test_a_requirement_added_then_a_broken_one(dev_site: Site, docker_client: DockerClient) -> None:
    requirements = dev_site.root / REQUIREMENTS
    original = requirements.read_text(encoding="utf-8")
    watcher = Watcher(dev_site)
    try:
        watcher.wait_for("watching", 60)
        before = web_container(dev_site, docker_client)
        dev_site.append(REQUIREMENTS, "six  # added by the dev-watch test")
        line = watcher.wait_for("changed: dev image rebuilt and web recreated in", 600)
        match = REBUILT.search(line)
        assert match and REQUIREMENTS in line, line
        print(f"DEV-WATCH: dependency change seen by invoke watch: {match.group(1)} s")
        web = web_container(dev_site, docker_client)
        assert web != before  # recreated on the new image
        assert str(docker_client.container.execute(web, ["python", "-c", "import six; print('ok')"])).strip() == "ok"
        assert dev_site.status() == 200

        dev_site.append(REQUIREMENTS, "dockstage-no-such-package==0.0.1")
        kept = watcher.wait_for("the running web was kept", 600)
        assert "build:" in kept and REQUIREMENTS in kept, kept
        assert any("dockstage-no-such-package" in seen for seen in watcher.seen), "\n".join(watcher.seen[-60:])
        assert web_container(dev_site, docker_client) == web  # the old web was left alone
        assert dev_site.status() == 200
    finally:
        watcher.stop()
        requirements.write_text(original, encoding="utf-8")  # the module's next test builds from it
    assert watcher.process.returncode in (0, 130, -signal.SIGINT), f"{watcher.process.returncode}\n{watcher.said()}"


def test_watch_with_tests_runs_them_after_a_code_change(dev_site: Site) -> None:
    """`invoke watch --test`: a failing test added under app/ fails the run (one line, the watcher
    keeps going); fixing it passes."""
    added = dev_site.root / "app" / "tests" / "test_watch_added.py"
    watcher = Watcher(dev_site, "--test")
    try:
        watcher.wait_for("the tests run after each change", 60)
        added.write_text("def test_added_by_the_watch_test():\n    assert 1 == 2\n", encoding="utf-8")
        failed = watcher.wait_for("app/tests/test_watch_added.py changed: check:", 600)
        assert "the app's tests failed" in failed and "1 failed" in failed, failed
        assert any("test_added_by_the_watch_test" in seen for seen in watcher.seen)
        added.write_text("def test_added_by_the_watch_test():\n    assert 2 == 2\n", encoding="utf-8")
        passed = watcher.wait_for("changed: tests passed in", 600)
        assert "0 failed" in passed, passed
        print(f"DEV-WATCH: {passed.strip()}")
    finally:
        watcher.stop()
        added.unlink(missing_ok=True)
