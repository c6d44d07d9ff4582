"""A program on a pseudo-terminal, used as a person at the terminal would:
what it writes is kept as a transcript, every wait polls for its answer up
to a deadline, and a step that gets none ends the script with exit 1 and
the transcript on stderr. Shared by the pty_*.py scripts."""
import os
import pty
import select
import sys
import time

DEADLINE = 20.0


class Terminal:
    def __init__(self, argv, prompt, before_exit=None):
        """Starts argv on a new terminal, with `prompt` as its shell's PS1.
        `before_exit(terminal)` runs when a step fails (to end what the
        program started); then the program is killed."""
        self.pid, self.fd = pty.fork()
        if self.pid == 0:
            env = dict(os.environ, PS1=prompt.decode(), TERM="dumb")
            os.execvpe(argv[0], argv, env)
        self.transcript = b""
        self.seen = 0  # the transcript up to here was matched already
        self.before_exit = before_exit

    def fail(self, step):
        sys.stderr.write(
            f"step failed: {step}\ntranscript:\n{self.transcript!r}\n")
        if self.before_exit:
            self.before_exit(self)
        try:
            os.kill(self.pid, 9)
        except ProcessLookupError:
            pass
        sys.exit(1)

    def read_some(self, timeout):
        """Adds what the terminal has within `timeout`; False once it is
        closed."""
        ready, _, _ = select.select([self.fd], [], [], timeout)
        if ready:
            try:
                self.transcript += os.read(self.fd, 4096)
            except OSError:  # EIO: the terminal's last process closed it
                return False
        return True

    def expect(self, text, step, count=1):
        """Waits until `text` appears `count` times after what was
        matched."""
        end = time.monotonic() + DEADLINE
        while self.transcript.count(text, self.seen) < count:
            if time.monotonic() > end or not self.read_some(0.05):
                self.fail(step)
        at = self.seen
        for _ in range(count):
            at = self.transcript.index(text, at) + len(text)
        self.seen = at

    def send(self, data):
        os.write(self.fd, data)

    def exit_code(self, step):
        """Waits for the program to exit; its exit code."""
        end = time.monotonic() + DEADLINE
        while True:
            done, status = os.waitpid(self.pid, os.WNOHANG)
            if done == self.pid:
                return os.waitstatus_to_exitcode(status)
            if time.monotonic() > end:
                self.fail(step)
            self.read_some(0.05)
