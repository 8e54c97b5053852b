"""What a code or layer package may hold: the bounds that the source walk and the archive checker share.

One home, so a folder that builds is a zip that the checker accepts, and a zip refused at deploy would have been
refused as a folder at build. The figures follow Lambda where Lambda has one (250 MB unzipped) and the file system
where it does not (255-byte names, Linux's 40 symlink hops); the rest are generous bounds that no real package
reaches but that stop a hostile one from costing minutes or gigabytes.
"""
from __future__ import annotations

UNZIPPED_MAX = 262_144_000     # Lambda: code + layers unzipped (250 MB); one package can be no larger
UNZIPPED_MESSAGE = "Unzipped size must be smaller than 262144000 bytes"   # Lambda's own wording
MAX_ENTRIES = 65_535           # a zip without zip64 holds no more (archive.py writes none); also the walk's file cap
MAX_FOLDERS = 65_535           # folders a source walk may enter (each symlinked visit counts)
MAX_DEPTH = 128                # path components of one entry ("a/b/c.py" is 3)
MAX_NAME_BYTES = 1024          # one entry's whole name, UTF-8 (Linux's PATH_MAX is 4096, with the unpack root)
MAX_COMPONENT_BYTES = 255      # one file or folder name (NAME_MAX on every common file system)
MAX_LINK_BYTES = 1024          # one symlink's target text
MAX_LINK_HOPS = 40             # symlinks followed while resolving one path (Linux's MAXSYMLINKS)
MAX_LINK_REACH = 16            # times a source walk may enter one real folder through symlinks (fan-out)
