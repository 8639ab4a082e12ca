"""Live views redraw while they run, stop by themselves, never block, and never hide errors.

Three layers: the core ``LiveView`` on this test's event loop; the same in a real kernel
driven by nbclient, as the notebooks run (the saved output must keep the final figure); and
the named views against the session's server.
"""

from __future__ import annotations

import asyncio
import time
from datetime import timedelta

import nbformat
import pytest
from apache_iggy import Consumer, IggyExpiry, PollingStrategy, SendMessage
from nbclient import NotebookClient
from nbformat.v4 import new_code_cell, new_notebook

from helpers import connect, ensure_topic, live, plots, produce
from helpers.live import LiveView, changes, timeline
from tests.test_notebooks import kernel_env, kernel_manager

EVERY = 0.2  # the fastest a view may redraw: keeps these tests short


def counter(fail_at: int | None = None):
    """A sampler returning 1, 2, 3, ...; raises RuntimeError("boom") at ``fail_at``."""
    count = 0

    async def sample() -> int:
        nonlocal count
        count += 1
        if count == fail_at:
            raise RuntimeError("boom")
        return count

    return sample


def line(fig, samples) -> None:
    fig.subplots().plot([t for t, _ in samples], [v for _, v in samples])


# --- the core ------------------------------------------------------------------------------


async def test_a_view_redraws_as_it_samples_and_stops_when_until_says_so():
    view = LiveView(counter(), line, title="t-until", every=EVERY, until=lambda n: n >= 5)
    assert not view.done
    assert await view is None
    assert [n for _, n in view.samples] == [1, 2, 3, 4, 5]
    assert 1 < view.redraws <= 5, "at most one redraw per sample"
    assert view.status.startswith("finished")
    assert view.figure.axes[0].get_lines()[0].get_ydata()[-1] == 5


async def test_a_view_stops_after_its_work_and_returns_the_works_result():
    async def work() -> int:
        await asyncio.sleep(0.5)
        return 42

    view = LiveView(counter(), line, title="t-work", every=EVERY, work=work())
    assert await view == 42
    last_time, _ = view.samples[-1]
    assert last_time >= 0.5, "the last sample is taken after the work finished"
    assert len(view.samples) <= 5


@pytest.mark.parametrize("work_seconds, until_count", [(0.3, 6), (1.0, 1)])
async def test_with_work_and_until_a_view_finishes_once_both_are_done(work_seconds, until_count):
    async def work() -> str:
        await asyncio.sleep(work_seconds)
        return "worked"

    view = LiveView(
        counter(),
        line,
        title="t-both",
        every=EVERY,
        until=lambda n: n >= until_count,
        work=work(),
    )
    assert await view == "worked"
    last_time, last_count = view.samples[-1]
    assert last_time >= work_seconds and last_count >= until_count


async def test_a_view_stops_at_its_deadline():
    started = time.monotonic()
    view = LiveView(counter(), line, title="t-deadline", every=EVERY, seconds=0.6)
    await view
    assert view.status == "stopped at its 0.6 s limit"
    assert time.monotonic() - started < 2


async def test_work_still_running_at_the_deadline_is_cancelled_and_raises():
    work = asyncio.ensure_future(asyncio.sleep(30))
    view = LiveView(counter(), line, title="t-late", every=EVERY, seconds=0.5, work=work)
    with pytest.raises(TimeoutError, match="ran past"):
        await view
    await asyncio.sleep(0)
    assert work.cancelled()


