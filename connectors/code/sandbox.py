"""Run a Python program under bubblewrap, bounded in every resource it could spend.

The command (:func:`command`) gives the program:

- namespaces: ``--unshare-all`` (user, pid, network, ipc, uts, cgroup): no network interface but
  its own loopback, no view of host processes, abstract sockets or System V IPC;
  ``--disable-userns`` where bwrap supports it (no nested user namespaces), ``--new-session`` (no
  terminal injection), ``--die-with-parent`` and ``--cap-drop ALL``;
- files: ``/usr`` (and the ``/bin``, ``/lib``... links) and a few ``/etc`` files read-only, fresh
  ``/proc``, a minimal read-only ``/dev``; its own empty ``/tmp`` (a tmpfs of ``disk_mb``,
  holding only the program; the working directory) and ``/dev/shm`` (same size) are the only
  writable places, and vanish with the sandbox; the root is remounted read-only; ``/home``,
  ``/root``, the host's ``/tmp``, ``/run``, ``/var`` and ``/sys`` do not exist inside;
- environment: cleared (no inherited secrets), then PATH, HOME, TMPDIR, LANG only;
- run as an unprivileged user: when the host process is root, the sandbox runs as ``nobody``;
- rlimits set before the program's first line (:data:`RUNNER`), which it cannot raise: CPU
  seconds, address space (``memory_mb``), processes (``max_processes``), file size, open files,
  no core dumps;
- from outside: a wall-clock timeout that kills the whole sandbox, and at most ``max_output``
  bytes of stdout+stderr read before it is killed.

If bwrap is missing, or fails to create the sandbox (no user namespaces, a bind that fails), the
program does not run: :class:`~framework.errors.ToolRefusedError`. There is no unsandboxed path.

What it does not block:

- the kernel's system-call surface: there is no seccomp filter, so a kernel exploit reachable
  from an unprivileged user namespace is not stopped (keep the kernel patched; a VM or gVisor is
  the next step up);
- reading what is mounted: everything under ``/usr`` (installed programs and Python packages)
  and the few ``/etc`` files; it can run any program found there, inside the same limits;
- total memory: ``RLIMIT_AS`` bounds each process, so all processes together may use up to
  ``memory_mb * max_processes`` plus the two tmpfs of ``disk_mb`` (no cgroup memory limit);
- ``RLIMIT_NPROC`` counts every process of the sandbox user (``nobody`` when the host runs as
  root, else the calling user) in the user namespace, so concurrent sandboxes share that budget;
- CPU use up to the time limit on every core it can fork onto, and timing side channels;
- what the program prints is returned to the model as data: it can say anything.
"""

from __future__ import annotations

import json
import os
import selectors
import shutil
import signal
import subprocess
import time
from dataclasses import dataclass, field

from framework.errors import ToolRefusedError

NOBODY = 65534
SYSTEM_DIRS = ("/usr", "/bin", "/sbin", "/lib", "/lib64", "/lib32", "/libx32")
ETC_FILES = ("/etc/ld.so.cache", "/etc/ld.so.conf", "/etc/ld.so.conf.d", "/etc/localtime",
             "/etc/alternatives")
PYTHONS = ("/usr/bin/python3", "/usr/local/bin/python3")
PROGRAM = "main.py"
RUNNER_NAME = ".runner.py"

# Runs first inside the sandbox: lowers every limit (soft and hard, so the program cannot raise
# them back), then runs the program as __main__, showing tracebacks without this frame.
RUNNER = """\
import resource, sys, traceback
for _k, _v in {limits!r}:
    resource.setrlimit(getattr(resource, _k), (_v, _v))
sys.argv = [{program!r}]
with open({program!r}, encoding="utf-8") as _f:
    _code = compile(_f.read(), {program!r}, "exec")
try:
    exec(_code, {{"__name__": "__main__", "__file__": {program!r}, "__builtins__": __builtins__}})
except SystemExit:
    raise
except BaseException as _e:
    traceback.print_exception(type(_e), _e, _e.__traceback__.tb_next)
    sys.exit(1)
"""


