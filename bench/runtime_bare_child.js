'use strict';
// Floor worker for bench_node_runtime.py: the least a warm Node worker can do over the pool's transport and framing.
//
// `node runtime_bare_child.js <read fd>,<write fd> <code_dir>`: require the handler, then loop: read a frame (4-byte
// length + marshal tuple), JSON.parse the event, await the handler, JSON.stringify the result, write a frame
// ("ok", result, 0). The cold floor is `node -e` (bench_node_runtime.py): start, require the handler, call it, exit.
const fs = require('fs');
const path = require('path');

const [rfd, wfd] = process.argv[2].split(',').map(Number);
const { handler } = require(path.join(process.argv[3], 'app.js'));
let buf = Buffer.allocUnsafe(1 << 16);
let have = 0;

function payloadOf(end) {
  // (request_id, payload, ...): skip the tuple header and the first string, return the bytes of the second item
  let pos = 4;
  const code = buf[pos++] & 0x7f;
  pos += code === 0x29 ? 1 : 4;                  // ')' small tuple: 1-byte count, '(' tuple: 4
  const first = buf[pos++] & 0x7f;
  if (first === 0x7a || first === 0x5a) pos += 1 + buf[pos];            // 'z'/'Z' short ascii
  else pos += 4 + buf.readInt32LE(pos);                                  // 'u'/'a'/'A'/'s'
  pos += 1;                                                              // 's'
  const n = buf.readInt32LE(pos);
  return buf.toString('utf8', pos + 4, Math.min(end, pos + 4 + n));
}

function loop() {
  for (;;) {
    while (have < 4 || have < 4 + buf.readUInt32LE(0)) {
      const n = fs.readSync(rfd, buf, have, buf.length - have, null);
      if (n === 0) process.exit(0);
      have += n;
    }
    const end = 4 + buf.readUInt32LE(0);
    const event = JSON.parse(payloadOf(end));
    buf.copy(buf, 0, end, have);
    have -= end;
    return Promise.resolve(handler(event)).then((result) => {
      const body = Buffer.from(JSON.stringify(result));
      const out = Buffer.allocUnsafe(4 + 2 + 4 + 5 + body.length + 5);
      out.writeUInt32LE(out.length - 4, 0);
      out[4] = 0x29; out[5] = 3;                                         // ')' 3 items
      out[6] = 0x7a; out[7] = 2; out.write('ok', 8, 'latin1');           // 'z' "ok"
      out[10] = 0x73; out.writeInt32LE(body.length, 11); body.copy(out, 15);
      out[15 + body.length] = 0x69; out.writeInt32LE(0, 16 + body.length); // 'i' 0
      fs.writeSync(wfd, out);
      loop();                                                           // a new microtask each time: no stack growth
    });
  }
}

loop();
