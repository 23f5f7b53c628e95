"""Build the optional compiled kernels: the text kernel (_ckernel) and the fastText subword kernel
(_ftkernel). If one cannot be built, wordvecs installs without it and uses its NumPy/Python
fallback (same results, slower)."""

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
ft_source = Path("src/wordvecs/_ftkernel.c")
if ft_source.exists():
    ext_modules.append(
        Extension(
            "wordvecs._ftkernel",
            sources=[str(ft_source)],
            # no -ffast-math, no FMA contraction: float32 sums must match fastText's bit for bit
            extra_compile_args=["-O3", "-ffp-contract=off", "-pthread"],
            extra_link_args=["-pthread"],
            optional=True,
        )
    )

setup(ext_modules=ext_modules)
