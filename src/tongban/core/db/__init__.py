"""The database layer, one module per job: ``base`` (tables and column types), ``engine``,
``session`` (the unit of work), ``cache`` (reference data), ``bulk`` and ``driver`` (fast paths)."""
