// Harbor's user groups (group_type 1 = LDAP with its DN, 2 = HTTP, 3 = OIDC): CRUD, search, the on-the-fly
// creation used by project membership, and the onboarding of the LDAP groups found at a user's login.
// Callers authorize first (src/http/api/usergroups.ts, projects.ts).
import { ApiErrors } from '../../errors.ts';
import type { Db } from '../../db/db.ts';
import { isDn, normalizeDn } from '../../drivers/ldap/ldap-client.ts';
import type { ListQuery } from '../../repositories/list-query.ts';
import type { MemberRepository } from '../../repositories/member-repository.ts';
import type { GroupType, UserGroup, UserGroupField, UserGroupRepository } from '../../repositories/user-group-repository.ts';
import type { AuditSink } from '../audit/audit.ts';
import type { LdapGroupRef } from '../ldap/ldap-service.ts';

export const GROUP_TYPES: readonly GroupType[] = [1, 2, 3];
export const LDAP_GROUP: GroupType = 1;

/** Looks a DN up in the directory: the group, null when absent, undefined when no directory is configured. */
export type LdapGroupLookup = (dn: string) => Promise<LdapGroupRef | null | undefined>;

const groupName = (v: unknown): string => {
  if (typeof v !== 'string' || v.length < 1 || v.length > 255 || /[\x00-\x1f\x7f]/.test(v) || v.trim() !== v) throw ApiErrors.badRequest('invalid group_name');
  return v;
};
const rdnValue = (dn: string): string => {
  const rdn = dn.split(/(?<!\\),/)[0] ?? '';
  return rdn.slice(rdn.indexOf('=') + 1).trim();
};
const keyOf = (type: GroupType, name: string, dn: string) => (type === LDAP_GROUP ? normalizeDn(dn) : name);

export interface GroupInput {
  id?: unknown;
  group_name?: unknown;
  group_type?: unknown;
  ldap_group_dn?: unknown;
}

export class UserGroupService {
  private readonly db: Db;
  private readonly groups: UserGroupRepository;
  private readonly members: MemberRepository;
  private readonly audit: AuditSink;
  private readonly ldapLookup: LdapGroupLookup;
  constructor(deps: { db: Db; groups: UserGroupRepository; members: MemberRepository; audit: AuditSink; ldapLookup: LdapGroupLookup }) {
    this.db = deps.db;
    this.groups = deps.groups;
    this.members = deps.members;
    this.audit = deps.audit;
    this.ldapLookup = deps.ldapLookup;
  }

  async list(q: ListQuery<UserGroupField>): Promise<{ total: number; items: UserGroup[] }> {
    return { total: await this.groups.countGroups(q.where), items: await this.groups.listGroups(q) };
  }

  async get(id: number): Promise<UserGroup> {
    const g = await this.groups.findGroupById(id);
    if (!g) throw ApiErrors.notFound(`user group ${id} not found`);
    return g;
  }

  /** Validates a creation body; for LDAP groups the DN must exist in the directory when one is configured. */
  private async checkNew(input: GroupInput): Promise<{ name: string; type: GroupType; ldapDn: string }> {
    const type = input.group_type as GroupType;
    if (!GROUP_TYPES.includes(type)) throw ApiErrors.badRequest('group_type must be 1 (LDAP), 2 (HTTP) or 3 (OIDC)');
    if (type !== LDAP_GROUP) {
      if (input.ldap_group_dn !== undefined && input.ldap_group_dn !== null && input.ldap_group_dn !== '') throw ApiErrors.badRequest('ldap_group_dn is only for LDAP groups');
      return { name: groupName(input.group_name), type, ldapDn: '' };
    }
    if (!isDn(input.ldap_group_dn)) throw ApiErrors.badRequest('ldap_group_dn must be a DN');
    const dn = input.ldap_group_dn;
    const found = await this.ldapLookup(dn);
    if (found === null) throw ApiErrors.badRequest(`the LDAP group ${dn.slice(0, 255)} does not exist`);
    const name = input.group_name === undefined || input.group_name === null || input.group_name === '' ? (found?.name ?? rdnValue(dn)) : groupName(input.group_name);
    return { name: groupName(name), type, ldapDn: found?.dn ?? dn };
  }

