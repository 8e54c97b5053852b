"""An exact, faster ``copy.deepcopy`` for the OpenAPI bodies aws-sam-translator edits.

Why: the translator's ``SwaggerEditor`` and ``OpenApiEditor`` deep-copy the whole API body when they start and again
when they hand it back, once per ``Api``/``HttpApi`` event, so an implicit API with N paths costs N copies of an
N-path body. ``copy.deepcopy`` on the translator's ``Py27Dict`` runs Python code per node and rebuilds every node's
Python 2.7 key order by re-inserting its keys one by one (hashing each with a Python 2.7 hash written in Python): at
N = 500 that is ~20 s of a ~22 s translation.

What this does instead, with the same result, in two parts:
- ``deepcopy``: the same recursion (``memo`` shared, so aliases stay aliases), with a type dispatch instead of
  ``copy``'s generic protocol, and each key list's rebuild looked up by its keys in order: a rebuilt ``Py27Keys``
  depends only on the key values in iteration order, so the layout (which slot each key takes, and the table's size,
  fill and mask) is computed once (``py27_order.fresh_layout``: the translator's probing and growth without its
  per-call cost) and reused for every copy of a node with the same keys. Anything that is not a plain ``dict``/``list``/
  ``Py27Dict``/``Py27Keys`` or an immutable scalar goes to ``copy.deepcopy`` with the same memo.
- ``Sharing`` (below): where the body copied is owned, the path items an event does not touch are shared with the
  copy instead of copied, and owe the key-order rebuilds they skipped until something reads them. That makes a
  translation linear in the number of events.
``tests/unit/transform/test_py27_copy.py`` compares each part with what it replaces (hypothesis), and whole
translations with the translator's own copies (``sam.translate(as_shipped=True)``): generated big apps and the
translator's corpus, errors included.
"""
from __future__ import annotations

import copy
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from samtranslator.utils.py27hash_fix import Py27Dict, Py27Keys, Py27LongInt, Py27UniStr

from strata.transform.py27_order import fresh_layout as _layout

# Rebuild orders by key tuple (``_after``); bounded so a long-lived process (``strata dev``) does not grow without end.
_MAX_ORDERS = 50_000


def deepcopy(value: Any, memo: dict[int, Any] | None = None, *,
             settle: Callable[[Any], None] | None = None) -> Any:
    """``copy.deepcopy(value, memo)``, the same result for the translator's JSON-like trees, faster. ``settle`` pays
    a shared path item's owed rebuilds before it is copied (items in ``memo`` are shared as they are)."""
    atomic = (str, int, float, bool, type(None), Py27UniStr, Py27LongInt)
    dicts = (Py27Dict, _Paths, _LazyItem)
    if memo is None:
        memo = {}

    def walk(x: Any) -> Any:
        cls = type(x)
        if cls in atomic:
            return x
        found = memo.get(id(x), memo)
        if found is not memo:
            return found
        if cls in dicts:
            if cls is _LazyItem:
                if settle is None:
                    raise AssertionError("a shared path item outside a translation")
                settle(x)
            attrs = x.__dict__
            if list(attrs) != ["keylist"] or type(attrs["keylist"]) is not Py27Keys:
                return copy.deepcopy(x, memo)
            result = Py27Dict.__new__(Py27Dict)
            keylist = attrs["keylist"]
            copied_keys = memo.get(id(keylist), memo)
            if copied_keys is memo:
                copied_keys = _keys_copy(keylist, memo)
                memo[id(keylist)] = copied_keys
            result.keylist = copied_keys
            setitem = dict.__setitem__
            for key, item in dict.items(x):
                setitem(result, walk(key), walk(item))
        elif cls is dict:
            result = {}
            memo[id(x)] = result
            for key, item in x.items():
                result[walk(key)] = walk(item)
            return result
        elif cls is list:
            result = []
            memo[id(x)] = result
            append = result.append
            for item in x:
                append(walk(item))
            return result
        else:
            return copy.deepcopy(x, memo)
        memo[id(x)] = result
        _keep(x, memo)
        return result

    return walk(value)


def _keys_copy(keys: Any, memo: dict[int, Any]) -> Any:
    """``copy.deepcopy`` of a ``Py27Keys``: a fresh table with its keys added in its order (looked up, not redone)."""
    names = _text_keys(keys)
    if names is None:
        return copy.deepcopy(keys, memo)
    return _fresh(Py27Keys.__new__(Py27Keys), names)


