"""Kantor Pos (Pos Indonesia): post-office counters over SOAP 1.1, the reference profile.

Nothing about a Kantor Pos host-to-host integration is public, so this package *defines* one
(``docs/channels/kantorpos.md``, the XSDs in ``schemas/kantorpos/``) and keeps every
partner-specific value in configuration (``profile.toml``). Modules, one job each, usable from
either side of the wire (the library as the counter's client, the fake gateway as server):

* :mod:`.xmlsafe` — the one hardened way in for XML (size, DOCTYPE/entities, depth, UTF-8) and
  the XSD loader and validator;
* :mod:`.soap` — SOAP 1.1 envelopes and Faults;
* :mod:`.types` — every message as an attrs type (what it carries, nothing about XML);
* :mod:`.wire` — how one value is spelled in XML, both ways, and libxml2's check before sending;
* :mod:`.codec` — the SOAP messages as bytes: built with lxml, validated by libxml2 in and out;
* :mod:`.settlement` — the daily settlement file: written, read and checked against its trailer;
* :mod:`.mapping` — the counter's conversions between the library's types and the messages
  (the server's half lives with the fake gateway);
* :mod:`.codes` — the 2-3 digit response codes and what each means to the library;
* :mod:`.profile` — the profile: endpoint, SOAPActions, offices, tellers, limits, fees, codes;
* :mod:`.examples` — one valid example of every message (the documentation's examples);
* :mod:`.settings` — a counter's settings (office, teller), :mod:`.spec` — the channel's registry
  entry, :mod:`.fake` — the fake gateway (BPJS's side of the wire, over the fake host).

Nothing here is imported by ``import jamsostek_channels``; import the modules you use.
"""

from __future__ import annotations

__all__: list[str] = []
