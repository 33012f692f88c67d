"""Running notebooks on a chosen Python: a kernelspec that names the interpreter, and a client that uses it.

A kernelspec found by name (``python3``) may belong to any Python on the machine (a user-wide one comes first), so
the tests write their own, naming the exact interpreter, into a folder only they search.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import nbformat
from jupyter_client.kernelspec import KernelSpecManager
from jupyter_client.manager import AsyncKernelManager
from nbclient import NotebookClient

KERNEL_NAME = "aef-test"


def write_kernelspec(folder: Path, python: str | os.PathLike, name: str = KERNEL_NAME) -> Path:
    """A ``kernels/<name>`` kernelspec under ``folder`` that starts ipykernel on ``python``; returns ``folder``."""
    spec_dir = Path(folder) / "kernels" / name
    spec_dir.mkdir(parents=True, exist_ok=True)
    spec = {
        "argv": [str(python), "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": f"aef-widgets tests ({python})",
        "language": "python",
    }
    (spec_dir / "kernel.json").write_text(json.dumps(spec, indent=1))
    return Path(folder)


def run_notebook(
    path: Path,
    python: str | os.PathLike,
    workdir: Path,
    *,
    env: dict[str, str] | None = None,
    timeout: int = 300,
) -> nbformat.NotebookNode:
    """Execute a notebook top to bottom on ``python``'s ipykernel, in ``workdir``; returns it with outputs.

    Raises ``nbclient.exceptions.CellExecutionError`` at the first cell that fails.
    """
    nb = nbformat.read(path, as_version=4)
    specs = write_kernelspec(workdir / ".jupyter-test", python)
    kernel_specs = KernelSpecManager(kernel_dirs=[str(specs / "kernels")], ensure_native_kernel=False)
    km = AsyncKernelManager(kernel_name=KERNEL_NAME, kernel_spec_manager=kernel_specs)
    client = NotebookClient(
        nb,
        km=km,
        timeout=timeout,
        startup_timeout=120,
        shutdown_kernel="immediate",
        resources={"metadata": {"path": str(workdir)}},
    )
    # the client shuts down a kernel manager it was given only when told to; other keywords go to start_kernel,
    # where an ``env`` replaces the environment the kernel would inherit
    client.execute(cleanup_kc=True, **({"env": env} if env is not None else {}))
    return nb


def output_text(nb: nbformat.NotebookNode) -> str:
    """Everything the notebook printed or displayed as text, in order: streams, plain text and HTML."""
    parts = []
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            if out.output_type == "stream":
                parts.append(out.text)
            elif out.output_type in ("execute_result", "display_data"):
                data = out.get("data", {})
                parts.append(data.get("text/plain", ""))
                parts.append(data.get("text/html", ""))
            elif out.output_type == "error":
                parts.append("\n".join(out.traceback))
    return "\n".join(parts)