  async create(actor: string, input: GroupInput): Promise<UserGroup> {
    const g = await this.checkNew(input);
    const saved = await this.groups.saveNewGroup({ ...g, key: keyOf(g.type, g.name, g.ldapDn) });
    if (!saved) throw ApiErrors.conflict(g.type === LDAP_GROUP ? `a group with the DN ${g.ldapDn.slice(0, 255)} already exists` : `the group ${g.name} already exists`);
    await this.audit.record({ username: actor, operation: 'create', resourceType: 'user_group', resource: saved.name });
    return saved;
  }

  /** Only the name changes (type and DN are fixed, as in Harbor); other fields are ignored. */
  async rename(actor: string, id: number, input: GroupInput): Promise<void> {
    const g = await this.get(id);
    const name = groupName(input.group_name);
    if (!(await this.groups.updateGroupName(id, name, keyOf(g.type, name, g.ldapDn)))) throw ApiErrors.conflict(`the group ${name} already exists`);
    await this.audit.record({ username: actor, operation: 'update', resourceType: 'user_group', resource: name, detail: g.name === name ? null : `renamed from ${g.name}` });
  }

  /** Deletes the group and its project memberships. */
  async remove(actor: string, id: number): Promise<void> {
    const g = await this.get(id);
    await this.db.tx(async (q) => {
      await this.members.removeMembershipsOf('g', id, q);
      await this.groups.removeGroup(id, q);
    });
    await this.audit.record({ username: actor, operation: 'delete', resourceType: 'user_group', resource: g.name });
  }

  /**
   * The group a project membership names (Harbor's member_group): by id; or by ldap_group_dn (created when absent,
   * after checking the directory); or by group_name and group_type (created when absent for HTTP/OIDC).
   */
  async forMembership(actor: string, input: unknown): Promise<UserGroup> {
    if (!input || typeof input !== 'object' || Array.isArray(input)) throw ApiErrors.badRequest('member_group must be an object');
    const mg = input as GroupInput;
    if (mg.id !== undefined && mg.id !== null && mg.id !== 0) {
      if (typeof mg.id !== 'number' || !Number.isInteger(mg.id) || mg.id < 1) throw ApiErrors.badRequest('invalid member_group.id');
      return this.get(mg.id);
    }
    const type = (mg.group_type ?? (mg.ldap_group_dn ? LDAP_GROUP : undefined)) as GroupType | undefined;
    if (type === LDAP_GROUP) {
      if (!isDn(mg.ldap_group_dn)) throw ApiErrors.badRequest('member_group.ldap_group_dn must be a DN');
      const existing = await this.groups.findGroupByKey(LDAP_GROUP, normalizeDn(mg.ldap_group_dn));
      return existing ?? this.create(actor, { ...mg, group_type: LDAP_GROUP });
    }
    if (type === undefined) throw ApiErrors.badRequest('member_group needs id, ldap_group_dn, or group_name with group_type');
    if (!GROUP_TYPES.includes(type)) throw ApiErrors.badRequest('invalid member_group.group_type');
    const name = groupName(mg.group_name);
    return (await this.groups.findGroupByKey(type, name)) ?? this.create(actor, { group_name: name, group_type: type });
  }

  /** Ids of the HTTP/OIDC groups of these names, creating the ones not known yet (OIDC groups claim at a login). */
  async ensureNamedGroups(type: GroupType, names: Iterable<string>): Promise<number[]> {
    const ids: number[] = [];
    for (const name of names) {
      const g = (await this.groups.findGroupByKey(type, name)) ?? (await this.groups.saveNewGroup({ name, type, ldapDn: '', key: name })) ?? (await this.groups.findGroupByKey(type, name));
      if (g) ids.push(g.id);
    }
    return ids;
  }

  /** Ids of the LDAP groups found at a login, creating the ones not known yet (Harbor onboards them too). */
  async ensureLdapGroups(refs: Iterable<LdapGroupRef>): Promise<number[]> {
    const ids: number[] = [];
    for (const r of refs) {
      const key = normalizeDn(r.dn);
      let g = await this.groups.findGroupByKey(LDAP_GROUP, key);
      if (!g) {
        const name = r.name && r.name.length <= 255 && !/[\x00-\x1f\x7f]/.test(r.name) ? r.name.trim() || rdnValue(r.dn) : rdnValue(r.dn);
        g = (await this.groups.saveNewGroup({ name: name.slice(0, 255), type: LDAP_GROUP, ldapDn: r.dn, key })) ?? (await this.groups.findGroupByKey(LDAP_GROUP, key));
      }
      if (g) ids.push(g.id);
    }
    return ids;
  }
}