def _text_keys(keys: Any) -> tuple[str, ...] | None:
    """A ``Py27Keys``'s keys in its iteration order, when all are text (the keys whose fresh table is looked up)."""
    order = keys.keyorder
    names = tuple(order[slot] for slot in sorted(order) if order[slot] is not Py27Keys.DUMMY)
    return names if all(type(k) in (str, Py27UniStr) for k in names) else None


def _fresh(keys: Any, names: tuple[str, ...]) -> Any:
    """``keys`` made, in place, the table a fresh ``Py27Keys`` has after adding ``names`` in this order."""
    slots, size, fill, mask = _layout(names)
    keys.__dict__.update(debug=False, keyorder=dict(zip(slots, names)), size=size, fill=fill, mask=mask)
    return keys


def _keep(x: Any, memo: dict[int, Any]) -> None:
    """What ``copy`` does for an object whose copy it memoised: keep the original alive while the memo lives."""
    try:
        memo[id(memo)].append(x)
    except KeyError:
        memo[id(memo)] = [x]


# --- Shared copies of untouched path items ------------------------------------------------------------------------
#
# Inside the three methods that add one event's path to an API body (``_HOT``), the body they copy is owned: the
# caller replaces it with the editor's result and nothing else holds it or its parts. There a copy need not copy the
# path items the event does not touch: the new body shares them, and each shared item owes the key-order rebuild the
# skipped copies would have done (``_Lineage.epoch`` minus the epoch it was last copied at). The first call of a
# method that reads an owed item's key order, hands out what it holds or changes it (``_LazyItem``) pays the debt
# first, in place, so every read sees what the copies would have given; membership and length tests need no order and
# stay cheap (every editor checks every path item on start). Copying the paths map (``_Paths``) settles all its items.
# An item the map hands out stays owed until such a call: these methods keep no item past their end, and the debt is
# counted by copies of the body, so a later read pays exactly what was skipped. An exception in such a method, or a
# body that does not end up where the caller keeps it, taints the translation (``Sharing.tainted``): the adapter then
# translates again with plain copies.


class _Lineage:
    """The copies made so far of one API body (its path items count their owed rebuilds against ``epoch``)."""

    __slots__ = ("epoch",)

    def __init__(self) -> None:
        self.epoch = 0


class Sharing:
    """One translation's shared-copy bookkeeping (the adapter holds its lock while it lives)."""

    def __init__(self) -> None:
        self.owed: dict[int, tuple[Any, _Lineage, int]] = {}    # id(item) -> (item, lineage, epoch when copied)
        self.lineages: dict[int, _Lineage] = {}                  # id(paths map) -> its body's lineage
        self.paths: list[Any] = []
        self.hot: list[Any] = []       # the owned bodies of the methods running: [source, copies...]
        self.tainted = False

    def settle(self, item: Any) -> None:
        """Pay ``item``'s owed rebuilds (every key list in its subtree, in place) and make it a plain Py27Dict."""
        entry = self.owed.pop(id(item), None)
        if entry is None:
            return
        _, lineage, epoch = entry
        item.__class__ = Py27Dict
        _rebuild_tree(item, lineage.epoch - epoch)

    def settle_all(self) -> None:
        for item, _, _ in list(self.owed.values()):
            self.settle(item)
        for paths in self.paths:
            if type(paths) is _Paths:
                paths.__class__ = Py27Dict
        self.paths.clear()
        self.lineages.clear()

    def copy_owned(self, doc: Any) -> Any:
        """The editor's copy of an owned body: the spine copied, the untouched path items shared and owing one more
        rebuild, the touched (or new) ones copied and registered as owing none."""
        paths: Any = doc.get("paths") if type(doc) is Py27Dict else None
        if type(paths) not in (Py27Dict, _Paths):
            return deepcopy(doc, settle=self.settle)
        lineage = (self.lineages.pop(id(paths), None) if type(paths) is _Paths else None) or _Lineage()
        if type(paths) is _Paths:
            paths.__class__ = Py27Dict     # the source is dead once copied; its copy takes over the bookkeeping
        if list(paths.__dict__) != ["keylist"] or type(paths.keylist) is not Py27Keys:
            self.tainted = True
            return deepcopy(doc, settle=self.settle)
        memo: dict[int, Any] = {}
        new_paths: Any = Py27Dict.__new__(Py27Dict)
        new_paths.keylist = _keys_copy(paths.keylist, memo)
        fresh = []
        for key, item in dict.items(paths):
            if type(item) is _LazyItem:
                dict.__setitem__(new_paths, key, item)
            else:
                copied = deepcopy(item, memo, settle=self.settle)
                dict.__setitem__(new_paths, key, copied)
                if type(copied) is Py27Dict:
                    fresh.append(copied)
        memo[id(paths)] = new_paths
        result = deepcopy(doc, memo, settle=self.settle)
        lineage.epoch += 1
        if dict.get(result, "paths") is not new_paths:
            self.tainted = True
            return result
        for item in fresh:
            item.__class__ = _LazyItem
            self.owed[id(item)] = (item, lineage, lineage.epoch)
        new_paths.__class__ = _Paths
        self.lineages[id(new_paths)] = lineage
        self.paths.append(new_paths)
        return result


