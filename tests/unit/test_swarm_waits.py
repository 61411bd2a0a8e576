"""A swarm command that loses its manager: one line saying what it last saw and what the swarm does
by itself; a leader election is waited through. (The real cut mid-deploy: tests/integration/test_swarm.py.)"""

from __future__ import annotations

import pytest

from dockstage.core import errors
from dockstage.frontends.common import INVOKE_COMMANDS, NOX_COMMANDS
from dockstage.swarm import waits
from tests.unit.test_errors import docker_failure, executed

NO_LEADER = (
    "Error response from daemon: rpc error: code = Unknown desc = The swarm does not have a leader. "
    "It's possible that too few managers are online. Make sure more than half of the managers are online."
)
SOCKET_GONE = "Cannot connect to the Docker daemon at unix:///run/node1/docker.sock. Is the docker daemon running?"
CUT_SHORT = 'error during connect: Get "http://%2Frun%2Fnode1%2Fdocker.sock/v1.41/services/s_web": EOF'
INSPECT = ("docker", "--host", "unix:///run/node1/docker.sock", "service", "inspect", "s_web")


def test_an_engine_gone_mid_update_is_one_line_saying_what_was_seen_and_that_swarm_resumes() -> None:
    watch = waits.Watch("web went to v2 on s", then="update")
    watch.seen = "update updating, 1 of 3 tasks of s_web run v2"

    def inspect() -> None:
        raise docker_failure(SOCKET_GONE, command=INSPECT)

    def deploy_wait(run: object) -> None:
        with watch.guard():
            watch.look(inspect)

    line, code = executed(deploy_wait, INVOKE_COMMANDS)
    assert code == errors.EXIT_CODES["engine"] == 3
    assert line == (
        "engine: the swarm manager stopped answering while web went to v2 on s (update updating, 1 of 3 tasks "
        "of s_web run v2): the swarm resumes it by itself once a manager is back (no command needed); check "
        "with `invoke stack-ps`"
    )
    assert "The command executed was" not in line and "docker --host" not in line


@pytest.mark.parametrize(
    ("then", "fix"),
    [
        ("removal", "then run `invoke undeploy` again to finish"),
        ("nothing", "the stack was not changed; run the command again once a manager is back"),
    ],
)
def test_what_the_swarm_holds_decides_the_fix(then: errors.SwarmHolds, fix: str) -> None:
    watch = waits.Watch("removing s", then=then)
    with pytest.raises(errors.ManagerLost) as lost, watch.guard():
        raise docker_failure(CUT_SHORT, command=INSPECT)
    assert fix in lost.value.one_line(NOX_COMMANDS)
    assert lost.value.one_line(NOX_COMMANDS).startswith("engine: the swarm manager stopped answering while removing s:")


def test_other_docker_failures_pass_the_guard_as_they_are() -> None:
    failure = docker_failure("Error response from daemon: service s_web not found", command=INSPECT)
    with pytest.raises(type(failure)) as raised, waits.Watch("deploying v2 to s").guard():
        raise failure
    assert raised.value is failure


def test_a_leader_election_is_waited_through() -> None:
    answers: list[object] = [docker_failure(NO_LEADER, command=INSPECT)] * 2 + ["completed"]
    looks: list[object] = []

    def condition() -> str | None:
        answer = answers[len(looks)]
        looks.append(answer)
        if isinstance(answer, BaseException):
            raise answer
        return str(answer)

    watch = waits.Watch("web went to v2 on s", then="update")
    assert watch.until(condition, timeout=10) == "completed"
    assert len(looks) == 3 and watch.unreachable is None


def test_a_swarm_still_without_a_leader_at_the_deadline_is_manager_lost() -> None:
    def condition() -> str | None:
        raise docker_failure(NO_LEADER, command=INSPECT)

    watch = waits.Watch("the migrations of v2 ran", then="update")
    watch.seen = "the s_migrate task: starting"
    with pytest.raises(errors.ManagerLost) as lost:
        watch.until(condition, timeout=0.1)
    assert "while the migrations of v2 ran (the s_migrate task: starting)" in lost.value.one_line()
    assert "does not have a leader" in lost.value.detail  # docker's words: debug output only


def test_a_task_gone_between_listing_and_reading_is_looked_at_again() -> None:
    # What python-on-whales raised in the harness's scenario f: it inspects each task `service ps`
    # listed, and swarm had trimmed one meanwhile (around the leader election).
    vanished = docker_failure("Error: No such object: gak2ayuzp84145sba1qx0p7ut", command=("docker", "inspect", "x"))
    answers: list[object] = [vanished, "completed"]

    def condition() -> str | None:
        answer = answers.pop(0)
        if isinstance(answer, BaseException):
            raise answer
        return str(answer)

    assert waits.Watch("web went to v2 on s", then="update").until(condition, timeout=10) == "completed"
