"""Terminals where trains end a container's rail hop: unload, transfer, deliver, onward.

An unloaded box enters the terminal's yard and then, by its itinerary,

* waits there for the next service (transfer, e.g. Shanghai-Yunnan train to the
  Lancang-Mekong Express at Kunming);
* leaves on an onward leg (Vientiane South: reload to metre gauge for Thailand, trucks to
  Myanmar), arriving after the transfer and running time;
* or waits for its consignee (its dwell), whose truck comes through the gate: delivered
  once it is on the truck (the truck then passes the out-gate).

Places without a terminal (a generic exit point such as the China-Europe Express's border)
hand boxes over on arrival.
"""

from __future__ import annotations

from collections.abc import Callable, Generator
from typing import TYPE_CHECKING, cast

import simpy

from g60rail.model.engine import Wake
from g60rail.model.hub import Hub
from g60rail.random import Sampler

if TYPE_CHECKING:
    from g60rail.model.cargo import Container
    from g60rail.model.rolling_stock import Train
    from g60rail.scenario.schema import OnwardSpec

__all__ = ["OnwardLeg", "Terminal"]


class OnwardLeg:
    """A leg beyond the rail network: transfer time plus running time, no capacity limit."""

    def __init__(self, env: simpy.Environment, spec: OnwardSpec, transfer_h: Sampler) -> None:
        self.env = env
        self.spec = spec
        self.transfer_h = transfer_h
        self.running_h = spec.km / spec.speed_kmh
        self.teu = 0
        self.tonnes = 0.0
        """TEU and tonnes that left on the leg after the warm-up."""
        self.warmup_h = 0.0

    def carry(self, box: Container) -> Generator:
        """Move ``box`` to the leg's destination."""
        if self.env.now >= self.warmup_h:
            self.teu += box.teu
            self.tonnes += box.tonnes
        yield self.env.timeout(self.transfer_h() + self.running_h)


class Terminal:
    """A hub seen from arriving trains.

    Parameters
    ----------
    env
        The SimPy environment.
    hub
        The terminal's gate, yard, stackers and tracks.
    onward
        Onward legs leaving from this terminal, by index in the scenario's list.
    on_arrived, on_delivered
        Called when a box reaches its destination place and when it leaves the system.
    """

    def __init__(
        self,
        env: simpy.Environment,
        hub: Hub,
        onward: dict[str, OnwardLeg],
        on_arrived: Callable[[Container], None],
        on_delivered: Callable[[Container], None],
    ) -> None:
        self.env = env
        self.hub = hub
        self.place = hub.place
        self.onward = onward
        self.on_arrived = on_arrived
        self.on_delivered = on_delivered

    def unload(self, train: Train, boxes: list[Container]) -> Generator:
        """Unload ``boxes`` from ``train`` (which holds a track) with the reach stackers:
        as many crews as stackers (at most one a box), each taking the next box off the
        train until none are left."""
        env = self.env
        train.remove(boxes)
        todo = list(reversed(boxes))
        crews = min(len(boxes), self.hub.stackers.count)
        unloaded = env.event()
        working = [crews]

        def crew_done() -> None:
            working[0] -= 1
            if working[0] == 0:
                unloaded.succeed()

        if crews == 0:
            unloaded.succeed()
        for _ in range(crews):
            _Crew(self, todo, crew_done).next_box()
        yield unloaded

    def _landed(self, box: Container) -> None:
        env, hub = self.env, self.hub
        box.t_yard_in = env.now
        hub.yard.add(box.teu)
        box.hop += 1
        if box.hop == len(box.itinerary):
            box.t_arrived = env.now
            self.on_arrived(box)
            # the consignee's truck comes after the box's dwell
            delay = hub.pickup_delay_h(box.dwell_h)
            Wake(env, delay, self._pickup, box)
            return
        nxt = box.current
        if nxt.kind == "onward":
            env.process(self._onward(box, self.onward[nxt.ref]))
        else:
            hub.queue(nxt.ref).push(box)

    def _pickup(self, ev: Wake) -> None:
        """The consignee's truck for the box of ``ev`` (its value) is at the gate."""
        self.hub.truck_out(cast("Container", ev.value), self._handed_over)

    def _handed_over(self, box: Container) -> None:
        """The box is on its consignee's truck (which still has the out-gate to pass)."""
        box.t_delivered = self.env.now
        self.on_delivered(box)

    def _onward(self, box: Container, leg: OnwardLeg) -> Generator:
        stackers = self.hub.stackers
        yield from stackers.move(stackers.truck_work)
        self.hub.yard.remove(box, by_train=False)
        yield from leg.carry(box)
        box.hop += 1
        box.t_arrived = box.t_delivered = self.env.now
        self.on_arrived(box)
        self.on_delivered(box)


class _Crew:
    """One reach stacker unloading a train: it takes the boxes left in ``todo`` off the
    train one by one (as train work) until none are left; then ``done`` is called.
    Event-driven: each step is a callback of the event it waits for."""

    __slots__ = ("done", "pool", "stackers", "terminal", "todo")

    def __init__(self, terminal: Terminal, todo: list[Container], done: Callable[[], None]):
        self.terminal = terminal
        self.stackers = terminal.hub.stackers
        self.pool = self.stackers.pool
        self.todo = todo
        self.done = done

    def next_box(self) -> None:
        """Wait for a stacker for the next box, if one is left."""
        if not self.todo:
            self.done()
            return
        grant = self.pool.acquire(self.stackers.train_work)
        if grant is None:
            self.granted()
        else:
            grant.callbacks.append(self.on_grant)

    def on_grant(self, _e: simpy.Event) -> None:
        """The stacker waited for is this crew's."""
        self.granted()

    def granted(self) -> None:
        """With a stacker: move the next box, unless the others took the last one."""
        if not self.todo:  # the others finished while this one waited
            self.pool.release()
            self.done()
            return
        box = self.todo.pop()
        Wake(self.terminal.env, self.stackers.move_h(), self.moved, box)

    def moved(self, ev: Wake) -> None:
        """The box of ``ev`` (its value) is in the yard."""
        self.pool.release()
        self.terminal._landed(cast("Container", ev.value))
        self.next_box()
