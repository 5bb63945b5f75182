"""The demo and the loopback mail servers it runs on; imported only by the `demo` command and tests."""
