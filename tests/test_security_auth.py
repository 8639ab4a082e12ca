"""Authentication: nothing but ping and login before login, wrong passwords refused (at once,
as Iggy does), personal access tokens that expired or were deleted refused.

Raw frames show what the server itself does (the SDK refuses most of this client-side,
which is checked too): reads before login get header status 40 (Unauthenticated), writes
get an Eviction frame with reason 1 (NoSession), as Iggy 0.9 answers (reference §6.8).
"""

from __future__ import annotations

import base64
import struct
import time

import pytest
from apache_iggy import AutoLogin, IggyClient, SendMessage, TcpConfig, TcpReconnectionConfig

from tests.wire_client import OP_REGISTER, open_connection, read_reply, request_frame
from tests.wire_session import (
    eviction_reason,
    exchange,
    logged_in,
    name,
    register_body,
)

UNAUTHENTICATED = 40
EVICT_NO_SESSION = 1
EVICT_INVALID_CREDENTIALS = 9
EVICT_INVALID_TOKEN = 10
EVICT_MALFORMED_LOGIN = 15

# Every non-replicated code the 0.9.0 SDK can send except ping (reference §2)
# and an unknown one: Iggy lets nothing but ping through before login (dispatch.rs,
# `allowed_pre_auth = nr_code == PING_CODE`).
READ_CODES = [10, 11, 12, 13, 14, 20, 21, 22, 31, 32, 41, 100, 102, 103, 104, 120, 123, 200,
              201, 300, 301, 600, 601, 606, 9999]
# Logout and every replicated write operation (reference §1.5)
OP_LOGOUT = 3
WRITE_OPERATIONS = [OP_LOGOUT, *range(128, 150), 160, 161, 162]
STALE_SESSION = 7


def bare_client(address: str) -> IggyClient:
    return IggyClient(TcpConfig(server_address=address,
                                reconnection=TcpReconnectionConfig(enabled=False)))


@pytest.mark.parametrize("code", READ_CODES)
def test_reads_before_login_get_status_unauthenticated(iggy_server, code):
    with open_connection(iggy_server.tcp_address) as sock:
        reason, reply = exchange(sock, code, b"\x01\x04\x00\x00\x00\x00")
        assert reason is None, f"code {code} before login: eviction {reason} instead of a reply"
        assert (reply.status, reply.body) == (UNAUTHENTICATED, b""), (
            f"code {code} before login answered status {reply.status} with "
            f"{len(reply.body)} body bytes")


@pytest.mark.parametrize("operation", WRITE_OPERATIONS)
def test_writes_without_a_login_are_evicted_with_no_session(iggy_server, operation):
    # A session number this connection never got (a client whose server restarted sends
    # its old one); a logout is answered ok instead: there is nothing left to log out.
    with open_connection(iggy_server.tcp_address) as sock:
        sock.sendall(request_frame(body=name("never-created"), operation=operation,
                                   session=STALE_SESSION))
        reason = eviction_reason(sock)
        reply = read_reply(sock)
        if operation == OP_LOGOUT:
            assert (reason, reply.status, reply.body) == (None, 0, b"")
        else:
            assert reason == EVICT_NO_SESSION, (
                f"operation {operation} without a login: eviction reason {reason}, status "
                f"{reply.status}")


def test_only_ping_is_answered_before_login(iggy_server):
    with open_connection(iggy_server.tcp_address) as sock:
        reason, reply = exchange(sock, 1)
        assert (reason, reply.status, reply.body) == (None, 0, b"")


@pytest.mark.parametrize("code", [38, 44])
def test_legacy_login_codes_are_evicted_as_malformed_login(iggy_server, code):
    with open_connection(iggy_server.tcp_address) as sock:
        reason, _ = exchange(sock, code, register_body("iggy", "iggy")[4:])
        assert reason == EVICT_MALFORMED_LOGIN


async def test_sdk_refuses_commands_before_login(iggy_server):
    client = bare_client(iggy_server.tcp_address)
    await client.connect()
    with pytest.raises(RuntimeError, match="Unauthenticated"):
        await client.create_stream("sec-before-login")
    with pytest.raises(RuntimeError, match="Unauthenticated"):
        await client.send_messages("sec-before-login", "t", 0, [SendMessage("x")])
    with pytest.raises(RuntimeError, match="Unauthenticated"):
        await client.get_streams()
    await client.ping()  # the connection itself stays usable