@pytest.mark.parametrize("where", ["sample", "draw", "until", "work"])
async def test_an_error_stops_the_view_shows_on_the_figure_and_raises_on_await(where):
    async def failing_work() -> None:
        await asyncio.sleep(0.3)
        raise RuntimeError("boom")

    def failing_draw(fig, samples) -> None:
        if len(samples) == 2:
            raise RuntimeError("boom")
        line(fig, samples)

    def failing_until(n: int) -> bool:
        if n == 2:
            raise RuntimeError("boom")
        return False

    view = LiveView(
        counter(fail_at=2 if where == "sample" else None),
        failing_draw if where == "draw" else line,
        title=f"t-error-{where}",
        every=EVERY,
        seconds=5,
        until=failing_until if where == "until" else None,
        work=failing_work() if where == "work" else None,
    )
    with pytest.raises(RuntimeError, match="boom"):
        await view
    assert view.status == "stopped by an error: RuntimeError: boom"
    assert view.figure.texts or view.figure._supxlabel.get_text().startswith("stopped by")
    assert len(view.samples) <= 3, "the view stopped at the error"
    with pytest.raises(RuntimeError, match="boom"):
        await view  # every wait says so, not only the first


async def test_a_view_never_blocks_the_loop_and_redraws_two_to_five_times_a_second():
    """While a view redraws at its default pace, another task on the loop keeps running
    every few milliseconds: drawing happens in a worker thread, not on the loop. Drawing
    on the loop would stall it for a whole drawing about three times a second."""
    gaps = []

    async def ticker() -> None:
        last = time.perf_counter()
        while True:
            await asyncio.sleep(0.005)
            now = time.perf_counter()
            gaps.append(now - last)
            last = now

    ticking = asyncio.ensure_future(ticker())
    started = time.perf_counter()
    view = LiveView(counter(), line, title="t-pace", seconds=3)
    await view
    elapsed = time.perf_counter() - started
    ticking.cancel()
    drawing_started = time.perf_counter()
    view._render(view.samples)  # what one drawing takes on this machine, now
    one_drawing = time.perf_counter() - drawing_started
    rate = view.redraws / elapsed
    assert 1.5 <= rate <= 5, f"{view.redraws} redraws in {elapsed:.1f} s"
    stalled = sum(gap for gap in gaps if gap > one_drawing / 2)
    assert stalled < 0.2 * elapsed, (
        f"the loop stood still {stalled:.2f} s of {elapsed:.1f} s "
        f"(one drawing takes {one_drawing:.3f} s)"
    )


async def test_starting_a_view_again_under_its_title_stops_the_old_one():
    old = LiveView(counter(), line, title="t-again", every=EVERY, seconds=10)
    new = LiveView(counter(), line, title="t-again", every=EVERY, until=lambda n: n >= 2)
    await new
    await old
    assert old.status == "stopped"


async def test_too_fast_or_unbounded_views_are_refused():
    with pytest.raises(ValueError, match="at most every"):
        LiveView(counter(), line, title="t-fast", every=0.05)
    with pytest.raises(ValueError, match="deadline"):
        LiveView(counter(), line, title="t-forever", seconds=0)


def test_a_view_outside_an_event_loop_says_where_it_runs():
    async def work() -> None:
        pass

    with pytest.raises(RuntimeError, match="start it in a notebook cell"):
        LiveView(counter(), line, title="t-no-loop", work=work())


def test_samples_become_tables():
    import pandas as pd

    frame = pd.DataFrame({"partition": [0, 1], "lag": [3, 1]})
    table = timeline([(0.0, frame), (0.3, frame.assign(lag=[1, 0]))])
    assert list(table["time"]) == [0.0, 0.0, 0.3, 0.3]
    assert list(timeline([(0.0, {"messages": 1}), (0.3, {"messages": 4})])["messages"]) == [1, 4]
    states = [(0.0, {0: [0, 1]}), (0.3, {0: [0, 1]}), (0.6, {0: [0], 1: [1]})]
    assert changes(states) == {"0.0 s": {0: [0, 1]}, "0.6 s": {0: [0], 1: [1]}}


# --- in a kernel, as notebooks run ---------------------------------------------------------

START_VIEW = """
import asyncio, time
from helpers.live import LiveView
count = 0
async def sample():
    global count
    count += 1
    if count == FAIL_AT:
        raise RuntimeError("boom")
    return count
def draw(fig, samples):
    fig.subplots().plot([t for t, _ in samples], [n for _, n in samples])
started = time.monotonic()
view = LiveView(sample, draw, title="counter", until=lambda n: n >= 10)
print(f"returned after {time.monotonic() - started:.3f} s")
"""


