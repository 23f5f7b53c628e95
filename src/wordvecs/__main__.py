"""``python -m wordvecs``."""

from wordvecs.cli import main

main()
