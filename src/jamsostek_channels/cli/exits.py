"""The one exit-code table every command returns from, and the code a typed error ends a run with.

====  ================  ===========================================================================
code  name              meaning
====  ================  ===========================================================================
0     ``OK``            done; nothing needs anyone
1     ``INVALID``       the input was read and is invalid (``check``), the day is not balanced
                        (``reconcile``), something needs a person (``outbox``, ``recover``: a
                        reversal refused or expired, a reference conflict), a run found something
                        wrong (``chaos``, ``demo``)
2     ``USAGE``         a usage error (wrong or missing arguments), or an input that cannot be used:
                        a file missing, unreadable, not JSON, not a journal; settings a channel
                        cannot use; a port that cannot be listened on; a rule or channel refusing
                        what the arguments ask (nothing was sent)
3     ``UNKNOWN``       money whose outcome is still unknown (``recover`` left payments unknown)
4     ``JOURNAL``       the journal failed: held by another writer too long, damaged, read-only,
                        its disk full
5     ``HOST``          the host refused or was not reached (declined, not delivered,
                        authentication refused, an answer that cannot be read)
6     ``DEPLOYMENT``    the installation is broken: a rule table cannot be read
130   ``INTERRUPTED``   stopped by Ctrl-C (128 + SIGINT, as shells report it)
141   ``PIPE_CLOSED``   the reader of stdout went away (``| head``): 128 + SIGPIPE, no traceback
====  ================  ===========================================================================

When one run finds both something unknown and something that needs a person, ``UNKNOWN`` wins:
money whose fate is not known is the more urgent. A typed error that stops a command ends it with
the code of its group (:attr:`JamsostekError.group <jamsostek_channels.errors.JamsostekError>`):
see :func:`exit_for`.
"""

from __future__ import annotations

from enum import IntEnum

from jamsostek_channels.errors import JamsostekError

__all__ = ["MEANINGS", "Exit", "exit_for"]


class Exit(IntEnum):
    """A command's exit status (see the module's table)."""

    OK = 0
    INVALID = 1
    USAGE = 2
    UNKNOWN = 3
    JOURNAL = 4
    HOST = 5
    DEPLOYMENT = 6
    INTERRUPTED = 130
    PIPE_CLOSED = 141


#: One line a code, for ``--help``.
MEANINGS: dict[Exit, str] = {
    Exit.OK: "ok",
    Exit.INVALID: "invalid data, not balanced, or something needs a person",
    Exit.USAGE: "usage error, or an input that cannot be used (missing or unreadable file)",
    Exit.UNKNOWN: "outcome unknown (payments still unknown after recover)",
    Exit.JOURNAL: "the journal failed (held by another writer, damaged, read-only, disk full)",
    Exit.HOST: "the host refused or was not reached",
    Exit.DEPLOYMENT: "the installation is broken (a rule table cannot be read)",
    Exit.INTERRUPTED: "interrupted (Ctrl-C)",
    Exit.PIPE_CLOSED: "the reader of the output went away (| head)",
}


#: An error group (``JamsostekError.group``) -> the code a run it stops ends with.
_BY_GROUP: dict[str, Exit] = {
    "local-refusal": Exit.USAGE,  # refused here: the arguments or the input must change
    "nothing-sent": Exit.HOST,  # not delivered: the host was not reached
    "host-answered": Exit.HOST,
    "outcome-unknown": Exit.UNKNOWN,
    "storage": Exit.JOURNAL,
    "deployment": Exit.DEPLOYMENT,
}


def exit_for(error: JamsostekError) -> Exit:
    """The code a run ends with when ``error`` stops it: its group's (a group this table does
    not know, or the root's own ``"other"``, ends as a usage error: nothing was done)."""
    return _BY_GROUP.get(error.group, Exit.USAGE)
