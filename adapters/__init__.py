"""Channel adapters: one module per channel over shared wire-family codecs.

Adapters are imported on use (``import jamsostek_channels.adapters.linkaja``), never by
``import jamsostek_channels``, so the core stays light. Each one only translates: the rules run
in the core before anything is sent.
"""
