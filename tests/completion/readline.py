#!/usr/bin/python3
"""readline.py RCFILE TEXT: type TEXT<TAB> into an interactive bash on a
pseudo-terminal (readline and bash-completion for real) and print the command
line as completion left it, as typed (quotes and backslashes kept), between
[ and ]."""
import os
import pty
import re
import select
import sys
import time


def main():
    rcfile, text = sys.argv[1], sys.argv[2]
    env = dict(os.environ, TERM="dumb", PS1="$ ", INPUTRC="/dev/null",
               HISTFILE=os.devnull)
    pid, fd = pty.fork()
    if pid == 0:
        os.execvpe("bash", ["bash", "--noprofile", "--rcfile", rcfile, "-i"], env)
    out = b""

    def read_for(seconds):
        nonlocal out
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            r, _, _ = select.select([fd], [], [], 0.05)
            if r:
                try:
                    out += os.read(fd, 4096)
                except OSError:
                    return

    def wait_for(pattern, seconds=10.0):
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            found = [m for m in re.findall(pattern, out)]
            if found:
                return found
            read_for(0.1)
        return []

    os.write(fd, b"echo READY\r")
    if not wait_for(rb"\nREADY\r\n"):
        sys.exit("readline.py: bash did not start: %r" % out)
    # Complete, then comment the line out and enter it: history keeps it as
    # typed; print it from there.
    os.write(fd, text.encode() + b"\t")
    read_for(0.5)
    os.write(fd, b"\x01#\r")
    os.write(fd, b"printf 'RESULT=<%s>\\n' \"$(fc -ln -2 -2 | sed 's/^[[:space:]]*#//')\"\r")
    found = [m for m in wait_for(rb"RESULT=<(.*?)>\r\n") if m != b"%s"]
    if not found:
        found = [m for m in wait_for(rb"RESULT=<(.*?)>\r\n", 3) if m != b"%s"]
    os.write(fd, b"exit\r")
    try:
        os.waitpid(pid, 0)
    except ChildProcessError:
        pass
    if not found:
        sys.exit("readline.py: no result: %r" % out)
    print("[" + found[-1].decode() + "]")


main()
