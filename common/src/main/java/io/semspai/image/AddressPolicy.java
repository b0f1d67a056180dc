package io.semspai.image;

import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * Which addresses a fetch may connect to. Refuses everything that is not plainly a public unicast address —
 * loopback, private, CGNAT, link-local (169.254.169.254, the cloud metadata service, included), multicast,
 * unspecified, broadcast, documentation and reserved ranges — and IPv6 forms that embed such an IPv4 address
 * (IPv4-mapped, IPv4-compatible, NAT64, 6to4), unless the operator's allowlist names the address or the host.
 *
 * <p>Pure computation: it never resolves or connects, so tests can check any address without sending a packet.
 */
public final class AddressPolicy {

  /** A CIDR block. */
  record Cidr(byte[] prefix, int bits, String text) {
    boolean contains(byte[] address) {
      if (address.length != prefix.length) {
        return false;
      }
      int full = bits / 8;
      for (int i = 0; i < full; i++) {
        if (address[i] != prefix[i]) {
          return false;
        }
      }
      int rest = bits % 8;
      if (rest == 0) {
        return true;
      }
      int mask = (0xFF << (8 - rest)) & 0xFF;
      return (address[full] & mask) == (prefix[full] & mask);
    }

    static Cidr parse(String text) {
      String t = text.trim();
      int slash = t.indexOf('/');
      String addr = slash < 0 ? t : t.substring(0, slash);
      byte[] bytes = literal(addr);
      if (bytes == null) {
        throw new IllegalArgumentException("not an IP address or CIDR: '" + text + "'");
      }
      int bits = bytes.length * 8;
      if (slash >= 0) {
        try {
          bits = Integer.parseInt(t.substring(slash + 1));
        } catch (NumberFormatException e) {
          throw new IllegalArgumentException("bad prefix length in '" + text + "'");
        }
        if (bits < 0 || bits > bytes.length * 8) {
          throw new IllegalArgumentException("prefix length out of range in '" + text + "'");
        }
      }
      return new Cidr(bytes, bits, t);
    }

    /** Parses only literal addresses (dotted-quad IPv4 or IPv6); never touches DNS. */
    private static byte[] literal(String addr) {
      if (addr.contains(":")) {
        try {
          // Brackets make InetAddress treat the text as an IPv6 literal or fail, never a lookup.
          InetAddress a = InetAddress.getByName("[" + addr + "]");
          return a.getAddress().length == 4 ? mapped(a.getAddress()) : a.getAddress();
        } catch (UnknownHostException e) {
          return null;
        }
      }
      return HostName.parseIpv4(addr).map(AddressPolicy::toBytes).orElse(null);
    }
  }

  private record Range(Cidr cidr, String kind) {}

  private static final List<Range> BLOCKED_V4 = List.of(
      range("0.0.0.0/8", "unspecified (this-network)"),
      range("10.0.0.0/8", "private"),
      range("100.64.0.0/10", "carrier-grade NAT (shared)"),
      range("127.0.0.0/8", "loopback"),
      range("169.254.0.0/16", "link-local (cloud metadata)"),
      range("172.16.0.0/12", "private"),
      range("192.0.0.0/24", "IETF protocol assignment"),
      range("192.0.2.0/24", "documentation"),
      range("192.88.99.0/24", "6to4 relay anycast"),
      range("192.168.0.0/16", "private"),
      range("198.18.0.0/15", "benchmarking"),
      range("198.51.100.0/24", "documentation"),
      range("203.0.113.0/24", "documentation"),
      range("224.0.0.0/4", "multicast"),
      range("240.0.0.0/4", "reserved or broadcast"));

  private static final List<Range> BLOCKED_V6 = List.of(
      range("::/128", "unspecified"),
      range("::1/128", "loopback"),
      range("100::/64", "discard-only"),
      range("2001::/32", "Teredo"),
      range("2001:db8::/32", "documentation"),
      range("64:ff9b:1::/48", "local-use NAT64"),
      range("fc00::/7", "unique-local (private)"),
      range("fe80::/10", "link-local"),
      range("fec0::/10", "site-local"),
      range("ff00::/8", "multicast"));

  private static final Cidr V4_MAPPED = Cidr.parse("::ffff:0:0/96");
  private static final Cidr V4_COMPATIBLE = Cidr.parse("::/96");
  private static final Cidr NAT64 = Cidr.parse("64:ff9b::/96");
  private static final Cidr SIX_TO_FOUR = Cidr.parse("2002::/16");

  private final List<Cidr> allowedRanges;
  private final List<String> allowedHosts;