@dataclass(frozen=True)
class Limits:
    timeout: float
    memory_mb: int
    max_output: int
    max_processes: int
    max_file_mb: int
    disk_mb: int = 64

    def rlimits(self) -> list[tuple[str, int]]:
        return [("RLIMIT_CPU", int(self.timeout) + 1),
                ("RLIMIT_AS", self.memory_mb * 1024 * 1024),
                ("RLIMIT_NPROC", self.max_processes),
                ("RLIMIT_FSIZE", self.max_file_mb * 1024 * 1024),
                ("RLIMIT_NOFILE", 256), ("RLIMIT_CORE", 0)]


@dataclass
class Outcome:
    """What happened: the output (bounded), the exit code, and why it was stopped, if it was."""

    stdout: bytes = b""
    stderr: bytes = b""
    exit_code: int | None = None
    stopped: str | None = None  # "timeout" | "output"
    seconds: float = 0.0
    pid_namespace: str | None = field(default=None, repr=False)  # for tests: the sandbox's pidns


def _refuse(why: str) -> ToolRefusedError:
    return ToolRefusedError(f"code refused: {why}; the program did not run (it never runs "
                            "outside the sandbox; install bubblewrap or set 'bwrap' to its path)")


def find_bwrap(name: str) -> str:
    found = shutil.which(name)
    if not found:
        raise _refuse(f"bubblewrap ({name!r}) is not installed or not on PATH")
    return found


def find_python(python: str | None) -> str:
    candidates = [python] if python else list(PYTHONS)
    for one in candidates:
        if os.path.isfile(one) and os.access(one, os.X_OK):
            return one
    raise _refuse(f"no Python interpreter at {' or '.join(candidates)} to run inside the sandbox "
                  "(setting 'python')")


_userns_flag: dict[str, bool] = {}


def _supports_disable_userns(bwrap: str) -> bool:
    if bwrap not in _userns_flag:
        try:
            shown = subprocess.run([bwrap, "--help"], capture_output=True, text=True, timeout=5)
            _userns_flag[bwrap] = "--disable-userns" in shown.stdout + shown.stderr
        except (OSError, subprocess.SubprocessError):
            _userns_flag[bwrap] = False
    return _userns_flag[bwrap]


def _system_binds(python: str) -> list[str]:
    args: list[str] = []
    for path in SYSTEM_DIRS:
        if os.path.islink(path):
            args += ["--symlink", os.readlink(path), path]
        elif os.path.isdir(path):
            args += ["--ro-bind", path, path]
    for path in ETC_FILES:
        args += ["--ro-bind-try", path, path]
    prefix = os.path.dirname(os.path.dirname(os.path.realpath(python)))
    if not any(prefix == d or prefix.startswith(d + "/") for d in SYSTEM_DIRS):
        args += ["--ro-bind", prefix, prefix]  # an interpreter installed outside /usr
    return args


def command(bwrap: str, python: str, files: dict[str, int], status_fd: int,
            limits: Limits) -> list[str]:
    """The bwrap command line that runs :data:`RUNNER` in a fresh ``/tmp`` holding ``files``
    (name -> a descriptor bwrap copies it from)."""
    confine = ["--unshare-all", "--die-with-parent", "--new-session", "--cap-drop", "ALL",
               "--hostname", "sandbox"]
    if _supports_disable_userns(bwrap):
        confine += ["--unshare-user", "--disable-userns"]
    env = ["--clearenv", "--setenv", "PATH", "/usr/local/bin:/usr/bin:/bin", "--setenv", "HOME",
           "/tmp", "--setenv", "TMPDIR", "/tmp", "--setenv", "LANG", "C.UTF-8"]
    size = str(limits.disk_mb * 1024 * 1024)
    mounts = [*_system_binds(python), "--proc", "/proc", "--dev", "/dev",
              "--size", size, "--tmpfs", "/dev/shm", "--size", size, "--tmpfs", "/tmp"]
    for name, fd in files.items():
        mounts += ["--file", str(fd), f"/tmp/{name}"]
    mounts += ["--chdir", "/tmp", "--remount-ro", "/dev", "--remount-ro", "/"]
    return [bwrap, *confine, *mounts, *env, "--json-status-fd", str(status_fd), "--",
            python, "-I", "-B", RUNNER_NAME]


def _memfd(name: str, text: str) -> int:
    fd = os.memfd_create(name, os.MFD_CLOEXEC)
    data = memoryview(text.encode("utf-8"))
    while data:
        data = data[os.write(fd, data):]
    os.lseek(fd, 0, os.SEEK_SET)
    return fd


