// The projects list query, shared by the page and the start-up prefetch (main.tsx) so both use one cache entry.
import { getPage } from '../api/client.ts';
import type { Project } from '../api/types.ts';

export const PROJECTS_PAGE_SIZE = 15;
export const projectsListArgs = (search: string) => ({ key: ['projects'], path: '/projects', query: { name: search || undefined, sort: 'name' } });

/** The first page as usePaged keys it: [...key, path, query, page, pageSize]. */
export function firstProjectsPage() {
  const a = projectsListArgs('');
  return {
    queryKey: [...a.key, a.path, a.query, 1, PROJECTS_PAGE_SIZE],
    queryFn: () => getPage<Project>(a.path, { ...a.query, page: 1, page_size: PROJECTS_PAGE_SIZE }),
  };
}
