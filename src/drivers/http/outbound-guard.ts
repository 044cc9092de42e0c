// The one SSRF guard every outbound feature (webhooks now; replication endpoints, OIDC, scanners later) goes
// through. A target is refused when it resolves to an address a registry has no business calling on a user's
// behalf: loopback, link-local (cloud metadata: 169.254.169.254, fd00:ec2::254), private (RFC 1918, ULA, CGNAT),
// unspecified, multicast, reserved. It is checked when a URL is saved (checkUrl) and again at delivery on the
// address that is actually connected to: `lookup` resolves once, checks every answer and hands the checked
// address to the socket, so a DNS answer that changes between the check and the connect (rebinding) cannot slip
// through. `security.outbound_allowlist` (CIDRs and host names) lets an operator reach internal receivers.
import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { BlockList, isIP } from 'node:net';

export class OutboundRefusedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'OutboundRefusedError';
  }
}

/** The host name has no address now (as opposed to one that is not allowed). */
export class OutboundUnresolvedError extends OutboundRefusedError {}

/** Ranges no outbound request may reach unless allow-listed, with the reason shown in the refusal. */
const DENIED: readonly [string, number, 'ipv4' | 'ipv6', string][] = [
  ['0.0.0.0', 8, 'ipv4', 'unspecified'],
  ['10.0.0.0', 8, 'ipv4', 'private'],
  ['100.64.0.0', 10, 'ipv4', 'private (shared address space)'],
  ['127.0.0.0', 8, 'ipv4', 'loopback'],
  ['169.254.0.0', 16, 'ipv4', 'link-local'],
  ['172.16.0.0', 12, 'ipv4', 'private'],
  ['192.0.0.0', 24, 'ipv4', 'reserved'],
  ['192.168.0.0', 16, 'ipv4', 'private'],
  ['198.18.0.0', 15, 'ipv4', 'reserved'],
  ['224.0.0.0', 4, 'ipv4', 'multicast'],
  ['240.0.0.0', 4, 'ipv4', 'reserved'],
  ['::', 128, 'ipv6', 'unspecified'],
  ['::1', 128, 'ipv6', 'loopback'],
  ['fe80::', 10, 'ipv6', 'link-local'],
  ['fec0::', 10, 'ipv6', 'site-local'],
  ['fc00::', 7, 'ipv6', 'private (unique local)'],
  ['ff00::', 8, 'ipv6', 'multicast'],
];
const METADATA = new Set(['169.254.169.254', 'fd00:ec2::254']);

