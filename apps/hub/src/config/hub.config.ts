/** The hub's environment, validated once at start-up. */
export interface HubConfig {
  readonly http: { readonly host: string; readonly port: number };
}

export function loadHubConfig(env: Record<string, string | undefined> = process.env): HubConfig {
  const portText = env.FEDINTEL_HTTP_PORT ?? '3100';
  const port = Number(portText);
  if (!/^\d+$/.test(portText) || port > 65535) {
    throw new Error(`FEDINTEL_HTTP_PORT: must be a port number, got "${portText}"`);
  }
  return Object.freeze({
    http: Object.freeze({ host: env.FEDINTEL_HTTP_HOST ?? '127.0.0.1', port }),
  });
}