def failed_login_seconds(address: str, password: str) -> float:
    """One wrong login on a new connection; how long the refusal took (asserts it is one)."""
    with open_connection(address, timeout=30) as sock:
        started = time.monotonic()
        sock.sendall(request_frame(body=register_body("iggy", password),
                                   operation=OP_REGISTER))
        reason = eviction_reason(sock)
        elapsed = time.monotonic() - started
        read_reply(sock)
    assert reason == EVICT_INVALID_CREDENTIALS, f"wrong password got eviction reason {reason}"
    return elapsed


def test_repeated_wrong_passwords_are_refused_at_once_as_iggy_does(fresh_sandbox):
    # Iggy 0.9 does not slow down password guessing, and neither does the sandbox: a learner
    # must not come to rely on a protection the real server lacks. The old slow-down made
    # these eight refusals take 7.75 s at least (0.25 s, doubling from the fourth).
    durations = [failed_login_seconds(fresh_sandbox.tcp_address, f"wrong-{i}")
                 for i in range(8)]
    assert sum(durations) < 4.0, f"refusals took {[round(d, 3) for d in durations]} s"
    logged_in(fresh_sandbox.tcp_address).close()  # the right password still gets in


async def test_wrong_password_is_refused_by_the_sdk(fresh_sandbox):
    client = bare_client(fresh_sandbox.tcp_address)
    await client.connect()
    with pytest.raises(RuntimeError, match="Invalid credentials"):
        await client.login_user("iggy", "not-the-password")
    with pytest.raises(RuntimeError, match="Unauthenticated"):
        await client.get_streams()


def create_token(address: str, token_name: str, expiry_us: int) -> str:
    """Create a personal access token over raw frames (the typed SDK has no call for it)."""
    with logged_in(address) as sock:
        reason, reply = exchange(sock, body=name(token_name) + struct.pack("<Q", expiry_us),
                                 operation=146)
    assert reason is None and reply.status == 0, f"create token: status {reply.status}"
    (count,) = struct.unpack_from("<I", reply.body, 0)
    assert count == 0, f"create token refused: {reply.body.hex()}"
    length = reply.body[4]
    return reply.body[5:5 + length].decode()


def token_login_reason(address: str, token: str) -> int | None:
    body = register_body("x", "x")[:4 + 9 + 7] + name(token) + struct.pack("<I", 0)
    with open_connection(address) as sock:
        reason, _ = exchange(sock, body=body, operation=OP_REGISTER)
    return reason


def test_a_personal_access_token_is_made_as_iggy_makes_them(fresh_sandbox):
    """50 random bytes in standard Base64: 68 characters, none alike."""
    tokens = [create_token(fresh_sandbox.tcp_address, f"shape-{n}", expiry_us=0)
              for n in range(2)]
    assert [len(token) for token in tokens] == [68, 68]
    assert [len(base64.b64decode(token, validate=True)) for token in tokens] == [50, 50]
    assert tokens[0] != tokens[1]


def test_expired_personal_access_token_is_refused_over_tcp(fresh_sandbox):
    address = fresh_sandbox.tcp_address
    short = create_token(address, "short-lived", expiry_us=1_000_000)
    lasting = create_token(address, "long-lived", expiry_us=3600 * 1_000_000)
    time.sleep(1.5)
    assert token_login_reason(address, lasting) is None
    assert token_login_reason(address, short) == EVICT_INVALID_TOKEN


def test_deleted_personal_access_token_is_refused_over_tcp(fresh_sandbox):
    address = fresh_sandbox.tcp_address
    token = create_token(address, "revoked", expiry_us=0)
    assert token_login_reason(address, token) is None
    with logged_in(address) as sock:
        reason, reply = exchange(sock, body=name("revoked"), operation=147)
        assert (reason, reply.body) == (None, b"\0\0\0\0")
    assert token_login_reason(address, token) == EVICT_INVALID_TOKEN


def token_client(address: str, token: str) -> IggyClient:
    return IggyClient(TcpConfig(server_address=address,
                                auto_login=AutoLogin.personal_access_token(token),
                                reconnection=TcpReconnectionConfig(enabled=False)))


async def test_sdk_token_login_works_until_the_token_is_deleted(fresh_sandbox):
    address = fresh_sandbox.tcp_address
    token = create_token(address, "sdk-token", expiry_us=0)
    client = token_client(address, token)
    await client.connect()
    assert isinstance(await client.get_streams(), list)
    with logged_in(address) as sock:
        exchange(sock, body=name("sdk-token"), operation=147)
    with pytest.raises(RuntimeError, match="Invalid personal access token"):
        late = token_client(address, token)
        await late.connect()
        await late.get_streams()
