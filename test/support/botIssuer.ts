import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { createHmac, createSign, generateKeyPairSync, type KeyObject } from "node:crypto";

/**
 * A loopback stand-in for the Bot Framework's token issuer: an OpenID metadata document and a
 * JWKS with keys of its own (endorsed for msteams, as the real keys are), and a signer for tokens
 * shaped like the ones the Bot Framework sends to a bot. Test configuration only.
 */
export interface BotIssuer {
  metadataUrl: string;
  issuer: string;
  /** A token as the channel would send it; `claims` and `header` override any field. */
  token(claims?: Record<string, unknown>, header?: Record<string, unknown>, key?: KeyObject): string;
  /** Signs with HMAC-SHA256 (a forgery: the channel never uses HS256). */
  hs256(secret: string | Buffer, claims?: Record<string, unknown>): string;
  publicPem: string;
  /** A second key pair the issuer does not publish. */
  foreignKey: KeyObject;
  down: boolean;
  close(): Promise<void>;
}

const b64url = (v: Buffer | string) => Buffer.from(v).toString("base64url");

export async function startBotIssuer(appId: string, serviceUrl: string): Promise<BotIssuer> {
  const { publicKey, privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  const foreign = generateKeyPairSync("rsa", { modulusLength: 2048 });
  const kid = "provbot-test-key";
  let base = "";
  const state = { down: false };
  const server: Server = createServer((req, res) => {
    if (state.down) {
      res.destroy();
      return;
    }
    if (req.url === "/.well-known/openidconfiguration") {
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify({ issuer: `${base}/issuer`, jwks_uri: `${base}/keys`, id_token_signing_alg_values_supported: ["RS256"], token_endpoint_auth_methods_supported: ["private_key_jwt"] }));
      return;
    }
    if (req.url === "/keys") {
      const jwk = publicKey.export({ format: "jwk" }) as Record<string, unknown>;
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify({ keys: [{ ...jwk, kty: "RSA", use: "sig", kid, endorsements: ["msteams"] }] }));
      return;
    }
    res.writeHead(404).end();
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const issuer = `${base}/issuer`;
  const now = () => Math.floor(Date.now() / 1000);
  const claimsOf = (claims: Record<string, unknown>) => ({ iss: issuer, aud: appId, serviceurl: serviceUrl, nbf: now() - 60, exp: now() + 3600, iat: now() - 60, ...claims });
  const token = (claims: Record<string, unknown> = {}, header: Record<string, unknown> = {}, key: KeyObject = privateKey) => {
    const h = b64url(JSON.stringify({ alg: "RS256", typ: "JWT", kid, ...header }));
    const p = b64url(JSON.stringify(claimsOf(claims)));
    const signer = createSign("RSA-SHA256");
    signer.update(`${h}.${p}`);
    return `${h}.${p}.${b64url(signer.sign(key))}`;
  };
  return {
    metadataUrl: `${base}/.well-known/openidconfiguration`,
    issuer,
    token,
    hs256: (secret, claims = {}) => {
      const h = b64url(JSON.stringify({ alg: "HS256", typ: "JWT", kid }));
      const p = b64url(JSON.stringify(claimsOf(claims)));
      return `${h}.${p}.${b64url(createHmac("sha256", secret).update(`${h}.${p}`).digest())}`;
    },
    publicPem: String(publicKey.export({ format: "pem", type: "spki" })),
    foreignKey: foreign.privateKey,
    get down() {
      return state.down;
    },
    set down(v: boolean) {
      state.down = v;
    },
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}
