// A password check done outside the users table (LDAP/AD). AuthService asks it first; when it handles a
// username, the local password hash is not consulted.
import type { User } from '../../repositories/user-repository.ts';

export interface ExternalAuthenticator {
  /** Whether this authenticator checks `username` now (e.g. ldap_auth mode, and not the local admin). */
  handles(username: string): Promise<boolean>;
  /** The local user (created or refreshed) after a successful login, or null. */
  authenticate(username: string, password: string): Promise<User | null>;
}

/** Several authenticators (LDAP, OIDC CLI secrets): the first that handles a username checks it. */
export class FirstExternalAuthenticator implements ExternalAuthenticator {
  private readonly list: readonly ExternalAuthenticator[];
  constructor(list: readonly ExternalAuthenticator[]) {
    this.list = list;
  }
  private async pick(username: string): Promise<ExternalAuthenticator | null> {
    for (const a of this.list) if (await a.handles(username)) return a;
    return null;
  }
  async handles(username: string): Promise<boolean> {
    return (await this.pick(username)) !== null;
  }
  async authenticate(username: string, password: string): Promise<User | null> {
    return (await (await this.pick(username))?.authenticate(username, password)) ?? null;
  }
}
