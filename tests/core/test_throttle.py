"""core.throttle: what part of a client address a throttle key names."""

from __future__ import annotations

from tongban.core.throttle import counted


def test_a_throttle_counts_an_ipv6_network_and_a_mapped_ipv4_address_as_its_ipv4():
    assert counted("2001:db8:1:2:aaaa:bbbb:cccc:dddd") == counted("2001:db8:1:2::1") == "2001:db8:1:2::/64"
    assert counted("::ffff:198.18.0.7") == counted("198.18.0.7") == "198.18.0.7"
    assert counted("unknown") == "unknown"