def run_cells(*sources: str) -> nbformat.NotebookNode:
    """Run the cells in a new kernel, as the notebook tests do; errors stay in the outputs."""
    nb = new_notebook(cells=[new_code_cell(source) for source in sources])
    client = NotebookClient(nb, km=kernel_manager(), timeout=60, allow_errors=True)
    with client.setup_kernel(env=kernel_env(), cleanup_kc=True):
        for index, cell in enumerate(nb.cells):
            client.execute_cell(cell, index)
    return nb


def output_text(cell: nbformat.NotebookNode) -> str:
    return "".join(
        out.get("text", "") + out.get("data", {}).get("text/plain", "") for out in cell.outputs
    )


def test_in_a_kernel_the_cell_returns_at_once_later_cells_run_and_the_final_figure_is_saved():
    nb = run_cells(
        "FAIL_AT = None\n" + START_VIEW,
        "await asyncio.sleep(1)\nprint(f'while it runs: {view.redraws} redraws, done={view.done}')",
        "await view\nprint(f'after await: {view.redraws} redraws, done={view.done}')",
    )
    start, meanwhile, after = nb.cells
    returned_after = float(output_text(start).split("returned after ")[1].split(" s")[0])
    assert returned_after < 0.5, "the cell that starts a view must not wait for it"
    (figure,) = [out for out in start.outputs if out.output_type == "display_data"]
    assert figure.data["image/png"], "the view's figure is an image"
    assert figure.metadata["image/png"] == {"width": 700, "height": 360}
    assert figure.data["text/plain"].startswith("counter: finished after"), (
        "the saved output keeps the final figure, not the first one: " + figure.data["text/plain"]
    )
    assert "(10 samples)" in figure.data["text/plain"]
    redraws = int(output_text(meanwhile).split("while it runs: ")[1].split(" ")[0])
    assert redraws >= 2, "the view redraws while another cell runs"
    assert "done=False" in output_text(meanwhile)
    assert "done=True" in output_text(after)


def test_in_a_kernel_an_error_is_shown_in_the_saved_figure_and_raised_by_await():
    nb = run_cells("FAIL_AT = 3\n" + START_VIEW, "await view")
    start, awaiting = nb.cells
    (figure,) = [out for out in start.outputs if out.output_type == "display_data"]
    assert "stopped by an error: RuntimeError: boom" in figure.data["text/plain"]
    (error,) = [out for out in awaiting.outputs if out.output_type == "error"]
    assert (error.ename, error.evalue) == ("RuntimeError", "boom")


# --- the named views, on the session's server ----------------------------------------------


async def test_partition_fill_shows_the_offsets_the_work_reached(client, unique):
    stream = unique("nbtest")
    await ensure_topic(client, stream, "fill", partitions=3)

    async def send_slowly() -> None:
        for n in range(6):
            await produce(client, stream, "fill", [{"n": n}] * (n + 1), partitioning=n % 3)
            await asyncio.sleep(0.1)

    view = live.partition_fill(client, stream, "fill", work=send_slowly(), every=EVERY)
    await view
    heights = [round(bar.get_height()) for bar in view.figure.axes[0].patches]
    assert heights == [1 + 4, 2 + 5, 3 + 6]
    assert len(view.samples) >= 3
    assert [p.messages_count for p in view.samples[0][1].partitions] != heights


