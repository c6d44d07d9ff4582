"""Runs argv[1:] (corral -- bash -i ...) on a pseudo-terminal and uses it as a
person at a terminal would: types to cat, ^C, ^Z, fg, exit 7. Exits 0 when
every step got its answer, 1 with the transcript otherwise. Every wait polls
for the answer up to a deadline."""
import os
import sys
import time

from pty_terminal import DEADLINE, Terminal

PROMPT = b"corral-pty$ "
term = Terminal(sys.argv[1:], PROMPT)


def foreground_is(program, step):
    """Waits until the terminal's foreground process group runs `program`."""
    end = time.monotonic() + DEADLINE
    while True:
        try:
            pgrp = os.tcgetpgrp(term.fd)
            with open(f"/proc/{pgrp}/cmdline", "rb") as f:
                if f.read().split(b"\0")[0] == program:
                    return
        except OSError:
            pass
        if time.monotonic() > end:
            term.fail(step)
        term.read_some(0.01)


term.expect(PROMPT, "bash -i shows its prompt (it has the terminal)")
term.send(b"cat\n")
foreground_is(b"cat", "cat runs in the foreground")
term.send(b"hello\n")
term.expect(b"hello", "cat reads the terminal and answers", count=2)
term.send(b"\x03")
term.expect(PROMPT, "^C ends cat and bash prompts again")
term.send(b"sleep 1000\n")
foreground_is(b"sleep", "sleep runs in the foreground")
term.send(b"\x1a")
term.expect(b"Stopped", "^Z stops sleep")
term.expect(PROMPT, "bash prompts after ^Z")
term.send(b"fg\n")
foreground_is(b"sleep", "fg gives sleep the terminal again")
term.send(b"\x03")
term.expect(PROMPT, "^C ends sleep after fg")
term.send(b"exit 7\n")
code = term.exit_code("corral exits when bash does")
if code != 7:
    term.fail(f"corral exits with bash's code 7, got {code}")
