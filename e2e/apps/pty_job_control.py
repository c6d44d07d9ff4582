"""Runs argv[1:] (corral -- bash -i ...) on a pseudo-terminal and uses it as a
person at a terminal would: types to cat, ^C, ^Z, fg, exit 7. Exits 0 when
every step got its answer, 1 with the transcript otherwise. Every wait polls
for the answer up to a deadline."""
import os
import pty
import select
import sys
import time

DEADLINE = 20.0
PROMPT = b"corral-pty$ "

pid, fd = pty.fork()
if pid == 0:
    env = dict(os.environ, PS1=PROMPT.decode(), TERM="dumb")
    os.execvpe(sys.argv[1], sys.argv[1:], env)

transcript = b""
seen = 0  # the transcript up to here was matched by an earlier step


def fail(step):
    sys.stderr.write(f"step failed: {step}\ntranscript:\n{transcript!r}\n")
    try:
        os.kill(pid, 9)
    except ProcessLookupError:
        pass
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


def expect(text, step, count=1):
    """Waits until `text` appears `count` times after what was matched."""
    global seen
    end = time.monotonic() + DEADLINE
    while transcript.count(text, seen) < count:
        if time.monotonic() > end or not read_some(0.05):
            fail(step)
    at = seen
    for _ in range(count):
        at = transcript.index(text, at) + len(text)
    seen = at


def foreground_is(program, step):
    """Waits until the terminal's foreground process group runs `program`."""
    end = time.monotonic() + DEADLINE
    while True:
        try:
            pgrp = os.tcgetpgrp(fd)
            with open(f"/proc/{pgrp}/cmdline", "rb") as f:
                if f.read().split(b"\0")[0] == program:
                    return
        except OSError:
            pass
        if time.monotonic() > end:
            fail(step)
        read_some(0.01)


def send(data):
    os.write(fd, data)


expect(PROMPT, "bash -i shows its prompt (it has the terminal)")
send(b"cat\n")
foreground_is(b"cat", "cat runs in the foreground")
send(b"hello\n")
expect(b"hello", "cat reads the terminal and answers", count=2)
send(b"\x03")
expect(PROMPT, "^C ends cat and bash prompts again")
send(b"sleep 1000\n")
foreground_is(b"sleep", "sleep runs in the foreground")
send(b"\x1a")
expect(b"Stopped", "^Z stops sleep")
expect(PROMPT, "bash prompts after ^Z")
send(b"fg\n")
foreground_is(b"sleep", "fg gives sleep the terminal again")
send(b"\x03")
expect(PROMPT, "^C ends sleep after fg")
send(b"exit 7\n")
end = time.monotonic() + DEADLINE
while True:
    done, status = os.waitpid(pid, os.WNOHANG)
    if done == pid:
        break
    if time.monotonic() > end:
        fail("corral exits when bash does")
    read_some(0.05)
if os.waitstatus_to_exitcode(status) != 7:
    fail(f"corral exits with bash's code 7, got status {status}")
