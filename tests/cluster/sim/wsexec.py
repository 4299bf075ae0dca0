"""Pod exec over WebSocket (v5.channel.k8s.io / v4.channel.k8s.io), server side.

Behaves as kube-apiserver + kubelet do: the handshake picks the first
protocol the client offers that the server supports (none: 403 with an empty
body), an empty message goes to the lowest writable channel, output streams
as binary messages prefixed by the channel byte, v5 `[0xFF, 0x00]` closes the
process's stdin, channel 4 resizes a tty, and the session ends with a Status
on channel 3 and a Close frame (1000).
"""

import base64
import fcntl
import hashlib
import json
import os
import selectors
import shutil
import signal
import ssl
import struct
import termios
import time

from . import k8s
from .k8s import ApiError

GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
POD_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
CHUNK = 32 * 1024
POD_ETC = "/usr/local/etc/jupyterhub"

# WebSocket frame opcodes and bits (RFC 6455 section 5.2)
OP_CONTINUATION = 0x0
OP_TEXT = 0x1
OP_BINARY = 0x2
OP_CLOSE = 0x8
OP_PING = 0x9
OP_PONG = 0xA
OP_CONTROL_MIN = 0x8    # opcodes from here on are control frames (never fragmented)
FIN = 0x80
MASKED = 0x80
OPCODE_MASK = 0x0F
LEN_MASK = 0x7F
LEN_16 = 126            # a 16-bit length follows
LEN_64 = 127            # a 64-bit length follows
CLOSE_NORMAL = 1000     # close status: normal closure

# Kubernetes' channel.k8s.io streams: the first byte of each message
CH_STDIN = 0
CH_STDOUT = 1
CH_STDERR = 2
CH_ERROR = 3            # the Status that ends the session
CH_RESIZE = 4           # terminal size, JSON {"Width":..,"Height":..}
CH_CLOSE = 255          # v5: close the stream named by the next byte


def _flag(q, k):
    return (q.get(k) or ["false"])[0].lower() in ("1", "true")


def frame(opcode, payload):
    n = len(payload)
    if n < LEN_16:
        hdr = struct.pack("!BB", FIN | opcode, n)
    elif n < 65536:
        hdr = struct.pack("!BBH", FIN | opcode, LEN_16, n)
    else:
        hdr = struct.pack("!BBQ", FIN | opcode, LEN_64, n)
    return hdr + payload


