"""A deterministic synthetic multi-year AEF dataset, written in the int8 COG encoding of the public release.

The scene is a 10 m UTM landscape: a grid of rectangular fields along section roads, forest blobs, a river with a
reservoir, and a small town with a street grid. Over the years it plants events with known masks and years (see
``synthetic_events``): a fire and its regrowth, a clearing, construction, a reservoir that shrinks and refills, and
fields slowly turning to grassland.

Class directions and within-class spread come from ``sample_classes.json`` (beside this module), derived from real
embeddings by ``tools/derive_sample_classes.py``. The class names label this scene; they claim nothing about the
real clusters.
A pixel is ``c + t`` renormalised: ``c`` its class direction, ``t`` a tangent offset made of the class's principal
components (one part shared by the whole patch, such as a field's crop, one a smooth texture, one white noise)
plus an isotropic residual; a pixel blending two classes mixes both vectors. Each part is partly carried over
from the previous year, so stable pixels change a little while changed pixels take the new class's vector. A small
blur mixes classes along boundaries, as a 10 m pixel straddling two land covers does.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np
from affine import Affine

from ..core.bands import N_BANDS
from ..core.execution import scoped
from ..core.quantization import NODATA_INT8, quantize
from .cog import write_embedding_cog, write_uint8
from .synthetic_scene import Scene, build_scene, smooth_noise
from .truth import LABEL_NODATA, SAMPLE_VERSION

DEFAULT_SEED = 20250601
#: 2018-2025: each year is about 52 MB of int8 COG, so eight keep the cache near 400 MB (nine would be 470 MB).
DEFAULT_YEARS = tuple(range(2018, 2026))
EPSG = "EPSG:32616"
ORIGIN = (352000.0, 4912000.0)  # top-left corner, near the real raster in tests/data/aef-real
PIXEL_SIZE = 10.0

# Share of each class's variance that is shared by a whole patch (crop of a field, character of a town block);
# the rest is smooth texture plus a little white noise, whose share follows the real lag-1 autocorrelation.
_PATCH_SHARE = np.array([0.1, 0.15, 0.45, 0.3, 0.3, 0.2], dtype=np.float32)
_WHITE_SHARE = 0.12
_TEXTURE_SIGMA = 2.5  # px; the real residuals decorrelate over ~4-8 px
# Year-to-year correlation of each part: stable pixels keep most of their patch offset, less of their texture.
_RHO_PATCH, _RHO_TEXTURE = 0.8, 0.4
_SPREAD = 1.0  # scales the real spread; the blur removes about as much as boundary mixing adds
_BANK = 1 << 16  # isotropic residual vectors drawn once and picked at random per pixel
_CHUNK = 16  # rows per block of vector synthesis, small enough to stay in cache


@dataclass(frozen=True)
class ClassModel:
    """Class directions and spread, as read from ``sample_classes.json``."""

    names: tuple[str, ...]
    colours: tuple[str, ...]
    centroids: np.ndarray  # (classes, 64) unit vectors
    bases: np.ndarray  # (classes, components, 64): principal directions scaled by their standard deviation
    residual_std: np.ndarray  # (classes,) isotropic standard deviation of what the components leave out
    attribution: str


def load_class_model() -> ClassModel:
    """The shipped class statistics."""
    text = resources.files("aef_widgets.data").joinpath("sample_classes.json").read_text()
    data = json.loads(text)
    classes = sorted(data["classes"], key=lambda c: c["id"])
    centroids = np.array([c["centroid"] for c in classes], dtype=np.float64)
    bases = np.array([np.array(c["component_std"])[:, None] * c["components"] for c in classes])
    return ClassModel(
        names=tuple(c["name"] for c in classes),
        colours=tuple(c["colour"] for c in classes),
        centroids=(centroids / np.linalg.norm(centroids, axis=1, keepdims=True)).astype(np.float32),
        bases=(bases * _SPREAD).astype(np.float32),
        residual_std=np.array([c["residual_std"] for c in classes], dtype=np.float32) * _SPREAD,
        attribution=data["attribution"],
    )


def write_sample(
    folder: Path, *, size: int = 1024, years: Sequence[int] = DEFAULT_YEARS, seed: int = DEFAULT_SEED
) -> None:
    """Write the sample into ``folder``: ``aef_sample_{year}.tif``, ``labels_{year}.tif``,
    ``change_{y0}_{y1}.tif`` for consecutive years, ``events.tif`` and ``classes.json``. A pure function of its
    arguments."""
    if size < 128 or size % 64:
        raise ValueError(f"size must be a multiple of 64 and at least 128, got {size}")
    years = [int(y) for y in years]
    if not years or sorted(set(years)) != years:
        raise ValueError(f"years must be increasing and distinct, got {years}")
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    model = load_class_model()
    scene_seed, vector_seed = np.random.SeedSequence(seed).spawn(2)
    scene = build_scene(size, len(years), np.random.default_rng(scene_seed))
    rng = np.random.default_rng(vector_seed)
    bank = rng.standard_normal((_BANK, N_BANDS), dtype=np.float32)
    transform = Affine(PIXEL_SIZE, 0.0, ORIGIN[0], 0.0, -PIXEL_SIZE, ORIGIN[1])
    state = None
    # GDAL writes one year's COG (releasing the GIL) while numpy computes the next
    with scoped(1, "aef-sample-writer") as writer:
        written = []
        for i, year in enumerate(years):
            codes, state = embed_year(scene, i, model, bank, rng, state)
            tags = {
                "YEAR": str(year),
                "SYNTHETIC": f"YES: aef-widgets synthetic sample v{SAMPLE_VERSION}, not real AlphaEarth data",
                "QUANTIZATION": "float = sign(q)*(q/127.5)^2, -128 nodata (AEF COG convention)",
                "SOURCE": f"class statistics derived from real AEF embeddings. {model.attribution}",
            }
            path = folder / f"aef_sample_{year}.tif"
            written.append(writer.submit(write_embedding_cog, path, codes, EPSG, transform, tags))
        for future in written:
            future.result()  # re-raises a failed write
    for i, year in enumerate(years):
        labels = np.where(scene.nodata[i], LABEL_NODATA, scene.truth[i]).astype(np.uint8)
        write_uint8(folder / f"labels_{year}.tif", labels, EPSG, transform, {"YEAR": str(year)})
    for i in range(1, len(years)):
        invalid = scene.nodata[i - 1] | scene.nodata[i]
        change = np.where(invalid, LABEL_NODATA, scene.truth[i - 1] != scene.truth[i]).astype(np.uint8)
        name = f"change_{years[i - 1]}_{years[i]}.tif"
        write_uint8(folder / name, change, EPSG, transform, {"CHANGE": scene.changes[i - 1]})
    event_ids = np.zeros((size, size), dtype=np.uint8)
    for number, event in enumerate(scene.events, start=1):
        event_ids[event.mask] = number  # events are disjoint
    write_uint8(folder / "events.tif", event_ids, EPSG, transform, {"EVENTS": "0 none, n = events[n - 1]"})
    info = {
        "classes": {str(i): {"name": n, "colour": c} for i, (n, c) in enumerate(zip(model.names, model.colours))},
        "label_nodata": LABEL_NODATA,
        "years": years,
        "changes": {f"{years[i - 1]}-{years[i]}": scene.changes[i - 1] for i in range(1, len(years))},
        "events": [
            {
                "id": number,
                "name": e.name,
                "kind": e.kind,
                "year": None if e.main is None else years[e.main],
                "steps": {str(years[i]): text for i, text in sorted(e.steps.items())},
            }
            for number, e in enumerate(scene.events, start=1)
        ],
        "synthetic": True,
        "version": SAMPLE_VERSION,
        "seed": seed,
        "note": "Synthetic data; class names label the synthetic scene, not real AEF clusters.",
        "attribution": model.attribution,
    }
    (folder / "classes.json").write_text(json.dumps(info, indent=1) + "\n")


# --- the vectors ----------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class _YearState:
    patch: np.ndarray  # (patches, components)
    texture: np.ndarray  # (rows, cols, components)


def embed_year(
    scene: Scene,
    index: int,
    model: ClassModel,
    bank: np.ndarray,
    rng: np.random.Generator,
    previous: _YearState | None,
) -> tuple[np.ndarray, _YearState]:
    """int8 codes (rows, cols, 64) of one year, and the offsets the next year carries over."""
    labels, patches = scene.labels[index], scene.patches[index]
    seconds, weights = scene.blend_labels[index], scene.blend[index]
    n, (n_classes, n_comp) = labels.shape[0], model.bases.shape[:2]
    patch = rng.standard_normal((scene.n_patches, n_comp), dtype=np.float32)
    texture = smooth_noise(rng, n, _TEXTURE_SIGMA, n_comp)
    if previous is not None:
        patch = _RHO_PATCH * previous.patch + np.float32(np.sqrt(1 - _RHO_PATCH**2)) * patch
        texture = _RHO_TEXTURE * previous.texture + np.float32(np.sqrt(1 - _RHO_TEXTURE**2)) * texture
    white = rng.standard_normal((n, n, n_comp), dtype=np.float32)
    picks = rng.integers(0, len(bank), (n, n))
    shares = np.sqrt(
        np.stack([_PATCH_SHARE, (1 - _PATCH_SHARE) * (1 - _WHITE_SHARE), (1 - _PATCH_SHARE) * _WHITE_SHARE], axis=1)
    ).astype(np.float32)
    # One matrix for all classes: a pixel's row holds [1, coefficients] in its class's block and zeros elsewhere,
    # so a single product gives every pixel its class centroid plus its offset, with no masking per class.
    width = 1 + n_comp
    stacked = np.concatenate([model.centroids[:, None], model.bases], axis=1).reshape(n_classes * width, N_BANDS)

    codes = np.empty((n, n, N_BANDS), dtype=np.int8)
    for r0 in range(0, n, _CHUNK):
        a, b = max(r0 - 1, 0), min(r0 + _CHUNK + 1, n)  # one row of halo for the blur
        lab = labels[a:b].ravel()
        coef = shares[lab, :1] * patch[patches[a:b].ravel()]
        coef += shares[lab, 1:2] * texture[a:b].reshape(-1, n_comp)
        coef += shares[lab, 2:] * white[a:b].reshape(-1, n_comp)
        rows = np.zeros((lab.size, n_classes * width), dtype=np.float32)
        place = lab[:, None].astype(np.intp) * width + np.arange(width)
        np.put_along_axis(rows, place, np.concatenate([np.ones((lab.size, 1), np.float32), coef], axis=1), axis=1)
        v = rows @ stacked
        residual = model.residual_std[lab]
        w = weights[a:b].ravel()
        mixed = np.flatnonzero(w)
        if mixed.size:  # the few pixels blending two classes: (1 - w) of the first vector plus w of the second
            other, wm = seconds[a:b].ravel()[mixed], w[mixed, None]
            coef2 = shares[other, :1] * patch[patches[a:b].ravel()[mixed]]
            coef2 += shares[other, 1:2] * texture[a:b].reshape(-1, n_comp)[mixed]
            coef2 += shares[other, 2:] * white[a:b].reshape(-1, n_comp)[mixed]
            offset = np.einsum("nc,ncb->nb", coef2, model.bases[other])
            v[mixed] = (1 - wm) * v[mixed] + wm * (model.centroids[other] + offset)
            residual = residual.copy()
            residual[mixed] = (1 - wm[:, 0]) * residual[mixed] + wm[:, 0] * model.residual_std[other]
        v += residual[:, None] * bank[picks[a:b].ravel()]
        v = _blur(_blur(v.reshape(b - a, n, N_BANDS), 0), 1)[r0 - a : r0 - a + _CHUNK]
        v /= np.sqrt(np.einsum("ijk,ijk->ij", v, v))[..., None]
        q = quantize(v)
        q[scene.nodata[index][r0 : r0 + _CHUNK]] = NODATA_INT8
        codes[r0 : r0 + _CHUNK] = q
    return codes, _YearState(patch, texture)


def _blur(v: np.ndarray, axis: int) -> np.ndarray:
    """Weights [1, 2, 1] along one axis, edges repeated, unscaled (renormalisation follows): mixes neighbours as
    a pixel's footprint would."""
    v = np.moveaxis(v, axis, 0)
    pairs = v[:-1] + v[1:]
    out = np.empty_like(v)
    out[1:-1] = pairs[:-1] + pairs[1:]
    out[0] = 2 * v[0] + pairs[0]
    out[-1] = 2 * v[-1] + pairs[-1]
    return np.moveaxis(out, 0, axis)
