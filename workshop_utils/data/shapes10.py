"""The ``shapes10`` generator: ten shapes drawn with NumPy, with random position, scale, rotation, colours,
textured backgrounds, clutter, noise and occasional occlusion. Image ``k`` of a seed is always the same image.

Example::

    x, y = make_shapes10(100, seed=0)   # (100, 32, 32, 3) uint8, (100,) int64
"""

from __future__ import annotations

import math
import numbers

import numpy as np

from workshop_utils.data.dataset import (
    _NUM_SHAPES,
    IMAGE_SIZE,
    SHAPES10_CLASSES,
)

# --------------------------------------------------------------------------------------------
# shapes10: the generator
# --------------------------------------------------------------------------------------------

_SUPERSAMPLE = 2  # the main shape is drawn at 2x resolution with soft edges, then averaged down
_CHUNK = 500  # images rendered together (a few tens of MB of temporaries)
_NOISE_GRID = 6  # low-frequency background texture: a 6x6 random grid, bilinearly upsampled
_BACK_CLUTTER = 4  # clutter strokes/dots behind the shape (each present with some probability)
_FRONT_CLUTTER = 1  # thin strokes in front of the shape

# Difficulty knobs (tuned so that a small CNN lands well between chance and 100%; see benchmarks/).
_SCALE_RANGE = (6.5, 13.0)  # shape "radius" in pixels
_ROTATION = 30.0  # rotation drawn uniformly in +-_ROTATION degrees (full turns make it much harder)
_NOISE_SIGMA_MAX = 0.07  # per-pixel Gaussian noise, standard deviation on a 0..1 scale
_CONTRAST_RANGE = (0.22, 0.48)  # minimum luminance gap between shape and background
_P_BACK_CLUTTER = 0.45
_P_FRONT_CLUTTER = 0.25
_P_OCCLUSION = 0.2
_TEXTURE_AMPLITUDE = 0.35


class _Columns:
    """Hands out consecutive columns of the per-image uniform random numbers by name."""

    def __init__(self) -> None:
        self.size = 0
        self.slices: dict[str, slice] = {}

    def add(self, name: str, width: int = 1) -> None:
        self.slices[name] = slice(self.size, self.size + width)
        self.size += width


_COLS = _Columns()
for _name, _width in (
    ("bg", 3), ("bg2", 3), ("grad_angle", 1), ("texture_kind", 1), ("texture_amp", 1),
    ("texture_color", 3), ("stripe_freq", 1), ("stripe_angle", 1), ("stripe_phase", 1),
    ("texture_grid", _NOISE_GRID * _NOISE_GRID), ("fg", 3), ("contrast", 1), ("shade_amp", 1),
    ("shade_angle", 1), ("scale", 1), ("cx", 1), ("cy", 1), ("angle", 1), ("aspect", 1),
    ("shape_a", 1), ("shape_b", 1), ("occlude", 1), ("occ_offset", 1), ("occ_side", 1),
    ("occ_width", 1), ("occ_color", 3), ("occ_use_bg", 1), ("noise", 1),
):  # fmt: skip
    _COLS.add(_name, _width)
for _k in range(_BACK_CLUTTER + _FRONT_CLUTTER):
    _COLS.add(f"clutter{_k}", 9)  # present, x0, y0, x1, y1, width, r, g, b
del _name, _width, _k