def _kill(proc: subprocess.Popen[bytes]) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)  # bwrap; --die-with-parent takes the sandbox with it
    except ProcessLookupError:
        pass


class _Reader:
    """Reads stdout, stderr and bwrap's status pipe until exit, a limit, or the deadline."""

    def __init__(self, proc: subprocess.Popen[bytes], status: int, limits: Limits) -> None:
        self.proc, self.limits, self.outcome = proc, limits, Outcome()
        self.status = b""
        self.selector = selectors.DefaultSelector()
        assert proc.stdout is not None and proc.stderr is not None
        for name, fileobj in (("stdout", proc.stdout), ("stderr", proc.stderr)):
            os.set_blocking(fileobj.fileno(), False)
            self.selector.register(fileobj.fileno(), selectors.EVENT_READ, name)
        os.set_blocking(status, False)
        self.selector.register(status, selectors.EVENT_READ, "status")

    def _take(self, fd: int, name: str) -> None:
        try:
            chunk = os.read(fd, 65536)
        except BlockingIOError:
            return
        if not chunk:
            self.selector.unregister(fd)
            return
        if name == "status":
            self.status += chunk
            self._note_namespace()
            return
        room = self.limits.max_output - len(self.outcome.stdout) - len(self.outcome.stderr)
        setattr(self.outcome, name, getattr(self.outcome, name) + chunk[:max(room, 0)])
        if len(chunk) > room:
            self.outcome.stopped = "output"

    def _note_namespace(self) -> None:
        pid = self.child_pid()
        if pid and self.outcome.pid_namespace is None:
            try:
                self.outcome.pid_namespace = os.readlink(f"/proc/{pid}/ns/pid")
            except OSError:
                pass

    def child_pid(self) -> int | None:
        for line in self.status.decode(errors="replace").splitlines():
            try:
                pid = json.loads(line).get("child-pid")
            except (ValueError, AttributeError):
                continue
            if pid:
                return int(pid)
        return None

    def run(self) -> Outcome:
        deadline = time.monotonic() + self.limits.timeout
        while self.selector.get_map() and not self.outcome.stopped:
            left = deadline - time.monotonic()
            if left <= 0:
                self.outcome.stopped = "timeout"
                break
            for key, _ in self.selector.select(timeout=min(left, 0.5)):
                self._take(int(key.fd), key.data)
        if self.outcome.stopped:
            _kill(self.proc)
        try:
            self.outcome.exit_code = self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            _kill(self.proc)
            self.outcome.exit_code = self.proc.wait()
        self.selector.close()
        return self.outcome


def run(code: str, limits: Limits, *, bwrap: str = "bwrap", python: str | None = None) -> Outcome:
    """Run ``code`` in a fresh sandbox; refuses (ToolRefusedError) if the sandbox cannot be made."""
    bwrap_path, python_path = find_bwrap(bwrap), find_python(python)
    runner = RUNNER.format(limits=limits.rlimits(), program=PROGRAM)
    files = {RUNNER_NAME: _memfd("runner", runner), PROGRAM: _memfd("program", code)}
    read_end, write_end = os.pipe()
    root = os.geteuid() == 0  # then the sandbox runs as nobody, never as root
    argv = command(bwrap_path, python_path, files, write_end, limits)
    started = time.monotonic()
    try:
        try:
            proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                    stderr=subprocess.PIPE, pass_fds=(write_end, *files.values()),
                                    start_new_session=True, user=NOBODY if root else None,
                                    group=NOBODY if root else None,
                                    extra_groups=[] if root else None)
        except OSError as exc:
            raise _refuse(f"bubblewrap could not be started ({exc.strerror})") from None
        finally:
            for fd in (write_end, *files.values()):
                os.close(fd)
        with proc:
            reader = _Reader(proc, read_end, limits)
            outcome = reader.run()
            started_ok = reader.child_pid() is not None
    finally:
        os.close(read_end)
    outcome.seconds = time.monotonic() - started
    if not started_ok:
        detail = outcome.stderr.decode(errors="replace").strip().splitlines()
        raise _refuse("the sandbox could not be created"
                      + (f" ({detail[-1][:300]})" if detail else f" (bwrap exit {outcome.exit_code})"))
    return outcome
