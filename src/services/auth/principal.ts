/** Who is calling: anonymous, a user, or a robot account. */
export type Principal =
  | { kind: 'anonymous' }
  | { kind: 'user'; id: number; username: string; sysadmin: boolean }
  | RobotPrincipal;

/** One robot grant: `resource:action` policies on a project id, on every project ('*'), or system-wide ('/'). */
export interface RobotGrant {
  namespace: number | '*' | '/';
  access: readonly string[];
}

/** A robot account (Basic `robot$name:secret`): holds exactly its grants (system ones only on system robots). */
export interface RobotPrincipal {
  kind: 'robot';
  id: number;
  /** Full name, `robot$name` or `robot$project+name`. */
  name: string;
  level: 'system' | 'project';
  /** The project of a project-level robot (its grants apply there only). */
  projectId: number | null;
  permissions: readonly RobotGrant[];
}

/** Harbor's default robot_name_prefix. A name with it is always a robot, never a user (users cannot take it). */
export const ROBOT_PREFIX = 'robot$';
export const isRobotName = (name: string): boolean => name.startsWith(ROBOT_PREFIX);

/** Checks robot credentials and resolves robot token subjects (RobotService); disabled or expired → null. */
export interface RobotAuthenticator {
  /** Whether a login name or token subject names a robot (it carries the configured robot_name_prefix). */
  isRobotName(name: string): Promise<boolean>;
  authenticate(name: string, secret: string): Promise<RobotPrincipal | null>;
  principalByName(name: string): Promise<RobotPrincipal | null>;
}

export const ANONYMOUS: Principal = Object.freeze({ kind: 'anonymous' });

export const principalName = (p: Principal): string => (p.kind === 'user' ? p.username : p.kind === 'robot' ? p.name : '');

export type RepositoryAction = 'pull' | 'push' | 'delete';
export const ALL_REPOSITORY_ACTIONS: readonly RepositoryAction[] = ['pull', 'push', 'delete'];
