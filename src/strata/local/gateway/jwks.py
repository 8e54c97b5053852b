"""Where a JWT authorizer's signing keys come from locally: a JWKS the user points to, never the internet.

API Gateway fetches the issuer's ``/.well-known/openid-configuration`` and its ``jwks_uri`` from the public internet.
Locally that would make a test depend on a network and on someone else's keys, so the user names the key set per
issuer: ``--jwks ISSUER=LOCATION`` (repeatable) or ``STRATA_JWKS="ISSUER=LOCATION ..."`` (whitespace separated).
LOCATION is a file path, a ``file://`` URL, or an ``http(s)://`` URL on a loopback host (127.0.0.1, localhost, ::1).
An issuer that is itself a loopback URL (a local identity provider in a test) needs no entry: its discovery document
and key set are read from it. Any other issuer without an entry has no keys: its tokens are refused (401) and the
gateway warns once, saying which option to pass.

A file is read again when its modification time changes (a test rotating keys); a URL is read again after
``URL_TTL`` seconds or when a token names a key id the cached set lacks. joserfc is imported on first use (serve
and deploy import this module; most stacks have no JWT authorizer).
"""
from __future__ import annotations

import ipaddress
import json
import os
import time
import urllib.request
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import unquote, urlsplit

if TYPE_CHECKING:
    from joserfc.jwk import KeySet

ENV_VAR = "STRATA_JWKS"
DISCOVERY_PATH = "/.well-known/openid-configuration"
URL_TTL = 60.0              # seconds a key set read from a URL is reused
FETCH_TIMEOUT = 5.0
_LOOPBACK_NAMES = frozenset({"localhost"})


class JwksError(Exception):
    """The key set for an issuer is unavailable or malformed; the message says what to do."""


def is_loopback_url(url: str) -> bool:
    """True for an http(s) URL whose host is this machine (nothing leaves it)."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return False
    host = parts.hostname
    if host.lower() in _LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_location(location: str) -> str:
    """``location`` as given if it is a local source, else a ValueError saying what is accepted."""
    if location.startswith("file://") or "://" not in location:
        return location
    if is_loopback_url(location):
        return location
    raise ValueError(f"JWKS location {location!r} is not local: give a file path, a file:// URL or an http(s) URL "
                     f"on 127.0.0.1/localhost (strata never fetches keys from the internet)")


def parse_entries(entries: Iterable[str]) -> dict[str, str]:
    """``ISSUER=LOCATION`` strings (from ``--jwks`` or ``STRATA_JWKS``) -> {issuer: location}. The issuer is split at
    the last ``=`` so that an issuer URL with a query keeps it. A ValueError names the malformed entry."""
    out: dict[str, str] = {}
    for entry in entries:
        issuer, sep, location = entry.rpartition("=")
        if not sep or not issuer or not location:
            raise ValueError(f"--jwks {entry!r}: expected ISSUER=LOCATION, e.g. "
                             f"https://issuer.example=./jwks.json")
        out[issuer.rstrip("/")] = check_location(location)
    return out


def entries_from_env(environ: Mapping[str, str]) -> list[str]:
    return environ.get(ENV_VAR, "").split()


@dataclass
class _Cached:
    keys: KeySet
    stamp: float                # file mtime_ns, or the clock reading when a URL was read


class JwksSource:
    """Key sets by issuer, read lazily from the locations the user gave. ``fetch`` reads a URL (injected in tests);
    it is only ever called with loopback URLs."""

    def __init__(self, locations: Mapping[str, str] | None = None, *, base: Path | None = None,
                 fetch: Callable[[str], bytes] | None = None, clock: Callable[[], float] = time.monotonic) -> None:
        self._locations = {issuer.rstrip("/"): check_location(loc) for issuer, loc in (locations or {}).items()}
        self._base = base or Path.cwd()
        self._fetch = fetch or _fetch_url
        self._clock = clock
        self._cache: dict[str, _Cached] = {}

    @classmethod
    def from_settings(cls, entries: Iterable[str] = (), environ: Mapping[str, str] | None = None,
                      base: Path | None = None) -> JwksSource:
        """``--jwks`` entries over ``STRATA_JWKS`` (both name an issuer: the option wins)."""
        env = os.environ if environ is None else environ
        locations = parse_entries(entries_from_env(env))
        locations.update(parse_entries(entries))
        return cls(locations, base=base)

    def configured(self, issuer: str) -> bool:
        issuer = issuer.rstrip("/")
        return issuer in self._locations or is_loopback_url(issuer)

    def keys(self, issuer: str, *, kid: str | None = None) -> KeySet:
        """The key set for ``issuer``. ``kid`` not in a cached URL set -> read the URL again once."""
        issuer = issuer.rstrip("/")
        location = self._locations.get(issuer)
        if location is None:
            if not is_loopback_url(issuer):
                raise JwksError(f"no JWKS for issuer {issuer}: pass --jwks {issuer}=PATH (or set {ENV_VAR}); "
                                f"strata does not fetch keys from the internet")
            location = self._discover(issuer)
        if "://" not in location or location.startswith("file://"):
            return self._file_keys(location)
        cached = self._cache.get(location)
        fresh = cached is not None and self._clock() - cached.stamp < URL_TTL
        if cached is not None and fresh and (kid is None or _has_kid(cached.keys, kid)):
            return cached.keys
        keys = _parse(self._fetch(location), location)
        self._cache[location] = _Cached(keys, self._clock())
        return keys

    def _discover(self, issuer: str) -> str:
        url = issuer + DISCOVERY_PATH
        try:
            doc = json.loads(self._fetch(url))
            jwks_uri = doc["jwks_uri"]
        except (ValueError, KeyError, TypeError) as exc:
            raise JwksError(f"{url}: not an OpenID discovery document with a jwks_uri ({exc})") from exc
        if not isinstance(jwks_uri, str) or not is_loopback_url(jwks_uri):
            raise JwksError(f"{url}: jwks_uri {jwks_uri!r} is not on this machine; pass --jwks {issuer}=PATH")
        return jwks_uri

    def _file_keys(self, location: str) -> KeySet:
        path = Path(unquote(urlsplit(location).path)) if location.startswith("file://") else Path(location)
        if not path.is_absolute():
            path = self._base / path
        try:
            stamp = float(path.stat().st_mtime_ns)
        except OSError as exc:
            raise JwksError(f"JWKS file {path}: {exc.strerror}") from exc
        cached = self._cache.get(str(path))
        if cached is not None and cached.stamp == stamp:
            return cached.keys
        keys = _parse(path.read_bytes(), str(path))
        self._cache[str(path)] = _Cached(keys, stamp)
        return keys


def _has_kid(keys: KeySet, kid: str) -> bool:
    return any(key.kid == kid for key in keys.keys)


def _parse(raw: bytes, where: str) -> KeySet:
    from joserfc.errors import JoseError  # imported on first use: joserfc costs ~0.1 s to import
    from joserfc.jwk import KeySet

    try:
        doc = json.loads(raw)
        return KeySet.import_key_set(doc)
    except (ValueError, TypeError, KeyError, JoseError) as exc:
        raise JwksError(f"{where}: not a JSON Web Key Set ({exc})") from exc


def _fetch_url(url: str) -> bytes:
    if not is_loopback_url(url):        # defence in depth: every caller already checked
        raise JwksError(f"refusing to fetch {url}: not a loopback URL")
    try:
        with urllib.request.urlopen(url, timeout=FETCH_TIMEOUT) as resp:  # noqa: S310 (loopback only, checked)
            return bytes(resp.read())
    except OSError as exc:
        raise JwksError(f"{url}: {exc}") from exc
