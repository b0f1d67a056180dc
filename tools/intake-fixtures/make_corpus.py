#!/usr/bin/python3
"""Builds the image-intake test corpus and PIL's ground truth for it.

Run with Debian's interpreter (the pyenv python3 on PATH cannot see Debian packages):
    apt-get install -y python3-pil python3-numpy imagemagick webp
    /usr/bin/python3 tools/intake-fixtures/make_corpus.py

Writes common/src/test/resources/intake/: the images, expected/<name>.rgb.gz (PIL's
Image.open(f).convert("RGB") bytes, gzipped) and manifest.json, which the Java tests read. CI never
runs this script; it only reads what it wrote. Output is deterministic for a given Pillow, libjpeg,
libwebp and ImageMagick, so rerunning it on the same Debian release leaves git clean.
"""
import gzip
import hashlib
import io
import json
import os
import struct
import subprocess
import sys
import zlib

import numpy as np
import PIL
from PIL import Image, ImageOps

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OUT = os.path.join(ROOT, "common", "src", "test", "resources", "intake")
MAGICK = "/usr/bin/convert-im6.q16"  # the real ImageMagick, not a wrapper that may sit first on PATH
A98 = "/usr/share/color/icc/ghostscript/a98.icc"

W, H = 40, 30
rng = np.random.default_rng(20261127)


