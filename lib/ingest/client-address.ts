// Who sent a request, behind a reverse proxy (INGEST_TRUSTED_PROXIES): every runner behind
// Caddy or nginx reaches the server from the proxy's address, so limits, wrong-key throttling
// and log lines would all name the proxy. From a trusted proxy only, the forwarding headers
// say who the client is; from anyone else they are ignored, since anyone can send them.
import { BlockList, isIP } from 'node:net';

export interface ClientAddressResolver {
  /** True when the peer is one of the trusted proxies. */
  trusted(address: string): boolean;
  /**
   * The client's address: the peer's own, or, when the peer is a trusted proxy, the rightmost
   * hop of `Forwarded` (else `X-Forwarded-For`) that is not itself a trusted proxy.
   */
  resolve(peer: string, headers: Record<string, string | string[] | undefined>): string;
}

/**
 * Builds the resolver from addresses and CIDRs, IPv4 or IPv6 (config.ts has checked them).
 * @throws TypeError for an entry that is not an address or CIDR.
 */
export function createClientAddressResolver(entries: readonly string[]): ClientAddressResolver {
  const list = new BlockList();
  for (const entry of entries) {
    const [address = '', prefix] = entry.split('/');
    const family = isIP(address) === 6 ? 'ipv6' : 'ipv4';
    if (prefix === undefined) list.addAddress(address, family);
    else list.addSubnet(address, Number(prefix), family);
  }
  const trusted = (address: string): boolean => {
    const a = plainAddress(address);
    const family = isIP(a);
    return family !== 0 && list.check(a, family === 6 ? 'ipv6' : 'ipv4');
  };
  return {
    trusted,
    resolve(peer, headers) {
      const own = plainAddress(peer);
      if (entries.length === 0 || !trusted(own)) return own;
      const hops = forwardedHops(headers);
      let client = own;
      // Right to left: each hop was added by the proxy to its right; the first one that is
      // not a trusted proxy is the client, and whatever lies left of it is the client's word.
      for (let i = hops.length - 1; i >= 0; i--) {
        const hop = hops[i]!;
        // `unknown`, an obfuscated name or garbage: no address to go on, so the last one known stands.
        if (isIP(hop) === 0) return client;
        client = hop;
        if (!trusted(hop)) return hop;
      }
      return client;
    },
  };
}

/** The hops a request went through, client first: from `Forwarded` (RFC 7239) when sent, else `X-Forwarded-For`. */
function forwardedHops(headers: Record<string, string | string[] | undefined>): string[] {
  const joined = (v: string | string[] | undefined): string | null => (v === undefined ? null : Array.isArray(v) ? v.join(',') : v);
  const forwarded = joined(headers.forwarded);
  if (forwarded) {
    return forwarded.split(',').map((element) => {
      const pair = element.split(';').find((p) => /^\s*for\s*=/i.test(p));
      return pair ? plainAddress(pair.slice(pair.indexOf('=') + 1).trim().replace(/^"|"$/g, '')) : '';
    });
  }
  const xff = joined(headers['x-forwarded-for']);
  return xff ? xff.split(',').map((hop) => plainAddress(hop.trim())) : [];
}

/**
 * An address without what wraps it: `[2001:db8::1]:4711` → `2001:db8::1`, `192.0.2.1:80` →
 * `192.0.2.1`, and an IPv4-mapped IPv6 address (`::ffff:127.0.0.1`, how a dual-stack socket
 * names an IPv4 peer) → `127.0.0.1`.
 */
export function plainAddress(text: string): string {
  let a = text.trim();
  const bracketed = /^\[([^\]]+)\](?::\d+)?$/.exec(a);
  if (bracketed) a = bracketed[1]!;
  else if (/^\d{1,3}(?:\.\d{1,3}){3}:\d+$/.test(a)) a = a.slice(0, a.lastIndexOf(':'));
  const mapped = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i.exec(a);
  return mapped ? mapped[1]! : a;
}