  /** A refusal: why an address may not be used. */
  public record Refusal(InetAddress address, String kind) {}

  public AddressPolicy(List<String> allowlist) {
    List<Cidr> ranges = new ArrayList<>();
    List<String> hosts = new ArrayList<>();
    split(allowlist, ranges, hosts);
    this.allowedRanges = List.copyOf(ranges);
    this.allowedHosts = List.copyOf(hosts);
  }

  static void parseAllowlist(List<String> allowlist) {
    split(allowlist, new ArrayList<>(), new ArrayList<>());
  }

  private static void split(List<String> allowlist, List<Cidr> ranges, List<String> hosts) {
    for (String entry : allowlist) {
      String e = entry.trim().toLowerCase(Locale.ROOT);
      if (e.isEmpty()) {
        continue;
      }
      if (e.contains(":") || e.contains("/") || HostName.endsInNumber(e)) {
        ranges.add(Cidr.parse(e));
      } else if (e.matches("(\\*\\.)?[a-z0-9_]([a-z0-9_.-]*[a-z0-9_])?")) {
        hosts.add(e);
      } else {
        throw new IllegalArgumentException("intake.allow entry is neither a CIDR nor a host name: '" + entry + "'");
      }
    }
  }

  /** Whether the allowlist names this host (exactly, or by a {@code *.suffix} entry). */
  public boolean hostAllowed(String host) {
    String h = host.toLowerCase(Locale.ROOT);
    if (h.endsWith(".")) {
      h = h.substring(0, h.length() - 1);
    }
    for (String entry : allowedHosts) {
      if (entry.startsWith("*.") ? h.endsWith(entry.substring(1)) : h.equals(entry)) {
        return true;
      }
    }
    return false;
  }

  /**
   * Checks one resolved address of {@code host}. Empty when the fetch may connect to it.
   *
   * @param host the host name as written in the URI (an allowlisted host permits any address it resolves to)
   */
  public Optional<Refusal> check(String host, InetAddress address) {
    if (host != null && hostAllowed(host)) {
      return Optional.empty();
    }
    byte[] bytes = address.getAddress();
    if (address instanceof Inet4Address) {
      return checkV4(address, bytes);
    }
    if (address instanceof Inet6Address) {
      if (allowed(bytes)) {
        return Optional.empty();
      }
      for (Range r : BLOCKED_V6) {
        if (r.cidr.contains(bytes)) {
          return Optional.of(new Refusal(address, r.kind));
        }
      }
      byte[] embedded = embeddedV4(bytes);
      if (embedded != null) {
        Optional<Refusal> inner = checkV4(address, embedded);
        if (inner.isPresent()) {
          return Optional.of(new Refusal(address, inner.get().kind() + " (embedded in IPv6)"));
        }
      }
      return Optional.empty();
    }
    return Optional.of(new Refusal(address, "unknown-family"));
  }

  private Optional<Refusal> checkV4(InetAddress original, byte[] v4) {
    if (allowed(v4) || allowed(mapped(v4))) {
      return Optional.empty();
    }
    for (Range r : BLOCKED_V4) {
      if (r.cidr.contains(v4)) {
        return Optional.of(new Refusal(original, r.kind));
      }
    }
    return Optional.empty();
  }

  private boolean allowed(byte[] bytes) {
    for (Cidr c : allowedRanges) {
      if (c.contains(bytes)) {
        return true;
      }
    }
    return false;
  }

  /** The IPv4 address inside an IPv4-mapped, IPv4-compatible, NAT64 or 6to4 IPv6 address, else null. */
  static byte[] embeddedV4(byte[] v6) {
    if (v6.length != 16) {
      return null;
    }
    if (V4_MAPPED.contains(v6) || V4_COMPATIBLE.contains(v6) || NAT64.contains(v6)) {
      return new byte[] {v6[12], v6[13], v6[14], v6[15]};
    }
    if (SIX_TO_FOUR.contains(v6)) {
      return new byte[] {v6[2], v6[3], v6[4], v6[5]};
    }
    return null;
  }

  static byte[] mapped(byte[] v4) {
    byte[] out = new byte[16];
    out[10] = (byte) 0xFF;
    out[11] = (byte) 0xFF;
    System.arraycopy(v4, 0, out, 12, 4);
    return out;
  }

  static byte[] toBytes(long v4) {
    return new byte[] {(byte) (v4 >>> 24), (byte) (v4 >>> 16), (byte) (v4 >>> 8), (byte) v4};
  }

  private static Range range(String cidr, String kind) {
    return new Range(Cidr.parse(cidr), kind);
  }
}
