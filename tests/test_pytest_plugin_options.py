"""The pytest plugin's settings (issue 13, item 2): per project through ini options, per test
through ``jamsostek_sandbox_factory``; ``passthru`` for other HTTP as ``responses`` offers."""

from __future__ import annotations

import datetime as dt

import pytest

from jamsostek_channels.clock import JAKARTA
from jamsostek_channels.testing.pytest_plugin import SandboxOptions, clock_starting

pytest_plugins = ["pytester"]

INI = """
[pytest]
jamsostek_seed = 3
jamsostek_today = 2027-01-31
jamsostek_participants = 4
jamsostek_channels = linkaja, kantorpos
"""

PROJECT_TESTS = """
import datetime as dt

from jamsostek_channels.errors import HostDeclined
from jamsostek_channels.testing.sandbox import Sandbox


def niks(sandbox):
    return [p["nik"] for p in sandbox.demo_participants]


def test_sandbox_reads_the_project_options(jamsostek_sandbox):
    assert jamsostek_sandbox.host.today() == dt.date(2027, 1, 31)
    assert jamsostek_sandbox.host.now().hour == 9
    assert sorted(jamsostek_sandbox.channels) == ["kantorpos", "linkaja"]
    assert niks(jamsostek_sandbox) == niks(Sandbox(seed=3, demo=4, channels=("linkaja",)))
    assert niks(jamsostek_sandbox) != niks(Sandbox(seed=0, demo=4, channels=("linkaja",)))


def test_server_reads_them_too(jamsostek_server):
    assert jamsostek_server.base_url.startswith("http://127.0.0.1:")
    assert len(jamsostek_server.demo_participants) == 4
    assert jamsostek_server.host.today() == dt.date(2027, 1, 31)


def test_host_takes_the_seed_and_day_and_stays_empty(jamsostek_host):
    assert jamsostek_host.today() == dt.date(2027, 1, 31)
    assert jamsostek_host.ledger() == ()
    seeded = [p.nik for p, _ in jamsostek_host.seed_demo(2)]
    assert seeded == niks(Sandbox(seed=3, demo=2, channels=("linkaja",)))


def test_a_payment_on_the_project_day(jamsostek_sandbox):
    client = jamsostek_sandbox.client("linkaja")
    for number, person in enumerate(jamsostek_sandbox.demo_participants):
        try:
            receipt = client.pay(person["nik"], months=1, reference=f"P{number}")
        except HostDeclined:  # the demo mix has lapsed participants
            continue
        assert receipt.paid_at.date() == dt.date(2027, 1, 31)
        break
    else:
        raise AssertionError("nobody could pay")
"""

FACTORY_TESTS = """
import datetime as dt

import pytest
import requests

MADE = []


def test_factory_replaces_the_project_options(jamsostek_sandbox_factory):
    sandbox = jamsostek_sandbox_factory(
        seed=5, today="2026-02-28", participants=2, channels=["bni-agen46"]
    )
    MADE.append(sandbox)
    assert sandbox.host.today() == dt.date(2026, 2, 28)
    assert list(sandbox.channels) == ["bni-agen46"]
    assert len(sandbox.demo_participants) == 2
    assert requests.post(sandbox.base_url + "/control/echo", timeout=5).status_code == 200
    # Another one in-process would answer at the same address: on a loopback port instead.
    with pytest.raises(RuntimeError, match="loopback=True"):
        jamsostek_sandbox_factory()
    served = jamsostek_sandbox_factory(today=dt.date(2026, 3, 1), loopback=True)
    MADE.append(served)
    assert served.base_url.startswith("http://127.0.0.1:")
    assert len(served.demo_participants) == 4  # the project's count, this call's day
    assert served.host.today() == dt.date(2026, 3, 1)


def test_every_sandbox_made_was_stopped_at_teardown():
    in_process, served = MADE
    assert in_process._mock is None
    assert served.server is None


@pytest.mark.parametrize("options", [{"participants": 501}, {"today": "31-01-2027"}])
def test_factory_refuses_what_it_cannot_use(jamsostek_sandbox_factory, options):
    with pytest.raises(ValueError, match=next(iter(options))):
        jamsostek_sandbox_factory(**options)
"""


