"""Generated files rendered as a reader would see them: LibreOffice (headless) to PDF, then
pdftoppm to one PNG per page. Where either is missing (a fresh CI machine) the test that asks
is skipped with a message saying what to install."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

RENDER_SECONDS = 120


def rendered_pages(document: Path, resolution: int = 50) -> list[Path]:
    """The document's pages as PNG files beside it."""
    office, pages = shutil.which("soffice"), shutil.which("pdftoppm")
    if office is None or pages is None:
        pytest.skip("LibreOffice and poppler are not installed (Debian: libreoffice-writer-nogui "
                    "libreoffice-calc-nogui poppler-utils): the rendering to PNG is not checked")
    folder = document.parent
    # A profile of its own: a LibreOffice already running elsewhere would take the job.
    profile = f"-env:UserInstallation=file://{folder / 'lo-profile'}"
    subprocess.run([office, profile, "--headless", "--convert-to", "pdf", "--outdir",
                    str(folder), str(document)], check=True, capture_output=True,
                   timeout=RENDER_SECONDS)
    pdf = document.with_suffix(".pdf")
    assert pdf.is_file() and pdf.stat().st_size > 0, f"LibreOffice made no PDF of {document}"
    stem = folder / document.stem
    subprocess.run([pages, "-png", "-r", str(resolution), str(pdf), str(stem)], check=True,
                   capture_output=True, timeout=RENDER_SECONDS)
    return sorted(folder.glob(f"{document.stem}-*.png"))
