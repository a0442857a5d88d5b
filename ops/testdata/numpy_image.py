"""Reference values for ops/image_test.go: Keras 3's image transforms.

Run from the repository root with the system Python (NumPy, SciPy):

    /usr/bin/python3 ops/testdata/numpy_image.py

It writes ops/testdata/numpy_image.json. Keras is not installed here, so
this file repeats the algorithm of Keras 3's NumPy backend
(keras/src/backend/numpy/image.py, affine_transform and map_coordinates):
the image is padded by the fill mode (np.pad: "symmetric" for reflect,
"edge" for nearest, "wrap", "constant") and read at the transformed
coordinates with scipy.ndimage.map_coordinates (order 1 for bilinear, 0
for nearest). Computed in float64.

Transforms [a0 a1 a2 b0 b1 b2 c0 c1] map output (x, y) = (column, row) to
input (a0 x + a1 y + a2, b0 x + b1 y + b2): a rotation of 30 degrees about
the centre, Keras' RandomRotation matrix; a zoom out by 1.3 (RandomZoom);
a translation by (-1.5, 2.25) pixels (RandomTranslation).

contrast: Keras' RandomContrast: (x - mean) * factor + mean per channel,
the mean over height and width, clipped to [0, 1].
"""
import json
import math
import os

import numpy as np
import scipy.ndimage

rng = np.random.default_rng(20240903)


def arr(t):
    t = np.asarray(t, dtype=np.float64)
    return {"shape": list(t.shape), "data": [float(v) for v in t.reshape(-1).tolist()]}


def map_coordinates(inputs, coordinates, order, fill_mode, fill_value):
    padding = [
        (max(-np.floor(c.min()).astype(int) + 1, 0), max(np.ceil(c.max()).astype(int) + 1 - size, 0))
        for c, size in zip(coordinates, inputs.shape)
    ]
    shifted = [c + p[0] for p, c in zip(padding, coordinates)]
    pad_mode = {"nearest": "edge", "mirror": "reflect", "reflect": "symmetric"}.get(fill_mode, fill_mode)
    if fill_mode == "constant":
        padded = np.pad(inputs, padding, mode=pad_mode, constant_values=fill_value)
    else:
        padded = np.pad(inputs, padding, mode=pad_mode)
    return scipy.ndimage.map_coordinates(padded, shifted, order=order, mode=fill_mode, cval=fill_value)


def affine_transform(images, transform, interpolation, fill_mode, fill_value):
    batch = images.shape[0]
    mesh = np.meshgrid(*[np.arange(s) for s in images.shape[1:]], indexing="ij")
    indices = np.concatenate([np.expand_dims(x, -1) for x in mesh], axis=-1)
    indices = np.tile(indices, (batch, 1, 1, 1, 1))
    transform = transform.copy()
    a0, a2, b1, b2 = transform[:, 0].copy(), transform[:, 2].copy(), transform[:, 4].copy(), transform[:, 5].copy()
    transform[:, 0], transform[:, 2], transform[:, 4], transform[:, 5] = b1, b2, a0, a2
    transform = np.pad(transform, [[0, 0], [0, 1]], constant_values=1).reshape(batch, 3, 3)
    offset = np.pad(transform[:, 0:2, 2].copy(), [[0, 0], [0, 1]])
    transform[:, 0:2, 2] = 0
    coords = np.einsum("Bhwij, Bjk -> Bhwik", indices, transform)
    coords = np.moveaxis(coords, -1, 1) + np.reshape(offset, (*offset.shape, 1, 1, 1))
    order = {"bilinear": 1, "nearest": 0}[interpolation]
    return np.stack([map_coordinates(images[i], coords[i], order, fill_mode, fill_value) for i in range(batch)])


H, W, C = 5, 6, 2
images = rng.uniform(size=(3, H, W, C))
t = math.radians(30)
cx, cy = 0.5 * (W - 1), 0.5 * (H - 1)
cos, sin = math.cos(t), math.sin(t)
rotation = [cos, -sin, cx - cx * cos + cy * sin, sin, cos, cy - cx * sin - cy * cos, 0, 0]
z = 1.3
zoom = [z, 0, (W - 1) / 2 * (1 - z), 0, z, (H - 1) / 2 * (1 - z), 0, 0]
translation = [1, 0, 1.5, 0, 1, -2.25, 0, 0]
transforms = np.array([rotation, zoom, translation])
cases = {"images": arr(images), "transforms": arr(transforms)}
for interpolation in ["bilinear", "nearest"]:
    for fill_mode in ["reflect", "wrap", "nearest", "constant"]:
        cases[interpolation + "_" + fill_mode] = arr(affine_transform(images, transforms, interpolation, fill_mode, 0.25))

factors = np.array([0.5, 1.7, 1.0])
mean = images.mean(axis=(1, 2), keepdims=True)
cases["contrast_factors"] = arr(factors)
cases["contrast"] = arr(np.clip((images - mean) * factors[:, None, None, None] + mean, 0, 1))

path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "numpy_image.json")
with open(path, "w") as f:
    json.dump({"generator": "ops/testdata/numpy_image.py", "numpy": np.__version__, "scipy": scipy.__version__,
               "cases": cases}, f)
    f.write("\n")
