#!/usr/bin/python3
"""readline.py RCFILE TEXT: type TEXT<TAB> into an interactive bash on a
pseudo-terminal (readline and bash-completion for real) and print the command
line as completion left it, between [ and ]."""
import os
import pty
import select
import sys
import time


def main():
    rcfile, text = sys.argv[1], sys.argv[2]
    env = dict(os.environ, TERM="dumb", PS1="$ ", INPUTRC="/dev/null")
    pid, fd = pty.fork()
    if pid == 0:
        os.execvpe("bash", ["bash", "--noprofile", "--rcfile", rcfile, "-i"], env)
    out = b""

    def read_until(marker, timeout=10.0):
        nonlocal out
        end = time.monotonic() + timeout
        while marker not in out and time.monotonic() < end:
            r, _, _ = select.select([fd], [], [], 0.1)
            if r:
                try:
                    out += os.read(fd, 4096)
                except OSError:
                    break
        return marker in out

    os.write(fd, b"echo READY\r")
    if not read_until(b"READY\r\n"):
        sys.exit("readline.py: bash did not start: %r" % out)
    # Complete, then wrap the resulting line in an echo: Ctrl-A, type, Ctrl-E, type.
    os.write(fd, text.encode() + b"\t")
    time.sleep(0.5)
    os.write(fd, b"\x01echo RESULT=[\x05]\r")
    ok = read_until(b"RESULT=[", 10) and read_until(b"]\r\n", 10)
    os.write(fd, b"exit\r")
    try:
        os.waitpid(pid, 0)
    except ChildProcessError:
        pass
    if not ok:
        sys.exit("readline.py: no result: %r" % out)
    tail = out[out.rindex(b"RESULT=[") + 8:]
    print("[" + tail[:tail.index(b"]\r\n")].decode() + "]")


main()
