"""What an attacker with the data directory or the network could learn: passwords and tokens
are stored only as hashes (argon2 for passwords), the server listens on 127.0.0.1 unless
told otherwise, and listening beyond this machine prints a warning that the default
credentials are public."""

from __future__ import annotations

import json
import os
import struct
import subprocess
import sys
from pathlib import Path

import pytest
from apache_iggy import IggyClient

from sandbox.cli import parse_args
from sandbox.launch import start_sandbox
from tests.wire_session import exchange, logged_in, name

ROOT_PASSWORD = "Root-Pass-7f3a9c"
USER_PASSWORD = "Learner-Pass-51d2e8"
WRONG_GUESS = "Learner-Pass-51d2e9"  # a typo of a real password must not be logged either
REPO_ROOT = Path(__file__).resolve().parent.parent


def files_containing(directory: Path, needle: bytes) -> list[str]:
    return [str(path.relative_to(directory)) for path in directory.rglob("*")
            if path.is_file() and needle in path.read_bytes()]


async def test_passwords_and_tokens_are_stored_only_as_hashes(tmp_path):
    from argon2 import PasswordHasher

    data_dir = tmp_path / "data"
    env = {**os.environ, "IGGY_ROOT_USERNAME": "admin", "IGGY_ROOT_PASSWORD": ROOT_PASSWORD}
    with start_sandbox(data_dir=data_dir, env=env, log_file=tmp_path / "server.log") as server:
        client = IggyClient(server.tcp_address)
        await client.connect()
        await client.login_user("admin", ROOT_PASSWORD)
        await client.create_user("learner", USER_PASSWORD)
        await client.change_password("learner", USER_PASSWORD, USER_PASSWORD + "-v2")
        guesser = IggyClient(server.tcp_address)
        await guesser.connect()
        with pytest.raises(RuntimeError, match="Invalid credentials"):
            await guesser.login_user("learner", WRONG_GUESS)
        with logged_in(server.tcp_address, "admin", ROOT_PASSWORD) as sock:
            _, reply = exchange(sock, body=name("kept-token") + struct.pack("<Q", 0),
                                operation=146)
        token = reply.body[5:5 + reply.body[4]]
        assert len(token) >= 16, f"no token came back: {reply.body!r}"

    # the data directory and the server's log
    for secret in (ROOT_PASSWORD, USER_PASSWORD, USER_PASSWORD + "-v2", WRONG_GUESS):
        assert not files_containing(tmp_path, secret.encode()), f"{secret} stored in clear"
    assert not files_containing(tmp_path, token), "the access token is stored in clear"

    users = {u["username"]: u for u in json.loads((data_dir / "metadata.json").read_text())
             ["users"]}
    hasher = PasswordHasher()
    for username, password in (("admin", ROOT_PASSWORD), ("learner", USER_PASSWORD + "-v2")):
        stored = users[username]["password_hash"]
        assert stored.startswith("$argon2"), f"{username}'s password is kept as {stored[:12]}…"
        assert hasher.verify(stored, password)


def test_default_addresses_are_loopback():
    args = parse_args([])
    assert args.tcp == ("127.0.0.1", 8090)
    assert args.http == ("127.0.0.1", 3000)


def test_help_states_the_loopback_defaults():
    help_text = subprocess.run([sys.executable, "-m", "sandbox", "--help"], cwd=REPO_ROOT,
                               capture_output=True, text=True, timeout=60, check=True).stdout
    assert "default 127.0.0.1:8090" in help_text
    assert "default 127.0.0.1:3000" in help_text


def test_an_address_without_host_binds_loopback(tmp_path):
    with start_sandbox(tcp=":0", http=":0", log_file=tmp_path / "server.log") as server:
        assert server.tcp_address.startswith("127.0.0.1:")
        assert server.http_url.startswith("http://127.0.0.1:")
    assert "default credentials" not in (tmp_path / "server.log").read_text()


@pytest.mark.parametrize("exposed", ["tcp", "http"])
def test_listening_beyond_loopback_warns_that_default_credentials_are_public(tmp_path, exposed):
    log = tmp_path / "server.log"
    tcp, http = ("0.0.0.0:0", "127.0.0.1:0") if exposed == "tcp" else ("127.0.0.1:0", "0.0.0.0:0")
    env = {k: v for k, v in os.environ.items() if not k.startswith("IGGY_ROOT_")}
    with start_sandbox(tcp=tcp, http=http, log_file=log, env=env):
        pass  # stopped at once: nothing is left listening beyond loopback
    text = log.read_text()
    assert "0.0.0.0" in text and "default credentials" in text and "public" in text, text
