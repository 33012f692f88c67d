"""Value objects and conventions shared by every layer: bands, quantization, AOIs and fields.

Nothing here reads files, draws, or knows about widgets.
"""
