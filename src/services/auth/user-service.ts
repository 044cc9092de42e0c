// Local (db_auth) users: creation with Harbor's rules, profile, password and sysadmin changes, deletion.
// Callers authorize first (src/http/api/users.ts); this service enforces what holds whoever calls.
import { ApiErrors } from '../../errors.ts';
import type { Db } from '../../db/db.ts';
import type { MemberRepository } from '../../repositories/member-repository.ts';
import type { User, UserField, UserRepository } from '../../repositories/user-repository.ts';
import type { ListQuery } from '../../repositories/list-query.ts';
import type { AuditSink } from '../audit/audit.ts';
import type { AuthService } from './auth-service.ts';
import { hashPassword, verifyPassword } from './password.ts';

/** 8–128 characters with at least one upper-case letter, one lower-case letter and one digit. */
export function checkPasswordPolicy(password: unknown): string {
  if (typeof password !== 'string' || password.length < 8 || password.length > 128 || !/[A-Z]/.test(password) || !/[a-z]/.test(password) || !/[0-9]/.test(password))
    throw ApiErrors.badRequest('the password must be 8 to 128 characters long with at least one uppercase letter, one lowercase letter and one digit');
  return password;
}

// Harbor refuses these in usernames; ':' would also break HTTP Basic credentials.
const USERNAME_RE = /^[^\s,"~#$%:\\/\x00-\x1f\x7f]{1,255}$/;
const EMAIL_RE = /^[^\s@\x00-\x1f]+@[^\s@\x00-\x1f]+$/;

function text(v: unknown, field: string, max: number): string {
  if (v === undefined || v === null) return '';
  if (typeof v !== 'string' || v.length > max || /[\x00-\x1f]/.test(v)) throw ApiErrors.badRequest(`invalid ${field}`);
  return v;
}
function email(v: unknown): string {
  if (typeof v !== 'string' || v.length > 255 || !EMAIL_RE.test(v)) throw ApiErrors.badRequest('invalid email');
  return v;
}

export interface UserProfileInput {
  email?: unknown;
  realname?: unknown;
  comment?: unknown;
}

export class UserService {
  private readonly db: Db;
  private readonly users: UserRepository;
  private readonly members: MemberRepository;
  private readonly auth: AuthService;
  private readonly audit: AuditSink;
  constructor(deps: { db: Db; users: UserRepository; members: MemberRepository; auth: AuthService; audit: AuditSink }) {
    this.db = deps.db;
    this.users = deps.users;
    this.members = deps.members;
    this.auth = deps.auth;
    this.audit = deps.audit;
  }

  async get(id: number): Promise<User> {
    const u = await this.users.findUserById(id);
    if (!u) throw ApiErrors.notFound(`user ${id} not found`);
    return u;
  }

  async findByName(username: string): Promise<User | null> {
    return username.length > 255 || username.includes('\0') ? null : this.users.findUserByName(username);
  }

  async list(q: ListQuery<UserField>): Promise<{ total: number; items: User[] }> {
    return { total: await this.users.countUsers(q.where), items: await this.users.listUsers(q) };
  }

  /** Creates a non-admin user (the sysadmin flag is set only through setSysadmin). */
  async create(actor: string, input: { username?: unknown; password?: unknown } & UserProfileInput): Promise<User> {
    if (typeof input.username !== 'string' || !USERNAME_RE.test(input.username) || input.username.startsWith('robot$'))
      throw ApiErrors.badRequest('invalid username');
    const password = checkPasswordPolicy(input.password);
    const profile = { email: email(input.email), realname: text(input.realname, 'realname', 255), comment: text(input.comment, 'comment', 255) };
    // Harbor's text for either clash (pkg/user/dao: the insert's unique-key conflict).
    const taken = ApiErrors.conflict(`user ${input.username} or email ${profile.email} already exists`);
    if (await this.users.findUserByName(input.username)) throw taken;
    if (await this.users.findUserByEmail(profile.email)) throw taken;
    const user = await this.users.saveNewUser({ username: input.username, ...profile, passwordHash: await hashPassword(password), sysadmin: false });
    if (!user) throw taken;
    await this.audit.record({ username: actor || user.username, operation: 'create', resourceType: 'user', resource: user.username });
    return user;
  }

  async updateProfile(actor: string, id: number, input: UserProfileInput): Promise<void> {
    const u = await this.get(id);
    const next = {
      email: input.email === undefined ? u.email : email(input.email),
      realname: input.realname === undefined ? u.realname : text(input.realname, 'realname', 255),
      comment: input.comment === undefined ? u.comment : text(input.comment, 'comment', 255),
    };
    if (!(await this.users.updateUserProfile(id, next))) throw ApiErrors.conflict(`email ${next.email} is already used`);
    await this.audit.record({ username: actor, operation: 'update', resourceType: 'user', resource: u.username });
  }

  /**
   * Changes a password. `oldPassword` is checked unless `resetByAdmin` (a sysadmin changing someone else's);
   * the new password must differ from the old one.
   */
  async changePassword(actor: string, id: number, oldPassword: unknown, newPassword: unknown, resetByAdmin: boolean): Promise<void> {
    const u = await this.get(id);
    const pw = checkPasswordPolicy(newPassword);
    if (!resetByAdmin && (typeof oldPassword !== 'string' || !(await verifyPassword(oldPassword, u.passwordHash))))
      throw ApiErrors.forbidden('the old password is wrong');
    if (await verifyPassword(pw, u.passwordHash)) throw ApiErrors.badRequest('the new password must differ from the old one');
    await this.users.updateUserPassword(id, await hashPassword(pw));
    await this.auth.invalidateUser(u.username);
    await this.audit.record({ username: actor, operation: 'update', resourceType: 'user', resource: u.username, detail: 'password' });
  }

  async setSysadmin(actor: string, id: number, sysadmin: unknown): Promise<void> {
    if (typeof sysadmin !== 'boolean') throw ApiErrors.badRequest('sysadmin_flag must be a boolean');
    const u = await this.get(id);
    await this.users.updateUserSysadmin(id, sysadmin);
    await this.auth.invalidateUser(u.username);
    await this.audit.record({ username: actor, operation: 'update', resourceType: 'user', resource: u.username, detail: `sysadmin=${sysadmin}` });
  }

  async remove(actor: string, id: number): Promise<void> {
    const u = await this.get(id);
    await this.db.tx(async (q) => {
      await this.members.removeMembershipsOf('u', id, q);
      await this.users.removeUser(id, q);
    });
    await this.auth.invalidateUser(u.username);
    await this.audit.record({ username: actor, operation: 'delete', resourceType: 'user', resource: u.username });
  }
}
