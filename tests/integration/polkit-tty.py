#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
# Runs COMMAND... on a new pseudo-terminal (its controlling terminal, stdin,
# stdout and stderr), as a person at a terminal would, answers every
# "Password:" prompt with a wrong password, and prints what came out (carriage
# returns dropped) and then "exit=N". Gives up after 60 seconds.
import os
import pty
import select
import signal
import sys
import time


def main():
    pid, master = pty.fork()
    if pid == 0:
        os.execvp(sys.argv[1], sys.argv[1:])
    out = b""
    answered = 0
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        ready, _, _ = select.select([master], [], [], 0.5)
        if not ready:
            continue
        try:
            data = os.read(master, 4096)
        except OSError:   # EIO: the last process on the terminal is gone
            break
        if not data:
            break
        out += data
        if out.count(b"Password:") > answered:
            answered += 1
            time.sleep(0.2)
            os.write(master, b"wrong\n")
    else:
        os.kill(pid, signal.SIGKILL)
    _, status = os.waitpid(pid, 0)
    sys.stdout.write(out.replace(b"\r", b"").decode(errors="replace"))
    print("exit=%d" % os.waitstatus_to_exitcode(status))


if __name__ == "__main__":
    main()
