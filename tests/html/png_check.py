#!/usr/bin/env python3
# Checks that a PNG screenshot shows a rendered page, not a blank or error page: decodes the PNG
# with the standard library only (zlib), then counts non-white pixels and the report's colours.
# Usage: png_check.py FILE.png WIDTH HEIGHT
import struct
import sys
import zlib


def decode(path):
    data = open(path, "rb").read()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        sys.exit(f"{path}: not a PNG")
    pos, idat, width = 8, b"", 0
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos:pos + 4])
        kind = data[pos + 4:pos + 8]
        body = data[pos + 8:pos + 8 + length]
        pos += 12 + length
        if kind == b"IHDR":
            width, height, depth, ctype, _, _, interlace = struct.unpack(">IIBBBBB", body)
            if depth != 8 or ctype not in (2, 6) or interlace:
                sys.exit(f"{path}: unsupported PNG (depth {depth}, colour type {ctype})")
            bpp = 3 if ctype == 2 else 4
        elif kind == b"IDAT":
            idat += body
    raw = zlib.decompress(idat)
    stride = width * bpp
    rows, prev = [], bytearray(stride)
    for y in range(height):
        f = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            a = line[i - bpp] if i >= bpp else 0
            b = prev[i]
            c = prev[i - bpp] if i >= bpp else 0
            if f == 1: line[i] = (line[i] + a) & 255
            elif f == 2: line[i] = (line[i] + b) & 255
            elif f == 3: line[i] = (line[i] + (a + b) // 2) & 255
            elif f == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        rows.append(bytes(line))
        prev = line
    return width, height, bpp, rows


def main():
    path, want_w, want_h = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    w, h, bpp, rows = decode(path)
    if (w, h) != (want_w, want_h):
        sys.exit(f"{path}: {w}x{h}, expected {want_w}x{want_h}")
    total = nonwhite = 0
    colours = set()
    red = green = 0
    for y in range(0, h, 2):
        row = rows[y]
        for x in range(0, w * bpp, 2 * bpp):
            r, g, b = row[x], row[x + 1], row[x + 2]
            total += 1
            if r < 245 or g < 245 or b < 245:
                nonwhite += 1
            colours.add((r >> 3, g >> 3, b >> 3))
            if r > 170 and g < 80 and b < 80:
                red += 1
            if g > 120 and r < 110 and b < 110:
                green += 1
    frac = nonwhite / total
    print(f"{path}: {w}x{h}, {frac:.1%} non-white, {len(colours)} colour buckets, "
          f"{red} red and {green} green samples")
    if frac < 0.03:
        sys.exit("blank page: under 3% of the pixels are not white")
    if len(colours) < 40:
        sys.exit("too few colours for a rendered report (text, badges, drawings)")
    if red < 50:
        sys.exit("no red: the ERRORS verdict and faulty parts are not visible")
    if green < 50:
        sys.exit("no green: the NVLinks and healthy heatmap cells are not visible")


main()
