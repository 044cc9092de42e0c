// Shared queries: the current user, system info and the caller's permissions (which drive what is shown).
import { useQuery } from '@tanstack/react-query';
import { ApiError, get } from './client.ts';
import type { Access, SystemInfo, UserResp } from './types.ts';

export const currentUserQuery = {
  queryKey: ['current-user'],
  queryFn: async (): Promise<UserResp | null> => {
    try {
      return await get<UserResp>('/users/current');
    } catch (e) {
      if (e instanceof ApiError && e.status === 401) return null;
      throw e;
    }
  },
  staleTime: 60_000,
  retry: false,
} as const;

export function useCurrentUser() {
  return useQuery(currentUserQuery);
}

export const permissionsQuery = (scope: string | null) => ({
  queryKey: ['permissions', scope],
  queryFn: () => get<Access[]>('/users/current/permissions', { scope: scope ?? '/', relative: true }),
  staleTime: 30_000,
});

export function useSystemInfo() {
  return useQuery({ queryKey: ['systeminfo'], queryFn: () => get<SystemInfo>('/systeminfo').catch(() => ({}) as SystemInfo), staleTime: 60_000 });
}

export interface Can {
  (resource: string, action: string): boolean;
  loaded: boolean;
}

/** Permissions of the caller at a scope: '/' (system) or '/project/{id}'. */
export function usePermissions(scope: string | null): Can {
  const q = useQuery({ ...permissionsQuery(scope), enabled: scope !== null });
  const set = new Set((q.data ?? []).map((a) => `${a.resource}:${a.action}`));
  const can = ((resource: string, action: string) => set.has(`${resource}:${action}`)) as Can;
  can.loaded = q.isSuccess;
  return can;
}

/** Whether an endpoint exists on this server (for pages whose backend may land later). */
export function useEndpoint(path: string) {
  return useQuery({
    queryKey: ['endpoint', path],
    queryFn: async () => {
      try {
        await get(path);
        return true;
      } catch (e) {
        return !(e instanceof ApiError && (e.status === 404 || e.status === 405));
      }
    },
    staleTime: 300_000,
  });
}
