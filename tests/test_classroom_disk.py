"""A full disk: refused writes get Iggy's codes and one log line, nothing acknowledged is lost,
reads go on, writes resume once space is freed (no restart), and a start says the disk is full.

The codes: a send is refused with CannotSaveMessagesToSegment (4006), a metadata change or a
stored consumer offset with CannotWriteToFile (10006); the SDK shows them as "Cannot save
messages to segment." and "Cannot write to file".

The disk is filled two ways. Everywhere (CI included), a fault injector: a ``sitecustomize``
module on the sandbox's PYTHONPATH makes every write to a file under the data folder fail
with ENOSPC while a marker file exists, after a short write first for a large one, as a disk
with a few KiB left does. Where the test may mount a 4 MiB tmpfs (root on Linux), the same
story runs on a real full file system, with the sandbox's log on it too; elsewhere that test
skips and says why.
"""

from __future__ import annotations

import os
import struct
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from apache_iggy import Consumer, IggyClient, PollingStrategy, SendMessage
from conftest import ROOT_CREDENTIALS

from bench.soak import connect
from sandbox.launch import EXIT_DISK_FULL, SandboxProcess, SandboxStartError, start_sandbox
from tests.wire_session import identifier

REPO_ROOT = Path(__file__).resolve().parent.parent
STREAM, TOPIC = "disk", "t"
SEND_REFUSED = "Cannot save messages to segment."  # code 4006
WRITE_REFUSED = "Cannot write to file"  # code 10006
PAYLOAD = b"m" * 1000

INJECTOR = '''
"""Test fault injector: writes under FULL_DISK_DATA fail with ENOSPC while FULL_DISK_MARKER
exists (a write of more than 4 KiB first gets a short write, as on a nearly full disk)."""
import errno, os
_DATA = os.path.realpath(os.environ["FULL_DISK_DATA"]) + os.sep
_MARKER = os.environ["FULL_DISK_MARKER"]
_FDS = set()
_open, _close, _write, _writev, _pwrite = os.open, os.close, os.write, os.writev, os.pwrite

def _full(fd):
    return fd in _FDS and os.path.exists(_MARKER)

def _opened(path, flags, mode=0o777, *, dir_fd=None):
    fd = _open(path, flags, mode, dir_fd=dir_fd)
    if os.path.realpath(os.fspath(path)).startswith(_DATA):
        _FDS.add(fd)
    return fd

def _closed(fd):
    _FDS.discard(fd)
    _close(fd)

def _written(fd, data):
    if _full(fd):
        if len(data) > 4096 and not getattr(_written, "short", False):
            _written.short = True
            return _write(fd, bytes(data[:4096]))
        _written.short = False
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
    return _write(fd, data)

def _writtenv(fd, buffers):
    if _full(fd):  # a vectored write is refused as the plain one is
        return _written(fd, b"".join(buffers))
    return _writev(fd, buffers)

def _pwritten(fd, data, offset):
    if _full(fd):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
    return _pwrite(fd, data, offset)

os.open, os.close, os.write, os.writev, os.pwrite = (
    _opened, _closed, _written, _writtenv, _pwritten)
'''


class InjectedDisk:
    """A sandbox whose data folder's disk fills up and empties on request."""

    def __init__(self, root: Path):
        self.data_dir = root / "data"
        self.log = root / "sandbox.log"
        self.marker = root / "disk-is-full"
        injector = root / "injector"
        injector.mkdir(parents=True)
        (injector / "sitecustomize.py").write_text(INJECTOR)
        self.env = {**os.environ, **ROOT_CREDENTIALS, "PYTHONPATH": str(injector),
                    "FULL_DISK_DATA": str(self.data_dir), "FULL_DISK_MARKER": str(self.marker)}

    def fill(self) -> None:
        self.marker.touch()

    def free(self) -> None:
        self.marker.unlink(missing_ok=True)

    def start(self) -> SandboxProcess:
        return start_sandbox(data_dir=self.data_dir, log_file=self.log, env=self.env)


