"""``python -m paretune`` runs the command-line interface."""

from paretune.cli import main

main()
