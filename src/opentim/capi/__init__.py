"""The C library: ``libImSDK.so``, exporting every function of Tencent's TIM C API with its C
signature, backed by ``opentim.tim`` in an embedded Python (``opentim capi build``; docs/capi.md).

``reference`` reads the interface facts (``tim-c-all.json``), ``headers`` writes the C headers,
``build`` compiles the library with cffi, and ``bridge`` is its Python side.
"""
