// ldap_auth mode: logins are checked against the directory (LdapService); the user is created locally on the first
// login (no password stored), and each login refreshes their groups (nested included) and the admin-group flag.
// The local `admin` keeps logging in with its database password, as in Harbor.
import { ApiErrors } from '../../errors.ts';
import type { Db } from '../../db/db.ts';
import type { User, UserRepository } from '../../repositories/user-repository.ts';
import type { UserGroupRepository } from '../../repositories/user-group-repository.ts';
import type { AuditSink } from '../audit/audit.ts';
import type { ExternalAuthenticator } from '../auth/external-auth.ts';
import type { Configurations } from '../config/configuration-service.ts';
import type { UserGroupService } from '../usergroup/user-group-service.ts';
import type { LdapService, LdapUser } from './ldap-service.ts';

// Names that cannot work as a local username (Basic auth splits on ':'), as in UserService.
const LOCAL_NAME_RE = /^[^\s,"~#$%:\\/\x00-\x1f\x7f]{1,255}$/;
const EMAIL_RE = /^[^\s@\x00-\x1f]+@[^\s@\x00-\x1f]+$/;

export class LdapAuthenticator implements ExternalAuthenticator {
  private readonly db: Db;
  private readonly ldap: LdapService;
  private readonly configs: Configurations;
  private readonly users: UserRepository;
  private readonly groupRows: UserGroupRepository;
  private readonly groups: UserGroupService;
  private readonly audit: AuditSink;
  constructor(deps: { db: Db; ldap: LdapService; configs: Configurations; users: UserRepository; groupRows: UserGroupRepository; groups: UserGroupService; audit: AuditSink }) {
    this.db = deps.db;
    this.ldap = deps.ldap;
    this.configs = deps.configs;
    this.users = deps.users;
    this.groupRows = deps.groupRows;
    this.groups = deps.groups;
    this.audit = deps.audit;
  }

  async handles(username: string): Promise<boolean> {
    if (username === 'admin') return false;
    const c = await this.configs.all();
    return c.auth_mode === 'ldap_auth' && !username.startsWith(c.robot_name_prefix) && !username.startsWith('robot$');
  }

  async authenticate(username: string, password: string): Promise<User | null> {
    if (!password) return null;
    const login = await this.ldap.authenticate(username, password);
    if (!login) return null;
    const user = await this.onboard(login);
    if (!user) return null;
    const groupIds = await this.groups.ensureLdapGroups(login.groups.values());
    await this.db.tx((q) => this.groupRows.replaceUserGroups(user.id, groupIds, q));
    await this.users.updateUserExternalAuth(user.id, login.admin);
    return { ...user, authSource: 'ldap', adminRoleInAuth: login.admin };
  }

  /** The local user for a directory entry, created on first sight (no password; email when free). */
  private async onboard(u: LdapUser): Promise<User | null> {
    if (!LOCAL_NAME_RE.test(u.username) || u.username === 'admin') return null;
    const existing = await this.users.findUserByName(u.username);
    if (existing) return existing;
    let email: string | null = u.email && u.email.length <= 255 && EMAIL_RE.test(u.email) ? u.email : null;
    if (email && (await this.users.findUserByEmail(email))) email = null;
    const realname = u.realname.slice(0, 255).replace(/[\x00-\x1f\x7f]/g, '');
    const created = await this.users.saveNewUser({ username: u.username, email, realname, comment: 'from LDAP', passwordHash: '', sysadmin: false });
    if (created) {
      await this.users.updateUserExternalAuth(created.id, false);
      await this.audit.record({ username: u.username, operation: 'create', resourceType: 'user', resource: u.username, detail: 'onboarded from LDAP' });
    }
    return created ?? (await this.users.findUserByName(u.username));
  }

  /** Harbor's POST /ldap/users/import: creates local users for directory uids; returns the failures. */
  async importUsers(actor: string, uids: unknown): Promise<{ uid: string; error: string }[]> {
    if (!Array.isArray(uids) || uids.length === 0 || uids.length > 100 || !uids.every((x) => typeof x === 'string'))
      throw ApiErrors.badRequest('ldap_uid_list must be a list of 1 to 100 strings');
    // In db_auth mode imported accounts could not log in, and would block the switch to ldap_auth.
    if ((await this.configs.get('auth_mode')) !== 'ldap_auth') throw ApiErrors.forbidden('LDAP users can be imported only in ldap_auth mode');
    const failed: { uid: string; error: string }[] = [];
    for (const uid of uids as string[]) {
      if (!uid || uid.length > 255 || /[\x00-\x1f\x7f]/.test(uid)) {
        failed.push({ uid: uid.slice(0, 255), error: 'invalid uid' });
        continue;
      }
      const found = (await this.ldap.searchUsers(uid)).filter((x) => x.username.toLowerCase() === uid.toLowerCase());
      if (found.length !== 1) {
        failed.push({ uid, error: found.length ? 'ambiguous uid' : 'not found in LDAP' });
        continue;
      }
      if (await this.users.findUserByName(found[0].username)) {
        failed.push({ uid, error: 'already exists' });
        continue;
      }
      const user = await this.onboard(found[0]);
      if (!user) failed.push({ uid, error: 'the uid cannot be used as a username' });
      else await this.audit.record({ username: actor, operation: 'create', resourceType: 'user', resource: user.username, detail: 'imported from LDAP' });
    }
    return failed;
  }
}
