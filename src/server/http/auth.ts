/**
 * Who is calling: every request to the MCP endpoint carries `Authorization: Bearer <token>`,
 * checked against the profiles' token digests (constant time) and, when OAuth is configured, as
 * a JWT of the configured issuer mapped to a profile by its claims. The SDK's bearer helpers
 * parse the header and shape the answers: 401 with `WWW-Authenticate: Bearer …` (and
 * `resource_metadata` when OAuth is on) for a missing or bad token, 403 `insufficient_scope` for
 * a valid JWT that maps to no profile. Bodies carry the OAuth error only, never the token.
 *
 * A server with no profiles and no OAuth serves only loopback (checked at start-up) and treats
 * every caller as the `local` profile.
 *
 * @module
 */

import {
  type AuthInfo,
  bearerAuthChallengeResponse,
  OAuthError,
  OAuthErrorCode,
  verifyBearerToken,
} from "@modelcontextprotocol/server";
import {
  type Profile,
  profileForClaims,
  profileForToken,
  tokenScopes,
} from "../../policy/profile.ts";
import { type JwtVerifier, metadataUrl, type OAuthSettings, TokenRefused } from "./oauth.ts";

/** A request that passed: its caller and what the SDK hands to handlers. */
export interface Caller {
  profile: Profile;
  authInfo: AuthInfo;
}

/** What the authenticator checks against. */
export interface AuthenticatorOptions {
  profiles: readonly Profile[];
  /** The caller of a server with no profiles and no OAuth (loopback only). */
  anonymous?: Profile;
  oauth?: { settings: OAuthSettings; verifier: JwtVerifier };
}

/** Static tokens are valid until the configuration changes; the SDK wants an expiry. */
const STATIC_TOKEN_LIFETIME_S = 3600;

/** Authenticates requests. */
export class Authenticator {
  readonly #options: AuthenticatorOptions;
  readonly #resourceMetadataUrl: string | undefined;

  /** An authenticator over the configured callers. */
  constructor(options: AuthenticatorOptions) {
    this.#options = options;
    const settings = options.oauth?.settings;
    this.#resourceMetadataUrl = settings === undefined ? undefined : metadataUrl(settings.resource);
  }

  /** The caller of `request`, or the 401/403 answer. */
  async authenticate(request: Request): Promise<Caller | Response> {
    const anonymous = this.#options.anonymous;
    if (anonymous !== undefined) {
      return {
        profile: anonymous,
        authInfo: {
          token: "",
          clientId: anonymous.name,
          scopes: [],
          extra: { profile: anonymous.name },
        },
      };
    }
    const found = new Map<string, Profile>();
    const challenge = this.#resourceMetadataUrl === undefined
      ? {}
      : { resourceMetadataUrl: this.#resourceMetadataUrl };
    try {
      const authInfo = await verifyBearerToken(request.headers.get("authorization"), {
        ...challenge,
        verifier: { verifyAccessToken: (token) => this.#verify(token, found) },
      });
      const profile = found.get(authInfo.clientId);
      if (profile === undefined) throw new OAuthError(OAuthErrorCode.InvalidToken, "Unknown token");
      // The token itself stays here: handlers and logs see the profile name only.
      return { profile, authInfo: { ...authInfo, token: "" } };
    } catch (error) {
      return bearerAuthChallengeResponse(error, challenge);
    }
  }

  async #verify(token: string, found: Map<string, Profile>): Promise<AuthInfo> {
    const now = Math.floor(Date.now() / 1000);
    const byToken = await profileForToken(this.#options.profiles, token);
    if (byToken !== undefined) {
      found.set(byToken.name, byToken);
      return {
        token,
        clientId: byToken.name,
        scopes: [],
        expiresAt: now + STATIC_TOKEN_LIFETIME_S,
        extra: { profile: byToken.name },
      };
    }
    const oauth = this.#options.oauth;
    if (oauth === undefined || token.split(".").length !== 3) {
      throw new OAuthError(
        OAuthErrorCode.InvalidToken,
        "The bearer token is not one this server knows: use a token of a configured profile",
      );
    }
    let claims: Record<string, unknown>;
    try {
      claims = await oauth.verifier.verify(token);
    } catch (error) {
      const message = error instanceof TokenRefused ? error.message : "The access token is invalid";
      throw new OAuthError(OAuthErrorCode.InvalidToken, message);
    }
    const profile = profileForClaims(this.#options.profiles, claims);
    if (profile === undefined) {
      throw new OAuthError(
        OAuthErrorCode.InsufficientScope,
        "The access token is valid but maps to no profile: ask for a scope a profile accepts",
      );
    }
    found.set(profile.name, profile);
    return {
      token,
      clientId: profile.name,
      scopes: tokenScopes(claims),
      ...(typeof claims.exp === "number" ? { expiresAt: claims.exp } : {}),
      extra: {
        profile: profile.name,
        ...(typeof claims.sub === "string" ? { subject: claims.sub } : {}),
      },
    };
  }
}
