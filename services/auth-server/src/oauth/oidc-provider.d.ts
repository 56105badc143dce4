// oidc-provider ships no types; these cover only what this service uses.
declare module 'oidc-provider' {
  import type { IncomingMessage, ServerResponse } from 'node:http';

  export interface ClientMetadata {
    client_id: string;
    client_secret?: string;
    grant_types?: string[];
    response_types?: string[];
    redirect_uris?: string[];
    scope?: string;
    token_endpoint_auth_method?: string;
  }

  export interface Client {
    readonly clientId: string;
    readonly redirectUris: string[];
  }

  export interface ResourceServerInfo {
    audience?: string;
    scope: string;
    accessTokenTTL?: number;
    accessTokenFormat?: 'opaque' | 'jwt';
    jwt?: { sign?: { alg: string } };
  }

  export interface OIDCContext {
    readonly route: string;
    /** The request's recognised parameters; absent ones are undefined. */
    readonly params: Record<string, unknown>;
    readonly client?: Client;
    entity(name: string, value: unknown): void;
  }

  export interface KoaContextWithOIDC {
    readonly oidc: OIDCContext;
    readonly method: string;
    readonly path: string;
    /** Koa's request, whose protocol and host getters build every absolute URL. */
    readonly request: object;
    body: unknown;
    status: number;
    type: string;
    set(field: string, value: string): void;
  }

  export interface Account {
    accountId: string;
    claims(use: string, scope: string): Record<string, unknown> | Promise<Record<string, unknown>>;
  }

  export interface AdapterPayload {
    [key: string]: unknown;
    uid?: string;
    grantId?: string;
    userCode?: string;
    consumed?: number;
  }

  export interface Adapter {
    upsert(id: string, payload: AdapterPayload, expiresIn: number | undefined): Promise<void>;
    find(id: string): Promise<AdapterPayload | undefined>;
    findByUid(uid: string): Promise<AdapterPayload | undefined>;
    findByUserCode(userCode: string): Promise<AdapterPayload | undefined>;
    consume(id: string): Promise<void>;
    destroy(id: string): Promise<void>;
    revokeByGrantId(grantId: string): Promise<void>;
  }

  export interface JWK {
    kty: string;
    kid?: string;
    alg?: string;
    use?: string;
  }

  type Ttl<T> = number | ((ctx: KoaContextWithOIDC, token: T, client: Client) => number);

  export interface Configuration {
    adapter?: (model: string) => Adapter;
    clients?: ClientMetadata[];
    clientAuthMethods?: string[];
    clientBasedCORS?: (ctx: KoaContextWithOIDC, origin: string, client: Client) => boolean;
    claims?: Record<string, string[] | null>;
    cookies?: { keys?: string[] };
    features?: {
      devInteractions?: { enabled: boolean };
      clientCredentials?: { enabled: boolean };
      dPoP?: { enabled: boolean };
      userinfo?: { enabled: boolean };
      rpInitiatedLogout?: { enabled: boolean };
      pushedAuthorizationRequests?: { enabled: boolean };
      resourceIndicators?: {
        enabled: boolean;
        defaultResource?: (ctx: KoaContextWithOIDC, client: Client, oneOf?: string[]) => string | Promise<string>;
        useGrantedResource?: (ctx: KoaContextWithOIDC, model: unknown) => boolean | Promise<boolean>;
        getResourceServerInfo?: (ctx: KoaContextWithOIDC, indicator: string, client: Client) => ResourceServerInfo | Promise<ResourceServerInfo>;
      };
    };
    findAccount?: (ctx: KoaContextWithOIDC, sub: string) => Account | undefined | Promise<Account | undefined>;
    interactions?: { url?: (ctx: KoaContextWithOIDC, interaction: { uid: string }) => string | Promise<string> };
    jwks?: { keys: JWK[] };
    pkce?: { required?: (ctx: KoaContextWithOIDC, client: Client) => boolean };
    renderError?: (ctx: KoaContextWithOIDC, out: Record<string, string>, error: Error) => void | Promise<void>;
    responseTypes?: string[];
    routes?: Record<string, string>;
    scopes?: string[];
    ttl?: {
      AccessToken?: Ttl<AccessToken>;
      AuthorizationCode?: Ttl<unknown>;
      ClientCredentials?: Ttl<AccessToken>;
      Grant?: Ttl<unknown>;
      IdToken?: Ttl<unknown>;
      Interaction?: Ttl<unknown>;
      Session?: Ttl<unknown>;
    };
  }

  export interface InteractionResults {
    login?: { accountId: string };
    consent?: { grantId: string };
    error?: string;
    error_description?: string;
  }

  export interface Interaction {
    readonly uid: string;
    readonly prompt: { name: string; reasons: string[]; details: Record<string, unknown> };
    readonly params: Record<string, unknown>;
    readonly session?: { accountId: string };
    readonly grantId?: string;
  }

  export class Grant {
    constructor(properties: { accountId: string; clientId: string });
    addOIDCScope(scope: string): void;
    addOIDCClaims(claims: string[]): void;
    addResourceScope(indicator: string, scope: string): void;
    save(): Promise<string>;
    static find(id: string): Promise<Grant | undefined>;
  }

  export class AccessToken {
    constructor(properties: { accountId?: string; client: Client; gty?: string; scope?: string });
    resourceServer: ResourceServer | undefined;
    scope: string | undefined;
    readonly expiration: number;
    readonly tokenType: string;
    save(): Promise<string>;
  }

  export class ResourceServer {
    constructor(identifier: string, info: ResourceServerInfo);
    readonly accessTokenTTL: number | undefined;
  }

  export type Middleware = (ctx: KoaContextWithOIDC, next: () => Promise<void>) => Promise<void>;

  export class Provider {
    constructor(issuer: string, configuration: Configuration);
    readonly issuer: string;
    /** Koa's: trust X-Forwarded-* headers. */
    proxy: boolean;
    readonly AccessToken: typeof AccessToken;
    readonly Grant: typeof Grant;
    readonly ResourceServer: typeof ResourceServer;
    callback(): (req: IncomingMessage, res: ServerResponse) => Promise<void>;
    use(middleware: Middleware): this;
    registerGrantType(name: string, handler: (ctx: KoaContextWithOIDC) => Promise<void>, parameters?: string[]): void;
    interactionDetails(req: IncomingMessage, res: ServerResponse): Promise<Interaction>;
    interactionResult(
      req: IncomingMessage,
      res: ServerResponse,
      result: InteractionResults,
      options?: { mergeWithLastSubmission?: boolean },
    ): Promise<string>;
    on(event: 'server_error', listener: (ctx: KoaContextWithOIDC, error: Error) => void): this;
    on(event: 'error', listener: (error: Error, ctx?: KoaContextWithOIDC) => void): this;
  }

  export class OIDCProviderError extends Error {
    readonly status: number;
    readonly statusCode: number;
    readonly error: string;
    readonly error_description?: string;
  }

  export const errors: {
    OIDCProviderError: typeof OIDCProviderError;
    /** An OAuth error with its own description, e.g. ('invalid_grant', 'invalid username or password'). */
    CustomOIDCProviderError: new (error: string, description: string) => OIDCProviderError;
    InvalidRequest: new (description?: string) => OIDCProviderError;
    InvalidScope: new (description: string, scope?: string) => OIDCProviderError;
    InvalidTarget: new (description?: string) => OIDCProviderError;
    SessionNotFound: new (description?: string) => OIDCProviderError;
  };

  export default Provider;
}