def unmask(data, key):
    n = len(data)
    if not n:
        return data
    k = (key * (n // 4 + 1))[:n]
    return (int.from_bytes(data, "big") ^ int.from_bytes(k, "big")).to_bytes(n, "big")


class FrameReader:
    """Parse client frames (masked), reassembling fragmented messages."""

    def __init__(self):
        self.buf = bytearray()
        self.frag_op = None
        self.frag = bytearray()

    def feed(self, data):
        self.buf += data
        out = []
        while True:
            b = self.buf
            if len(b) < 2:
                break
            fin = b[0] & FIN
            op = b[0] & OPCODE_MASK
            masked = b[1] & MASKED
            n = b[1] & LEN_MASK
            i = 2
            if n == LEN_16:
                if len(b) < 4:
                    break
                n = struct.unpack("!H", b[2:4])[0]
                i = 4
            elif n == LEN_64:
                if len(b) < 10:
                    break
                n = struct.unpack("!Q", b[2:10])[0]
                i = 10
            if masked:
                if len(b) < i + 4:
                    break
                key = bytes(b[i:i + 4])
                i += 4
            if len(b) < i + n:
                break
            payload = bytes(b[i:i + n])
            del self.buf[:i + n]
            if masked:
                payload = unmask(payload, key)
            if op >= OP_CONTROL_MIN:  # control frames are never fragmented
                out.append((op, payload))
                continue
            if op == OP_CONTINUATION:
                self.frag += payload
                if fin:
                    out.append((self.frag_op, bytes(self.frag)))
                    self.frag_op = None
                    self.frag = bytearray()
                continue
            if not fin:
                self.frag_op = op
                self.frag = bytearray(payload)
                continue
            out.append((op, payload))
        return out


def _status_bytes(obj):
    return json.dumps(obj, separators=(",", ":")).encode()


def container_running(pod, container):
    """Whether the container's status says running (a crash-looping one waits)."""
    for cs in (pod.get("status") or {}).get("containerStatuses") or []:
        if cs.get("name") == container:
            return "running" in (cs.get("state") or {})
    return True     # no status yet: as before, the phase decided


def mounted_pod_files(pod, container):
    """Which of the hub's files under /usr/local/etc/jupyterhub the container
    mounts from a volume the pod has: the first path component of each
    volumeMount there (existing-secret, secret, jupyterhub_config.py)."""
    spec = pod.get("spec") or {}
    volumes = {v.get("name") for v in spec.get("volumes") or []}
    out = set()
    for c in spec.get("containers") or []:
        if c.get("name") != container:
            continue
        for m in c.get("volumeMounts") or []:
            path = (m.get("mountPath") or "").rstrip("/")
            if m.get("name") in volumes and path.startswith(POD_ETC + "/"):
                out.add(path[len(POD_ETC) + 1:].split("/", 1)[0])
    return out


def handle(h, ns, name, q):
    sim = h.sim
    pods = k8s.BY_KEY["/pods"]
    pod = sim.api.get(pods, ns, name)
    spec = pod.get("spec") or {}
    containers = [c["name"] for c in spec.get("containers") or []]
    container = (q.get("container") or [""])[0]
    if not container:
        container = ((pod["metadata"].get("annotations") or {}).get(
            "kubectl.kubernetes.io/default-container") or (containers[0] if containers else ""))
        if len(containers) > 1 and not (pod["metadata"].get("annotations") or {}).get(
                "kubectl.kubernetes.io/default-container"):
            raise k8s.bad_request("a container name must be specified for pod %s, choose one "
                                  "of: [%s]" % (name, " ".join(containers)))
    if container not in containers:
        raise k8s.bad_request("container %s is not valid for pod %s" % (container, name))
    argv = q.get("command") or []
    user = sim.faults.get("lab-at-dump")
    if user and "pg_dump" in argv and not getattr(sim, "lab_at_dump_fired", False):
        # a lab made (by an admin, say) while the backup runs: the drop must not follow
        sim.lab_at_dump_fired = True
        sim.controllers.lab_appears(user)
    stdin, stdout, stderr, tty = (_flag(q, "stdin"), _flag(q, "stdout"), _flag(q, "stderr"),
                                  _flag(q, "tty"))
    if not argv:
        raise k8s.invalid(k8s.Resource("", "v1", "pods", "PodExecOptions", True), "",
                          [("command", "Required value", None)])
    if not (stdin or stdout or stderr):
        raise k8s.bad_request("you must specify at least 1 of stdin, stdout, stderr")
    if tty:
        stderr = False
    phase = (pod.get("status") or {}).get("phase")
    if phase in ("Succeeded", "Failed"):
        raise k8s.bad_request("cannot exec into a container in a completed pod; current "
                              "phase is %s" % phase)
    if phase != "Running":
        raise k8s.bad_request('unable to upgrade connection: container not found ("%s")'
                              % container)
    hdr = h.headers
    upgrade = hdr.get("Upgrade", "").lower()
    if upgrade != "websocket":
        if upgrade.startswith("spdy"):
            # SPDY is not implemented here; a WebSocket-capable client never gets here
            raise ApiError(400, "BadRequest", "unable to upgrade connection: SPDY/3.1 is not "
                           "supported by this server")
        raise k8s.bad_request("Upgrade request required")
    faults = sim.faults
    if faults.get("exec-ws") == "off":
        h.send_bytes(403, b"", "text/plain; charset=utf-8")
        h.close_connection = True
        return
    if h.command != "GET" or hdr.get("Sec-WebSocket-Version") != "13" or \
            not hdr.get("Sec-WebSocket-Key"):
        raise k8s.bad_request("websocket: bad handshake")
    supported = ["v5.channel.k8s.io", "v4.channel.k8s.io"]
    if faults.get("exec-proto") == "v4":
        supported = ["v4.channel.k8s.io"]
    offered = []
    for v in hdr.get_all("Sec-WebSocket-Protocol") or []:
        offered += [p.strip() for p in v.split(",") if p.strip()]
    proto = next((p for p in offered if p in supported), None)
    if proto is None:
        # golang.org/x/net/websocket answers a failed handshake with 403 and no body
        h.send_bytes(403, b"", "text/plain; charset=utf-8")
        h.close_connection = True
        return
    accept = base64.b64encode(hashlib.sha1((hdr["Sec-WebSocket-Key"].strip() + GUID)
                                           .encode()).digest()).decode()
    Session(h, sim, pod, container, argv, stdin, stdout, stderr, tty, proto, accept).run()


class Session:
    def __init__(self, h, sim, pod, container, argv, stdin, stdout, stderr, tty, proto, accept):
        self.h, self.sim, self.pod, self.container = h, sim, pod, container
        self.argv, self.tty, self.proto, self.accept = argv, tty, proto, accept
        self.want = (stdin, stdout, stderr)
        self.sock = h.connection
        self.reader = FrameReader()
        self.closed_by_client = False
        self.sent_close = False
        self.stdout_bytes = 0
        self.drop_at = sim.faults.get("exec-drop")

    # -------------------------------------------------------------- I/O
    def send(self, data):
        self.sock.settimeout(None)
        try:
            self.sock.sendall(data)
        finally:
            self.sock.settimeout(0)

    def send_msg(self, channel, data=b""):
        self.send(frame(OP_BINARY, bytes([channel]) + data))

    def recv_available(self):
        """Read whatever the client sent; None on EOF."""
        out = b""
        while True:
            try:
                chunk = self.sock.recv(65536)
            except (ssl.SSLWantReadError, BlockingIOError):
                return out
            except ssl.SSLWantWriteError:
                return out
            except (ssl.SSLError, OSError):
                return None if not out else out
            if not chunk:
                return None if not out else out
            out += chunk
            if not self.sock.pending():
                return out

    # -------------------------------------------------------------- run
    def run(self):
        h = self.h
        h.close_connection = True
        h.status_code = 101
        name = self.pod["metadata"]["name"]
        # does the command exist in the "container"? as containerd reports it
        cmd0 = self.argv[0]
        if not container_running(self.pod, self.container):
            # kubelet's GetExec finds no running container ("container not found
            # (%q)", HTTP 500); since 1.30 the API server's stream translator has
            # upgraded the WebSocket already and reports the failed SPDY upgrade to
            # the kubelet as an InternalError Status on the error channel.
            proc = None
            err = ('Internal error occurred: unable to upgrade connection: container not '
                   'found ("%s")' % self.container)
        elif "/" not in cmd0 and not shutil.which(cmd0, path=POD_PATH):
            proc = None
            err = ('Internal error occurred: error executing command in container: failed to '
                   'exec in container: failed to start exec "%s": OCI runtime exec failed: exec '
                   'failed: unable to start container process: exec: "%s": executable file not '
                   'found in $PATH: unknown' % (hashlib.sha256(repr(self.argv).encode())
                                                .hexdigest(), cmd0))
        else:
            err = None
            rt = self.sim.runtime
            try:
                if rt is None:
                    raise RuntimeError("no runtime")
                proc = rt.exec(name, list(self.argv), self.tty,
                               files=mounted_pod_files(self.pod, self.container))
            except Exception as e:
                proc = None
                err = "Internal error occurred: error executing command in container: %s" % e
        h.send_response(101, "Switching Protocols")
        h.send_header("Upgrade", "websocket")
        h.send_header("Connection", "Upgrade")
        h.send_header("Sec-WebSocket-Accept", self.accept)
        h.send_header("Sec-WebSocket-Protocol", self.proto)
        h.end_headers()
        h.wfile.flush()
        self.sock.settimeout(0)
        # bytes already buffered behind the request are the first frames
        early = b""
        try:
            early = h.rfile.peek(65536)[:65536] if h.rfile.peek else b""
            if early:
                early = h.rfile.read(len(early))
        except (ssl.SSLWantReadError, BlockingIOError, ValueError, OSError, TypeError):
            early = b""
        stdin, stdout, stderr = self.want
        # an empty message on the lowest writable channel tells the client we are open
        self.send_msg(CH_STDOUT if stdout else CH_STDERR if stderr else CH_ERROR)
        if proc is None:
            self.finish_status({"metadata": {}, "status": "Failure", "message": err,
                                "reason": "InternalError", "details": {"causes": [
                                    {"message": err.split(": ", 1)[1]}]}, "code": 500})
            return
        try:
            self.pump(proc, early)
        finally:
            if proc.poll() is None:
                try:
                    os.killpg(proc.pid, signal.SIGKILL)
                except (ProcessLookupError, PermissionError):
                    proc.kill()
                try:
                    proc.wait(5)
                except Exception:
                    pass
            for f in (proc.stdin, proc.stdout, proc.stderr):
                try:
                    if f:
                        f.close()
                except OSError:
                    pass
            if getattr(proc, "pty_master", None) is not None:
                try:
                    os.close(proc.pty_master)
                except OSError:
                    pass

    def pump(self, proc, early):
        sel = selectors.DefaultSelector()
        stdin_want, stdout_want, stderr_want = self.want
        master = getattr(proc, "pty_master", None)
        outs = {}
        if master is not None:
            os.set_blocking(master, False)
            sel.register(master, selectors.EVENT_READ, ("out", CH_STDOUT))
            outs[master] = CH_STDOUT
            in_fd = master
        else:
            for f, ch in ((proc.stdout, CH_STDOUT), (proc.stderr, CH_STDERR)):
                fd = f.fileno()
                os.set_blocking(fd, False)
                sel.register(fd, selectors.EVENT_READ, ("out", ch))
                outs[fd] = ch
            in_fd = proc.stdin.fileno()
            os.set_blocking(in_fd, False)
            if not stdin_want:
                proc.stdin.close()
                in_fd = None
        sel.register(self.sock, selectors.EVENT_READ, ("sock", None))
        pending_in = bytearray()
        stdin_close = False
        in_registered = False
        exited_at = None

        def handle_msgs(msgs):
            nonlocal stdin_close
            for op, payload in msgs:
                if op == OP_CLOSE:
                    self.closed_by_client = True
                    if not self.sent_close:
                        self.sent_close = True
                        try:
                            # echo the client's close status, as the RFC asks
                            self.send(frame(OP_CLOSE, payload[:2] if len(payload) >= 2 else b""))
                        except OSError:
                            pass
                    return False
                if op == OP_PING:
                    self.send(frame(OP_PONG, payload))
                    continue
                if op in (OP_TEXT, OP_BINARY) and payload:
                    ch = payload[0]
                    data = payload[1:]
                    if ch == CH_STDIN and in_fd is not None:
                        pending_in.extend(data)
                    elif ch == CH_RESIZE and master is not None:
                        try:
                            sz = json.loads(data)
                            fcntl.ioctl(master, termios.TIOCSWINSZ, struct.pack(
                                "HHHH", int(sz.get("Height", 24)), int(sz.get("Width", 80)), 0, 0))
                        except (ValueError, OSError, AttributeError):
                            pass
                    elif ch == CH_CLOSE and self.proto.startswith("v5") and \
                            data[:1] == bytes([CH_STDIN]):
                        stdin_close = True
            return True

        if early and not handle_msgs(self.reader.feed(early)):
            return
        while outs or proc.poll() is None:
            # stdin: flush what we can
            if in_fd is not None and master is None:
                if pending_in:
                    try:
                        n = os.write(in_fd, pending_in)
                        del pending_in[:n]
                    except BlockingIOError:
                        pass
                    except (BrokenPipeError, OSError):
                        pending_in.clear()
                        stdin_close = True
                if stdin_close and not pending_in:
                    try:
                        sel.unregister(in_fd)
                    except (KeyError, ValueError):
                        pass
                    try:
                        proc.stdin.close()
                    except OSError:
                        pass
                    in_fd = None
                    in_registered = False
                elif pending_in and not in_registered:
                    sel.register(in_fd, selectors.EVENT_WRITE, ("in", None))
                    in_registered = True
                elif not pending_in and in_registered:
                    sel.unregister(in_fd)
                    in_registered = False
            elif master is not None and pending_in:
                try:
                    n = os.write(master, pending_in)
                    del pending_in[:n]
                except BlockingIOError:
                    pass
                except OSError:
                    pending_in.clear()
            timeout = 0 if self.sock.pending() else 0.5
            if not outs and proc.poll() is None:
                timeout = 0.05
            events = sel.select(timeout)
            if self.sock.pending() and not any(k.data[0] == "sock" for k, _ in events):
                events.append((sel.get_key(self.sock), selectors.EVENT_READ))
            for key, _ in events:
                kind, ch = key.data
                if kind == "sock":
                    data = self.recv_available()
                    if data is None:
                        return  # client went away: the finally clause kills the process
                    if data and not handle_msgs(self.reader.feed(data)):
                        return
                elif kind == "out":
                    fd = key.fd
                    try:
                        data = os.read(fd, CHUNK)
                    except BlockingIOError:
                        continue
                    except OSError:  # EIO on a pty whose slave closed
                        data = b""
                    if not data:
                        sel.unregister(fd)
                        del outs[fd]
                        continue
                    if (ch == CH_STDOUT and not stdout_want) or \
                            (ch == CH_STDERR and not stderr_want):
                        continue
                    if ch == CH_STDOUT and self.drop_at is not None:
                        room = self.drop_at - self.stdout_bytes
                        if len(data) >= room:
                            if room > 0:
                                self.send_msg(CH_STDOUT, data[:room])
                            self.stdout_bytes += max(room, 0)
                            self.h.abort_connection_quiet()
                            return
                    self.stdout_bytes += len(data) if ch == CH_STDOUT else 0
                    self.send_msg(ch, data)
            if proc.poll() is not None and outs:
                # the process is gone but something may still hold its output open
                if exited_at is None:
                    exited_at = time.time()
                elif time.time() - exited_at > 2.0 and not events:
                    break
        rc = proc.wait()
        if rc < 0:
            rc = 128 - rc
        if rc == 0:
            st = {"metadata": {}, "status": "Success"}
        else:
            st = {"metadata": {}, "status": "Failure",
                  "message": "command terminated with non-zero exit code: error executing "
                             "command [%s], exit code %d" % (" ".join(self.argv), rc),
                  "reason": "NonZeroExitCode",
                  "details": {"causes": [{"reason": "ExitCode", "message": str(rc)}]}}
        self.finish_status(st)

    def finish_status(self, st):
        try:
            self.send_msg(CH_ERROR, _status_bytes(st))
            self.sent_close = True
            self.send(frame(OP_CLOSE, struct.pack("!H", CLOSE_NORMAL)))
        except OSError:
            return
        # wait (briefly) for the client's Close
        deadline = time.time() + 2.0
        while time.time() < deadline and not self.closed_by_client:
            r = selectors.DefaultSelector()
            r.register(self.sock, selectors.EVENT_READ)
            if not self.sock.pending() and not r.select(deadline - time.time()):
                break
            data = self.recv_available()
            if data is None:
                break
            for op, _ in self.reader.feed(data):
                if op == OP_CLOSE:
                    self.closed_by_client = True
