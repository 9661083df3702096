/**
 * A Cloudflare Access key set generated for one test run (never committed): the public JWKS goes to the Worker as
 * ACCESS_JWKS, the private key to the tests as TEST_ACCESS_PRIVATE_JWK so they sign their own Access tokens.
 */
import { exportJWK, generateKeyPair } from "jose";

export const ACCESS_TEST_TEAM = "https://roost-test.cloudflareaccess.com";
export const ACCESS_TEST_AUD = "roost-test-aud-0123456789abcdef";
export const ACCESS_TEST_KID = "roost-test-key";

export async function accessTestKeys(): Promise<{ teamDomain: string; audience: string; jwks: string; privateJwk: string }> {
	const { publicKey, privateKey } = await generateKeyPair("RS256", { extractable: true });
	const pub = { ...(await exportJWK(publicKey)), kid: ACCESS_TEST_KID, alg: "RS256", use: "sig" };
	const priv = { ...(await exportJWK(privateKey)), kid: ACCESS_TEST_KID, alg: "RS256" };
	return {
		teamDomain: ACCESS_TEST_TEAM,
		audience: ACCESS_TEST_AUD,
		jwks: JSON.stringify({ keys: [pub] }),
		privateJwk: JSON.stringify(priv),
	};
}
