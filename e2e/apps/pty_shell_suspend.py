"""Runs an interactive bash on a pseudo-terminal and, at its prompt, the
command line argv[1:] followed by `sleep 1000` (e.g. `corral -- sleep 1000`),
as a person at a shell would: ^Z, then the prompt must come back with the job
stopped; fg, then sleep runs again; ^C ends it. Exits 0 when
every step got its answer, 1 with the transcript otherwise. Every wait polls
for the answer up to a deadline."""
import os
import pty
import select
import shlex
import sys
import time

DEADLINE = 20.0
PROMPT = b"corral-shell$ "

pid, fd = pty.fork()
if pid == 0:
    env = dict(os.environ, PS1=PROMPT.decode(), TERM="dumb")
    os.execvpe("bash", ["bash", "--norc", "--noprofile", "-i"], env)

transcript = b""
seen = 0  # the transcript up to here was matched by an earlier step


def fail(step):
    sys.stderr.write(f"step failed: {step}\ntranscript:\n{transcript!r}\n")
    # The job runs in a process group of its own: each process bash started
    # goes, found before any is killed (an orphan's parent changes).
    started = []
    for entry in filter(str.isdigit, os.listdir("/proc")):
        try:
            ppid = stat_of(entry)[1]
            while ppid not in (pid, 0, 1):
                ppid = stat_of(ppid)[1]
            if ppid == pid:
                started.append(int(entry))
        except OSError:
            pass
    for process in started:
        os.kill(process, 9)
    os.kill(pid, 9)
    sys.exit(1)


def read_some(timeout):
    global transcript
    ready, _, _ = select.select([fd], [], [], timeout)
    if ready:
        try:
            transcript += os.read(fd, 4096)
        except OSError:  # EIO: the terminal's last process closed it
            return False
    return True


def expect(text, step):
    """Waits until `text` appears after what was matched."""
    global seen
    end = time.monotonic() + DEADLINE
    while transcript.find(text, seen) < 0:
        if time.monotonic() > end or not read_some(0.05):
            fail(step)
    seen = transcript.index(text, seen) + len(text)


def stat_of(process):
    """A process's state letter and parent pid."""
    with open(f"/proc/{process}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return fields[0], int(fields[1])


def sleep_state():
    """The state letter (/proc/PID/stat) of the `sleep 1000` that bash
    started (however deep), or None while there is none."""
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as f:
                if f.read().split(b"\0")[:2] != [b"sleep", b"1000"]:
                    continue
            state, ppid = stat_of(entry)
            while ppid not in (pid, 0):
                ppid = stat_of(ppid)[1]
            if ppid == pid:
                return state
        except OSError:
            pass
    return None


def sleep_runs(step):
    """Waits until the sleep runs (not stopped)."""
    end = time.monotonic() + DEADLINE
    while sleep_state() not in ("R", "S"):
        if time.monotonic() > end:
            fail(step)
        read_some(0.01)


def send(data):
    os.write(fd, data)


expect(PROMPT, "bash shows its prompt")
line = " ".join(shlex.quote(a) for a in sys.argv[1:]) + " sleep 1000\n"
send(line.encode())
sleep_runs("sleep runs")
send(b"\x1a")
expect(b"Stopped", "^Z stops the job")
expect(PROMPT, "bash prompts again after ^Z")
send(b"fg\n")
sleep_runs("fg continues sleep")
send(b"\x03")
expect(PROMPT, "^C ends sleep, and the job, after fg")
send(b"exit 0\n")
end = time.monotonic() + DEADLINE
while True:
    done, status = os.waitpid(pid, os.WNOHANG)
    if done == pid:
        break
    if time.monotonic() > end:
        fail("bash exits")
    read_some(0.05)
