/**
 * OAuth 2.1 resource server (2026-07-28 authorization spec): JWT access tokens from the configured
 * issuer are checked through the issuer's JWKS with `jose` (signature, issuer, audience, expiry),
 * and the RFC 9728 protected-resource metadata tells clients which authorization server to ask.
 *
 * @module
 */

import { createRemoteJWKSet, errors as joseErrors, type JWTPayload, jwtVerify } from "jose";
import { getOAuthProtectedResourceMetadataUrl } from "@modelcontextprotocol/server";

/** The resource server settings (from `http.oauth` and `http.publicUrl`). */
export interface OAuthSettings {
  /** The issuer (`iss`) tokens must carry. */
  issuer: string;
  /** The issuer's JWKS. */
  jwksUrl: string;
  /** The audience (`aud`) tokens must carry. */
  audience: string;
  /** This server's resource identifier (the MCP endpoint URL). */
  resource: string;
  /** Scopes advertised in the metadata. */
  scopesSupported?: readonly string[] | undefined;
}

/** The settings from the configuration, defaults applied. */
export function oauthSettings(
  oauth: {
    issuer: string;
    jwksUrl?: string | undefined;
    audience?: string | undefined;
    scopesSupported?: string[] | undefined;
  },
  publicUrl: string | undefined,
): OAuthSettings {
  const audience = oauth.audience ?? publicUrl!;
  return {
    issuer: oauth.issuer,
    jwksUrl: oauth.jwksUrl ?? new URL("/.well-known/jwks.json", oauth.issuer).href,
    audience,
    resource: publicUrl ?? audience,
    scopesSupported: oauth.scopesSupported,
  };
}

/** A token that was refused, with one sentence for the `WWW-Authenticate` error description. */
export class TokenRefused extends Error {
  /** A refusal saying why (no token content in it). */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "TokenRefused";
  }
}

/** Checks JWT access tokens against the issuer's keys. */
export class JwtVerifier {
  readonly #settings: OAuthSettings;
  readonly #keys: ReturnType<typeof createRemoteJWKSet>;

  /** A verifier fetching (and caching) the issuer's JWKS. */
  constructor(settings: OAuthSettings) {
    this.#settings = settings;
    this.#keys = createRemoteJWKSet(new URL(settings.jwksUrl), {
      timeoutDuration: 5000,
      cooldownDuration: 30_000,
    });
  }

  /**
   * The token's claims when its signature, issuer, audience and expiry check out.
   *
   * @throws {TokenRefused} saying what did not.
   */
  async verify(token: string): Promise<JWTPayload> {
    try {
      const { payload } = await jwtVerify(token, this.#keys, {
        issuer: this.#settings.issuer,
        audience: this.#settings.audience,
        requiredClaims: ["exp"],
        clockTolerance: 30,
      });
      return payload;
    } catch (error) {
      throw new TokenRefused(refusalText(error), { cause: error });
    }
  }
}

function refusalText(error: unknown): string {
  if (error instanceof joseErrors.JWTExpired) return "The access token has expired";
  if (error instanceof joseErrors.JWTClaimValidationFailed) {
    if (error.claim === "iss") return "The access token was issued by another issuer";
    if (error.claim === "aud") return "The access token is for another audience";
    return `The access token's "${error.claim}" claim is not acceptable`;
  }
  if (error instanceof joseErrors.JWSSignatureVerificationFailed) {
    return "The access token's signature does not verify";
  }
  if (error instanceof joseErrors.JWKSNoMatchingKey) {
    return "The access token is signed with a key the issuer does not publish";
  }
  if (error instanceof joseErrors.JWKSTimeout || error instanceof TypeError) {
    return "The issuer's keys could not be fetched";
  }
  return "The access token is not a valid JWT";
}

/** Where the protected-resource metadata of `resource` is served (RFC 9728 §3.1). */
export function metadataUrl(resource: string): string {
  return getOAuthProtectedResourceMetadataUrl(new URL(resource));
}

/** The RFC 9728 protected-resource metadata document. */
export function protectedResourceMetadata(settings: OAuthSettings): Record<string, unknown> {
  return {
    resource: settings.resource,
    authorization_servers: [settings.issuer],
    bearer_methods_supported: ["header"],
    resource_name: "proxmox-mcp",
    ...(settings.scopesSupported === undefined
      ? {}
      : { scopes_supported: [...settings.scopesSupported] }),
  };
}
