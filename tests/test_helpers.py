"""Behaviour of the helpers package the notebooks import."""

from __future__ import annotations

import asyncio
import io
import json
import os
import shutil
import signal
import socket
import struct
import subprocess
import sys
import time
from datetime import timedelta

import pandas as pd
import pytest
from apache_iggy import (
    AutoLogin,
    GlobalPermissions,
    IggyClient,
    Permissions,
    PollingStrategy,
    TcpConfig,
)
from matplotlib.figure import Figure

import helpers
from coursekit.autostart import AutostartFailed, start_background_sandbox
from coursekit.settings import REPO_ROOT
from coursekit.start_failure import sandbox_start_failure
from helpers import (
    LoginFailed,
    ServerNotAvailable,
    check,
    connect,
    consume,
    curl_login_command,
    ensure_stream,
    ensure_topic,
    get_settings,
    http_get,
    plots,
    produce,
    reset,
    reset_all,
    restart_server,
    server_info,
    size,
)
from helpers.messaging import CONSUME_COLUMNS, PRODUCE_COLUMNS
from sandbox.launch import SandboxStartError

HANG_GUARD = 20  # seconds: a helper that takes longer than this is hanging


# --- settings -----------------------------------------------------------------------------


def test_settings_defaults(monkeypatch):
    for name in (
        "IGGY_TCP_ADDRESS",
        "IGGY_HTTP_URL",
        "IGGY_USERNAME",
        "IGGY_PASSWORD",
        "IGGY_AUTOSTART",
        "COURSE_SMALL",
        "COURSE_DATA_DIR",
    ):
        monkeypatch.delenv(name, raising=False)
    settings = get_settings()
    assert settings.tcp_address == "127.0.0.1:8090"
    assert settings.http_url == "http://127.0.0.1:3000"
    assert settings.http_address == "127.0.0.1:3000"
    assert (settings.username, settings.password) == ("iggy", "iggy")
    assert settings.autostart is True
    assert settings.small is False
    assert settings.data_dir == REPO_ROOT / ".sandbox-data"


@pytest.mark.parametrize(("value", "expected"), [("1", 10), ("0", 1000), ("", 1000)])
def test_size_follows_course_small(monkeypatch, value, expected):
    monkeypatch.setenv("COURSE_SMALL", value)
    assert size(10, 1000) == expected


# --- connect ------------------------------------------------------------------------------


async def test_connect_to_closed_port_says_what_to_run(monkeypatch, closed_address):
    monkeypatch.setenv("IGGY_TCP_ADDRESS", closed_address)
    monkeypatch.setenv("IGGY_AUTOSTART", "0")
    with pytest.raises(ServerNotAvailable) as caught:
        await asyncio.wait_for(connect(), 5)
    message = str(caught.value)
    assert isinstance(caught.value, ConnectionError)
    assert closed_address in message
    assert "make lab" in message
    assert "docker compose up -d" in message
    assert "IGGY_TCP_ADDRESS" in message


async def test_connect_never_autostarts_for_a_remote_address(monkeypatch):
    monkeypatch.setenv("IGGY_AUTOSTART", "1")
    with pytest.raises(ServerNotAvailable, match="not a local address"):
        await asyncio.wait_for(connect("192.0.2.1:8090"), 5)  # TEST-NET-1: never answers


