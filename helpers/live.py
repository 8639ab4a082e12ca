"""Live views: a figure that redraws in place while a bounded background task runs.

A live view measures something every ``every`` seconds (a partition's offsets, a
consumer's lag, a group's members), keeps every sample and redraws its figure from them,
about three times a second. It runs as a task on the kernel's event loop: the cell that
starts it returns at once, and the next cells run while it draws. It always stops by
itself: once the ``work`` it watches has finished and its ``until`` condition holds, or
at its ``seconds`` deadline (30 s unless told).

    view = helpers.live.partition_fill(client, STREAM, "live", work=send_slowly())
    # the figure under the cell grows; run the next cells meanwhile
    await view            # in a later cell: wait for the end (returns the work's result)

The figure is a plain display updated through its display handle, so JupyterLab, VS Code
and nbclient all show it, and a saved notebook keeps the final figure. ``await view``
shows the final figure again from the awaiting cell (nbclient records only the updates
sent while a cell runs) and raises the error that stopped the view, if any: an error is
also written on the figure, never lost.

Named views: ``partition_fill`` (03), ``consumer_lag`` (04), ``group_members`` (05),
``throughput`` (06), ``segments`` (07). Their samplers (``lag_sample``, ``group_sample``,
``segments_sample``) and the ``plots.draw_*`` functions combine into views of your own,
with several panels if you like. Make one from any sampler and drawing function:

    async def sample():                           # one measurement
        return (await client.get_topic(STREAM, TOPIC)).messages_count

    def draw(fig, samples):                       # [(seconds since start, sample), ...]
        ax = fig.subplots()
        ax.plot([t for t, _ in samples], [n for _, n in samples])

    view = helpers.live.LiveView(sample, draw, title="Messages", until=lambda n: n >= 100)
"""

from __future__ import annotations

import asyncio
import base64
import inspect
import io
import textwrap
import threading
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any, Generic, TypeVar

import pandas as pd
from apache_iggy import Consumer, IggyClient
from IPython import get_ipython
from IPython.display import DisplayHandle, display
from matplotlib.figure import Figure

from helpers import plots
from helpers.offsets import stored_offset

S = TypeVar("S")
Samples = list[tuple[float, Any]]  # (seconds since the view started, sample)

EVERY = 0.3  # seconds between samples, each followed by a redraw: about 3 redraws a second
MIN_EVERY = 0.2  # faster redraws cost the notebook more time than they show
SECONDS = 30.0  # default deadline of a view
SIZE = (7.0, 3.6)  # inches; every frame of a view has the same size: the page never jumps
DPI = 100

_running: dict[str, LiveView] = {}  # by title: running a cell again replaces its view


