"""Helpers shared by the test directories: hubs built in-process (hubtest, hubflow, acceptance_hub), real server
processes (serverproc, edgeproc, consoleproc, newcomer), storage backends and contract data (backends, contract,
mongofake), mail and sample builders (mailmaker, realworld, conv_support), the console client (consoleclient)
and MISP's importer as a consumer (mispcheck). Tests import them as `tests.support.<module>`; the repository root
is on pytest's import path (`pythonpath = .` in setup.cfg), so no test edits sys.path.
"""
