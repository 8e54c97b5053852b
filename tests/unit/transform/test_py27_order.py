"""``Py27KeyOrder`` is the translator's ``Py27Keys`` operation for operation (random sequences of adds, removes,
merges and both copies), and the replay built on it gives the order the translator's class gives."""
from __future__ import annotations

import copy
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from samtranslator.utils.py27hash_fix import Py27Keys, Py27UniStr

from strata.transform.py27_order import Py27KeyOrder, fresh_layout, replay_order

# short names collide in small tables; a few long ones make the tables grow and resize
NAMES = st.one_of(st.text(alphabet="abcdFn0123", min_size=1, max_size=3),
                  st.builds(lambda i: f"Function{i}Version", st.integers(0, 300)))
OPS = st.lists(st.one_of(st.tuples(st.just("a"), NAMES), st.tuples(st.just("r"), NAMES),
                         st.tuples(st.just("m"), st.lists(NAMES, max_size=40)), st.tuples(st.just("c")),
                         st.tuples(st.just("k"))), max_size=120)


def _theirs(ops: list[tuple[Any, ...]], unicode: bool) -> list[str]:
    keys = Py27Keys()
    key = (lambda n: Py27UniStr(n)) if unicode else (lambda n: n)
    for op in ops:
        if op[0] == "a":
            keys.add(key(op[1]))
        elif op[0] == "r":
            keys.remove(key(op[1]))
        elif op[0] == "m":
            keys.merge([key(n) for n in op[1]])
        elif op[0] == "c":
            keys = copy.deepcopy(keys)
        else:
            keys = keys.copy()
    return [str(k) for k in keys.keys()]


@settings(max_examples=400, deadline=None)
@given(OPS, st.booleans())
def test_the_key_order_equals_the_translators_after_any_operations(ops: list[tuple[Any, ...]],
                                                                   unicode: bool) -> None:
    ours = Py27KeyOrder()
    for op in ops:
        if op[0] == "a":
            ours.add(op[1])
        elif op[0] == "r":
            ours.remove(op[1])
        elif op[0] == "m":
            ours.merge(list(op[1]))
        elif op[0] == "c":
            ours = ours.deep_copied()
        else:
            ours = ours.copied()
    assert ours.keys() == _theirs(ops, unicode)


@settings(max_examples=200, deadline=None)
@given(OPS, st.dictionaries(NAMES, NAMES, max_size=5))
def test_a_replay_with_renames_equals_the_translators_class(ops: list[tuple[Any, ...]],
                                                            rename: dict[str, str]) -> None:
    trace: list[list[Any]] = []
    for op in ops:
        if op[0] in ("a", "r"):
            trace.append([op[0], [op[1], True]])
        elif op[0] == "m":
            trace.append(["m", [[n, False] for n in op[1]]])
        else:
            trace.append([op[0]])
    renamed = [(op[0], rename.get(op[1], op[1])) if op[0] in ("a", "r") else
               (op[0], [rename.get(n, n) for n in op[1]]) if op[0] == "m" else op for op in ops]
    assert replay_order(trace, rename) == _theirs(renamed, True)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.text(alphabet="abcdefghij/{}-_", min_size=1, max_size=6), max_size=400, unique=True))
def test_a_fresh_layout_equals_the_translators_own_table(names: list[str]) -> None:
    built = Py27Keys()
    for name in names:
        built.add(name)
    slot_of = {key: slot for slot, key in built.keyorder.items()}
    assert fresh_layout(tuple(names)) == \
        (tuple(slot_of[n] for n in names), built.size, built.fill, built.mask)