async def test_consumer_lag_drains_to_zero_and_stops_there(client, unique):
    stream = unique("nbtest")
    await ensure_topic(client, stream, "lag", partitions=2)
    for partition in (0, 1):
        await produce(client, stream, "lag", [{"n": n} for n in range(8)], partitioning=partition)

    async def catch_up_slowly() -> None:
        reader = await connect(announce=False)
        for _ in range(4):
            for partition in (0, 1):
                await reader.poll_messages(
                    stream,
                    "lag",
                    consumer=Consumer.Single("nbtest-reader"),
                    polling_strategy=PollingStrategy.Next(),
                    count=2,
                    auto_commit=True,
                    partition_id=partition,
                )
            await asyncio.sleep(0.15)

    view = live.consumer_lag(
        client, stream, "lag", "nbtest-reader", work=catch_up_slowly(), every=EVERY
    )
    await view
    assert list(view.samples[0][1]["lag"]) == [8, 8], "nothing read yet: all 8 behind"
    assert list(view.last["lag"]) == [0, 0]
    lines = view.figure.axes[0].get_lines()
    assert len(lines) == 2 and all(line.get_ydata()[-1] == 0 for line in lines)


async def test_group_members_records_every_join_and_leave(client, unique):
    stream = unique("nbtest")
    await ensure_topic(client, stream, "group", partitions=3)
    await client.create_consumer_group(stream, "group", "g")

    async def join_and_leave() -> list:
        members = []  # returned: a member whose client is dropped leaves the group
        for _ in range(2):
            member = await connect(announce=False)
            await member.join_consumer_group(stream, "group", "g")
            members.append(member)
            await asyncio.sleep(0.5)
        await members[0].leave_consumer_group(stream, "group", "g")
        await asyncio.sleep(0.5)
        return members

    view = live.group_members(client, stream, "group", "g", work=join_and_leave(), every=EVERY)
    assert len(await view) == 2
    states = list(changes(view.samples).values())
    member_counts = [len(state) for state in states]
    assert member_counts in ([0, 1, 2, 1], [1, 2, 1]), member_counts
    assert view.figure.axes[0].texts, "the owners are written in the grid"


async def test_throughput_view_draws_the_rate_of_a_count_and_marks_what_was_running(client, unique):
    stream = unique("nbtest")
    await ensure_topic(client, stream, "rate", partitions=1)
    progress = {"label": "starting", "sent": 0}

    async def send_in_phases() -> None:
        for batch in (1, 10):
            progress["label"] = f"batch {batch}"
            for _ in range(8):
                await produce(client, stream, "rate", ["x"] * batch, batch_size=batch)
                progress["sent"] += batch
                await asyncio.sleep(0.05)

    async def stored() -> int:
        return (await client.get_topic(stream, "rate")).messages_count

    view = live.throughput(
        lambda: progress["sent"],
        label=lambda: progress["label"],
        work=send_in_phases(),
        every=EVERY,
    )
    on_server = live.throughput(stored, title="stored", work=view.wait(), every=EVERY)
    await view
    await on_server
    ax = view.figure.axes[0]
    assert ax.get_yscale() == "log"
    assert {text.get_text() for text in ax.texts} >= {"batch 10"}
    assert view.last["messages"] == on_server.last["messages"] == 8 * 1 + 8 * 10


async def test_segments_view_sees_segments_made_then_deleted_by_the_cleaner(client, unique):
    """The session's sandbox runs its cleaner every second (conftest)."""
    stream = unique("nbtest")
    segment = 1_048_576
    await ensure_topic(
        client,
        stream,
        "expiring",
        partitions=1,
        segment_size=segment,
        message_expiry=IggyExpiry.ExpireDuration(timedelta(seconds=1)),
    )

    async def fill() -> None:
        for _ in range(10):  # about 2.5 segments
            await client.send_messages(
                stream, "expiring", 0, [SendMessage("x" * 1000) for _ in range(256)]
            )

    view = live.segments(client, stream, ["expiring"], work=fill(), seconds=30)
    await view
    counts = list(timeline(view.samples)["segments"])
    assert counts[0] == 1 and max(counts) >= 3, counts
    assert counts[-1] < max(counts), "the view finishes once the cleaner deleted segments"
    assert view.status.startswith("finished")
    (ax,) = view.figure.axes
    assert ax.get_legend() is not None and ax.get_lines()