def pattern(w=W, h=H, channels=3):
    """Gradients plus noise: every channel differs, edges and flat areas both present."""
    y, x = np.mgrid[0:h, 0:w]
    base = [(x * 255 // max(w - 1, 1)), (y * 255 // max(h - 1, 1)), ((x + 2 * y) * 7) % 256, (x * y) % 256]
    a = np.stack(base[:channels], -1).astype(int) + rng.integers(-25, 26, (h, w, channels))
    return np.clip(a, 0, 255).astype(np.uint8)


def path(name):
    return os.path.join(OUT, name)


def write(name, data):
    with open(path(name), "wb") as f:
        f.write(data)


def magick(*args):
    subprocess.run([MAGICK, *args], check=True)


def chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def png(w, h, color_type, depth, idat, extra=b"", iend=True):
    ihdr = struct.pack(">IIBBBBB", w, h, depth, color_type, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + extra + chunk(b"IDAT", idat)
            + (chunk(b"IEND", b"") if iend else b""))


def raw_png(w, h, color_type, depth, rows):
    """A PNG written by hand, for sample layouts PIL cannot save (16-bit RGB/RGBA/LA, 4-bit gray)."""
    return png(w, h, color_type, depth, zlib.compress(b"".join(b"\x00" + r for r in rows), 9))


def pil_outcome(name):
    try:
        with Image.open(path(name)) as im:
            im.convert("RGB")
        return "ok"
    except Exception as e:  # noqa: BLE001 - recording what PIL says, whatever it is
        return f"error: {type(e).__name__}: {e}"


manifest = {"pillow": PIL.__version__, "valid": [], "refused": []}


def valid(name, fmt, tolerance=0, mean_tolerance=0.0, note=""):
    with Image.open(path(name)) as im:
        mode = im.mode
        rgb = im.convert("RGB")
        transposed = ImageOps.exif_transpose(im).convert("RGB")
    data = rgb.tobytes()
    os.makedirs(path("expected"), exist_ok=True)
    with open(path(f"expected/{name}.rgb.gz"), "wb") as f:
        f.write(gzip.compress(data, 9, mtime=0))
    entry = {"file": name, "format": fmt, "pilMode": mode, "width": rgb.width, "height": rgb.height,
             "sha256": hashlib.sha256(data).hexdigest(), "maxAbs": tolerance, "maxMeanAbs": mean_tolerance}
    if transposed.size != rgb.size or transposed.tobytes() != data:
        with open(path(f"expected/{name}.oriented.rgb.gz"), "wb") as f:
            f.write(gzip.compress(transposed.tobytes(), 9, mtime=0))
        entry["orientedWidth"], entry["orientedHeight"] = transposed.size
    if note:
        entry["note"] = note
    manifest["valid"].append(entry)


def refused(name, reason, note=""):
    entry = {"file": name, "reason": reason, "pil": pil_outcome(name)}
    if note:
        entry["note"] = note
    manifest["refused"].append(entry)


def main():
    os.makedirs(OUT, exist_ok=True)
    for f in os.listdir(OUT):
        p = path(f)
        if os.path.isfile(p):
            os.remove(p)
    os.makedirs(path("expected"), exist_ok=True)
    for f in os.listdir(path("expected")):
        os.remove(path(f"expected/{f}"))

    rgb = pattern()
    Image.fromarray(rgb).save(path("base.png"))  # ImageMagick's input; also a plain RGB PNG fixture

    # ---- PNG: every colour type and depth PIL distinguishes ----
    valid("base.png", "PNG")
    Image.fromarray(pattern(channels=4), "RGBA").save(path("png_rgba8.png"))
    valid("png_rgba8.png", "PNG", note="alpha dropped, not composited")
    Image.fromarray(pattern(channels=1)[..., 0], "L").save(path("png_gray8.png"))
    valid("png_gray8.png", "PNG")
    y, x = np.mgrid[0:H, 0:W]
    g16 = (x * 20 + y * 3).astype(">u2")  # 0..867: PIL opens mode I and clips, so most of it is 255
    g16[0, :8] = [0, 1, 254, 255, 256, 4095, 32768, 65535]
    write("png_gray16.png", raw_png(W, H, 0, 16, [r.tobytes() for r in g16]))
    valid("png_gray16.png", "PNG", note="16-bit gray: PIL mode I, converted to RGB by clipping at 255, not >>8")
    v16 = (pattern(channels=4).astype(">u2") * 257 + rng.integers(0, 256, (H, W, 4))).astype(">u2")
    write("png_rgb16.png", raw_png(W, H, 2, 16, [r[:, :3].tobytes() for r in v16]))
    valid("png_rgb16.png", "PNG", note="16-bit RGB: high byte")
    write("png_rgba16.png", raw_png(W, H, 6, 16, [r.tobytes() for r in v16]))
    valid("png_rgba16.png", "PNG")
    write("png_graya16.png", raw_png(W, H, 4, 16, [r[:, [0, 3]].tobytes() for r in v16]))
    valid("png_graya16.png", "PNG", note="16-bit gray+alpha: PIL mode RGBA, high byte")
    g4 = (x + y) % 16
    write("png_gray4.png", raw_png(W, H, 0, 4, [bytes((r[i] << 4) | r[i + 1] for i in range(0, W, 2)) for r in g4]))
    valid("png_gray4.png", "PNG", note="4-bit gray scaled by 17")
    Image.fromarray(((x + y) % 3 == 0).astype(np.uint8) * 255, "L").convert("1").save(path("png_gray1.png"))
    valid("png_gray1.png", "PNG")
    pal = Image.fromarray(rgb).quantize(colors=40, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
    pal.save(path("png_palette_trns.png"), transparency=bytes(range(0, 255, 6)[:40]))
    valid("png_palette_trns.png", "PNG", note="palette + tRNS: palette RGB, alpha dropped")
    Image.fromarray(rgb).quantize(colors=12, dither=Image.Dither.NONE).save(path("png_palette4.png"), bits=4)
    valid("png_palette4.png", "PNG")
    Image.fromarray(pattern(channels=1)[..., 0], "L").save(path("png_gray_trns.png"), transparency=128)
    valid("png_gray_trns.png", "PNG")
    Image.fromarray(rgb).save(path("png_rgb_trns.png"), transparency=(int(rgb[0, 0, 0]), int(rgb[0, 0, 1]), int(rgb[0, 0, 2])))
    valid("png_rgb_trns.png", "PNG")
    magick(path("base.png"), "-interlace", "PNG", "-define", "png:exclude-chunks=date,time", path("png_interlaced.png"))
    valid("png_interlaced.png", "PNG", note="Adam7")
    with open(A98, "rb") as f:
        Image.fromarray(rgb).save(path("png_iccp_a98.png"), icc_profile=f.read())
    valid("png_iccp_a98.png", "PNG", note="Adobe RGB iCCP: no colour transform")
    Image.new("RGB", (1, 1), (12, 34, 56)).save(path("px_1x1.png"))
    valid("px_1x1.png", "PNG")
    tall = np.zeros((20000, 1, 3), np.uint8)
    tall[:, 0, 0] = np.arange(20000) % 251
    tall[:, 0, 1] = np.arange(20000) // 100
    tall[:, 0, 2] = 200
    Image.fromarray(tall).save(path("px_1x20000.png"), optimize=True)
    valid("px_1x20000.png", "PNG")

    # ---- EXIF orientation: the same 5x3 picture under each of the 8 orientations ----
    small = pattern(5, 3)
    for o in range(1, 9):
        exif = Image.Exif()
        exif[0x0112] = o
        Image.fromarray(small).save(path(f"orient_{o}.png"), exif=exif.tobytes())
        valid(f"orient_{o}.png", "PNG")
    exif = Image.Exif()
    exif[0x0112] = 6
    Image.fromarray(pattern(16, 8)).save(path("jpeg_orient6.jpg"), quality=95, exif=exif.tobytes())
    valid("jpeg_orient6.jpg", "JPEG", tolerance=2)

    # ---- JPEG ----
    Image.fromarray(rgb).save(path("jpeg_baseline.jpg"), quality=90)
    valid("jpeg_baseline.jpg", "JPEG", tolerance=2, note="4:2:0")
    Image.fromarray(rgb).save(path("jpeg_444.jpg"), quality=90, subsampling=0)
    valid("jpeg_444.jpg", "JPEG", tolerance=2)
    Image.fromarray(rgb).save(path("jpeg_progressive.jpg"), quality=90, progressive=True)
    valid("jpeg_progressive.jpg", "JPEG", tolerance=2)
    Image.fromarray(pattern(channels=1)[..., 0], "L").save(path("jpeg_gray.jpg"), quality=90)
    valid("jpeg_gray.jpg", "JPEG", tolerance=2)
    Image.fromarray(rgb).convert("CMYK").save(path("jpeg_cmyk.jpg"), quality=92)
    valid("jpeg_cmyk.jpg", "JPEG", tolerance=2, note="Adobe CMYK (transform 0), inverted; PIL's cmyk2rgb")
    magick(path("base.png"), "-colorspace", "CMYK", "-quality", "92", path("jpeg_ycck.jpg"))
    valid("jpeg_ycck.jpg", "JPEG", tolerance=2, note="Adobe YCCK (transform 2)")
    magick(path("base.png"), "-profile", A98, "-quality", "92", path("jpeg_icc_a98.jpg"))
    valid("jpeg_icc_a98.jpg", "JPEG", tolerance=2, note="embedded Adobe RGB profile: no colour transform")

    # ---- WebP ----
    subprocess.run(["cwebp", "-quiet", "-q", "80", path("base.png"), "-o", path("webp_lossy.webp")], check=True)
    valid("webp_lossy.webp", "WEBP", tolerance=96, mean_tolerance=6.0,
          note="TwelveMonkeys upsamples chroma by nearest neighbour, libwebp bilinearly")
    subprocess.run(["cwebp", "-quiet", "-lossless", path("base.png"), "-o", path("webp_lossless.webp")], check=True)
    valid("webp_lossless.webp", "WEBP")
    Image.fromarray(pattern(channels=4), "RGBA").save(path("rgba_src.png"))
    subprocess.run(["cwebp", "-quiet", "-lossless", "-exact", path("rgba_src.png"), "-o", path("webp_lossless_alpha.webp")], check=True)
    valid("webp_lossless_alpha.webp", "WEBP")
    subprocess.run(["cwebp", "-quiet", "-q", "80", path("rgba_src.png"), "-o", path("webp_lossy_alpha.webp")], check=True)
    valid("webp_lossy_alpha.webp", "WEBP", tolerance=96, mean_tolerance=6.0,
          note="as webp_lossy.webp")
    os.remove(path("rgba_src.png"))

    # ---- GIF ----
    frames = [Image.fromarray(pattern()).quantize(colors=32, dither=Image.Dither.NONE) for _ in range(3)]
    frames[0].save(path("gif_animated.gif"), save_all=True, append_images=frames[1:], duration=100, loop=0)
    valid("gif_animated.gif", "GIF", note="first frame only")
    gif_offset()
    valid("gif_offset_trns.gif", "GIF", note="first frame smaller than the screen: PIL fills with the transparent index")

    # ---- BMP ----
    Image.fromarray(rgb).save(path("bmp_rgb24.bmp"))
    valid("bmp_rgb24.bmp", "BMP")
    Image.fromarray(rgb).quantize(colors=64, dither=Image.Dither.NONE).save(path("bmp_pal8.bmp"))
    valid("bmp_pal8.bmp", "BMP")
    magick(path("base.png"), "-define", "bmp:subtype=RGB565", path("bmp_rgb565.bmp"))
    valid("bmp_rgb565.bmp", "BMP", note="5/6-bit fields scaled like PIL: v*255/31, truncated")

    # ---- TIFF ----
    Image.fromarray(rgb).save(path("tiff_rgb_lzw.tif"), compression="tiff_lzw")
    valid("tiff_rgb_lzw.tif", "TIFF")
    Image.fromarray(g16.astype(np.uint16)).save(path("tiff_gray16.tif"))
    valid("tiff_gray16.tif", "TIFF", note="16-bit gray: PIL mode I;16, clipped at 255")

    # ---- hostile ----
    write("empty.jpg", b"")
    refused("empty.jpg", "EMPTY")
    jpg = open(path("jpeg_baseline.jpg"), "rb").read()
    write("trunc_half.jpg", jpg[: len(jpg) // 2])
    refused("trunc_half.jpg", "TRUNCATED")
    write("trunc_noeoi.jpg", jpg[:-2])
    refused("trunc_noeoi.jpg", "TRUNCATED", note="only the EOI marker is missing; PIL refuses it too")
    prog = open(path("jpeg_progressive.jpg"), "rb").read()
    write("trunc_fake_eoi.jpg", prog[: len(prog) // 2] + b"\xff\xd9")
    refused("trunc_fake_eoi.jpg", "TRUNCATED",
            note="cut and re-terminated: libjpeg fills the rest with grey and PIL accepts it; intake refuses")
    png_bytes = open(path("base.png"), "rb").read()
    write("trunc.png", png_bytes[: len(png_bytes) * 2 // 3])
    refused("trunc.png", "TRUNCATED")
    gif = open(path("gif_animated.gif"), "rb").read()
    write("trunc.gif", gif[:400])
    refused("trunc.gif", "TRUNCATED")
    webp = open(path("webp_lossless.webp"), "rb").read()
    write("trunc.webp", webp[: len(webp) * 2 // 3])
    refused("trunc.webp", "TRUNCATED")
    bmp = open(path("bmp_rgb24.bmp"), "rb").read()
    write("trunc.bmp", bmp[: len(bmp) // 2])
    refused("trunc.bmp", "TRUNCATED")
    write("html.jpg", b"<!DOCTYPE html>\n<html><head><title>404 Not Found</title></head>"
                      b"<body><h1>Not Found</h1></body></html>\n")
    refused("html.jpg", "UNSUPPORTED_FORMAT")
    write("image.svg", b'<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg" width="60000" height="60000">'
                       b'<rect width="100%" height="100%" fill="red"/></svg>\n')
    refused("image.svg", "UNSUPPORTED_FORMAT")
    write("doc.pdf", minimal_pdf())
    refused("doc.pdf", "UNSUPPORTED_FORMAT")
    row = b"\x00" + b"\x00" * (60000 * 3)
    zero_rows = zlib.compressobj(9)
    idat = zero_rows.compress(row * 4) + zero_rows.flush()
    write("huge_header.png", png(60000, 60000, 2, 8, idat))
    refused("huge_header.png", "TOO_MANY_PIXELS", note="IHDR claims 60000x60000")
    write("wide_header.png", png(40000, 2, 0, 8, zlib.compress(b"\x00" * 40001 * 2)))
    refused("wide_header.png", "DIMENSION_TOO_LARGE", note="80,000 px in all, but 40000 wide")
    bomb = zlib.compressobj(9)
    raw = b"".join(b"\x00" + bytes(64 * 3) for _ in range(64))
    idat = bomb.compress(raw) + b"".join(bomb.compress(bytes(1 << 20)) for _ in range(24)) + bomb.flush()
    write("zlib_bomb.png", png(64, 64, 2, 8, idat))
    refused("zlib_bomb.png", "DECOMPRESSION_BOMB",
            note="64x64 needs 12,352 inflated bytes; IDAT inflates to 25 MB. PIL stops early and accepts it")
    text = zlib.compressobj(9)
    ztxt = b"Comment\x00\x00" + b"".join(text.compress(bytes(1 << 20)) for _ in range(24)) + text.flush()
    small_idat = zlib.compress(b"".join(b"\x00" + bytes(8 * 3) for _ in range(8)))
    write("ztxt_bomb.png", png(8, 8, 2, 8, small_idat, extra=chunk(b"zTXt", ztxt)))
    refused("ztxt_bomb.png", "DECOMPRESSION_BOMB", note="zTXt inflates to 24 MiB; PIL's limit is 1 MiB")
    good = bytearray(png_bytes)
    good[29] ^= 0x01  # inside IHDR's CRC
    write("crc_bad.png", bytes(good))
    refused("crc_bad.png", "CORRUPT")
    idat = bytearray(zlib.compress(b"".join(b"\x00" + bytes(8 * 3) for _ in range(8))))
    idat[-1] ^= 0x01  # adler-32
    write("adler_bad.png", png(8, 8, 2, 8, bytes(idat)))
    refused("adler_bad.png", "CORRUPT")

    with open(path("manifest.json"), "w") as f:
        json.dump(manifest, f, indent=1, sort_keys=True)
        f.write("\n")
    total = sum(os.path.getsize(os.path.join(d, f)) for d, _, fs in os.walk(OUT) for f in fs)
    print(f"{len(manifest['valid'])} valid, {len(manifest['refused'])} refused, {total} bytes in {OUT}")


def gif_offset():
    """A 30x16 screen whose first frame is 20x10 at (5,3) and has a transparent index: PIL fills the
    rest of the screen with that index. PIL cannot write such a file, so patch one it wrote."""
    frame = Image.fromarray(pattern(20, 10)).quantize(colors=16, dither=Image.Dither.NONE)
    buf = io.BytesIO()
    frame.save(buf, "GIF", transparency=3)
    b = bytearray(buf.getvalue())
    b[6:10] = struct.pack("<HH", 30, 16)
    i = b.index(b"\x2c", 13 + (3 << ((b[10] & 7) + 1)) if b[10] & 0x80 else 13)
    b[i + 1:i + 5] = struct.pack("<HH", 5, 3)
    write("gif_offset_trns.gif", bytes(b))


def minimal_pdf():
    objs = [b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 72 72] >>"]
    out = b"%PDF-1.4\n"
    offsets = []
    for n, o in enumerate(objs, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % n + o + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objs) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objs) + 1, xref)
    return out


if __name__ == "__main__":
    sys.exit(main())