async def test_connect_autostarts_a_detached_sandbox(monkeypatch, tmp_path, capsys, free_address):
    tcp = free_address()
    monkeypatch.setenv("IGGY_TCP_ADDRESS", tcp)
    monkeypatch.setenv("IGGY_HTTP_URL", f"http://{free_address()}")
    monkeypatch.setenv("IGGY_AUTOSTART", "1")
    monkeypatch.setenv("COURSE_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("IGGY_USERNAME", "iggy")
    monkeypatch.setenv("IGGY_PASSWORD", "iggy")
    client = await asyncio.wait_for(connect(), HANG_GUARD)
    info = await server_info(client)
    try:
        out = capsys.readouterr().out
        assert "starting the Iggy sandbox" in out
        assert f"Connected to the Iggy sandbox ({info.version}) at {tcp} as iggy" in out
        assert info.kind == "sandbox"
        assert info.address == tcp
        assert (tmp_path / "data" / "sandbox.log").exists()
        assert os.getsid(info.process_id) != os.getsid(0)  # detached: its own session
    finally:
        _stop_pid(info.process_id)


async def test_a_failed_autostart_names_the_taken_port(monkeypatch, tmp_path, free_address):
    http = free_address()
    monkeypatch.setenv("IGGY_HTTP_URL", f"http://{http}")
    monkeypatch.setenv("COURSE_DATA_DIR", str(tmp_path / "data"))
    host, _, port = http.rpartition(":")
    with socket.socket() as squatter:
        squatter.bind((host, int(port)))
        squatter.listen()
        with pytest.raises(AutostartFailed) as failed:
            await asyncio.wait_for(start_background_sandbox(free_address(), get_settings()),
                                   HANG_GUARD)
    assert f"Is port {http} (IGGY_HTTP_URL) taken?" in str(failed.value)
    assert str(tmp_path / "data" / "sandbox.log") in str(failed.value)


def test_a_full_disk_is_not_blamed_on_a_port(tmp_path):
    settings, log = get_settings(), tmp_path / "sandbox.log"
    refused = SandboxStartError("the sandbox did not start: the disk is full where it keeps "
                                "its data", disk_full=True)
    message = sandbox_start_failure(refused, "127.0.0.1:8090", log, settings)
    assert "the disk is full" in message and str(log) in message
    assert "taken" not in message and "IGGY_HTTP_URL" not in message


async def test_connect_announces_the_server(iggy_server, capsys):
    client = await connect()
    info = await server_info(client)
    lines = capsys.readouterr().out.splitlines()
    user = get_settings().username
    assert lines == [f"Connected to {info.name} at {iggy_server.tcp_address} as {user}"]
    assert info.kind == {"sandbox": "sandbox", "real": "apache-iggy"}[iggy_server.kind]
    assert info.version.startswith("0.9")
    if iggy_server.process is not None:
        assert info.process_id == iggy_server.process.pid
        assert "sandbox" in info.version


async def test_connect_with_wrong_password_names_the_settings(iggy_server, monkeypatch):
    monkeypatch.setenv("IGGY_PASSWORD", "not-the-password")
    with pytest.raises(LoginFailed) as caught:
        await asyncio.wait_for(connect(), HANG_GUARD)
    assert "IGGY_USERNAME" in str(caught.value)
    assert "IGGY_PASSWORD" in str(caught.value)
    assert caught.value.__cause__ is None and caught.value.__suppress_context__


# --- streams and topics --------------------------------------------------------------------


async def test_ensure_stream_and_topic_are_idempotent(client, unique):
    stream = unique("nbtest")
    first = await ensure_stream(client, stream)
    again = await ensure_stream(client, stream)
    assert first.id == again.id and again.name == stream

    topic = await ensure_topic(client, stream, "events", partitions=3)
    topic_again = await ensure_topic(client, stream, "events", partitions=3)
    assert topic.id == topic_again.id
    assert topic.partitions_count == 3
    assert [s.name for s in await client.get_streams()].count(stream) == 1
    assert len(await client.get_topics(stream)) == 1


async def test_ensure_topic_creates_the_stream_too(client, unique):
    stream = unique("nbtest")
    topic = await ensure_topic(client, stream, "orders")
    assert topic.name == "orders" and topic.partitions_count == 1
    assert (await client.get_stream(stream)) is not None


async def test_reset_deletes_only_streams_with_the_prefix(client, unique):
    mine, other = unique("nbtest"), unique("nbtest")
    for name in (f"{mine}-a", f"{mine}-b", f"{other}-a"):
        await ensure_stream(client, name)
    assert await reset(client, mine) == [f"{mine}-a", f"{mine}-b"]
    names = {s.name for s in await client.get_streams()}
    assert f"{other}-a" in names
    assert not any(name.startswith(mine) for name in names)
    assert await reset(client, mine) == []


async def test_reset_refuses_an_empty_prefix(client):
    with pytest.raises(ValueError, match="prefix"):
        await reset(client, "")


async def test_reset_all_deletes_only_course_streams(fresh_sandbox, monkeypatch):
    monkeypatch.delenv("COURSE_LEARNER", raising=False)
    client = await connect(fresh_sandbox.tcp_address, announce=False)
    names = ("nb01-orders", "nb07-clicks", "demo-stream", "keep-me", "nbextra", "ana-nb01-x")
    for name in names:
        await ensure_stream(client, name)
    assert await reset_all(client) == ["demo-stream", "nb01-orders", "nb07-clicks"]
    left = sorted(s.name for s in await client.get_streams())
    assert left == ["ana-nb01-x", "keep-me", "nbextra"]


async def test_a_learner_resets_only_their_own_streams(fresh_sandbox, monkeypatch):
    client = await connect(fresh_sandbox.tcp_address, announce=False)
    monkeypatch.setenv("COURSE_LEARNER", "ana")
    assert helpers.prefix("nb03") == "ana-nb03-"
    for name in ("ana-nb03-shop", "ana-demo-stream", "bob-nb03-shop", "nb03-shop", "anana-x"):
        await ensure_stream(client, name)
    assert await reset(client, helpers.prefix("nb03")) == ["ana-nb03-shop"]
    assert await reset_all(client) == ["ana-demo-stream"]
    monkeypatch.setenv("COURSE_LEARNER", "bob")
    assert await helpers.course_streams(client) == ["bob-nb03-shop"]
    monkeypatch.delenv("COURSE_LEARNER")
    assert helpers.prefix("nb03") == "nb03-"
    assert await helpers.course_streams(client) == ["nb03-shop"]


async def test_reset_deletes_the_users_named_with_the_prefix_too(client, unique):
    mine, other = unique("nbtest"), unique("nbtest")
    await ensure_stream(client, f"{mine}-shop")
    for name in (f"{mine}-reader", f"{other}-reader"):
        await client.create_user(name, "secret-1")
    assert await reset(client, mine) == [f"{mine}-shop", f"{mine}-reader"]
    users = {u.username for u in await client.get_users()}
    assert f"{mine}-reader" not in users
    assert {f"{other}-reader", "iggy"} <= users


async def test_reset_all_deletes_only_this_learners_users(fresh_sandbox, monkeypatch):
    client = await connect(fresh_sandbox.tcp_address, announce=False)
    for name in ("ana-nb09-reader", "nb09-reader", "ana", "bo-nb09-reader"):
        await client.create_user(name, "secret-1")
    monkeypatch.setenv("COURSE_LEARNER", "ana")
    assert await helpers.course_users(client) == ["ana-nb09-reader"]
    assert await reset_all(client) == ["ana-nb09-reader"]
    monkeypatch.delenv("COURSE_LEARNER")
    assert await reset_all(client) == ["nb09-reader"]
    left = sorted(u.username for u in await client.get_users())
    assert left == ["ana", "bo-nb09-reader", "iggy"]


async def test_a_user_who_may_not_list_users_resets_their_streams(client, unique):
    mine = unique("nbtest")
    await client.create_user(
        mine, "secret-1", permissions=Permissions(GlobalPermissions(manage_streams=True))
    )
    try:
        learner = await connect(username=mine, password="secret-1", announce=False)
        await ensure_stream(learner, f"{mine}-shop")
        assert await reset(learner, mine) == [f"{mine}-shop"]
    finally:
        await client.delete_user(mine)


@pytest.mark.parametrize("name", ["ana smith", "9lives", "nb03", "Demo", "a-b", "al", "x" * 33])
def test_a_learner_name_that_cannot_be_part_of_a_name_is_refused(monkeypatch, name):
    monkeypatch.setenv("COURSE_LEARNER", name)
    with pytest.raises(ValueError, match="COURSE_LEARNER"):
        helpers.prefix("nb03")


def test_reset_module_deletes_a_prefix(iggy_server, unique):
    stream = unique("nbtest")
    asyncio.run(_create_stream(stream))
    result = subprocess.run(
        [sys.executable, "-m", "coursekit.reset", stream],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert f"Deleted: {stream}" in result.stdout


async def _create_stream(name: str) -> None:
    await ensure_stream(await connect(announce=False), name)


# --- produce and consume -------------------------------------------------------------------


async def test_produce_then_consume_round_trip(client, unique):
    stream = unique("nbtest")
    await ensure_topic(client, stream, "t")
    sent = await produce(client, stream, "t", ["plain text", b"raw bytes", {"n": 1}])
    assert list(sent.columns) == PRODUCE_COLUMNS
    assert list(sent["offset"]) == [0, 1, 2]
    assert list(sent["partition"]) == [0, 0, 0]
    assert list(sent["payload"]) == ["plain text", "raw bytes", '{"n": 1}']

    got = await consume(client, stream, "t", count=3)
    assert list(got.columns) == CONSUME_COLUMNS
    assert list(got["offset"]) == [0, 1, 2]
    assert list(got["partition"]) == [0, 0, 0]
    assert list(got["payload"]) == ["plain text", "raw bytes", '{"n": 1}']
    assert json.loads(got["payload"][2]) == {"n": 1}
    assert isinstance(got["timestamp"].dtype, pd.DatetimeTZDtype)
    assert abs(got["timestamp"][0] - pd.Timestamp.now(tz="UTC")) < pd.Timedelta(minutes=5)
    assert list(got["headers"]) == [None, None, None]


async def test_headers_travel_with_the_messages(client, unique):
    stream = unique("nbtest")
    await ensure_topic(client, stream, "t")
    await produce(client, stream, "t", ["a", "b"], headers={"source": "test", "n": 7})
    got = await consume(client, stream, "t", count=2)
    assert list(got["headers"]) == [{"source": "test", "n": 7}] * 2


async def test_consume_reads_many_batches_without_duplicates(client, unique):
    stream = unique("nbtest")
    await ensure_topic(client, stream, "t")
    await produce(client, stream, "t", [f"m{i}" for i in range(25)], batch_size=7)
    got = await consume(client, stream, "t", count=25, batch=10)
    assert list(got["offset"]) == list(range(25))
    assert list(got["payload"]) == [f"m{i}" for i in range(25)]


async def test_consume_is_bounded_on_an_empty_topic(client, unique):
    stream = unique("nbtest")
    await ensure_topic(client, stream, "t")
    got = await asyncio.wait_for(consume(client, stream, "t", count=5, timeout=0.5), 5)
    assert len(got) == 0
    assert list(got.columns) == CONSUME_COLUMNS


async def test_consume_returns_what_arrived_by_the_deadline(client, unique):
    stream = unique("nbtest")
    await ensure_topic(client, stream, "t")
    await produce(client, stream, "t", ["only", "two"])
    got = await asyncio.wait_for(consume(client, stream, "t", count=10, timeout=0.5), 5)
    assert list(got["payload"]) == ["only", "two"]


async def test_consume_with_auto_commit_goes_on_where_it_stopped(client, unique):
    stream = unique("nbtest")
    await ensure_topic(client, stream, "t")
    await produce(client, stream, "t", ["a", "b", "c"])
    first = await consume(client, stream, "t", count=2, auto_commit=True, consumer="reader")
    second = await consume(
        client, stream, "t", count=5, timeout=0.5, auto_commit=True, consumer="reader"
    )
    without_commit = await consume(client, stream, "t", count=1, consumer="other")
    again = await consume(client, stream, "t", count=1, consumer="other")
    assert list(first["payload"]) == ["a", "b"]
    assert list(second["payload"]) == ["c"]
    assert list(without_commit["offset"]) == list(again["offset"]) == [0]


async def test_consume_from_an_offset_and_a_partition(client, unique):
    stream = unique("nbtest")
    await ensure_topic(client, stream, "t", partitions=2)
    await produce(client, stream, "t", ["x0", "x1", "x2"], partitioning=1)
    got = await consume(
        client,
        stream,
        "t",
        count=5,
        timeout=0.5,
        partition_id=1,
        strategy=PollingStrategy.Offset(1),
    )
    assert list(got["payload"]) == ["x1", "x2"]
    assert list(got["partition"]) == [1, 1]


async def test_produce_to_a_partition_and_by_key(client, unique):
    stream = unique("nbtest")
    await ensure_topic(client, stream, "t", partitions=3)
    pinned = await produce(client, stream, "t", ["a", "b"], partitioning=2)
    assert list(pinned["partition"]) == [2, 2]
    assert list(pinned["offset"]) == [0, 1]

    orders = [{"user": user, "n": n} for n in range(4) for user in ("ann", "bob", "cid")]
    keyed = await produce(client, stream, "t", orders, partitioning=lambda m: m["user"])
    assert list(keyed["key"]) == [o["user"] for o in orders]
    assert (keyed.groupby("key")["partition"].nunique() == 1).all()
    assert keyed["partition"].notna().all()


async def test_balanced_batches_of_one_spread_over_partitions(client, unique):
    stream = unique("nbtest")
    await ensure_topic(client, stream, "t", partitions=3)
    sent = await produce(client, stream, "t", [str(i) for i in range(6)], batch_size=1)
    assert sorted(sent.groupby("partition").size().tolist()) == [2, 2, 2]
    topic = await client.get_topic(stream, "t")
    assert sorted(p.messages_count for p in topic.partitions) == [2, 2, 2]


async def test_produce_rejects_unsupported_messages(client, unique):
    stream = unique("nbtest")
    await ensure_topic(client, stream, "t")
    with pytest.raises(TypeError, match="str, bytes, dict or list"):
        await produce(client, stream, "t", [42])


async def test_consume_names_a_missing_topic(client, unique):
    with pytest.raises(RuntimeError, match="ensure_topic"):
        await consume(client, unique("nbtest"), "missing", count=1, timeout=1)


# --- plots ---------------------------------------------------------------------------------


async def test_offsets_per_partition_plot(client, unique):
    stream = unique("nbtest")
    await ensure_topic(client, stream, "t", partitions=3)
    await produce(client, stream, "t", ["a", "b", "c"], partitioning=1)
    fig = plots.offsets_per_partition(await client.get_topic(stream, "t"))
    ax = _drawn(fig)
    assert ax.get_title() == "Messages per partition of topic 't'"
    assert [round(bar.get_height()) for bar in ax.patches] == [0, 3, 0]


def test_partition_distribution_plot_with_and_without_keys():
    df = pd.DataFrame({"partition": [0, 0, 1, 2], "key": ["a", "a", "b", None]})
    ax = _drawn(plots.partition_distribution(df))
    assert "4 messages" in ax.get_title()
    assert ax.get_legend() is not None
    plain = _drawn(plots.partition_distribution(df.drop(columns="key")))
    assert [round(bar.get_height()) for bar in plain.patches] == [2, 1, 1]


def test_consumer_lag_plot_per_partition_and_over_time():
    per_partition = pd.DataFrame(
        {"partition": [0, 1], "end_offset": [10, 8], "consumer_offset": [7, 8]}
    )
    ax = _drawn(plots.consumer_lag(per_partition))
    assert ax.get_title()
    assert {t.get_text() for t in ax.texts} >= {"lag 3", "lag 0"}
    over_time = per_partition.assign(time=[1, 1])
    assert _drawn(plots.consumer_lag(over_time)).get_title() == "Consumer lag over time"


def test_throughput_plot():
    results = pd.DataFrame(
        {
            "batch_size": [1, 10, 100] * 2,
            "messages_per_s": [100, 900, 5000, 80, 700, 4000],
            "series": ["direct"] * 3 + ["background"] * 3,
        }
    )
    ax = _drawn(plots.throughput(results))
    assert ax.get_title() == "Throughput by batch size"
    assert (ax.get_xscale(), ax.get_yscale()) == ("log", "log"), "batches of 1 must not be flat"
    assert len(ax.get_lines()) == 2
    over_time = _drawn(plots.throughput(results.drop(columns="batch_size").assign(time=range(6))))
    assert over_time.get_yscale() == "linear" and over_time.get_ylim()[0] == 0


def test_payload_formats_plot():
    results = pd.DataFrame({"format": ["JSON", "MessagePack"], "bytes_per_message": [136, 100],
                            "encode_us": [8.0, 1.0], "decode_us": [6.0, 4.0]})
    figure = plots.payload_formats(results)
    size_ax, time_ax = figure.axes
    assert [bar.get_height() for bar in size_ax.patches] == [136, 100]
    assert [bar.get_height() for bar in time_ax.patches] == [8.0, 1.0, 6.0, 4.0]
    assert [bar.get_y() for bar in time_ax.patches[2:]] == [8.0, 1.0], "decode stacks on encode"


def test_byte_layout_plot():
    parts = pd.DataFrame({"start": [0, 16, 272], "length": [16, 256, 48],
                          "part": ["head", "batch header", "frame header"]})
    ax = _drawn(plots.byte_layout(parts, title="a batch"))
    assert ax.get_title() == "a batch" and ax.get_xlim() == (0, 320)
    assert [(bar.get_x(), bar.get_width()) for bar in ax.patches] == [(0, 16), (16, 256),
                                                                     (272, 48)]
    assert [text.get_text() for text in ax.get_legend().get_texts()] == list(parts["part"])


def test_group_assignment_plot():
    fig = plots.group_assignment({"before": {"A": [0, 1, 2]}, "after": {"A": [0, 1], "B": [2]}})
    ax = _drawn(fig)
    assert "consumer group" in ax.get_title()
    assert [t.get_text() for t in ax.texts] == ["A", "A", "A", "A", "A", "B"]


def test_rate_steps_between_samples_on_a_log_axis_with_labels():
    frame = pd.DataFrame(
        {
            "time": [0.0, 0.5, 1.0, 1.5],
            "messages": [0, 50, 100, 1100],
            "label": ["starting", "batch 1", "batch 1", "batch 10"],
        }
    )
    fig = Figure(layout="constrained")
    ax = fig.subplots()
    plots.draw_rate(ax, frame)
    fig.savefig(io.BytesIO(), format="png")
    assert ax.get_yscale() == "log"
    (steps,) = ax.patches
    assert list(steps.get_data().values) == [100, 100, 2000]
    assert [text.get_text() for text in ax.texts] == ["batch 1", "batch 10"]


def test_segments_over_time_one_line_per_partition():
    frame = pd.DataFrame(
        {"time": [0, 0, 1, 1], "partition": ["a", "b", "a", "b"], "segments": [1, 1, 3, 2]}
    )
    fig = Figure(layout="constrained")
    ax = fig.subplots()
    plots.draw_segments(ax, frame)
    fig.savefig(io.BytesIO(), format="png")
    assert [list(line.get_ydata()) for line in ax.get_lines()] == [[1, 3], [1, 2]]


def test_retention_plot_shows_segments_and_offsets_before_and_after():
    before = {"expiring": {"segments": 3, "first offset": 0, "last offset": 2559}}
    after = {"expiring": {"segments": 1, "first offset": 2048, "last offset": 2559}}
    fig = plots.retention(before, after)
    fig.savefig(io.BytesIO(), format="png")
    segments_ax, offsets_ax = fig.axes
    assert [round(bar.get_width()) for bar in segments_ax.patches] == [3, 1]
    assert [round(bar.get_x()) for bar in offsets_ax.patches] == [0, 2048]
    assert {t.get_text() for t in offsets_ax.texts} == {"0-2559", "2048-2559"}


LEGENDS = {
    "partition_distribution": lambda: plots.partition_distribution(
        pd.DataFrame({"partition": [0, 0, 1, 2] * 5, "key": ["a", "b", "c", "d"] * 5})
    ),
    "consumer_lag": lambda: plots.consumer_lag(
        pd.DataFrame(
            {"partition": [0, 1, 2], "end_offset": [9, 9, 9], "consumer_offset": [9, 1, 0]}
        )
    ),
    "consumer_lag over time": lambda: plots.consumer_lag(
        pd.DataFrame(
            {
                "partition": [0, 1] * 3,
                "time": [0, 0, 1, 1, 2, 2],
                "end_offset": [9] * 6,
                "consumer_offset": [0, 0, 5, 2, 9, 9],
            }
        )
    ),
    "throughput": lambda: plots.throughput(
        pd.DataFrame(
            {
                "batch_size": [1, 10, 100] * 2,
                "messages_per_s": [1e3, 1e4, 9e4] * 2,
                "series": ["a"] * 3 + ["b"] * 3,
            }
        )
    ),
    "retention": lambda: plots.retention(
        {"t": {"segments": 3, "first offset": 0, "last offset": 99}},
        {"t": {"segments": 1, "first offset": 50, "last offset": 99}},
    ),
}


@pytest.mark.parametrize("make", LEGENDS.values(), ids=LEGENDS.keys())
def test_legends_sit_beside_the_data_never_on_it(make):
    fig = make()
    fig.draw_without_rendering()  # lays the figure out
    legends = [ax.get_legend() for ax in fig.axes if ax.get_legend()] + fig.legends
    assert legends, "this chart should have a legend"
    for legend in legends:
        box = legend.get_window_extent()
        for ax in fig.axes:
            assert not box.overlaps(ax.get_window_extent()), "the legend covers data"


def _drawn(fig: Figure):
    """The figure's only axes, after rendering it (so drawing errors surface)."""
    assert isinstance(fig, Figure)
    fig.savefig(io.BytesIO(), format="png")
    (ax,) = fig.axes
    assert ax.get_title()
    return ax


# --- HTTP ----------------------------------------------------------------------------------


async def test_http_get_lists_streams(client, unique):
    stream = unique("nbtest")
    await ensure_stream(client, stream)
    streams = http_get("/streams")
    assert stream in [s["name"] for s in streams]
    assert http_get(f"/streams/{stream}")["name"] == stream


async def test_poll_raw_returns_the_stored_batch_as_bytes(client, unique):
    stream = unique("nbtest")
    await ensure_topic(client, stream, "t")
    await produce(client, stream, "t", ["hi", "you"], batch_size=2)
    raw = await helpers.poll_raw(client, stream, "t", offset=1, count=5)
    partition, current_offset, count = helpers.wire.POLL_REPLY_HEAD.unpack_from(raw)
    assert (partition, current_offset, count) == (0, 1, 1)
    base_offset, batch_length = struct.unpack_from("<Q16xQ", raw, 16 + 8)
    assert base_offset == 0 and batch_length == len(raw) - 16, "the batch, cut to offset 1"
    assert raw.endswith(b"you")
    with pytest.raises(RuntimeError, match="polling .* failed"):
        await helpers.poll_raw(client, stream, "missing")


async def test_personal_access_tokens_are_created_listed_used_and_deleted(client, unique):
    name = unique("nbtest")
    await client.create_user(
        name, "secret-1", permissions=Permissions(GlobalPermissions(read_streams=True))
    )
    user = await connect(username=name, password="secret-1", announce=False)
    forever = await helpers.create_personal_access_token(user, "nbtest-laptop")
    await helpers.create_personal_access_token(user, "nbtest-ci", timedelta(hours=1))
    listed = {t.name: t.expires_at for t in await helpers.personal_access_tokens(user)}
    assert listed["nbtest-laptop"] is None
    assert listed["nbtest-ci"] > time.time() * 1e6
    assert forever not in repr(listed)

    by_token = IggyClient(TcpConfig(server_address=get_settings().tcp_address,
                                    auto_login=AutoLogin.personal_access_token(forever)))
    await asyncio.wait_for(by_token.connect(), HANG_GUARD)
    assert isinstance(await by_token.get_streams(), list)
    assert http_get("/streams", token=forever) == http_get("/streams")

    await helpers.delete_personal_access_token(user, "nbtest-laptop")
    assert [t.name for t in await helpers.personal_access_tokens(user)] == ["nbtest-ci"]
    with pytest.raises(helpers.HttpApiError) as refused:
        http_get("/streams", token=forever)
    assert refused.value.status == 401


async def test_personal_access_token_helpers_refuse_bad_input(client):
    with pytest.raises(ValueError, match="3 to 30"):
        await helpers.create_personal_access_token(client, "ab")
    with pytest.raises(ValueError, match="positive"):
        await helpers.create_personal_access_token(client, "nbtest-x", timedelta(0))
    with pytest.raises(RuntimeError, match="deleting token 'nbtest-none' failed"):
        await helpers.delete_personal_access_token(client, "nbtest-none")


def test_http_get_without_server_says_what_to_do(closed_address):
    with pytest.raises(ServerNotAvailable, match="IGGY_HTTP_URL"):
        http_get("/streams", base_url=f"http://{closed_address}")


def test_curl_login_command_works(iggy_server, capsys):
    curl_login_command()
    command = capsys.readouterr().out.strip()
    assert command.startswith(f"curl -s -X POST {iggy_server.http_url}/users/login")
    if shutil.which("curl") is None:
        pytest.skip("curl is not installed")
    answer = subprocess.run(
        command, shell=True, capture_output=True, text=True, timeout=30, check=False
    )
    assert json.loads(answer.stdout)["access_token"]["token"]


# --- exercises -----------------------------------------------------------------------------


def test_check_prints_the_verdict(capsys):
    assert check(1 + 1 == 2, ok="that is two.", hint="add again.") is True
    assert check([], ok="unused", hint="the list is empty.") is False
    assert capsys.readouterr().out.splitlines() == [
        "✅ Correct: that is two.",
        "❌ Not yet: the list is empty.",
    ]


@pytest.mark.parametrize("name", ["03", "nb03", "03_partitions"])
def test_solution_shows_the_notebooks_answer(capsys, name):
    helpers.solution(name)
    shown = capsys.readouterr().out
    assert "solutions/03_partitions.py" in shown and "def partition_for" in shown


def test_solution_for_an_unknown_notebook_lists_the_known_ones():
    with pytest.raises(ValueError, match="03_partitions"):
        helpers.solution("42")


# --- restarting the server -----------------------------------------------------------------


async def test_restart_server_keeps_pid_and_data(fresh_sandbox, capsys):
    client = await connect(fresh_sandbox.tcp_address, announce=False)
    await ensure_topic(client, "nb99-durable", "t")
    await produce(client, "nb99-durable", "t", ["kept"])
    before = await server_info(client)

    after = await asyncio.wait_for(restart_server(client), 60)
    assert after.process_id == before.process_id == fresh_sandbox.pid
    assert "is back" in capsys.readouterr().out

    again = await connect(fresh_sandbox.tcp_address, announce=False)
    got = await consume(again, "nb99-durable", "t", count=1)
    assert list(got["payload"]) == ["kept"]


def _stop_pid(pid: int) -> None:
    """Stop a sandbox this test started (by its PID) and wait until it is gone."""
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            if os.waitpid(pid, os.WNOHANG)[0] == pid:
                return
        except ChildProcessError:  # not our child (any more): poll for its exit
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                return
        time.sleep(0.1)
    os.kill(pid, signal.SIGKILL)


def test_notebook_errors_turn_a_lost_server_into_a_hint_and_keep_other_tracebacks():
    from coursekit.notebook_errors import short_message
    from helpers.connection import LoginFailed, ServerNotAvailable

    lost = short_message(RuntimeError("Cannot establish connection"))
    assert lost is not None and "re-run the Setup cell" in lost and "make lab" in lost
    assert "too many clients" in lost and "reuse" in lost  # or past the sandbox's limit
    gone = short_message(RuntimeError("Disconnected"))
    assert gone is not None and "make lab" in gone and "too many clients" not in gone
    assert short_message(ServerNotAvailable("run make lab")) == "ServerNotAvailable: run make lab"
    assert short_message(LoginFailed("check IGGY_PASSWORD")).startswith("LoginFailed: ")
    assert short_message(RuntimeError("Stream with ID: 0 was not found.")) is None
    assert short_message(ValueError("Cannot establish connection")) is None
