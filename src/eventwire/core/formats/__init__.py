"""Input formats (docs/formats.md): each turns one raw document into canonical events, or reasons.

Where a Tracardi, Talon.One, Simon, Arsel or Segment payload becomes events is the module of
that name; ``detect`` picks the module from the ``format`` header or the document's shape.
"""