async def send(client: IggyClient, count: int, acked: dict[int, bytes],
               stream: str = STREAM) -> None:
    """Send ``count`` batches of 5 messages to partition 0, recording what was acknowledged."""
    for _ in range(count):
        payloads = [PAYLOAD + str(len(acked) + i).encode() for i in range(5)]
        sent = await client.send_messages(stream, TOPIC, 0, [SendMessage(p) for p in payloads])
        base = sent.confirmations[0].base_offset
        acked.update({base + i: payload for i, payload in enumerate(payloads)})


def offset_target() -> bytes:
    """Consumer 7 (numeric id) on partition 0, in the body layout of codes 120 and 121."""
    return (b"\x01\x01\x04" + struct.pack("<I", 7) + identifier(STREAM) + identifier(TOPIC)
            + b"\x01" + struct.pack("<I", 0))


async def store_offset(client: IggyClient, offset: int) -> None:
    """StoreConsumerOffset (121): the SDK has no method for it, only its raw-command door."""
    await client.send_binary_request(121, offset_target() + struct.pack("<Q", offset) + b"\x01")


async def stored_offset(client: IggyClient) -> int | None:
    reply = await client.send_binary_request(120, offset_target())
    return struct.unpack_from("<Q", reply, 12)[0] if reply else None


async def stored_messages(client: IggyClient) -> dict[int, bytes]:
    polled = await client.poll_messages(STREAM, TOPIC, partition_id=0,
                                        consumer=Consumer.Single("checker"),
                                        polling_strategy=PollingStrategy.First(), count=100_000,
                                        auto_commit=False)
    return {message.offset(): message.payload() for message in polled}


async def refused(call, words: str) -> None:
    with pytest.raises(RuntimeError, match=words):
        await call


def log_lines(log: Path, words: str) -> list[str]:
    return [line for line in log.read_text(errors="replace").splitlines() if words in line]


# --- everywhere: the fault injector ----------------------------------------------------------


@pytest.fixture
def disk(tmp_path: Path) -> InjectedDisk:
    return InjectedDisk(tmp_path)


async def test_full_disk_refuses_with_iggy_codes_loses_nothing_and_recovers(disk):
    server = disk.start()
    try:
        client = await connect(server.tcp_address)
        await client.create_stream(STREAM)
        await client.create_topic(STREAM, TOPIC, partitions_count=1)
        acked: dict[int, bytes] = {}
        await send(client, 20, acked)
        await store_offset(client, 9)

        disk.fill()
        big = [SendMessage(PAYLOAD) for _ in range(50)]  # starts with a short write
        await refused(client.send_messages(STREAM, TOPIC, 0, big), SEND_REFUSED)
        await refused(send(client, 1, acked), SEND_REFUSED)
        await refused(client.create_stream("refused"), WRITE_REFUSED)
        await refused(client.delete_stream(STREAM), WRITE_REFUSED)
        await refused(store_offset(client, 19), WRITE_REFUSED)
        assert [s.name for s in await client.get_streams()] == [STREAM]  # nothing half-made
        assert await stored_messages(client) == acked  # reads go on, nothing half-written
        assert await stored_offset(client) == 9

        disk.free()
        await send(client, 5, acked)  # no restart needed
        await client.create_stream("after")
        await store_offset(client, 19)
    finally:
        server.stop()
    log = disk.log.read_text(errors="replace")
    assert "Traceback" not in log, log[-3000:]
    assert len(log_lines(disk.log, "disk full: refused")) == 1, log[-3000:]  # then counted
    assert len(log_lines(disk.log, "succeed again")) == 1, log[-3000:]

    server = disk.start()
    try:
        client = await connect(server.tcp_address)
        assert await stored_messages(client) == acked
        assert sorted(s.name for s in await client.get_streams()) == ["after", STREAM]
        assert await stored_offset(client) == 19
    finally:
        server.stop()


async def test_refused_topic_creation_leaves_no_topic_and_no_files(disk):
    server = disk.start()
    try:
        client = await connect(server.tcp_address)
        await client.create_stream(STREAM)
        disk.fill()
        await refused(client.create_topic(STREAM, TOPIC, partitions_count=3), WRITE_REFUSED)
        assert await client.get_topic(STREAM, TOPIC) is None
        assert not list((disk.data_dir / "streams").rglob("*.log"))
        disk.free()
        await client.create_topic(STREAM, TOPIC, partitions_count=3)
        assert (await client.get_topic(STREAM, TOPIC)).partitions_count == 3
    finally:
        server.stop()