/** An IPv4 address embedded in an IPv6 one (::ffff:a.b.c.d mapped, ::a.b.c.d compatible, 64:ff9b::/96 NAT64), or null. */
function embeddedV4(addr: string): string | null {
  const lower = addr.toLowerCase();
  const dotted = /^(?:::ffff:|::|64:ff9b::)(\d+\.\d+\.\d+\.\d+)$/.exec(lower);
  if (dotted) return dotted[1]!;
  const hex = /^(?:::ffff:|64:ff9b::)([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(lower);
  if (hex) {
    const hi = parseInt(hex[1]!, 16);
    const lo = parseInt(hex[2]!, 16);
    return `${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`;
  }
  return null;
}

export type Resolver = (host: string) => Promise<LookupAddress[]>;
const systemResolver: Resolver = (host) =>
  new Promise((res, rej) => dnsLookup(host, { all: true, verbatim: true }, (err, addrs) => (err ? rej(err) : res(addrs))));

export interface OutboundGuardOptions {
  /** Entries of security.outbound_allowlist: CIDRs (`10.1.0.0/16`, `::1/128`), single IPs, host names (`hooks.internal`, `.corp.example` for a domain and its subdomains). */
  allowlist?: readonly string[];
  /** DNS resolution (tests inject one; default: the system resolver, like every other client on the host). */
  resolve?: Resolver;
}

export class OutboundGuard {
  private readonly denied = new Map<string, BlockList>();
  private readonly allowedNets = new BlockList();
  private readonly allowedHosts = new Set<string>();
  private readonly allowedSuffixes: string[] = [];
  private readonly resolver: Resolver;

  constructor(o: OutboundGuardOptions = {}) {
    for (const [net, prefix, family, reason] of DENIED) {
      let l = this.denied.get(reason);
      if (!l) this.denied.set(reason, (l = new BlockList()));
      l.addSubnet(net, prefix, family);
    }
    for (const raw of o.allowlist ?? []) {
      const e = raw.trim().toLowerCase();
      if (!e) continue;
      const cidr = /^(.+)\/(\d{1,3})$/.exec(e);
      if (cidr && isIP(cidr[1]!)) {
        const family = isIP(cidr[1]!) === 4 ? 'ipv4' : 'ipv6';
        this.allowedNets.addSubnet(cidr[1]!, Number(cidr[2]), family);
      } else if (isIP(e.replace(/^\[|\]$/g, ''))) {
        const ip = e.replace(/^\[|\]$/g, '');
        this.allowedNets.addAddress(ip, isIP(ip) === 4 ? 'ipv4' : 'ipv6');
      } else if (e.startsWith('.')) this.allowedSuffixes.push(e);
      else this.allowedHosts.add(e);
    }
    this.resolver = o.resolve ?? systemResolver;
  }

  /** Parses an entry list as `BERTH_SECURITY_OUTBOUND_ALLOWLIST` carries it (comma-separated); throws on a malformed CIDR. */
  static parseAllowlist(text: string): string[] {
    const out: string[] = [];
    for (const part of text.split(',')) {
      const e = part.trim();
      if (!e) continue;
      const cidr = /^(.+)\/(\d{1,3})$/.exec(e);
      if (cidr) {
        const v = isIP(cidr[1]!);
        if (!v || Number(cidr[2]) > (v === 4 ? 32 : 128)) throw new Error(`not a CIDR: ${JSON.stringify(e)}`);
      } else if (!isIP(e.replace(/^\[|\]$/g, '')) && !/^\.?[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$/i.test(e))
        throw new Error(`not a CIDR, IP address or host name: ${JSON.stringify(e)}`);
      out.push(e);
    }
    return out;
  }

  private hostAllowed(host: string): boolean {
    const h = host.toLowerCase().replace(/\.$/, '');
    return this.allowedHosts.has(h) || this.allowedSuffixes.some((s) => h.endsWith(s) || h === s.slice(1));
  }

  /** Why `address` may not be connected to, or null when it may (allow-listed CIDRs win over the denied ranges). */
  refusal(address: string): string | null {
    const ip = address.replace(/^\[|\]$/g, '').replace(/%.*$/, '');
    const v = isIP(ip);
    if (!v) return 'not an IP address';
    const family = v === 4 ? 'ipv4' : 'ipv6';
    if (this.allowedNets.check(ip, family)) return null;
    const v4 = family === 'ipv6' ? embeddedV4(ip) : null;
    if (v4) return this.refusal(v4);
    if (METADATA.has(ip.toLowerCase())) return 'cloud metadata';
    for (const [reason, list] of this.denied) if (list.check(ip, family)) return reason;
    return null;
  }

  /**
   * Resolves `host` once and returns the addresses that may be connected to; throws OutboundRefusedError when
   * any answer is refused (a name that also points inside is refused as a whole, not filtered: a rebinding
   * name would otherwise get through on the next answer).
   */
  async resolveChecked(host: string): Promise<LookupAddress[]> {
    const bare = host.replace(/^\[|\]$/g, '');
    if (isIP(bare)) {
      const why = this.hostAllowed(bare) ? null : this.refusal(bare);
      if (why) throw new OutboundRefusedError(`the address ${bare} is not allowed (${why})`);
      return [{ address: bare, family: isIP(bare) }];
    }
    let addrs: LookupAddress[];
    try {
      addrs = await this.resolver(bare);
    } catch (e) {
      throw new OutboundUnresolvedError(`cannot resolve ${bare}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
    if (!addrs.length) throw new OutboundUnresolvedError(`cannot resolve ${bare}: no addresses`);
    if (this.hostAllowed(bare)) return addrs;
    for (const a of addrs) {
      const why = this.refusal(a.address);
      if (why) throw new OutboundRefusedError(`${bare} resolves to ${a.address}, which is not allowed (${why})`);
    }
    return addrs;
  }

  /**
   * Checks an http(s) URL when it is saved: scheme, no credentials, and every address its host resolves to.
   * `allowUnresolved`: a name that does not resolve now is accepted (Harbor saves webhook targets without a
   * lookup; DNS may be down or the name not yet published) — each connection is checked again by `lookup`.
   */
  async checkUrl(text: string, opts: { allowUnresolved?: boolean } = {}): Promise<URL> {
    let url: URL;
    try {
      url = new URL(text);
    } catch {
      throw new OutboundRefusedError(`invalid URL: ${JSON.stringify(text.slice(0, 200))}`);
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new OutboundRefusedError(`unsupported URL scheme ${url.protocol.replace(/:$/, '')}; use http or https`);
    if (url.username || url.password) throw new OutboundRefusedError('credentials in the URL are not allowed');
    if (!url.hostname) throw new OutboundRefusedError('the URL has no host');
    try {
      await this.resolveChecked(url.hostname);
    } catch (e) {
      if (!(opts.allowUnresolved && e instanceof OutboundUnresolvedError)) throw e;
    }
    return url;
  }

  /**
   * Node connects to an IP-literal host without calling `lookup`, so a request to one is checked here, before it
   * is made (a saved `http://10.0.0.5/` must be refused again once the allowlist no longer covers it). Throws
   * OutboundRefusedError; names are left to `lookup`.
   */
  checkLiteral(host: string): void {
    const bare = host.replace(/^\[|\]$/g, '');
    if (!isIP(bare)) return;
    const why = this.hostAllowed(bare) ? null : this.refusal(bare);
    if (why) throw new OutboundRefusedError(`the address ${bare} is not allowed (${why})`);
  }

  /**
   * A `lookup` for node:http(s) request options: resolves once, checks, and gives the socket the checked
   * address (the connection goes exactly where the check looked). Refusals surface as request errors.
   */
  lookup = (hostname: string, options: unknown, callback: (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void): void => {
    const all = typeof options === 'object' && options !== null && (options as { all?: boolean }).all === true;
    this.resolveChecked(hostname).then(
      (addrs) => (all ? callback(null, addrs) : callback(null, addrs[0]!.address, addrs[0]!.family)),
      (err: Error) => callback(err as NodeJS.ErrnoException, all ? [] : '', 0),
    );
  };
}
