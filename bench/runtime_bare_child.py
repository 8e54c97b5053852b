"""Floor worker for bench_runtime.py: the least a warm worker can do over the pool's transport and framing.

``python -I -S runtime_bare_child.py <read fd>,<write fd> <code_dir>``: import the handler, then loop: read a frame
(4-byte length + marshal tuple), json.loads the event, call the handler, json.dumps the result, write a frame. ``once``
instead of ``<fd>`` is the cold floor: read the event file, call once, print, exit.
"""
import json
import marshal
import os
import sys


def main():
    mode, code_dir = sys.argv[1], sys.argv[2]
    sys.path.insert(0, code_dir)
    from app import handler
    if mode == "once":
        with open(sys.argv[3], "rb") as fh:
            event = json.loads(fh.read())
        sys.stdout.write(json.dumps(handler(event, None)))
        return
    rfd, _, wfd = mode.partition(",")
    rfd = int(rfd)
    wfd = int(wfd) if wfd else rfd
    data = b""
    while True:
        while len(data) < 4 or len(data) < 4 + int.from_bytes(data[:4], "little"):
            chunk = os.read(rfd, 65536)
            if not chunk:
                return
            data += chunk
        end = 4 + int.from_bytes(data[:4], "little")
        message, data = marshal.loads(data[4:end]), data[end:]
        result = json.dumps(handler(json.loads(message[1]), None)).encode()
        body = marshal.dumps(("ok", result, 0), 4)
        os.write(wfd, len(body).to_bytes(4, "little") + body)


main()
