// The `docker pull` command for an artifact, using the registry host the page was served from.
export function pullCommand(project: string, repo: string, ref: { tag?: string; digest?: string }): string {
  const host = window.location.host;
  const target = ref.tag ? `:${ref.tag}` : `@${ref.digest}`;
  return `docker pull ${host}/${project}/${repo}${target}`;
}
