#!/usr/bin/env python3
"""Reads a sidecar's conntrack records (docs/FORMAT.md, records 8 and 9) and prints, for the benchmark:
the median and max dump time in ms of the dumps whose content was stored, their size, and the events and
overruns recorded. Usage: conntrack-records.py FILE.pcapng.snapshots"""
import struct, sys, zlib

def varint(b, i):
    v = s = 0
    while True:
        x = b[i]; i += 1; v |= (x & 0x7F) << s; s += 7
        if x < 0x80: return v, i

data = open(sys.argv[1], 'rb').read()
assert data[:8] == b'ATTRSNAP'
i, dumps, sizes, events, overruns = 8, [], [], 0, 0
while i + 12 <= len(data):
    sync, typ, flags, length = struct.unpack_from('<HBBI', data, i)
    body = data[i + 12:i + 12 + length]; i += 12 + length
    if flags & 1: body = zlib.decompress(body, -15)
    if typ == 8:
        start, end, netns, kind, unchanged = struct.unpack_from('<qqQB?', body, 0)
        if kind == 1 and not unchanged:
            dumps.append((end - start) / 1e6); sizes.append(varint(body, 34)[0])
    elif typ == 9:
        o, j = varint(body, 8); n, j = varint(body, j); events += n; overruns += o
dumps.sort()
med = dumps[len(dumps) // 2] if dumps else float('nan')
print(f"stored dumps {len(dumps)}; dump ms median {med:.2f} max {max(dumps, default=float('nan')):.2f}; "
      f"largest dump {max(sizes, default=0)} bytes; events {events}; overruns {overruns}")
