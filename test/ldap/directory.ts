// The test directory: people, flat and nested groups (incl. a cycle), an admin group, and a decoy `admin` entry.
//   devs            <- alice
//   team-leaf       <- bob          team-leaf is a member of team-mid, team-mid of team-top (nested chain)
//   berth-admins    <- carol        (ldap_group_admin_dn)
//   admins-nested   <- erin         admins-nested is a member of berth-admins (sysadmin through nesting)
//   cycle-a <-> cycle-b  <- frank   (a membership cycle, must terminate)
//   chain-1 .. chain-13  <- judy    (each group in the next: nesting deeper than the limit)
//   dave, grace, heidi, ivan: no group; uid=admin: an LDAP entry named like the local admin, with another password
import { after, before } from 'node:test';
import { startSlapd, type Slapd } from '../helpers/slapd.ts';
import { ApiClient } from '../helpers/api-client.ts';

export const BASE = 'dc=example,dc=test';
export const PEOPLE = `ou=people,${BASE}`;
export const GROUPS = `ou=groups,${BASE}`;
export const dnOf = (uid: string) => `uid=${uid},${PEOPLE}`;
export const groupDn = (cn: string) => `cn=${cn},${GROUPS}`;
export const pw = (uid: string) => `${uid}-Pw-1`;

const person = (uid: string, extra = '') => `dn: ${dnOf(uid)}
objectClass: inetOrgPerson
uid: ${uid}
cn: ${uid[0].toUpperCase()}${uid.slice(1)} Example
sn: Example
userPassword: ${pw(uid)}
${extra}`;
const group = (cn: string, members: string[]) => `dn: ${groupDn(cn)}
objectClass: groupOfNames
cn: ${cn}
${members.map((m) => `member: ${m}`).join('\n')}
`;

export const LDIF = [
  `dn: ${BASE}
objectClass: dcObject
objectClass: organization
dc: example
o: Example
`,
  `dn: ${PEOPLE}
objectClass: organizationalUnit
ou: people
`,
  `dn: ${GROUPS}
objectClass: organizationalUnit
ou: groups
`,
  person('alice', 'mail: alice@example.test\n'),
  person('bob', 'mail: bob@example.test\n'),
  person('carol'),
  person('dave'),
  person('erin'),
  person('frank'),
  person('admin'),
  person('grace'),
  person('heidi'),
  person('ivan'),
  person('judy'),
  group('devs', [dnOf('alice')]),
  group('team-leaf', [dnOf('bob')]),
  group('team-mid', [groupDn('team-leaf')]),
  group('team-top', [groupDn('team-mid')]),
  group('berth-admins', [dnOf('carol')]),
  group('admins-nested', [dnOf('erin')]),
  group('cycle-a', [dnOf('frank')]),
  group('cycle-b', [groupDn('cycle-a')]),
  // chain-1 <- judy, chain-(n+1) <- chain-n: deeper than the resolver follows (10 levels above the direct group)
  ...Array.from({ length: 13 }, (_, i) => group(`chain-${i + 1}`, [i === 0 ? dnOf('judy') : groupDn(`chain-${i}`)])),
].join('\n');

// Nesting added after creation (groupOfNames needs existing members for the memberof overlay to act).
export const LDIF_MODS = `dn: ${groupDn('berth-admins')}
changetype: modify
add: member
member: ${groupDn('admins-nested')}

dn: ${groupDn('cycle-a')}
changetype: modify
add: member
member: ${groupDn('cycle-b')}
`;

/** One slapd for the test file, loaded with the directory above. */
export function useDirectory(): { slapd: Slapd } {
  const d = {} as { slapd: Slapd };
  before(async () => {
    d.slapd = await startSlapd({ baseDn: BASE, ldif: LDIF, tls: true });
    await d.slapd.add(LDIF_MODS);
  });
  after(async () => {
    await d.slapd?.stop();
  });
  return d;
}

/** The configuration body that points Berth at the directory and switches to ldap_auth. */
export function ldapSettings(s: Slapd, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    auth_mode: 'ldap_auth',
    ldap_url: s.url,
    ldap_search_dn: s.adminDn,
    ldap_search_password: s.adminPassword,
    ldap_base_dn: PEOPLE,
    ldap_filter: '(objectClass=inetOrgPerson)',
    ldap_uid: 'uid',
    ldap_scope: 2,
    ldap_timeout: 5,
    ldap_group_base_dn: GROUPS,
    ldap_group_search_filter: '(objectClass=groupOfNames)',
    ldap_group_attribute_name: 'cn',
    ldap_group_admin_dn: groupDn('berth-admins'),
    ldap_group_membership_attribute: 'memberof',
    ldap_group_search_scope: 2,
    ...extra,
  };
}

/** Waits for values set by other `before` hooks (top-level hooks of a file run concurrently). */
export async function until<T>(get: () => T | undefined | null, timeoutMs = 60_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = get();
    if (v) return v;
    if (Date.now() > end) throw new Error('timed out waiting for the fixture');
    await new Promise((r) => setTimeout(r, 50));
  }
}

export async function configureLdap(admin: ApiClient, s: Slapd, extra: Record<string, unknown> = {}): Promise<void> {
  const r = await admin.call('PUT', '/configurations', ldapSettings(s, extra));
  if (r.status !== 200) throw new Error(`configure LDAP: ${r.status} ${r.text}`);
}