_ACTIVE: list[Sharing] = []


def _settle_active(item: Any) -> None:
    if _ACTIVE:
        _ACTIVE[-1].settle(item)


def _rebuild_tree(node: Any, times: int) -> None:
    """``times`` deep copies' worth of key-order rebuilds on every ``Py27Dict`` in ``node``'s tree, in place."""
    if times <= 0:
        return
    seen: set[int] = set()
    stack = [node]
    while stack:
        x = stack.pop()
        if id(x) in seen:
            continue
        seen.add(id(x))
        cls = type(x)
        if cls is _LazyItem:
            raise AssertionError("a shared path item inside another")   # never: items hold no items
        if cls is Py27Dict:
            names = _text_keys(x.keylist)
            if names is None:
                for _ in range(times):
                    x.keylist = copy.deepcopy(x.keylist)
            else:
                _fresh(x.keylist, _after(names, times - 1))
            stack.extend(dict.values(x))
        elif cls is dict:
            stack.extend(x.values())
        elif cls is list:
            stack.extend(x)


_NEXT: dict[tuple[str, ...], tuple[str, ...]] = {}


def _after(names: tuple[str, ...], times: int) -> tuple[str, ...]:
    """The key order after ``times`` rebuilds starting from ``names`` (rebuilds cycle: found once, then skipped)."""
    seen: dict[tuple[str, ...], int] = {}
    history: list[tuple[str, ...]] = []
    current = names
    step = 0
    while step < times:
        if current in seen:
            start = seen[current]
            period = step - start
            return history[start + (times - step) % period]
        seen[current] = step
        history.append(current)
        following = _NEXT.get(current)
        if following is None:
            slots, _, _, _ = _layout(current)
            following = tuple(name for _, name in sorted(zip(slots, current)))
            if len(_NEXT) >= _MAX_ORDERS:
                _NEXT.clear()
            _NEXT[current] = following
        current = following
        step += 1
    return current


def _settling(name: str) -> Callable[..., Any]:
    """A ``_LazyItem`` method: pay the item's owed rebuilds (it becomes a plain Py27Dict), then do what it asked."""
    def method(self: Any, *args: Any, **kwargs: Any) -> Any:
        _settle_active(self)
        if type(self) is _LazyItem:       # no translation to settle it: never (a lazy item lives inside one)
            raise AssertionError("a shared path item outside a translation")
        return getattr(self, name)(*args, **kwargs)
    method.__name__ = name
    return method


def _settling_values(name: str) -> Callable[..., Any]:
    """A ``_Paths`` method that copies the map or hands it out whole: every item in it pays its owed rebuilds first and
    the map becomes a plain Py27Dict (single items it hands out stay shared: they settle on their first read)."""
    def method(self: Any, *args: Any, **kwargs: Any) -> Any:
        for item in list(dict.values(self)):
            if type(item) is _LazyItem:
                _settle_active(item)
        self.__class__ = Py27Dict
        return getattr(self, name)(*args, **kwargs)
    method.__name__ = name
    return method


# Methods that read an item's key order, hand out what it holds, or change it. Not here, as they need neither:
# ``__contains__``, ``__len__``, ``__eq__``/``__ne__`` (dict comparison ignores order).
_ITEM_METHODS = ("__getitem__", "__setitem__", "__delitem__", "__iter__", "__str__", "__repr__", "__deepcopy__",
                 "__copy__", "__reduce__", "__reduce_ex__", "get", "keys", "values", "items", "pop", "popitem",
                 "setdefault", "update", "clear", "copy", "__or__", "__ior__", "__ror__", "__reversed__")