def test_ini_options_set_every_fixture(pytester: pytest.Pytester) -> None:
    pytester.makeini(INI)
    pytester.makepyfile(test_project=PROJECT_TESTS)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=4)


def test_the_factory_per_test(pytester: pytest.Pytester) -> None:
    pytester.makeini(INI)
    pytester.makepyfile(test_factory=FACTORY_TESTS)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=4)


def test_ini_options_are_listed_in_help(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest_subprocess("--help")
    result.stdout.fnmatch_lines(
        [
            "*jamsostek_seed*",
            "*jamsostek_today*",
            "*jamsostek_participants*",
            "*jamsostek_channels*",
            "*jamsostek_passthru*",
        ],
        consecutive=False,
    )


@pytest.mark.parametrize(
    ("line", "named"),
    [
        ("jamsostek_today = 2027-02-30", "jamsostek_today"),
        ("jamsostek_participants = many", "jamsostek_participants"),
        ("jamsostek_participants = 501", "jamsostek_participants"),
        ("jamsostek_seed = x", "jamsostek_seed"),
    ],
)
def test_a_bad_ini_option_stops_the_run_naming_it(
    pytester: pytest.Pytester, line: str, named: str
) -> None:
    pytester.makeini(f"[pytest]\n{line}\n")
    pytester.makepyfile(test_any="def test_nothing():\n    pass\n")
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([f"*jamsostek-channels ini options*{named}*"])


def test_an_unknown_channel_fails_the_test_using_it(pytester: pytest.Pytester) -> None:
    pytester.makeini("[pytest]\njamsostek_channels = linkaja nope\n")
    pytester.makepyfile(test_any="def test_it(jamsostek_sandbox):\n    pass\n")
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*UnknownChannel*nope*"])


PASSTHRU_TESTS = """
import http.server
import threading

import pytest
import requests


@pytest.fixture
def other_service():
    class Hello(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(200)
            self.send_header("Content-Length", "5")
            self.end_headers()
            self.wfile.write(b"hello")

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Hello)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_refused_without_passthru(jamsostek_sandbox_factory, other_service):
    jamsostek_sandbox_factory(passthru=[])
    with pytest.raises(requests.ConnectionError):
        requests.get(other_service + "/x", timeout=5)


def test_let_through_by_the_factory(jamsostek_sandbox_factory, other_service):
    sandbox = jamsostek_sandbox_factory(passthru=[other_service])
    assert requests.get(other_service + "/x", timeout=5).text == "hello"
    assert requests.post(sandbox.base_url + "/control/echo", timeout=5).status_code == 200


def test_let_through_by_a_pattern(jamsostek_sandbox_factory, other_service):
    import re

    jamsostek_sandbox_factory(passthru=[re.compile(r"http://127\\.0\\.0\\.1:\\d+/")])
    assert requests.get(other_service + "/x", timeout=5).text == "hello"


def test_let_through_by_the_ini_option(jamsostek_sandbox, other_service):
    assert requests.get(other_service + "/x", timeout=5).text == "hello"
"""


def test_passthru_lets_other_http_through(pytester: pytest.Pytester) -> None:
    pytester.makeini("[pytest]\njamsostek_passthru =\n    http://127.0.0.1\n")
    pytester.makepyfile(test_passthru=PASSTHRU_TESTS)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=4)


# The options and the clock, in this process --------------------------------------------------


def test_clock_starting_reads_nine_in_the_morning_then_runs_on() -> None:
    clock = clock_starting(dt.date(2027, 1, 31))
    first = clock()
    assert first.tzinfo is JAKARTA
    assert dt.datetime(2027, 1, 31, 9, tzinfo=JAKARTA) <= first
    assert first < dt.datetime(2027, 1, 31, 9, 0, 5, tzinfo=JAKARTA)
    assert clock() >= first


def test_options_default_to_the_sandbox_command_s() -> None:
    options = SandboxOptions()
    assert (options.seed, options.today, options.participants) == (0, None, 12)
    assert options.channels is None
    assert options.passthru == ()
    assert options.clock() is None  # the wall clock
