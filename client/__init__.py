"""Clients of the sync protocol, outside the engine: the reference client (`sync_client`), a
fault-injecting HTTP transport (`faults`) and the many-devices simulation behind `eiso simulate`
(`simulate`). They speak HTTP as a phone would; the tests and the benchmarks drive the server with them.
"""