def make_shapes10(n: int, seed: int = 0, start: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Generate ``shapes10`` images ``start .. start + n - 1``: ``(x uint8 (n,32,32,3), y int64 (n,))``.

    Image ``i`` depends only on ``(seed, i)``, so it is the same whatever ``n`` is; its label is
    ``i % 10`` (names in :data:`SHAPES10_CLASSES`), so every prefix is class-balanced.

    Example: ``x, y = make_shapes10(100, seed=0)``
    """
    for what, value, low in (("n", n, 0), ("seed", seed, 0), ("start", start, 0)):
        if isinstance(value, bool) or not isinstance(value, numbers.Integral):
            raise TypeError(f"make_shapes10: {what} must be an int, got {value!r}")
        if value < low:
            raise ValueError(f"make_shapes10: {what} must be >= {low}, got {value}")
    n, seed, start = int(n), int(seed), int(start)
    x = np.empty((n, IMAGE_SIZE, IMAGE_SIZE, 3), dtype=np.uint8)
    indices = np.arange(start, start + n, dtype=np.int64)
    for begin in range(0, n, _CHUNK):
        chunk = indices[begin : begin + _CHUNK]
        x[begin : begin + len(chunk)] = _render(seed, chunk)
    return x, indices % _NUM_SHAPES


def _render(seed: int, indices: np.ndarray) -> np.ndarray:
    """Render the images with these indices (one RNG per image, the drawing vectorised)."""
    count = len(indices)
    uniforms = np.empty((count, _COLS.size), dtype=np.float32)
    noise = np.empty((count, IMAGE_SIZE * IMAGE_SIZE * 3), dtype=np.float32)
    for row, index in enumerate(indices.tolist()):
        rng = np.random.default_rng([seed, index])
        uniforms[row] = rng.random(_COLS.size, dtype=np.float32)
        noise[row] = rng.standard_normal(IMAGE_SIZE * IMAGE_SIZE * 3, dtype=np.float32)
    labels = indices % _NUM_SHAPES

    def col(name: str) -> np.ndarray:
        """Column(s) as (count, 1, 1[, k]) arrays that broadcast against (count, H, W[, 3])."""
        values = uniforms[:, _COLS.slices[name]]
        return values[:, None, None, :] if values.shape[1] > 1 else values[:, :, None]

    grid = (np.arange(IMAGE_SIZE, dtype=np.float32) + 0.5)[None, :]
    xs, ys = grid[:, None, :], grid[:, :, None]  # (1, 1, W), (1, H, 1) in pixel units
    centre = IMAGE_SIZE / 2

    # Background: a two-colour gradient plus a texture (smooth blotches or stripes) in a third colour.
    bg = col("bg")
    bg2 = np.clip(bg + (col("bg2") - 0.5) * 0.7, 0, 1)
    angle = col("grad_angle") * 2 * np.pi
    ramp = ((xs - centre) * np.cos(angle) + (ys - centre) * np.sin(angle)) / IMAGE_SIZE + 0.5
    image = bg + (bg2 - bg) * np.clip(ramp, 0, 1)[..., None]
    kind = col("texture_kind")
    blotches = _upsample(uniforms[:, _COLS.slices["texture_grid"]].reshape(count, _NOISE_GRID, _NOISE_GRID))
    stripe_angle = col("stripe_angle") * np.pi
    stripe_freq = 0.35 + col("stripe_freq") * 0.9
    stripes = 0.5 + 0.5 * np.sin(
        stripe_freq * (xs * np.cos(stripe_angle) + ys * np.sin(stripe_angle)) + col("stripe_phase") * 2 * np.pi
    )
    texture = np.where(kind < 1 / 3, 0.0, np.where(kind < 2 / 3, blotches, stripes))
    texture_weight = (texture * col("texture_amp") * _TEXTURE_AMPLITUDE)[..., None]
    image += (col("texture_color") - image) * texture_weight

    # Clutter behind the shape: strokes and dots in random colours.
    image = _draw_clutter_layers(image, uniforms, range(_BACK_CLUTTER), _P_BACK_CLUTTER, xs, ys, 1.6)

    # The shape: a colour independent of the class, with at least some contrast to the background.
    fg = _with_contrast(col("fg")[:, 0, 0], ((bg + bg2) / 2)[:, 0, 0], col("contrast")[:, 0, 0])
    shade_angle = col("shade_angle") * 2 * np.pi
    shade = ((xs - centre) * np.cos(shade_angle) + (ys - centre) * np.sin(shade_angle)) / IMAGE_SIZE
    fg_image = np.clip(fg[:, None, None, :] + (col("shade_amp") * 0.5 * shade)[..., None], 0, 1)
    coverage = _shape_coverage(uniforms, labels)
    image += (fg_image - image) * coverage[..., None]

    # In front: thin strokes, and sometimes a bar that hides part of the shape.
    front = range(_BACK_CLUTTER, _BACK_CLUTTER + _FRONT_CLUTTER)
    image = _draw_clutter_layers(image, uniforms, front, _P_FRONT_CLUTTER, xs, ys, 0.9)
    image = _draw_occluder(image, uniforms, (bg + bg2) / 2, xs, ys)

    sigma = col("noise")[..., None] * _NOISE_SIGMA_MAX
    image += sigma * noise.reshape(count, IMAGE_SIZE, IMAGE_SIZE, 3)
    return np.clip(image * 255 + 0.5, 0, 255).astype(np.uint8)


def _upsample(grid: np.ndarray) -> np.ndarray:
    """Bilinear upsampling of (count, g, g) grids to (count, 32, 32)."""
    g = grid.shape[-1]
    positions = (np.arange(IMAGE_SIZE) + 0.5) * (g - 1) / IMAGE_SIZE
    low = np.floor(positions).astype(int)
    frac = (positions - low).astype(np.float32)
    weights = np.zeros((IMAGE_SIZE, g), dtype=np.float32)
    weights[np.arange(IMAGE_SIZE), low] = 1 - frac
    weights[np.arange(IMAGE_SIZE), np.minimum(low + 1, g - 1)] += frac
    return np.einsum("hi,nij,wj->nhw", weights, grid, weights, optimize=True)


def _luma(rgb: np.ndarray) -> np.ndarray:
    return rgb @ np.array([0.299, 0.587, 0.114], dtype=np.float32)


def _with_contrast(fg: np.ndarray, bg: np.ndarray, contrast: np.ndarray) -> np.ndarray:
    """Move each foreground colour towards white or black until its luma differs enough from bg's."""
    gap = _CONTRAST_RANGE[0] + contrast * (_CONTRAST_RANGE[1] - _CONTRAST_RANGE[0])
    lf, lb = _luma(fg), _luma(bg)
    lighten = lf >= lb  # move away from the background's luma, in the direction fg already is
    lighten = np.where(lb + gap > 1, False, np.where(lb - gap < 0, True, lighten))
    to_white = np.clip((lb + gap - lf) / np.maximum(1 - lf, 1e-3), 0, 1)
    to_black = np.clip(1 - (lb - gap) / np.maximum(lf, 1e-3), 0, 1)
    return np.where(
        lighten[:, None],
        fg + (1 - fg) * to_white[:, None],
        fg * (1 - to_black[:, None]),
    ).astype(np.float32)


def _capsule_distance(xs, ys, x0, y0, x1, y1):  # type: ignore[no-untyped-def]
    """Distance from each pixel to the segment (x0, y0)-(x1, y1); arguments broadcast."""
    ex, ey = x1 - x0, y1 - y0
    wx, wy = xs - x0, ys - y0
    t = np.clip((wx * ex + wy * ey) / np.maximum(ex * ex + ey * ey, 1e-6), 0, 1)
    return np.sqrt((wx - ex * t) ** 2 + (wy - ey * t) ** 2)


def _draw_clutter_layers(image, uniforms, layers, probability, xs, ys, max_width):  # type: ignore[no-untyped-def]
    """Composite the clutter strokes numbered ``layers`` one after the other (see :func:`_draw_clutter`)."""
    for k in layers:
        image = _draw_clutter(image, uniforms[:, _COLS.slices[f"clutter{k}"]], probability, xs, ys, max_width)
    return image


def _draw_clutter(image, params, probability, xs, ys, max_width):  # type: ignore[no-untyped-def]
    """Composite one stroke (or dot, when short) per image, present with ``probability``."""
    rows = np.flatnonzero(params[:, 0] < probability)  # draw only where present
    p = params[rows][:, :, None, None]
    x0, y0 = p[:, 1] * IMAGE_SIZE, p[:, 2] * IMAGE_SIZE
    length = 3 + p[:, 3] * 14
    direction = p[:, 4] * 2 * np.pi
    x1, y1 = x0 + length * np.cos(direction), y0 + length * np.sin(direction)
    dot = p[:, 3] < 0.2  # a fifth of the clutter are round dots
    x1, y1 = np.where(dot, x0, x1), np.where(dot, y0, y1)
    radius = np.where(dot, 1.0 + p[:, 5] * 1.5, 0.35 + p[:, 5] * max_width / 2)
    distance = _capsule_distance(xs, ys, x0, y0, x1, y1) - radius
    _composite(image, rows, p[:, 6:9, 0, 0][:, None, None, :], np.clip(0.5 - distance, 0, 1))
    return image


def _composite(image, rows, color, alpha):  # type: ignore[no-untyped-def]
    """In place: ``image[rows] = image[rows] * (1 - alpha) + color * alpha``."""
    part = image[rows]
    part += (color - part) * alpha[..., None]
    image[rows] = part


def _draw_occluder(image, uniforms, bg_color, xs, ys):  # type: ignore[no-untyped-def]
    """Sometimes lay a bar across part of the shape, off its centre, in the background colour or another."""
    rows = np.flatnonzero(uniforms[:, _COLS.slices["occlude"]][:, 0] < _P_OCCLUSION)
    uniforms = uniforms[rows]

    def col(name: str) -> np.ndarray:
        return uniforms[:, _COLS.slices[name]][:, :, None]

    scale, cx, cy, angle = _placement(uniforms)
    bar_angle = angle + col("occ_side") * np.pi
    offset = (0.35 + 0.45 * col("occ_offset")) * scale  # the bar's centre line misses the shape centre
    nx, ny = -np.sin(bar_angle), np.cos(bar_angle)
    mx, my = cx + offset * nx, cy + offset * ny
    half = 2.5 * scale
    distance = _capsule_distance(
        xs, ys, mx - half * np.cos(bar_angle), my - half * np.sin(bar_angle),
        mx + half * np.cos(bar_angle), my + half * np.sin(bar_angle),
    )  # fmt: skip
    width = (0.12 + 0.2 * col("occ_width")) * scale
    alpha = np.clip(0.5 - (distance - width), 0, 1)
    color = np.where(
        col("occ_use_bg")[..., None] < 0.5,
        bg_color[rows],
        uniforms[:, None, None, _COLS.slices["occ_color"]],
    )
    _composite(image, rows, color, alpha)
    return image


def _placement(
    uniforms: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Per-image scale (pixels), centre (pixels) and rotation, each (count, 1, 1)."""

    def col(name: str) -> np.ndarray:
        return uniforms[:, _COLS.slices[name]][:, :, None]

    low, high = _SCALE_RANGE
    scale = low + (high - low) * col("scale")
    margin = 0.8 * scale  # the shape may touch the border but stays mostly inside
    cx = margin + (IMAGE_SIZE - 2 * margin) * col("cx")
    cy = margin + (IMAGE_SIZE - 2 * margin) * col("cy")
    angle = (col("angle") * 2 - 1) * np.deg2rad(_ROTATION)
    return scale, cx, cy, angle


def _shape_coverage(uniforms: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Anti-aliased coverage (count, 32, 32) in 0..1 of each image's shape.

    Each class has a signed distance function in unit coordinates (negative inside, the shape
    about 1 unit in radius). Pixels are supersampled ``_SUPERSAMPLE`` x ``_SUPERSAMPLE``, each
    sub-pixel with a soft edge one sub-pixel wide, and averaged.
    """
    count = len(labels)
    s = _SUPERSAMPLE
    fine = (np.arange(IMAGE_SIZE * s, dtype=np.float32) + 0.5) / s
    xs, ys = fine[None, None, :], fine[None, :, None]
    scale, cx, cy, angle = _placement(uniforms)
    aspect = np.exp((uniforms[:, _COLS.slices["aspect"]][:, :, None] - 0.5) * 0.35)  # 0.84 .. 1.19
    cos, sin = np.cos(angle), np.sin(angle)
    coverage = np.empty((count, IMAGE_SIZE * s, IMAGE_SIZE * s), dtype=np.float32)
    for label in range(_NUM_SHAPES):
        rows = np.flatnonzero(labels == label)
        if not len(rows):
            continue
        dx, dy = xs - cx[rows], ys - cy[rows]
        u = (cos[rows] * dx + sin[rows] * dy) / (scale[rows] * aspect[rows])
        v = (-sin[rows] * dx + cos[rows] * dy) * aspect[rows] / scale[rows]
        a = uniforms[rows, _COLS.slices["shape_a"]][:, :, None]
        b = uniforms[rows, _COLS.slices["shape_b"]][:, :, None]
        distance = _SHAPE_SDFS[label](u, v, a, b) * scale[rows] * s  # in sub-pixels
        coverage[rows] = np.clip(0.5 - distance, 0, 1)
    total = sum(coverage[:, i::s, j::s] for i in range(s) for j in range(s))
    return total * (1.0 / (s * s))


# Signed distance functions (negative inside) in unit coordinates; a, b in 0..1 jitter the shape.
# Formulas after Inigo Quilez, "2D distance functions" (iquilezles.org/articles/distfunctions2d).


def _sd_box(u, v, half_u, half_v):  # type: ignore[no-untyped-def]
    qx, qy = np.abs(u) - half_u, np.abs(v) - half_v
    outside = np.sqrt(np.maximum(qx, 0) ** 2 + np.maximum(qy, 0) ** 2)
    return outside + np.minimum(np.maximum(qx, qy), 0)


def _sd_circle_shape(u, v, a, b):  # type: ignore[no-untyped-def]
    return np.sqrt(u * u + v * v) - 0.9


def _sd_ring(u, v, a, b):  # type: ignore[no-untyped-def]
    thickness = 0.16 + 0.1 * a
    return np.abs(np.sqrt(u * u + v * v) - (0.95 - thickness)) - thickness


def _sd_square(u, v, a, b):  # type: ignore[no-untyped-def]
    return _sd_box(u, v, 0.78, 0.78)


def _sd_triangle(u, v, a, b):  # type: ignore[no-untyped-def]
    r = 0.95  # half the side: the circumradius is 1.1
    k = math.sqrt(3.0)
    px = np.abs(u) - r
    py = -v + r / k  # pointing up, centred on its centroid
    fold = px + k * py > 0
    px, py = (
        np.where(fold, (px - k * py) / 2, px),
        np.where(fold, (-k * px - py) / 2, py),
    )
    px = px - np.clip(px, -2 * r, 0)
    return -np.sqrt(px * px + py * py) * np.sign(py)


def _sd_star(u, v, a, b):  # type: ignore[no-untyped-def]
    r, inner = 1.05, 0.38 + 0.12 * a
    k1x, k1y = 0.809016994375, -0.587785252292
    px, py = np.abs(u), -v
    dot = np.maximum(k1x * px + k1y * py, 0)
    px, py = px - 2 * dot * k1x, py - 2 * dot * k1y
    dot = np.maximum(-k1x * px + k1y * py, 0)
    px, py = px + 2 * dot * k1x, py - 2 * dot * k1y
    px, py = np.abs(px), py - r
    bax, bay = inner * -k1y, inner * k1x - 1
    h = np.clip((px * bax + py * bay) / (bax * bax + bay * bay), 0, r)
    return np.sqrt((px - bax * h) ** 2 + (py - bay * h) ** 2) * np.sign(py * bax - px * bay)


def _sd_plus(u, v, a, b):  # type: ignore[no-untyped-def]
    arm = 0.26 + 0.08 * a
    return np.minimum(_sd_box(u, v, 0.95, arm), _sd_box(u, v, arm, 0.95))


def _sd_crescent(u, v, a, b):  # type: ignore[no-untyped-def]
    shift = 0.38 + 0.15 * a
    outer = np.sqrt(u * u + v * v) - 0.95
    bite = np.sqrt((u - shift) ** 2 + v * v) - 0.8
    return np.maximum(outer, -bite)


def _sd_heart(u, v, a, b):  # type: ignore[no-untyped-def]
    size = 0.58  # heart units per unit: the heart spans about -1..1
    px, py = np.abs(u) * size, -v * size + 0.58
    lobe = np.sqrt((px - 0.25) ** 2 + (py - 0.75) ** 2) - math.sqrt(2) / 4
    m = np.maximum(px + py, 0) * 0.5
    point = np.sqrt(np.minimum(px * px + (py - 1) ** 2, (px - m) ** 2 + (py - m) ** 2)) * np.sign(px - py)
    return np.where(px + py > 1, lobe, point) / size


def _sd_polygon(u, v, vertices):  # type: ignore[no-untyped-def]
    """Signed distance to a simple polygon given as a (V, 2) list of vertices."""
    points = [(float(x), float(y)) for x, y in vertices]
    squared = None
    inside = np.zeros(u.shape, dtype=bool)
    for i, (xi, yi) in enumerate(points):
        xj, yj = points[i - 1]
        ex, ey = xj - xi, yj - yi
        wx, wy = u - xi, v - yi
        t = np.clip((wx * ex + wy * ey) * (1.0 / (ex * ex + ey * ey)), 0, 1)
        wx -= ex * t
        wy -= ey * t
        edge = wx * wx + wy * wy
        squared = edge if squared is None else np.minimum(squared, edge, out=squared)
        # Even-odd rule: the edge crosses the horizontal line through the pixel, on its left side.
        above, below = v >= yi, v < yj
        left = ex * (v - yi) > ey * (u - xi)
        inside ^= (above == below) & (above == left)
    distance = np.sqrt(squared)
    return np.where(inside, -distance, distance)


_ARROW = np.array(
    [
        [-1.0, -0.2],
        [0.15, -0.2],
        [0.15, -0.62],
        [1.0, 0.0],
        [0.15, 0.62],
        [0.15, 0.2],
        [-1.0, 0.2],
    ],
    dtype=np.float32,
)
_LIGHTNING = np.array(
    [
        [-0.1, -1.05],
        [0.55, -1.05],
        [0.18, -0.2],
        [0.6, -0.2],
        [-0.4, 1.05],
        [-0.08, 0.12],
        [-0.5, 0.12],
    ],
    dtype=np.float32,
)


def _sd_arrow(u, v, a, b):  # type: ignore[no-untyped-def]
    return _sd_polygon(u, v, _ARROW)


def _sd_lightning(u, v, a, b):  # type: ignore[no-untyped-def]
    return _sd_polygon(u, v, _LIGHTNING)


_SHAPE_SDFS = (
    _sd_circle_shape,
    _sd_ring,
    _sd_square,
    _sd_triangle,
    _sd_star,
    _sd_plus,
    _sd_crescent,
    _sd_heart,
    _sd_arrow,
    _sd_lightning,
)
assert len(_SHAPE_SDFS) == len(SHAPES10_CLASSES)
