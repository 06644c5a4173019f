"""The ``jamsostek-channels`` command line: ``quote``, ``check`` and ``demo``."""
