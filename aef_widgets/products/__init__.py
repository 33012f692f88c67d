"""Product families declared once: what each product is computed from, and how it is drawn.

Each family is one module (``rgb``, ``aoi``, ``clusters``, ``similarity``, ``change``, ``time``, ``classes``,
``side_by_side``, ``index``, ``fields``, and ``marks`` for what the user places on the map); ``registry`` lists them
and builds from them the flow's graph (``widgets.flow``) and the layer stack's kinds (``widgets.layer_stack``).
Nothing else names a node or a layer kind: tests/products/test_panel_names.py fails if a panel names one that is not
declared.
"""