class LiveView(Generic[S]):
    """Sample ``sample()`` every ``every`` seconds and redraw ``draw(figure, samples)``.

    Samples come at a steady pace; the figure is redrawn after each one, or, when drawing
    takes longer than ``every`` (a busy machine), as often as it can from the newest
    samples. ``work`` (a coroutine) starts right after the first sample, so the figure
    begins with the state before it.

    The view finishes once the work has finished and ``until(sample)`` holds (either alone
    when only one is given; with neither, it runs to its deadline); the last sample is
    taken after the work ended. At the deadline, ``seconds`` after it started, it stops
    anyway: work still running then is cancelled, which is an error. ``await view``
    returns the work's result (None without work). Starting a view stops a running view
    of the same ``title``, so running a cell again replaces its view. ``size`` is the
    figure's, in inches (wider for several panels).
    """

    def __init__(
        self,
        sample: Callable[[], Awaitable[S]],
        draw: Callable[[Figure, Samples], None],
        *,
        title: str,
        every: float = EVERY,
        seconds: float = SECONDS,
        until: Callable[[S], bool] | None = None,
        work: Awaitable[Any] | None = None,
        size: tuple[float, float] = SIZE,
    ) -> None:
        if every < MIN_EVERY:
            raise ValueError(f"every={every}: redraw at most every {MIN_EVERY} s (5 a second)")
        if seconds <= 0:
            raise ValueError(f"seconds={seconds}: a view needs a deadline in the future")
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            if inspect.iscoroutine(work):
                work.close()
            raise RuntimeError(
                "a live view runs on an event loop: start it in a notebook cell or a coroutine"
            ) from None
        self.title = title
        self.samples: Samples = []
        self.redraws = 0
        self.error: Exception | None = None
        self._state = "starting"
        self._sample, self._draw, self._until = sample, draw, until
        self._every, self._seconds = every, seconds
        self._size = size
        self._figure = Figure(figsize=size, dpi=DPI, layout="constrained")
        self._drawing = threading.Lock()  # the figure is drawn by one thread at a time
        self._bundle = self._render([])
        self._handle: DisplayHandle | None = None
        if get_ipython() is not None:
            data, metadata = self._bundle
            self._handle = display(data, metadata=metadata, raw=True, display_id=True)
        if title in _running:
            _running[title].stop()
        _running[title] = self
        self._work_to_start = work  # started after the first sample: the view sees before
        self._work: asyncio.Future | None = None
        self._redrawing: asyncio.Future | None = None
        self._stale = False  # samples came in since the redraw under way started
        self._task = loop.create_task(self._run())

    @property
    def figure(self) -> Figure:
        """The figure as last drawn (to save it, or to test what it shows)."""
        return self._figure

    @property
    def last(self) -> S | None:
        """The latest sample (None before the first)."""
        return self.samples[-1][1] if self.samples else None

    @property
    def done(self) -> bool:
        return self._task.done()

    @property
    def status(self) -> str:
        """What the view is doing, or why it stopped (written under its figure)."""
        if self.error is not None:
            return f"stopped by an error: {type(self.error).__name__}: {self.error}"
        return self._state

    async def wait(self) -> Any:
        """Wait until the view stops; show its final figure; return the work's result.

        Raises the error of the sampler, the drawing or the work, if one stopped the view.
        """
        try:
            await asyncio.shield(self._task)
        except asyncio.CancelledError:
            if not self._task.cancelled():  # this wait was cancelled, not the view
                raise
        self._publish()  # again, from this cell: nbclient saves only what a running cell sent
        if self.error is not None:
            raise self.error
        if self._work is None or not self._work.done() or self._work.cancelled():
            return None  # no work, or stop() cut it short
        return self._work.result()

    def __await__(self):
        return self.wait().__await__()

    def stop(self) -> None:
        """Stop now (the work too); the figure keeps the last samples."""
        if not self._task.done():
            self._task.cancel()
            if self._redrawing is not None:
                self._redrawing.cancel()
            self._state = "stopped"
            self._bundle = self._render(list(self.samples))
            self._publish()

    def __repr__(self) -> str:
        return f"<LiveView {self.title!r}: {self.status}, {len(self.samples)} samples>"

    async def _run(self) -> None:
        try:
            await self._sample_until_done()
        except asyncio.CancelledError:  # stop() has shown the last frame
            return
        except Exception as error:
            self._failed(error)
        finally:
            await self._end_work()
            if _running.get(self.title) is self:
                del _running[self.title]
        await self._redraw_soon()  # the final frame

    async def _sample_until_done(self) -> None:
        loop = asyncio.get_running_loop()
        started = loop.time()
        while self.error is None:  # a drawing error stops it too
            work_finished = self._work is not None and self._work.done()
            value = await self._next_sample(self._seconds - (loop.time() - started))
            elapsed = loop.time() - started
            self.samples.append((round(elapsed, 3), value))
            if self._work_to_start is not None:
                self._work = asyncio.ensure_future(self._work_to_start)
                self._work_to_start = None
            self._state = self._next_state(value, elapsed, work_finished)
            if not self._state.startswith("live"):
                return
            self._redraw_soon()
            ticks_done = (loop.time() - started) // self._every + 1
            await asyncio.sleep(started + ticks_done * self._every - loop.time())

    async def _end_work(self) -> None:
        """Cancel the work if it is still running (or never started)."""
        if inspect.iscoroutine(self._work_to_start):
            self._work_to_start.close()
        if self._work is not None and not self._work.done():
            self._work.cancel()
            await asyncio.wait([self._work], timeout=self._every)

    def _next_state(self, value: S, elapsed: float, work_finished: bool) -> str:
        """Why the view stops now, or "live: ..."; raises the error that stops it."""
        if work_finished:
            self._work.result()  # the work's error, if it failed
        work_done = work_finished or self._work is None
        condition = self._until is None or self._until(value)
        if work_done and condition and (self._work is not None or self._until is not None):
            return f"finished after {elapsed:.1f} s"
        if elapsed < self._seconds:
            return f"live: {elapsed:.1f} s"
        if not work_done:
            raise TimeoutError(f"the work ran past the view's {self._seconds:g} s")
        return f"stopped at its {self._seconds:g} s limit"

    async def _next_sample(self, seconds_left: float) -> S:
        """One sample, within the time the view has left (or one interval)."""
        limit = max(seconds_left, self._every)
        try:
            return await asyncio.wait_for(self._sample(), limit)
        except TimeoutError:
            message = f"no sample within {limit:.1f} s: is the server answering?"
            raise TimeoutError(message) from None

    def _failed(self, error: Exception) -> None:
        """Keep the first error: ``wait()`` raises it, the figure shows it."""
        if self.error is None:
            self.error = error

    def _redraw_soon(self) -> asyncio.Future:
        """Redraw now, or after the redraw under way: then from the newest samples."""
        self._stale = True
        if self._redrawing is None or self._redrawing.done():
            self._redrawing = asyncio.ensure_future(self._redraw_while_stale())
        return self._redrawing

    async def _redraw_while_stale(self) -> None:
        while self._stale:
            self._stale = False
            await self._redraw()

    async def _redraw(self) -> None:
        """Draw the samples in a worker thread and show the result.

        Drawing a figure takes 50-300 ms of Python; in a thread, the event loop gets its
        turn every few milliseconds meanwhile (the interpreter switches threads every 5 ms),
        so the work and other cells keep running.
        """
        try:
            self._bundle = await asyncio.to_thread(self._render, list(self.samples))
        except Exception as error:  # a bug in the drawing stops the view like any error
            self._failed(error)
            self._bundle = await asyncio.to_thread(self._render, [])
        self.redraws += 1
        self._publish()

    def _publish(self) -> None:
        if self._handle is not None:
            data, metadata = self._bundle
            self._handle.update(data, metadata=metadata, raw=True)

    def _render(self, samples: Samples) -> tuple[dict[str, str], dict[str, Any]]:
        """The figure drawn from ``samples`` as a display bundle: a PNG of fixed size."""
        with self._drawing:
            fig = self._figure
            fig.clear()
            if samples:
                self._draw(fig, samples)
            status = f"{self.status} ({len(self.samples)} samples)"
            colour = "tab:red" if self.error is not None else "grey"
            fig.supxlabel(textwrap.fill(status, 110), fontsize="small", color=colour)
            png = io.BytesIO()
            fig.savefig(png, format="png", dpi=DPI)
        width, height = (round(inches * DPI) for inches in self._size)
        data = {
            "image/png": base64.b64encode(png.getvalue()).decode(),
            "text/plain": f"{self.title}: {status}",
        }
        return data, {"image/png": {"width": width, "height": height}}