async def test_a_view_of_your_own_combines_samplers_and_charts_in_panels(client, unique):
    """What a capstone needs: each partition's lag, each worker's partitions and the total
    processed, for a group of three workers, in one figure of three panels."""
    stream = unique("nbtest")
    await ensure_topic(client, stream, "orders", partitions=3)
    await client.create_consumer_group(stream, "orders", "workers")
    await produce(client, stream, "orders", [{"order": n} for n in range(30)], batch_size=1)
    workers = [await connect(announce=False) for _ in range(3)]
    processed = []

    async def run_workers() -> None:
        for worker in workers:
            await worker.join_consumer_group(stream, "orders", "workers")
        for _ in range(12):
            for worker in workers:
                processed.extend(
                    await worker.poll_messages(
                        stream,
                        "orders",
                        consumer=Consumer.Group("workers"),
                        polling_strategy=PollingStrategy.Next(),
                        count=2,
                        auto_commit=True,
                    )
                )
            await asyncio.sleep(0.05)

    async def sample() -> dict:
        return {
            "lag": await live.lag_sample(client, stream, "orders", Consumer.Group("workers")),
            "owners": await live.group_sample(client, stream, "orders", "workers"),
            "processed": len(processed),
        }

    def draw(fig, samples) -> None:
        lag_ax, owners_ax, total_ax = fig.subplots(1, 3)
        plots.draw_lag(lag_ax, timeline([(t, s["lag"]) for t, s in samples]))
        plots.draw_assignment(owners_ax, changes([(t, s["owners"]) for t, s in samples]))
        plots.draw_rate(total_ax, timeline([(t, {"messages": s["processed"]}) for t, s in samples]))

    view = LiveView(
        sample,
        draw,
        title="pipeline",
        work=run_workers(),
        every=EVERY,
        size=(12, 4),
        until=lambda s: bool((s["lag"]["lag"] == 0).all()),
    )
    await view
    assert view.last["processed"] == 30 and list(view.last["lag"]["lag"]) == [0, 0, 0]
    assert len(view.last["owners"]) == 3
    assert len(view.figure.axes) == 3


async def test_a_view_of_a_missing_topic_says_to_create_it_first(client, unique):
    stream = unique("nbtest")
    await ensure_topic(client, stream, "here", partitions=1)
    view = live.partition_fill(client, stream, "not-yet", every=EVERY)
    with pytest.raises(LookupError, match="create it before the view starts"):
        await view
    assert "LookupError" in view.status


async def test_pipeline_view_shows_lag_named_owners_and_totals(client, unique):
    stream = unique("nbtest")
    await ensure_topic(client, stream, "orders", partitions=2)
    await client.create_consumer_group(stream, "orders", "g")
    for partition in (0, 1):
        await produce(client, stream, "orders", ["x"] * 4, partitioning=partition)
    member = await connect(announce=False)
    await member.join_consumer_group(stream, "orders", "g")
    (member_id,) = await live.group_sample(client, stream, "orders", "g")
    done = {"orders processed": 0}

    async def process_everything() -> None:
        for _ in range(8):
            polled = await member.poll_messages(
                stream, "orders", consumer=Consumer.Group("g"),
                polling_strategy=PollingStrategy.Next(), count=1, auto_commit=True,
            )
            done["orders processed"] += len(polled)
            await asyncio.sleep(0.05)
        await member.leave_consumer_group(stream, "orders", "g")

    view = live.pipeline(client, stream, "orders", "g", names={member_id: "A"},
                         totals=lambda: done, work=process_everything(), every=EVERY)
    await view
    assert list(view.last["lag"]["lag"]) == [0, 0], "everything committed"
    assert view.samples[0][1]["owners"] == {"A": [0, 1]}, "members shown by their names"
    assert view.last["owners"] == {} and view.last["totals"] == {"orders processed": 8}
    lag_ax, owners_ax, totals_ax = view.figure.axes
    assert len(lag_ax.get_lines()) == 2
    assert "A" in {text.get_text() for text in owners_ax.texts}
    assert [bar.get_width() for bar in totals_ax.patches] == [8]
