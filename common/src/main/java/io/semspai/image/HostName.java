package io.semspai.image;

import java.net.IDN;
import java.net.InetAddress;
import java.net.URI;
import java.net.UnknownHostException;
import java.util.Locale;
import java.util.Optional;

/**
 * The network target of an http(s) URI, parsed the way resolvers and browsers read hosts rather than the way
 * {@link URI#getHost()} does ({@code URI} gives up on {@code 2130706433} and would hand {@code 0x7f.1} to DNS).
 *
 * <p>A host whose last label is a number is an IPv4 literal in inet_aton / WHATWG form — decimal
 * ({@code 2130706433}), octal ({@code 0177.0.0.1}), hex ({@code 0x7f.0.0.1}) and short forms ({@code 127.1}) — and is
 * turned into its address here, so the check and the connection see the same address that glibc would have produced.
 * One that does not parse is refused as a bad URI, never sent to DNS.
 *
 * @param scheme {@code http} or {@code https}
 * @param host the host for the Host header, TLS SNI and certificate check (IPv6 without brackets)
 * @param literal the address when the host is an IP literal, else null (resolve {@code host})
 * @param port the port, defaulted from the scheme
 * @param requestTarget path and query for the request line
 */
record HostName(String scheme, String host, InetAddress literal, int port, String requestTarget) {

  boolean https() {
    return scheme.equals("https");
  }

  /** {@code host[:port]} as the Host header wants it. */
  String hostHeader() {
    String h = host.contains(":") ? "[" + host + "]" : host;
    boolean defaultPort = https() ? port == 443 : port == 80;
    return defaultPort ? h : h + ":" + port;
  }

  static HostName parse(URI uri, String label) throws IntakeException {
    String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
    if (!scheme.equals("http") && !scheme.equals("https")) {
      throw ImageSource.schemeRefusal(label, scheme);
    }
    String authority = uri.getRawAuthority();
    if (authority == null || authority.isEmpty()) {
      throw IntakeReason.BAD_URI.exception(label, "no host");
    }
    if (authority.indexOf('@') >= 0) {
      throw IntakeReason.BAD_URI.exception(label, "credentials in the URI are not supported");
    }
    String hostPart;
    String portPart = null;
    if (authority.startsWith("[")) {
      int close = authority.indexOf(']');
      if (close < 0) {
        throw IntakeReason.BAD_URI.exception(label, "unclosed '[' in host");
      }
      hostPart = authority.substring(0, close + 1);
      String rest = authority.substring(close + 1);
      if (!rest.isEmpty()) {
        if (!rest.startsWith(":")) {
          throw IntakeReason.BAD_URI.exception(label, "junk after IPv6 literal");
        }
        portPart = rest.substring(1);
      }
    } else {
      int colon = authority.lastIndexOf(':');
      hostPart = colon < 0 ? authority : authority.substring(0, colon);
      portPart = colon < 0 ? null : authority.substring(colon + 1);
    }
    int port = scheme.equals("https") ? 443 : 80;
    if (portPart != null && !portPart.isEmpty()) {
      if (!portPart.matches("\\d{1,5}") || Integer.parseInt(portPart) < 1 || Integer.parseInt(portPart) > 65535) {
        throw IntakeReason.BAD_URI.exception(label, "bad port '" + portPart + "'");
      }
      port = Integer.parseInt(portPart);
    }
    String path = uri.getRawPath() == null || uri.getRawPath().isEmpty() ? "/" : uri.getRawPath();
    String target = uri.getRawQuery() == null ? path : path + "?" + uri.getRawQuery();
    if (target.chars().anyMatch(c -> c <= ' ' || c >= 0x7F)) {
      throw IntakeReason.BAD_URI.exception(label, "unencoded characters in path or query");
    }

    if (hostPart.startsWith("[")) {
      String inner = hostPart.substring(1, hostPart.length() - 1);
      if (inner.indexOf('%') >= 0) {
        throw IntakeReason.BAD_URI.exception(label, "IPv6 zone identifiers are not supported");
      }
      if (!inner.contains(":")) {
        throw IntakeReason.BAD_URI.exception(label, "bad IPv6 literal '" + inner + "'");
      }
      try {
        // With brackets InetAddress parses a literal or fails; it never does a lookup.
        InetAddress a = InetAddress.getByName(hostPart);
        return new HostName(scheme, inner.toLowerCase(Locale.ROOT), a, port, target);
      } catch (UnknownHostException e) {
        throw IntakeReason.BAD_URI.exception(label, "bad IPv6 literal '" + inner + "'");
      }
    }
    if (hostPart.isEmpty()) {
      throw IntakeReason.BAD_URI.exception(label, "empty host");
    }
    if (hostPart.indexOf('%') >= 0) {
      throw IntakeReason.BAD_URI.exception(label, "percent-encoded host");
    }
    String host;
    try {
      host = IDN.toASCII(hostPart, IDN.ALLOW_UNASSIGNED).toLowerCase(Locale.ROOT);
    } catch (IllegalArgumentException e) {
      throw IntakeReason.BAD_URI.exception(label, "bad host name '" + hostPart + "'");
    }
    if (endsInNumber(host)) {
      Optional<Long> v4 = parseIpv4(host);
      if (v4.isEmpty()) {
        throw IntakeReason.BAD_URI.exception(label, "'" + hostPart + "' looks numeric but is not an IPv4 address");
      }
      try {
        InetAddress a = InetAddress.getByAddress(AddressPolicy.toBytes(v4.get()));
        return new HostName(scheme, a.getHostAddress(), a, port, target);
      } catch (UnknownHostException e) {
        throw new AssertionError(e); // four bytes are always a valid address
      }
    }
    if (!host.matches("[a-z0-9_]([a-z0-9_.-]*[a-z0-9_.])?")) {
      throw IntakeReason.BAD_URI.exception(label, "bad host name '" + hostPart + "'");
    }
    return new HostName(scheme, host, null, port, target);
  }

