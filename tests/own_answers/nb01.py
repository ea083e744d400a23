"""Notebook 01: conv2d in NumPy, written with explicit padding arithmetic and einsum."""

import numpy as np


def conv2d(x, kernel, stride=1, padding="valid"):
    kh, kw, _, _ = kernel.shape
    height, width = x.shape[0], x.shape[1]
    if padding == "same":
        out_h, out_w = -(-height // stride), -(-width // stride)
        extra_h = max((out_h - 1) * stride + kh - height, 0)
        extra_w = max((out_w - 1) * stride + kw - width, 0)
        x = np.pad(x, ((extra_h // 2, extra_h - extra_h // 2), (extra_w // 2, extra_w - extra_w // 2), (0, 0)))
    else:
        out_h, out_w = (height - kh) // stride + 1, (width - kw) // stride + 1
    result = np.empty((out_h, out_w, kernel.shape[3]), dtype="float64")
    for i in range(out_h):
        for j in range(out_w):
            patch = x[i * stride:i * stride + kh, j * stride:j * stride + kw, :]
            result[i, j, :] = np.einsum("hwc,hwco->o", patch, kernel)
    return result
