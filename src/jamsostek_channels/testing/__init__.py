"""The testing kit: synthetic participants now; fakes of the BPJS host and channel gateways follow.

Nothing here is imported by ``import jamsostek_channels``.
"""

from jamsostek_channels.testing.people import PersonFactory

__all__ = ["PersonFactory"]
