"""Reads a recording with independent readers and prints what they see as JSON.

usage: read-recording.py tiff FILE | zarr DIR | zarr-zip FILE

Frames are hashed (SHA-256) in the frame layout liveview uses: rows, then columns, then
channels interleaved, little-endian, so a test can compare them with the frames it wrote.
"""

import hashlib
import json
import sys
import xml.etree.ElementTree as ET

import numpy as np


def frame_hash(frame):
    """SHA-256 of one frame given as (y, x) or (y, x, c)."""
    frame = np.ascontiguousarray(frame)
    return hashlib.sha256(frame.astype(frame.dtype.newbyteorder("<")).tobytes()).hexdigest()


def ome_summary(text):
    """The parts of OME-XML the tests check, parsed with ElementTree."""
    ns = {"ome": "http://www.openmicroscopy.org/Schemas/OME/2016-06"}
    root = ET.fromstring(text)
    image = root.find("ome:Image", ns)
    pixels = image.find("ome:Pixels", ns)
    date = image.find("ome:AcquisitionDate", ns)
    return {
        "namespace": root.tag.split("}")[0].lstrip("{"),
        "image_name": image.get("Name"),
        "acquisition_date": date.text if date is not None else None,
        "pixels": dict(pixels.attrib),
        "channels": [dict(c.attrib) for c in pixels.findall("ome:Channel", ns)],
        "tiffdata": [dict(t.attrib) for t in pixels.findall("ome:TiffData", ns)],
        "planes": [dict(p.attrib) for p in pixels.findall("ome:Plane", ns)],
    }


def read_tiff(path):
    import tifffile

    with tifffile.TiffFile(path) as tif:
        series = tif.series[0]
        data = series.asarray()
        pages = len(tif.pages)
        frames = data.reshape((pages,) + tif.pages[0].shape)
        return {
            "is_ome": bool(tif.is_ome),
            "is_bigtiff": bool(tif.is_bigtiff),
            "pages": pages,
            "series_shape": list(series.shape),
            "series_axes": series.axes,
            "series_kind": getattr(series, "kind", None),
            "dtype": str(data.dtype),
            "description": tif.pages[0].description,
            "ome": ome_summary(tif.ome_metadata) if tif.is_ome else None,
            "hashes": [frame_hash(f) for f in frames],
        }


def read_zarr(store):
    import zarr

    group = zarr.open_group(store, mode="r")
    array = group["0"]
    t, c = array.shape[0], array.shape[1]
    hashes = []
    for i in range(t):
        chunk = array[i]
        hashes.append(frame_hash(chunk[0] if c == 1 else np.moveaxis(chunk, 0, -1)))
    return {
        "shape": list(array.shape),
        "chunks": list(array.chunks),
        "dtype": str(array.dtype),
        "compressor": array.compressor.get_config() if array.compressor else None,
        "attrs": group.attrs.asdict(),
        "hashes": hashes,
    }


def main():
    kind, path = sys.argv[1], sys.argv[2]
    if kind == "tiff":
        out = read_tiff(path)
    elif kind == "zarr":
        out = read_zarr(path)
    elif kind == "zarr-zip":
        import zarr

        store = zarr.ZipStore(path, mode="r")
        try:
            out = read_zarr(store)
        finally:
            store.close()
    else:
        raise SystemExit(f"unknown kind {kind}")
    json.dump(out, sys.stdout)


main()
