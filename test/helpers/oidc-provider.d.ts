// oidc-provider ships no type declarations; the tests use only what this file declares.
declare module 'oidc-provider' {
  interface Client {
    grantTypeAllowed(grant: string): boolean;
  }
  interface Code {
    scopes: Set<string>;
  }
  export default class Provider {
    constructor(issuer: string, configuration: Record<string, unknown> & {
      findAccount?: (ctx: unknown, id: string) => Promise<{ accountId: string; claims: () => Promise<Record<string, unknown>> } | undefined>;
      issueRefreshToken?: (ctx: unknown, client: Client, code: Code) => Promise<boolean>;
    });
    callback(): (req: import('node:http').IncomingMessage, res: import('node:http').ServerResponse) => void;
    on(event: string, listener: (...args: any[]) => void): this;
  }
}
