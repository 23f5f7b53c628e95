"""Build the optional compiled text kernel. If it cannot be built, wordvecs installs without it
and parses with its NumPy kernel (same results, slower)."""

from pathlib import Path

from setuptools import Extension, setup

ext_modules = []
source = Path("src/wordvecs/_ckernel.c")
if source.exists():
    import numpy as np

    ext_modules.append(
        Extension(
            "wordvecs._ckernel",
            sources=[str(source)],
            include_dirs=[np.get_include()],
            extra_compile_args=["-O3", "-pthread"],
            extra_link_args=["-pthread"],
            optional=True,
        )
    )

setup(ext_modules=ext_modules)