_PATHS_METHODS = ("copy", "popitem", "__reduce__", "__reduce_ex__", "__deepcopy__", "__copy__")


class _LazyItem(Py27Dict):
    """A path item shared by copies of its body, owing key-order rebuilds (``Sharing.owed``)."""


class _Paths(Py27Dict):
    """The paths map of a body whose items may be shared (``_LazyItem``)."""


for _name in _ITEM_METHODS:
    setattr(_LazyItem, _name, _settling(_name))
for _name in _PATHS_METHODS:
    setattr(_Paths, _name, _settling_values(_name))
_LazyItem.__hash__ = None     # type: ignore[assignment]
_Paths.__hash__ = None        # type: ignore[assignment]


# The methods that add one event's path to a body they own, and where each leaves the body: (module, class, method,
# the body it starts from (None: not owned), where it keeps the result).
def _plugin_body(plugin: Any, event_id: Any, event_properties: Any, template: Any) -> tuple[Any, Callable[[], Any]]:
    api_id = plugin._get_api_id(event_properties)
    if not isinstance(api_id, str) or template.get(api_id) is None:
        return None, lambda: None

    def kept() -> Any:
        resource = template.get(api_id)
        return resource.properties.get("DefinitionBody") if isinstance(resource.properties, dict) else None
    return kept(), kept


def _event_body(event: Any, api: Any, *_: Any, **__: Any) -> tuple[Any, Callable[[], Any]]:
    if not isinstance(api, dict) or api.get("MergeDefinitions"):
        return None, lambda: None
    return api.get("DefinitionBody"), lambda: api.get("DefinitionBody")


_HOT = (("samtranslator.plugins.api.implicit_api_plugin", "ImplicitApiPlugin", "_add_api_to_swagger", _plugin_body),
        ("samtranslator.model.eventsources.push", "Api", "_add_swagger_integration", _event_body),
        ("samtranslator.model.eventsources.push", "HttpApi", "_add_openapi_integration", _event_body))
# The translator versions whose hot methods were read for the ownership above (and tested): others copy in full.
SHARING_VERSIONS = ("1.115.0",)


@contextmanager
def editors_copy_fast(sharing: Sharing | None) -> Iterator[None]:
    """While translating (under the adapter's lock): the OpenAPI editors copy their bodies with ``deepcopy`` above,
    sharing untouched path items where ``sharing`` is given and the body is owned."""
    import importlib

    import samtranslator
    import samtranslator.open_api.open_api as open_api
    import samtranslator.swagger.swagger as swagger

    if getattr(samtranslator, "__version__", None) not in SHARING_VERSIONS:
        sharing = None

    def editor_copy(doc: Any) -> Any:
        if sharing is not None and sharing.hot and doc is sharing.hot[-1][-1]:
            result = sharing.copy_owned(doc)
            sharing.hot[-1].append(result)
            return result
        return deepcopy(doc, settle=None if sharing is None else sharing.settle)

    saved: list[tuple[Any, str, Any]] = [(swagger, "_deepcopy", swagger._deepcopy),
                                         (open_api, "_deepcopy", open_api._deepcopy)]
    swagger._deepcopy = editor_copy
    open_api._deepcopy = editor_copy
    if sharing is not None:
        for module_name, class_name, method_name, locate in _HOT:
            owner = getattr(importlib.import_module(module_name), class_name)
            original = owner.__dict__[method_name]
            saved.append((owner, method_name, original))
            setattr(owner, method_name, _owning(sharing, original, locate))
        _ACTIVE.append(sharing)
    try:
        yield
    finally:
        if sharing is not None:
            _ACTIVE.remove(sharing)
        for owner, name, original in reversed(saved):
            setattr(owner, name, original)


def _owning(sharing: Sharing, original: Callable[..., Any], locate: Callable[..., tuple[Any, Callable[[], Any]]]
            ) -> Callable[..., Any]:
    def method(self: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            body, kept = locate(self, *args, **kwargs)
        except Exception:       # noqa: BLE001 - an odd event: the method itself reports it, with plain copies
            body, kept = None, lambda: None
        if body is None:
            return original(self, *args, **kwargs)
        frame = [body]
        sharing.hot.append(frame)
        try:
            result = original(self, *args, **kwargs)
        except BaseException:
            sharing.tainted = True
            raise
        finally:
            sharing.hot.pop()
        if len(frame) > 1 and kept() is not frame[-1]:
            sharing.tainted = True
        return result
    return method
