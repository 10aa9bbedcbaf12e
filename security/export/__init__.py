"""The team's security log leaving the product: CSV and JSON Lines, streamed.

``rows`` is the pure part (one event as a row, formula-safe cells, the two encodings);
``log`` reads the events in keyset-ordered chunks; ``forms`` checks the filters; ``views``
streams the file and records the export."""