  /** WHATWG's "ends in a number": the last non-empty label is decimal digits or {@code 0x} hex. */
  static boolean endsInNumber(String host) {
    String h = host.endsWith(".") ? host.substring(0, host.length() - 1) : host;
    String last = h.substring(h.lastIndexOf('.') + 1);
    if (last.isEmpty()) {
      return false;
    }
    if (last.chars().allMatch(c -> c >= '0' && c <= '9')) {
      return true;
    }
    return (last.startsWith("0x") || last.startsWith("0X")) && last.substring(2).chars().allMatch(
        c -> Character.digit(c, 16) >= 0);
  }

  /**
   * inet_aton semantics: 1 to 4 parts; each decimal, octal (leading 0) or hex (0x); the last part fills the
   * remaining bytes ({@code 127.1} is 127.0.0.1, {@code 2130706433} is 127.0.0.1). One trailing dot is allowed.
   */
  static Optional<Long> parseIpv4(String text) {
    String t = text.endsWith(".") ? text.substring(0, text.length() - 1) : text;
    if (t.isEmpty()) {
      return Optional.empty();
    }
    String[] parts = t.split("\\.", -1);
    if (parts.length > 4) {
      return Optional.empty();
    }
    long[] values = new long[parts.length];
    for (int i = 0; i < parts.length; i++) {
      Long v = parseNumber(parts[i]);
      if (v == null) {
        return Optional.empty();
      }
      values[i] = v;
    }
    long result = 0;
    for (int i = 0; i < parts.length - 1; i++) {
      if (values[i] > 255) {
        return Optional.empty();
      }
      result |= values[i] << (8 * (3 - i));
    }
    long last = values[parts.length - 1];
    int lastBytes = 5 - parts.length;
    if (last >= (1L << (8 * lastBytes))) {
      return Optional.empty();
    }
    return Optional.of(result | last);
  }

  private static Long parseNumber(String part) {
    if (part.isEmpty() || part.length() > 40) {
      return null;
    }
    int radix = 10;
    String digits = part;
    if (part.startsWith("0x") || part.startsWith("0X")) {
      radix = 16;
      digits = part.substring(2);
      if (digits.isEmpty()) {
        return 0L;
      }
    } else if (part.length() > 1 && part.startsWith("0")) {
      radix = 8;
      digits = part.substring(1);
    }
    long v = 0;
    for (int i = 0; i < digits.length(); i++) {
      int d = Character.digit(digits.charAt(i), radix);
      if (d < 0) {
        return null;
      }
      v = v * radix + d;
      if (v > 0xFFFFFFFFL) {
        return null;
      }
    }
    return v;
  }
}