# --- named views ---------------------------------------------------------------------------


def partition_fill(client: IggyClient, stream: str, topic: str, **bounds: Any) -> LiveView:
    """Messages per partition and each partition's current offset, while they grow (03).

    ``bounds``: ``work``, ``until``, ``seconds``, ``every`` (see ``LiveView``).
    """

    async def sample() -> Any:
        return await existing_topic(client, stream, topic)

    def draw(fig: Figure, samples: Samples) -> None:
        ax = fig.subplots()
        topic_details = samples[-1][1]
        plots.draw_offsets(ax, topic_details)
        most = max((p.messages_count for p in topic_details.partitions), default=0)
        ax.set_ylim(0, headroom(most))  # a steady scale: the bars grow, not the axis

    return LiveView(sample, draw, title=f"Partitions of '{topic}' filling", **bounds)


async def lag_sample(
    client: IggyClient, stream: str, topic: str, consumer: str | int | Consumer
) -> pd.DataFrame:
    """Per partition: its current offset, ``consumer``'s stored offset (-1: none) and lag."""
    details = await existing_topic(client, stream, topic)
    rows = []
    for p in sorted(details.partitions, key=lambda p: p.id):
        stored = await stored_offset(client, stream, topic, consumer, partition_id=p.id)
        rows.append(
            {
                "partition": p.id,
                "end_offset": p.current_offset if p.messages_count else -1,
                "consumer_offset": -1 if stored is None else stored,
            }
        )
    frame = pd.DataFrame(rows, columns=["partition", "end_offset", "consumer_offset"])
    return frame.assign(lag=frame["end_offset"] - frame["consumer_offset"])


