"""``python -m jamsostek_channels`` runs the command line."""

from jamsostek_channels.cli.main import run

run()