def test_start_on_a_full_disk_says_the_disk_is_full(disk):
    disk.fill()
    with pytest.raises(SandboxStartError) as failed:
        disk.start().stop()
    assert "disk is full" in str(failed.value) and "port" not in str(failed.value)
    assert failed.value.disk_full  # so make lab and the autostart do not blame a port
    run = subprocess.run([sys.executable, "-m", "sandbox", "--tcp", "127.0.0.1:0", "--http",
                          "127.0.0.1:0", "--data-dir", str(disk.data_dir)], cwd=REPO_ROOT,
                         env=disk.env, capture_output=True, text=True, timeout=60)
    assert run.returncode == EXIT_DISK_FULL, run.stderr[-2000:]
    assert "disk is full" in run.stderr and "Traceback" not in run.stderr, run.stderr[-2000:]
    assert "port" not in run.stderr


# --- where allowed: a real 4 MiB file system -------------------------------------------------


@pytest.fixture
def tiny_disk(tmp_path: Path) -> Iterator[Path]:
    """A 4 MiB tmpfs mounted for this test; skips where mounting is not allowed."""
    if sys.platform != "linux" or os.geteuid() != 0:
        pytest.skip("mounting a 4 MiB tmpfs needs root on Linux; the fault-injection tests "
                    "cover the same behaviour")
    mount_point = tmp_path / "disk"
    mount_point.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs",
                              str(mount_point)], capture_output=True, text=True)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here ({mounted.stderr.strip()}); the "
                    "fault-injection tests cover the same behaviour")
    try:
        yield mount_point
    finally:
        subprocess.run(["umount", "-l", str(mount_point)], check=False)


def fill_up(directory: Path) -> Path:
    """Write a file until the file system says it is full."""
    filler = directory / "filler"
    with open(filler, "wb", buffering=0) as handle:
        try:
            while True:
                handle.write(bytes(4096))
        except OSError:
            pass
    return filler


async def test_a_real_4_mib_disk_fills_up_and_frees(tiny_disk):
    data_dir, log = tiny_disk / "data", tiny_disk / "sandbox.log"
    env = {**os.environ, **ROOT_CREDENTIALS}
    server = start_sandbox(data_dir=data_dir, log_file=log, env=env)
    try:
        client = await connect(server.tcp_address)
        for stream in ("scratch", STREAM):
            await client.create_stream(stream)
            await client.create_topic(stream, TOPIC, partitions_count=1)
        await send(client, 300, {}, "scratch")  # about 1.5 MB to delete later
        acked: dict[int, bytes] = {}
        with pytest.raises(RuntimeError, match=SEND_REFUSED):
            await send(client, 10_000, acked)
        assert len(acked) > 1000
        # the room kept for metadata: a stream can still be made and deleted
        await client.create_stream("still-possible")
        await client.delete_stream("still-possible")
        filler = fill_up(tiny_disk)  # something else takes the rest
        await refused(client.create_stream("refused"), WRITE_REFUSED)
        await refused(send(client, 1, acked), SEND_REFUSED)
        assert await stored_messages(client) == acked
        filler.unlink()
        await client.delete_stream("scratch")  # frees space: writes resume, no restart
        await client.create_stream("after")
        await send(client, 5, acked)
    finally:
        server.stop()
    text = log.read_text(errors="replace")
    assert "Traceback" not in text and log_lines(log, "disk full: refused"), text[-3000:]

    fill_up(tiny_disk)
    try:
        restarted = start_sandbox(data_dir=data_dir, log_file=log, env=env)
    except SandboxStartError as error:  # its ready line found no room in the log
        assert "disk is full" in str(error) and "port" not in str(error), str(error)
    else:  # the line fitted in the log's last page: it serves reads and says the disk is full
        try:
            client = await connect(restarted.tcp_address)
            assert await stored_messages(client) == acked
        finally:
            restarted.stop()
        assert log_lines(log, "is full or nearly"), log.read_text()[-2000:]