def consumer_lag(
    client: IggyClient, stream: str, topic: str, consumer: str | int | Consumer, **bounds: Any
) -> LiveView:
    """Each partition's lag (messages ``consumer`` has not processed) over time (04).

    Without ``work`` or ``until``, it stops once the lag is 0 on every partition.
    """

    async def sample() -> pd.DataFrame:
        return await lag_sample(client, stream, topic, consumer)

    def draw(fig: Figure, samples: Samples) -> None:
        plots.draw_lag(fig.subplots(), timeline(samples))

    if "work" not in bounds:
        bounds.setdefault("until", lambda frame: bool((frame["lag"] == 0).all()))
    return LiveView(sample, draw, title=f"Lag of '{consumer}' on '{topic}'", **bounds)


async def group_sample(
    client: IggyClient, stream: str, topic: str, group: str | int
) -> dict[int, list[int]]:
    """Member id -> the partitions it owns, as the server says now."""
    details = await client.get_consumer_group(stream, topic, group)
    return {member.id: sorted(member.partitions) for member in details.members}


def group_members(
    client: IggyClient, stream: str, topic: str, group: str | int, **bounds: Any
) -> LiveView:
    """Members of a consumer group and their partitions, one row per change (05)."""

    async def sample() -> dict[int, list[int]]:
        return await group_sample(client, stream, topic, group)

    def draw(fig: Figure, samples: Samples) -> None:
        rows = {
            f"{when}: {len(owners)} member{'' if len(owners) == 1 else 's'}": owners
            for when, owners in changes(samples).items()
        }
        plots.draw_assignment(fig.subplots(), rows)

    return LiveView(sample, draw, title=f"Members of group '{group}'", **bounds)


def throughput(
    count: Callable[[], int | Awaitable[int]],
    *,
    title: str = "Throughput",
    label: Callable[[], str] | None = None,
    **bounds: Any,
) -> LiveView:
    """Messages per second as a run progresses, from a count that only grows (06).

    ``count()`` says how many messages so far: a number the sending task keeps (cheap,
    and exact in time), or a coroutine such as one returning a topic's ``messages_count``.
    ``label()``, if given, names what is running (e.g. "batch 10"); the chart marks where
    it changes.
    """

    async def sample() -> dict[str, Any]:
        now = count()
        messages = await now if inspect.isawaitable(now) else now
        return {"messages": messages} | ({"label": label()} if label else {})

    def draw(fig: Figure, samples: Samples) -> None:
        plots.draw_rate(fig.subplots(), timeline(samples))

    return LiveView(sample, draw, title=title, **bounds)


async def segments_sample(client: IggyClient, stream: str, topics: Sequence[str]) -> pd.DataFrame:
    """Per partition of each topic: its segments and messages now. A partition is named by
    its topic, or "topic/id" when the topic has several."""
    rows = []
    for topic in topics:
        details = await existing_topic(client, stream, topic)
        for p in sorted(details.partitions, key=lambda p: p.id):
            label = topic if details.partitions_count == 1 else f"{topic}/{p.id}"
            rows.append(
                {"partition": label, "segments": p.segments_count, "messages": p.messages_count}
            )
    return pd.DataFrame(rows, columns=["partition", "segments", "messages"])


