import ipaddr from 'ipaddr.js';

/**
 * Which destination addresses a target may connect to without `allowPrivateNetwork`: only
 * ipaddr.js' 'unicast' range (public unicast). Every other named range is refused (loopback,
 * private, linkLocal, uniqueLocal, carrierGradeNat, reserved (198.18/15 and 192.0.0/24
 * among them), multicast, unspecified, broadcast, benchmarking, ...).
 *
 * IPv6 forms that carry an IPv4 address are judged by that address, so `::ffff:127.0.0.1`,
 * `64:ff9b::127.0.0.1` (NAT64), `2002:7f00:1::` (6to4) and a Teredo address whose server or
 * client is private are refused like 127.0.0.1, while `64:ff9b::8.8.8.8` (what DNS64 gives
 * an IPv6-only VPC for a public IPv4 host) stays allowed. IPv4-compatible (`::a.b.c.d`,
 * deprecated by RFC 4291) and IPv4-translated (`::ffff:0:a.b.c.d`) addresses never appear
 * on the Internet and are refused whatever they embed.
 */

/** Undefined for a public unicast address; otherwise the range that refuses it (for the error). */
const nonPublicRange = (address: string): string | undefined => {
  let parsed: ipaddr.IPv4 | ipaddr.IPv6;
  try {
    parsed = ipaddr.parse(address.includes(':') ? hexTail(address) : address);
  } catch {
    return 'not an IP address';
  }
  return parsed.kind() === 'ipv4' ? ipv4Range(parsed as ipaddr.IPv4) : ipv6Range(parsed as ipaddr.IPv6);
};

const ipv4Range = (address: ipaddr.IPv4): string | undefined => {
  const range = address.range();
  return range === 'unicast' ? undefined : range;
};

const ipv6Range = (address: ipaddr.IPv6): string | undefined => {
  const range = address.range();
  const parts = address.parts;
  switch (range) {
    case 'unicast':
      // ::/96 outside :: and ::1 is the IPv4-compatible form; ipaddr.js names it unicast.
      return parts.slice(0, 6).every((part) => part === 0) ? `ipv4Compatible ${embeddedLabel(ipv4From(parts[6]!, parts[7]!))}` : undefined;
    case 'ipv4Mapped':
      return embedded(range, ipv4From(parts[6]!, parts[7]!));
    case 'rfc6052':
      // Only the well-known /96 prefix has a fixed place for the IPv4 address; 64:ff9b:1::/48 is local use.
      return parts[2] === 0 && parts[3] === 0 && parts[4] === 0 && parts[5] === 0 ? embedded('NAT64', ipv4From(parts[6]!, parts[7]!)) : range;
    case '6to4':
      return embedded(range, ipv4From(parts[1]!, parts[2]!));
    case 'teredo':
      // RFC 4380: the server's IPv4 in bits 32-63, the client's in the last 32 bits, inverted.
      return embedded('teredo server', ipv4From(parts[2]!, parts[3]!)) ?? embedded('teredo client', ipv4From(~parts[6]! & 0xffff, ~parts[7]! & 0xffff));
    default:
      return range;
  }
};

/**
 * `::127.0.0.1` with its dotted tail in hex (`::7f00:1`): ipaddr.js reads `::a.b.c.d` as the
 * IPv4-mapped `::ffff:a.b.c.d`, which would hide the IPv4-compatible form.
 */
const hexTail = (address: string): string =>
  address.replace(/:(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/, (_tail, a: string, b: string, c: string, d: string) => {
    const [high, low] = [(Number(a) << 8) | Number(b), (Number(c) << 8) | Number(d)];
    return [a, b, c, d].some((octet) => Number(octet) > 255) ? _tail : `:${high.toString(16)}:${low.toString(16)}`;
  });

const ipv4From = (high: number, low: number): ipaddr.IPv4 => new ipaddr.IPv4([high >> 8, high & 255, low >> 8, low & 255]);

/** The embedded IPv4's range when it is not public, named with the form that carried it. */
const embedded = (form: string, ipv4: ipaddr.IPv4): string | undefined => {
  const range = ipv4Range(ipv4);
  return range === undefined ? undefined : `${range} (${ipv4.toString()} in ${form})`;
};

const embeddedLabel = (ipv4: ipaddr.IPv4): string => `(${ipv4.toString()}, ${ipv4.range()})`;

/** True unless `address` is a public unicast address (see nonPublicRange). */
const isNonPublicAddress = (address: string): boolean => nonPublicRange(address) !== undefined;

export { nonPublicRange, isNonPublicAddress };
