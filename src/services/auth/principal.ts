/** Who is calling. Robots and groups arrive with the identity issue; the shape leaves room for them. */
export type Principal =
  | { kind: 'anonymous' }
  | { kind: 'user'; id: number; username: string; sysadmin: boolean };

export const ANONYMOUS: Principal = Object.freeze({ kind: 'anonymous' });

export const principalName = (p: Principal): string => (p.kind === 'user' ? p.username : '');

export type RepositoryAction = 'pull' | 'push' | 'delete';
export const ALL_REPOSITORY_ACTIONS: readonly RepositoryAction[] = ['pull', 'push', 'delete'];