def segments(client: IggyClient, stream: str, topics: Sequence[str], **bounds: Any) -> LiveView:
    """Segments per partition over time: created as messages arrive, deleted by the
    retention cleaner (07).

    Unless ``until`` says otherwise, it finishes once every partition has fewer segments
    than it had at most (the cleaner deleted some everywhere), and after the ``work``, if
    any (e.g. the sends that fill the topics). The cleaner may take a minute: give it
    ``seconds`` enough, and perhaps ``every=1``.
    """

    async def sample() -> pd.DataFrame:
        return await segments_sample(client, stream, topics)

    def draw(fig: Figure, samples: Samples) -> None:
        plots.draw_segments(fig.subplots(), timeline(samples))

    bounds.setdefault("until", cleaned_everywhere())
    return LiveView(sample, draw, title=f"Segments of {', '.join(topics)}", **bounds)


def cleaned_everywhere() -> Callable[[pd.DataFrame], bool]:
    """A condition for ``segments_sample`` tables, asked once per sample: does every
    partition have fewer segments now than the most it had so far?"""
    most: dict[str, int] = {}

    def cleaned(frame: pd.DataFrame) -> bool:
        for label, count in zip(frame["partition"], frame["segments"], strict=True):
            most[label] = max(most.get(label, 0), count)
        return all(
            count < most[label]
            for label, count in zip(frame["partition"], frame["segments"], strict=True)
        )

    return cleaned


async def existing_topic(client: IggyClient, stream: str, topic: str) -> Any:
    """The topic's details; a clear error when it does not exist (yet)."""
    details = await client.get_topic(stream, topic)
    if details is None:
        raise LookupError(f"no topic {topic!r} in {stream!r}: create it before the view starts")
    return details


def headroom(value: float) -> float:
    """An axis limit at least a fifth above ``value`` that changes rarely: 1, 2, 5, 10,
    20, 50, ..."""
    step = 0
    while (limit := (1, 2, 5)[step % 3] * 10 ** (step // 3)) < value * 1.2:
        step += 1
    return limit


def pipeline(
    client: IggyClient,
    stream: str,
    topic: str,
    group: str,
    *,
    names: Mapping[int, str],
    totals: Callable[[], Mapping[str, int]],
    **bounds: Any,
) -> LiveView:
    """A consumer group at work in a pipeline (11): each partition's lag for ``group``,
    which member owns which partitions (``names``: member id -> a name to show), and the
    running ``totals()`` (name -> count), side by side."""

    async def sample() -> dict[str, Any]:
        owners = await group_sample(client, stream, topic, group)
        return {
            "lag": await lag_sample(client, stream, topic, Consumer.Group(group)),
            "owners": {names.get(member, f"member {member}"): parts
                       for member, parts in owners.items()},
            "totals": dict(totals()),
        }

    def draw(fig: Figure, samples: Samples) -> None:
        grid = fig.add_gridspec(2, 2, width_ratios=(3, 2))
        lag_ax, owners_ax = fig.add_subplot(grid[:, 0]), fig.add_subplot(grid[0, 1])
        plots.draw_lag(lag_ax, timeline([(t, s["lag"]) for t, s in samples]))
        lag_ax.set_title(f"Lag of group '{group}' per partition")
        plots.draw_assignment(owners_ax, changes([(t, s["owners"]) for t, s in samples]))
        owners_ax.set_title("Partition owners (cell: member)", fontsize="medium")
        owners_ax.tick_params(labelsize="small")
        plots.draw_counts(fig.add_subplot(grid[1, 1]), samples[-1][1]["totals"], "Totals")

    bounds.setdefault("size", (10.0, 4.2))  # three panels
    return LiveView(sample, draw, title=f"Pipeline of group '{group}'", **bounds)


# --- samples to tables ---------------------------------------------------------------------


def timeline(samples: Samples) -> pd.DataFrame:
    """All samples as one table with a ``time`` column (seconds since the view started).

    A sample that is a DataFrame contributes its rows; a dict, one row.
    """
    frames = [
        (value if isinstance(value, pd.DataFrame) else pd.DataFrame([value])).assign(time=t)
        for t, value in samples
    ]
    return pd.concat(frames, ignore_index=True)


def changes(samples: Sequence[tuple[float, Any]]) -> dict[str, Any]:
    """The samples that differ from the one before, labelled by their time ("1.2 s")."""
    kept: dict[str, Any] = {}
    previous = object()
    for t, value in samples:
        if value != previous:
            kept[f"{t:.1f} s"] = value
            previous = value
    return kept
