// A small client for Berth's Harbor-compatible /api/v2.0, with Basic credentials (or none).
export interface ApiResponse {
  status: number;
  headers: Headers;
  text: string;
  json<T = any>(): T;
  errorCode(): string | null;
}

export class ApiClient {
  readonly baseUrl: string;
  readonly username: string | null;
  readonly password: string | null;
  constructor(baseUrl: string, username: string | null = null, password: string | null = null) {
    this.baseUrl = baseUrl;
    this.username = username;
    this.password = password;
  }
  as(username: string | null, password: string | null = null): ApiClient {
    return new ApiClient(this.baseUrl, username, password);
  }
  async call(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<ApiResponse> {
    const h: Record<string, string> = { ...headers };
    if (this.username !== null) h.authorization = 'Basic ' + Buffer.from(`${this.username}:${this.password}`).toString('base64');
    if (body !== undefined) h['content-type'] = 'application/json';
    const r = await fetch(this.baseUrl + '/api/v2.0' + path, { method, headers: h, body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body) });
    const text = await r.text();
    return {
      status: r.status,
      headers: r.headers,
      text,
      json: () => JSON.parse(text),
      errorCode: () => {
        try {
          return JSON.parse(text).errors[0].code;
        } catch {
          return null;
        }
      },
    };
  }
  /** Creates a user as this (admin) client; returns its id. */
  async createUser(username: string, password = 'Passw0rd!x', email = `${username}@example.com`): Promise<number> {
    const r = await this.call('POST', '/users', { username, password, email, realname: username });
    if (r.status !== 201) throw new Error(`create user ${username}: ${r.status} ${r.text}`);
    return Number(r.headers.get('location')!.split('/').pop());
  }
  /** Creates a project as this client; returns its id. */
  async createProject(name: string, isPublic: boolean): Promise<number> {
    const r = await this.call('POST', '/projects', { project_name: name, metadata: { public: String(isPublic) } });
    if (r.status !== 201) throw new Error(`create project ${name}: ${r.status} ${r.text}`);
    return Number(r.headers.get('location')!.split('/').pop());
  }
  /** Adds a user member; returns the member id. */
  async addMember(project: number | string, username: string, roleId: number): Promise<number> {
    const r = await this.call('POST', `/projects/${project}/members`, { role_id: roleId, member_user: { username } });
    if (r.status !== 201) throw new Error(`add member ${username}: ${r.status} ${r.text}`);
    return Number(r.headers.get('location')!.split('/').pop());
  }
}
