"""Runs an interactive bash on a pseudo-terminal and, at its prompt, the
command line argv[1:] followed by `sleep 1000` (e.g. `corral -- sleep 1000`),
as a person at a shell would: ^Z, then the prompt must come back with the job
stopped; fg, then sleep runs again; ^C ends it. Exits 0 when
every step got its answer, 1 with the transcript otherwise. Every wait polls
for the answer up to a deadline."""
import os
import shlex
import sys
import time

from pty_terminal import DEADLINE, Terminal

PROMPT = b"corral-shell$ "


def stat_of(process):
    """A process's state letter and parent pid."""
    with open(f"/proc/{process}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return fields[0], int(fields[1])


def started_by(shell):
    """The processes `shell` started, however deep."""
    started = []
    for entry in filter(str.isdigit, os.listdir("/proc")):
        try:
            ppid = stat_of(entry)[1]
            while ppid not in (shell, 0, 1):
                ppid = stat_of(ppid)[1]
            if ppid == shell:
                started.append(int(entry))
        except OSError:
            pass
    return started


def kill_the_job(term):
    # The job runs in a process group of its own: each process bash started
    # goes, found before any is killed (an orphan's parent changes).
    for process in started_by(term.pid):
        try:
            os.kill(process, 9)
        except ProcessLookupError:
            pass


term = Terminal(["bash", "--norc", "--noprofile", "-i"], PROMPT,
                before_exit=kill_the_job)


def sleep_state():
    """The state letter (/proc/PID/stat) of the `sleep 1000` that bash
    started (however deep), or None while there is none."""
    for process in started_by(term.pid):
        try:
            with open(f"/proc/{process}/cmdline", "rb") as f:
                if f.read().split(b"\0")[:2] == [b"sleep", b"1000"]:
                    return stat_of(process)[0]
        except OSError:
            pass
    return None


def sleep_runs(step):
    """Waits until the sleep runs (not stopped)."""
    end = time.monotonic() + DEADLINE
    while sleep_state() not in ("R", "S"):
        if time.monotonic() > end:
            term.fail(step)
        term.read_some(0.01)


term.expect(PROMPT, "bash shows its prompt")
line = " ".join(shlex.quote(a) for a in sys.argv[1:]) + " sleep 1000\n"
term.send(line.encode())
sleep_runs("sleep runs")
term.send(b"\x1a")
term.expect(b"Stopped", "^Z stops the job")
term.expect(PROMPT, "bash prompts again after ^Z")
term.send(b"fg\n")
sleep_runs("fg continues sleep")
term.send(b"\x03")
term.expect(PROMPT, "^C ends sleep, and the job, after fg")
term.send(b"exit 0\n")
term.exit_code("bash exits")
