"""Border clearance timed by hand: declarations, scan, technical handling, inspection,
opening hours."""

from __future__ import annotations

import simpy
from pytest import approx

from g60rail.model.border import BorderPort, next_open_h
from g60rail.model.cargo import Container, Hop
from g60rail.model.rolling_stock import Train
from g60rail.random import Streams
from g60rail.scenario.schema import BorderSpec

CLEAN = (0.9, 0.9, 0.9, 0.9)  # neither inspected nor pre-declared at share 0.04 / 0


def make_box(cid: int, u=CLEAN) -> Container:
    hop = Hop("rail", "s", "m", "v")
    return Container(cid, 2, "m", "v", "s", (hop,), 0.0, 0.0, u)


def make_port(
    closed: list[tuple[float, float]] | None = None,
    customs_down: list[tuple[float, float]] | None = None,
    **spec_kw,
) -> tuple[BorderPort, simpy.Environment]:
    """Port m (China, open around the clock unless told): one officer, 0.5 h a
    declaration, 0.1 h scan, 1.0 h technical handling, 3 h inspection."""
    spec = BorderSpec(
        place="m",
        officers=spec_kw.pop("officers", 1),
        declaration_h=spec_kw.pop("declaration_h", 0.5),
        scan_h=spec_kw.pop("scan_h", 0.1),
        technical_h=spec_kw.pop("technical_h", 1.0),
        inspection_h=spec_kw.pop("inspection_h", 3.0),
        inspect_share_exit=spec_kw.pop("inspect_share_exit", 0.04),
        inspect_share_entry=0.075,
        **spec_kw,
    )
    env = simpy.Environment()
    return BorderPort(env, spec, "CN", Streams(0), 0.0, closed, customs_down), env


def clear(
    port: BorderPort, env: simpy.Environment, boxes: list[Container], arrive_h: float = 0.0
) -> tuple[Train, float]:
    """Run a train with ``boxes`` through ``port``, arriving at ``arrive_h``; return it and
    the time it was cleared."""
    train = Train(0, "s", 100, 0.0)
    for b in boxes:
        train.add(b)
    done = {}

    def run():
        yield env.timeout(arrive_h)
        yield from port.clear(train, exit_=True)
        done["t"] = env.now

    env.process(run())
    env.run(until=200)
    return train, done["t"]


def clear_train(spec_kw: dict, boxes: list[Container], arrive_h: float = 0.0):
    port, env = make_port(**spec_kw)
    train, t = clear(port, env, boxes, arrive_h)
    return port, train, t


def test_one_officer_processes_declarations_in_turn() -> None:
    # 3 declarations x 0.5 h by one officer = 1.5 h > technical 1.0 h > scan 0.1 h
    port, _train, t = clear_train({}, [make_box(i) for i in range(3)])
    assert t == approx(1.5)
    assert port.clearance_h.values.tolist() == approx([1.5])


def test_two_officers_and_technical_handling_bind() -> None:
    # declarations 0.5 + 0.5 in parallel, the third 0.5-1.0; technical also 1.0
    _port, _, t = clear_train({"officers": 2, "technical_h": 1.2}, [make_box(i) for i in range(3)])
    assert t == approx(1.2)


def test_predeclared_boxes_need_no_processing() -> None:
    pre = (0.9, 0.1, 0.9, 0.9)  # u_pre 0.1 < predeclared share 0.5
    _, _, t = clear_train(
        {"predeclared_share": 0.5, "technical_h": 0.0},
        [make_box(0, pre), make_box(1, pre), make_box(2)],
    )
    assert t == approx(0.5)  # one declaration left


def test_inspected_box_is_held_and_released_after_inspection() -> None:
    picked = (0.01, 0.9, 0.9, 0.9)
    port, train, t = clear_train({}, [make_box(0, picked), make_box(1)])
    assert [b.cid for b in train.boxes] == [1]
    assert train.teu == 2
    assert t == approx(1.0)  # one declaration 0.5, technical 1.0
    assert [b.cid for b in port.held] == [0]
    # taken off when the train is cleared (1.0), inspected 1.0-4.0; it has not left the
    # port yet, so its clearance is still running
    assert port.held[0].held
    assert port.held[0].t_border_out != port.held[0].t_border_out  # NaN
    assert port.box_clearance_h.values.tolist() == approx([1.0])  # the box kept on board
    assert port.held_teu == 2
    # a later train that goes its way and has room takes it, at t = 200 (end of the run)
    later = Train(1, "s", 100, 0.0)
    port.pick_up(later, ahead=["v"])
    assert [b.cid for b in later.boxes] == [0]
    assert port.held == []
    box = later.boxes[0]
    assert box.t_border_out == approx(200.0)
    assert port.box_clearance_h.values.tolist() == approx([1.0, 200.0])
    assert port.held_wait_h.values.tolist() == approx([196.0])
    assert box.itinerary == (Hop("rail", "s", "m", "v"),)  # same service: unchanged
    assert (port.teu_out, port.boarded) == (4, {1: (2, 0.0)})


def test_held_box_stays_when_the_train_does_not_go_its_way() -> None:
    picked = (0.01, 0.9, 0.9, 0.9)
    port, _, _ = clear_train({}, [make_box(0, picked)])
    other = Train(1, "s", 100, 0.0)
    port.pick_up(other, ahead=["elsewhere"])
    assert other.boxes == [] and len(port.held) == 1


def test_customs_wait_for_opening_hours() -> None:
    # arrives 20:00, customs open 08:00-18:00: scan and declarations start at 32 h;
    # one officer, 3 x 0.5 h: cleared at 33.5 h, 13.5 h after arrival
    _, _, t = clear_train(
        {"opening": {"open": "08:00", "close": "18:00"}},
        [make_box(i) for i in range(3)],
        arrive_h=20.0,
    )
    assert t == approx(33.5)


def test_next_open() -> None:
    assert next_open_h(5.0, 8.0, 18.0, 0.0) == approx(8.0)
    assert next_open_h(9.0, 8.0, 18.0, 0.0) == approx(9.0)
    assert next_open_h(18.0, 8.0, 18.0, 0.0) == approx(32.0)
    assert next_open_h(3.0, 22.0, 6.0, 0.0) == approx(3.0)  # over midnight
    assert next_open_h(7.0, 22.0, 6.0, 0.0) == approx(22.0)
    # hour 0 is noon: t = 7 is 19:00, closed until 08:00, i.e. t = 20
    assert next_open_h(7.0, 8.0, 18.0, 12.0) == approx(20.0)
    assert next_open_h(0.0, 0.0, 24.0, 5.0) == approx(0.0)  # always open
