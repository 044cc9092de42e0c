// What every project tab receives from ProjectDetail; in its own module so the tabs ProjectDetail loads lazily do
// not import ProjectDetail back (an import circle).
import type { Project } from '../../api/types.ts';
import type { Can } from '../../api/hooks.ts';

export interface ProjectTabProps {
  project: Project;
  can: Can;
}
