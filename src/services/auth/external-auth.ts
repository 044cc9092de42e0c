// A password check done outside the users table (LDAP/AD). AuthService asks it first; when it handles a
// username, the local password hash is not consulted.
import type { User } from '../../repositories/user-repository.ts';

export interface ExternalAuthenticator {
  /** Whether this authenticator checks `username` now (e.g. ldap_auth mode, and not the local admin). */
  handles(username: string): Promise<boolean>;
  /** The local user (created or refreshed) after a successful login, or null. */
  authenticate(username: string, password: string): Promise<User | null>;
}
